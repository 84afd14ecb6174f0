"""The record of one idempotency key: which request it was used for and what that request got.

A record is written in the same transaction as the changes of the request it guards, and only
when that request succeeded. ``UNIQUE (owner, scope, key)`` is what makes a retried or concurrent
twin unable to run the command a second time: its insert conflicts with (or waits for) the first.
"""

from __future__ import annotations

from datetime import datetime

from django.db import models

MAX_KEY_LENGTH = 255
MAX_SCOPE_LENGTH = 300


class IdempotencyRecord(models.Model):
    id = models.BigAutoField(primary_key=True)
    owner = models.CharField(max_length=64, help_text="The caller: a user id.")
    scope = models.CharField(
        max_length=MAX_SCOPE_LENGTH, help_text='Method and path, e.g. "POST /api/v1/orders/".'
    )
    key = models.CharField(max_length=MAX_KEY_LENGTH)
    fingerprint = models.CharField(
        max_length=64, help_text="sha256 of method, path, query and canonical JSON body."
    )
    # Empty until the request that inserted the record has its response; no other transaction
    # ever sees it empty, because both are committed together.
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=("owner", "scope", "key"), name="idempotency_unique_owner_scope_key"
            ),
        ]
        indexes = [models.Index(fields=("expires_at",), name="idempotency_expires_idx")]

    def __str__(self) -> str:
        return f"idempotency key {self.key!r} of {self.owner} on {self.scope}"

    def is_expired(self, at: datetime) -> bool:
        return self.expires_at <= at

    @property
    def has_response(self) -> bool:
        return self.response_status is not None
