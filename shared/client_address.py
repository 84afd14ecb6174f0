"""The address a request came from, the same for rate limits, login lockouts and ``/metrics``.

Behind ``OMS_TRUSTED_PROXIES`` proxies that each append to ``X-Forwarded-For``, the client is
the address that many entries from the right (what the nearest trusted proxy saw); with none,
the connection's address, and a client cannot choose its address by sending the header.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

# Headers by which a proxy names the client it forwards for. Any of them on a request means a
# proxy may stand in front, whichever one it speaks: nginx's X-Real-IP, RFC 7239's Forwarded,
# CDNs' own.
PROXY_HEADERS = (
    "X-Forwarded-For",
    "Forwarded",
    "X-Real-IP",
    "X-Client-IP",
    "True-Client-IP",
    "CF-Connecting-IP",
)


def client_address(request: HttpRequest) -> str:
    proxies = _trusted_proxies()
    forwarded = request.headers.get("X-Forwarded-For")
    if proxies > 0 and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-min(proxies, len(hops))]
    return str(request.META.get("REMOTE_ADDR", ""))


def forwarded_untrusted(request: HttpRequest) -> bool:
    """Whether a proxy may stand in front whose client we cannot read: the connection's address
    is then the proxy's (often loopback), not the client's.

    With no proxy declared, any proxy header says so. Behind declared proxies, which append to
    ``X-Forwarded-For``, a request without that header but naming a client in another one came
    round them, or through a proxy of another kind.
    """
    named = any(header in request.headers for header in PROXY_HEADERS)
    if _trusted_proxies() == 0:
        return named
    return named and "X-Forwarded-For" not in request.headers


def _trusted_proxies() -> int:
    value = settings.REST_FRAMEWORK.get("NUM_PROXIES")
    return value if isinstance(value, int) else 0
