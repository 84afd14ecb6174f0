"""``manage.py subscriptions``: where every subscription stands, and operator actions on them."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.events import lag, store, subscriptions


class Command(BaseCommand):
    help = (
        "Show each subscription segment's position, backlog (events behind and the oldest one's "
        "age), parked and dead counts. --drain runs them all until idle, in this process."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--drain", action="store_true", help="run every subscription until idle first"
        )

    def handle(self, *args: Any, drain: bool = False, **options: Any) -> None:
        if drain:
            handled = subscriptions.run_until_idle()
            self.stdout.write(f"handled {handled} events")
        head = store.head_position()
        self.stdout.write(f"log head: position {head}")
        header = f"{'subscription':<44} {'seg':>3} {'position':>9} {'behind':>7} "
        header += f"{'oldest':>8} {'parked':>6} {'dead':>5}"
        self.stdout.write(header)
        for row in lag.status():
            oldest = (
                "-" if row.oldest_behind_seconds is None else f"{row.oldest_behind_seconds:.0f}s"
            )
            self.stdout.write(
                f"{row.subscription:<44} {row.segment:>3} {row.position:>9} {row.behind:>7} "
                f"{oldest:>8} {row.parked:>6} {row.dead:>5}"
            )
