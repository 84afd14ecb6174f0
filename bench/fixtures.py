"""Django-side set-up shared by the figures: Django itself, an emptied database, bench users."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

BENCH_CUSTOMER = "bench-customer"
BENCH_STAFF = "bench-staff"
# Tables that describe the schema rather than hold data: never emptied.
KEPT_TABLES = {"django_migrations", "django_content_type", "auth_permission"}


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()


@dataclass(frozen=True)
class BenchUsers:
    customer: Any
    customer_token: str
    staff: Any
    staff_token: str


def empty_database() -> None:
    """Empty every data table (those of apps added later too), so each figure starts alike."""
    from django.db import connection

    with connection.cursor() as cursor:
        tables = [t for t in connection.introspection.table_names(cursor) if t not in KEPT_TABLES]
        if tables:
            quoted = ", ".join(connection.ops.quote_name(t) for t in tables)
            cursor.execute(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")


def create_users() -> BenchUsers:
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    user_model = get_user_model()
    customer = user_model.objects.create_user(username=BENCH_CUSTOMER, password="bench-pass-123")
    staff = user_model.objects.create_user(
        username=BENCH_STAFF, password="bench-pass-123", is_staff=True
    )
    return BenchUsers(
        customer=customer,
        customer_token=Token.objects.create(user=customer).key,
        staff=staff,
        staff_token=Token.objects.create(user=staff).key,
    )


def fresh_start() -> BenchUsers:
    empty_database()
    return create_users()


def management_commands() -> set[str]:
    from django.core.management import get_commands

    return set(get_commands())


def handler_names() -> list[str]:
    from apps.events.registry import registry

    return [name for name in registry.names() if not name.startswith("bench.")]


def purge_queue(queue: str) -> int:
    """Drop the tasks left in the bench's Celery queue (for example by a figure without worker)."""
    from core.celery import app

    with app.connection_for_write() as conn:
        channel: Any = conn.default_channel
        return int(channel.queue_purge(queue) or 0)
