from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.payments.services import PaymentService
from apps.recovery.services import resolve_stuck_orders
from shared.timestamps import utc_text


class Command(BaseCommand):
    help = (
        "Ask the payment provider about open payments, payments with refunds under way and "
        "payments changed lately, and apply what it knows and we missed (the calls its webhooks "
        "would have made: running it twice applies nothing twice); then move stuck orders on. "
        "Prints what it changed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--since-hours",
            type=float,
            default=None,
            help="payments changed within this many hours (default OMS_RECONCILE_WINDOW_HOURS)",
        )
        parser.add_argument(
            "--no-stuck", action="store_true", help="reconcile payments only, not stuck orders"
        )
        parser.add_argument("--json", action="store_true", help="the report as one JSON object")

    def handle(
        self, *args: Any, since_hours: float | None, no_stuck: bool, json: bool, **options: Any
    ) -> None:
        since = timedelta(hours=since_hours) if since_hours is not None else None
        payments = PaymentService().reconcile(since=since)
        stuck = None if no_stuck else resolve_stuck_orders()
        if json:
            self.stdout.write(_as_json(payments, stuck))
            return
        self.stdout.write(
            f"payments checked: {payments.checked}; corrections applied: "
            f"{len(payments.applied)}; refused: {len(payments.refused)}"
        )
        for correction in payments.corrections:
            mark = "applied" if correction.applied else "REFUSED"
            detail = f" ({correction.detail})" if correction.detail else ""
            self.stdout.write(f"  {mark} order {correction.order_id}: {correction.action}{detail}")
        if stuck is not None:
            self.stdout.write(
                f"stuck orders noticed: {stuck.noticed}; attempts: {stuck.attempted}; "
                f"resolved: {len(stuck.resolved)}; still stuck: {len(stuck.unresolved)}"
            )
            for row in stuck.unresolved:
                self.stdout.write(
                    f"  order {row.order_id} {row.state} since {utc_text(row.since)} "
                    f"({row.reason}, {row.attempts} attempts): {row.last_outcome}"
                )


def _as_json(payments: Any, stuck: Any) -> str:
    document: dict[str, Any] = {
        "payments": {
            "checked": payments.checked,
            "corrections": [c.as_dict() for c in payments.corrections],
        }
    }
    if stuck is not None:
        document["stuck_orders"] = {
            "noticed": stuck.noticed,
            "attempted": stuck.attempted,
            "resolved": [str(order_id) for order_id in stuck.resolved],
            "unresolved": [
                {
                    "order_id": str(row.order_id),
                    "state": row.state,
                    "reason": row.reason,
                    "since": utc_text(row.since),
                    "attempts": row.attempts,
                    "last_outcome": row.last_outcome,
                }
                for row in stuck.unresolved
            ],
        }
    return json.dumps(document)
