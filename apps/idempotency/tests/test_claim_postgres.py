"""The short lock timeout applies to the key's insert only, not to the command that follows."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from apps.idempotency.records import claim

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def lock_timeout() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        value: str = cursor.fetchone()[0]
    return value


def test_the_previous_lock_timeout_is_restored_after_the_claim() -> None:
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '7s'")
        claimed = claim(owner="1", scope="POST /x/", key="k", fingerprint="f" * 64)
        assert claimed.is_new
        assert lock_timeout() == "7s"
