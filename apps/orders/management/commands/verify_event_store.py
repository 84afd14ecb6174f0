from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.orders.verification import verify


class Command(BaseCommand):
    help = (
        "Fold every order's events and compare state, version, subtotal, shipping and total with "
        "the order rows and the order summary projection, and each order's money (captured, "
        "refunded, being refunded) with its payment and refunds. Exits non-zero when anything "
        "differs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, batch_size: int, **options: Any) -> None:
        mismatches = 0
        for mismatch in verify(batch_size=batch_size):
            mismatches += 1
            self.stdout.write(str(mismatch))
        if mismatches:
            raise CommandError(f"{mismatches} mismatch(es) between the event store and the models")
        self.stdout.write("event store verified: 0 mismatches")
