from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.events import projection


class Command(BaseCommand):
    help = "Rebuild projections from an empty table by replaying the event log."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("names", nargs="*", help="projections to rebuild (default: all)")
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args: Any, names: list[str], batch_size: int, **options: Any) -> None:
        known = projection.registered()
        unknown = sorted(set(names) - set(known))
        if unknown:
            raise CommandError(f"unknown projection(s) {unknown}; known: {sorted(known)}")
        for name in names or sorted(known):
            applied = projection.rebuild(
                name, batch_size=batch_size, progress=self._progress_bar(name)
            )
            self.stderr.write("")
            self.stdout.write(f"{name}: replayed {applied} events")

    def _progress_bar(self, name: str) -> Any:
        interactive = sys.stderr.isatty()

        def show(done: int, total: int) -> None:
            width = 30
            filled = width if not total else int(width * done / total)
            line = f"\r{name:<20} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
            if interactive:
                self.stderr.write(line, ending="")
            elif done == total:
                self.stderr.write(line.strip(), ending="")

        return show
