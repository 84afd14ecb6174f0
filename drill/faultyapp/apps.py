"""The drill-only app: installed by ``OMS_EXTRA_APPS=drill.faultyapp``, never by default."""

from __future__ import annotations

from django.apps import AppConfig


class FaultyAppConfig(AppConfig):
    name = "drill.faultyapp"
    label = "drill_faultyapp"
    verbose_name = "Fault drill handlers"
