"""The address a request came from, the same for rate limits, login lockouts and ``/metrics``.

Behind ``OMS_TRUSTED_PROXIES`` proxies that each append to ``X-Forwarded-For``, the client is
the address that many entries from the right (what the nearest trusted proxy saw); with none,
the connection's address, and a client cannot choose its address by sending the header.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

# Headers that say a proxy stands between the client and us: ``Via``, which every HTTP proxy must
# add (RFC 9110 section 7.6.3), RFC 7239's ``Forwarded``, the ``X-Forwarded-*`` family (For, Host,
# Proto, Port...) and the headers in which nginx, load balancers and CDNs name the client.
PROXY_HEADERS = frozenset(
    {
        "via",
        "forwarded",
        "x-real-ip",
        "x-client-ip",
        "x-cluster-client-ip",
        "true-client-ip",
        "cf-connecting-ip",
        "fastly-client-ip",
    }
)
PROXY_HEADER_PREFIX = "x-forwarded-"


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
    ``X-Forwarded-For``, a request without that header but with another proxy header came round
    them, or through a proxy of another kind.
    """
    named = any(_is_proxy_header(name) for name in request.headers)
    if _trusted_proxies() == 0:
        return named
    return named and "X-Forwarded-For" not in request.headers


def _is_proxy_header(name: str) -> bool:
    lowered = name.lower()
    return lowered in PROXY_HEADERS or lowered.startswith(PROXY_HEADER_PREFIX)


def _trusted_proxies() -> int:
    value = settings.REST_FRAMEWORK.get("NUM_PROXIES")
    return value if isinstance(value, int) else 0
