"""``manage.py drill_check``: wait for quiescence in the drill database and print the checks."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from drill.faultyapp.checks import Check, run_checks, wait_for_quiescence


class Command(BaseCommand):
    help = "Wait until nothing moves, run the fault drill's checks and print them as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--expected-orders", type=int, required=True)
        parser.add_argument("--wait", type=float, default=120.0, help="quiescence timeout")
        parser.add_argument("--no-retry-dead", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        quiet, left = wait_for_quiescence(options["wait"])
        found = ", ".join(f"{name} {n}" for name, n in left.items())
        checks = [Check("quiescence", f"{'reached' if quiet else 'NOT reached'}: {found}", quiet)]
        checks += run_checks(
            expected_orders=options["expected_orders"], retry_dead=not options["no_retry_dead"]
        )
        self.stdout.write(json.dumps([check.as_dict() for check in checks]))
