"""Expire submitted payments past their deadline (for cron in embedded mode)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.payments.services import PaymentService


class Command(BaseCommand):
    help = "Expire submitted payments whose deadline has passed and fail their orders."

    def handle(self, *args: Any, **options: Any) -> None:
        expired = PaymentService().expire_overdue()
        self.stdout.write(f"expired {expired} payment(s)")
