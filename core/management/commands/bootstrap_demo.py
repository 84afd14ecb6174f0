"""Create (or find) the demo customer and staff user and print their API tokens. Idempotent."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from rest_framework.authtoken.models import Token

DEMO_USERS = (
    ("demo-customer", "customer@example.com", False),
    ("demo-staff", "staff@example.com", True),
)
DEMO_PASSWORD = "demo-password-change-me"


class Command(BaseCommand):
    help = "Create the demo customer and staff user (if missing) and print their API tokens."

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        for username, email, is_staff in DEMO_USERS:
            user, created = user_model.objects.get_or_create(
                username=username,
                defaults={"email": email, "is_staff": is_staff, "is_superuser": is_staff},
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            token, _ = Token.objects.get_or_create(user=user)
            role = "staff   " if is_staff else "customer"
            self.stdout.write(f"{role} {username:<14} token {token.key}")
        self.stdout.write(f"(admin login: demo-staff / {DEMO_PASSWORD})")
