from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.events.dead_letters import retry_dead_letters


class Command(BaseCommand):
    help = "Run every dead event (or those of one subscription) once more."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--handler", "--subscription", dest="subscription", help="only this subscription's"
        )

    def handle(self, *args: Any, subscription: str | None = None, **options: Any) -> None:
        counts = retry_dead_letters(subscription=subscription)
        if not counts:
            self.stdout.write("No dead events.")
            return
        for outcome, count in sorted(counts.items()):
            self.stdout.write(f"{outcome}: {count}")
