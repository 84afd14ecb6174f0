"""Claiming a key inside the command's transaction, remembering the response, purging old keys.

:func:`claim` inserts the record first, in a savepoint of the caller's transaction. The unique
constraint decides the race: a twin that arrives while the first request is still running waits on
the first one's uncommitted row. On PostgreSQL it waits only ``OMS_IDEMPOTENCY_LOCK_TIMEOUT_MS``
and then answers 409; if the first one commits in time, the twin's insert fails and it replays the
stored response; if the first one rolled back, the twin's insert succeeds and it runs the command.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from apps.idempotency.models import IdempotencyRecord
from shared import clock
from shared.exceptions import IdempotencyKeyInProgress, IdempotencyKeyReused

REPLAYED_HEADERS = ("Location", "ETag")
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE when lock_timeout expires


class Claim(NamedTuple):
    record: IdempotencyRecord
    is_new: bool  # True: run the command and remember its response; False: replay the record


def ttl() -> timedelta:
    return timedelta(hours=settings.OMS_IDEMPOTENCY_KEY_TTL_HOURS)


def claim(*, owner: str, scope: str, key: str, fingerprint: str) -> Claim:
    """Reserve ``key`` for this request, or find the response of the request that used it.

    Must run inside ``transaction.atomic()``, the one that also holds the command's changes.
    Raises :class:`IdempotencyKeyReused` when the key was used for a different request and
    :class:`IdempotencyKeyInProgress` when a twin holding the key has not finished in time.
    """
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("claim() must run inside transaction.atomic()")
    identity = {"owner": owner, "scope": scope, "key": key}
    with _waiting_briefly_for_twins(connection):
        # More than one round: an expired record is deleted and the insert tried again, and a
        # record can vanish between our failed insert and our read (purged, or replaced by a twin).
        for _ in range(3):
            moment = clock.now()
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        **identity,
                        fingerprint=fingerprint,
                        created_at=moment,
                        expires_at=moment + ttl(),
                    )
                return Claim(record, is_new=True)
            except IntegrityError:
                pass  # committed by an earlier request (or a twin that just committed)
            with transaction.atomic():
                existing = IdempotencyRecord.objects.select_for_update().filter(**identity).first()
            if existing is None:
                continue
            if existing.is_expired(moment):
                # Expired is absent: replaced in this transaction, so a rollback keeps the old one.
                existing.delete()
                continue
            if existing.fingerprint != fingerprint:
                raise IdempotencyKeyReused(
                    f"The key {key!r} was used for a different request to {scope}; "
                    "use a new key for a new request.",
                    idempotency_key=key,
                )
            if not existing.has_response:
                # Only this very transaction can see a record without its response: the same key
                # claimed twice in one request.
                raise IdempotencyKeyInProgress(idempotency_key=key)
            return Claim(existing, is_new=False)
    raise IdempotencyKeyInProgress(idempotency_key=key)


@contextmanager
def _waiting_briefly_for_twins(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """On PostgreSQL, ``SET LOCAL lock_timeout`` for the block, then restore the previous value.

    Restoring matters: the command that runs next takes row locks (the order's
    ``SELECT ... FOR UPDATE``) that must wait as long as they normally do.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('lock_timeout')")
        previous = cursor.fetchone()[0]
        # set_config(..., true) is SET LOCAL with a bound parameter.
        cursor.execute(
            "SELECT set_config('lock_timeout', %s, true)",
            [f"{settings.OMS_IDEMPOTENCY_LOCK_TIMEOUT_MS}ms"],
        )
    try:
        yield
    except OperationalError as exc:
        if _sqlstate(exc) == LOCK_NOT_AVAILABLE:
            raise IdempotencyKeyInProgress(
                "A request with this idempotency key is still being processed; retry later."
            ) from exc
        raise
    finally:
        if not connection.needs_rollback:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])


def _sqlstate(exc: BaseException) -> str | None:
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)


def remember(record: IdempotencyRecord, response: Response) -> None:
    """Store the response of the request that claimed ``record``, for its retries to replay."""
    record.response_status = response.status_code
    record.response_body = json_safe(response.data)
    headers = {name: response[name] for name in REPLAYED_HEADERS if response.has_header(name)}
    # A negotiated representation is negotiated again on replay; only one the view chose itself
    # is kept.
    if response.content_type:
        headers["Content-Type"] = response.content_type
    record.response_headers = headers
    record.save(update_fields=["response_status", "response_body", "response_headers"])


def json_safe(data: Any) -> Any:
    """``data`` as the JSON renderer writes it, so that a replay renders the very same document."""
    return json.loads(json.dumps(data, cls=JSONEncoder))


def replay(record: IdempotencyRecord) -> Response:
    """The stored response again, marked as a replay."""
    headers = dict(record.response_headers)
    content_type = headers.pop("Content-Type", None)
    response = Response(
        record.response_body,
        status=record.response_status,
        headers={**headers, "Idempotent-Replayed": "true"},
        content_type=content_type,
    )
    return response


def purge_expired(now: datetime | None = None, batch_size: int = 1000) -> int:
    """Delete expired records in small batches (short transactions); return how many went."""
    moment = now or clock.now()
    deleted = 0
    while True:
        ids = list(
            IdempotencyRecord.objects.filter(expires_at__lte=moment)
            .order_by("expires_at")
            .values_list("id", flat=True)[:batch_size]
        )
        if not ids:
            return deleted
        count, _ = IdempotencyRecord.objects.filter(id__in=ids, expires_at__lte=moment).delete()
        deleted += count
        if len(ids) < batch_size:
            return deleted
