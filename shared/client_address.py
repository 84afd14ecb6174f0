"""The address a request came from, the same for rate limits, login lockouts and ``/metrics``.

Behind ``OMS_TRUSTED_PROXIES`` proxies that each append to ``X-Forwarded-For``, the client is
the address that many entries from the right (what the nearest trusted proxy saw); with none,
the connection's address, and a client cannot choose its address by sending the header.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    proxies = _trusted_proxies()
    forwarded = request.headers.get("X-Forwarded-For")
    if proxies > 0 and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-min(proxies, len(hops))]
    return str(request.META.get("REMOTE_ADDR", ""))


def forwarded_untrusted(request: HttpRequest) -> bool:
    """Whether a proxy we were not told about stands in front (the connection's address is
    then the proxy's, not the client's)."""
    proxies = _trusted_proxies()
    return proxies == 0 and "X-Forwarded-For" in request.headers


def _trusted_proxies() -> int:
    value = settings.REST_FRAMEWORK.get("NUM_PROXIES")
    return value if isinstance(value, int) else 0
