"""Rate limits: writes per user, webhooks per address, failed authentications per address.

Rates are ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` (``OMS_THROTTLE_*``; empty turns one off),
read on every request so that a changed setting applies at once. Counts live in the default
cache: with the shared cache of production (``CACHE_URL``) a limit holds across every process,
with the per-process memory cache each process counts on its own. A refusal is a 429 problem
document with ``Retry-After`` (``core/problems.py``) and is counted in
``oms_throttled_requests_total``.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import Throttled
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from shared import metrics


class ConfiguredRateThrottle(SimpleRateThrottle):
    """A throttle whose rate is looked up when used, not when the class was imported."""

    def __init__(self) -> None:
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)

    def get_rate(self) -> str | None:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope or "")
        return str(rate) if rate else None

    def throttle_failure(self) -> bool:
        metrics.throttled_requests.labels(self.scope).inc()
        return False


class WriteRateThrottle(ConfiguredRateThrottle):
    """State-changing requests per user (per address for anonymous callers). Reads are free."""

    scope = "writes"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if request.method in SAFE_METHODS:
            return None
        user = request.user
        ident = f"user:{user.pk}" if user and user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class WebhookRateThrottle(ConfiguredRateThrottle):
    """Webhook requests per sending address, signed or not: a flood of forged messages costs
    a signature check each, and must not crowd out the provider's real ones unbounded."""

    scope = "webhooks"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class AuthenticationFailureThrottle(ConfiguredRateThrottle):
    """Failed token authentications per address.

    Only failures are counted; once an address reached the limit, every request of it that
    presents a token is refused with 429 before the token is looked up, until the oldest failure
    leaves the window. Guessing tokens gets nowhere fast and costs the database nothing more.
    """

    scope = "auth_failures"

    def refuse_if_exceeded(self, request: Request) -> None:
        if self.num_requests is None or self.duration is None:
            return
        self.key = self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
        self.now = self.timer()
        self.history = [
            moment for moment in self.cache.get(self.key, []) if moment > self.now - self.duration
        ]
        if len(self.history) >= self.num_requests:
            self.throttle_failure()
            raise Throttled(wait=self.wait())

    def record_failure(self) -> None:
        """After :meth:`refuse_if_exceeded` let the request through and it failed."""
        if self.rate is None:
            return
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, self.duration)
