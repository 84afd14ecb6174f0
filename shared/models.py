"""Columns that several aggregates' rows share."""

from __future__ import annotations

from django.db import models


class VersionedRow(models.Model):
    """The row of an aggregate that changes by versioned updates (``apps.events.versioned``):
    ``version`` is the number of its last event, bumped by every change; an update guarded by
    the version read refuses a change made meanwhile by someone else."""

    version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        abstract = True
