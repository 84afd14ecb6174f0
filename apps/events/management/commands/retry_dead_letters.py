from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.events.services import retry_dead_letters


class Command(BaseCommand):
    help = "Run every dead delivery (or those of one handler) once more."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--handler", help="only the dead deliveries of this handler name")

    def handle(self, *args: Any, handler: str | None = None, **options: Any) -> None:
        counts = retry_dead_letters(handler=handler)
        if not counts:
            self.stdout.write("No dead deliveries.")
            return
        for outcome, count in sorted(counts.items()):
            self.stdout.write(f"{outcome}: {count}")
