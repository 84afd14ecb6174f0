"""Where the service may send webhooks: http(s) URLs whose host resolves only to public
addresses, unless an operator allowed a network (``OMS_OUTBOUND_ALLOWED_NETWORKS``).

An endpoint URL is a request the service makes on a staff member's say-so; without this check it
could be pointed at the metadata service of the cloud it runs on, at the database, or at the
admin of a neighbouring system (server-side request forgery). The check runs when an endpoint is
saved and again at every attempt, on the addresses the attempt then connects to (a name that
resolved to a public address yesterday may not today).
"""

from __future__ import annotations

import concurrent.futures
import functools
import ipaddress
import socket
from urllib.parse import urlsplit

import httpx
from django.conf import settings

from shared.exceptions import InvalidCommand

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(InvalidCommand):
    code = "webhook_url_refused"
    title = "This webhook URL is not allowed."


def check_url(url: str) -> tuple[str, int, str]:
    """(host, port, scheme) of an acceptable URL, the host in its ASCII (IDNA) form;
    :class:`AddressRefused` otherwise."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises for a port that is not one)
    except ValueError as exc:
        raise AddressRefused(f"The URL is not valid: {exc}.") from None
    if parts.scheme not in {"http", "https"}:
        raise AddressRefused("Only http and https URLs can receive webhooks.")
    if parts.username or parts.password:
        raise AddressRefused("The URL may not carry credentials; sign-in is by signature.")
    try:
        # The form the HTTP client will use: a name it cannot encode is refused here, not
        # half-way through an attempt.
        parsed = httpx.URL(url)
        host = parsed.host
        port = parsed.port or (443 if parts.scheme == "https" else 80)
    except (httpx.InvalidURL, ValueError, UnicodeError) as exc:
        raise AddressRefused(f"The URL is not valid: {exc}.") from None
    if not host:
        raise AddressRefused("The URL has no host.")
    return host, port, parts.scheme


_resolver = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="resolve")


def resolve_allowed(host: str, port: int) -> IPAddress:
    """The address to connect to for ``host``: refused when any address it resolves to is
    private, loopback, link-local, multicast or reserved and not in an allowed network."""
    seconds = settings.OMS_OUTBOUND_TIMEOUT_SECONDS
    lookup = _resolver.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        # The system resolver has no timeout of its own; a lookup still running is left to
        # finish in its thread, and the attempt goes on without it.
        infos = lookup.result(timeout=seconds)
    except concurrent.futures.TimeoutError:
        raise AddressRefused(f"The host {host} did not resolve within {seconds:g} s.") from None
    except (OSError, UnicodeError, ValueError) as exc:
        raise AddressRefused(f"The host {host} does not resolve: {exc}.") from None
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    for address in addresses:
        if not allowed(address):
            raise AddressRefused(
                f"{host} resolves to {address}, a private or reserved address; allow its "
                "network with OMS_OUTBOUND_ALLOWED_NETWORKS if it is really meant."
            )
    return addresses[0]


# IPv6 ranges that carry an IPv4 address (NAT64, 6to4, Teredo, IPv4-compatible, SIIT) or are
# deprecated site-local: a gateway may route them to a private IPv4 network.
_TUNNELLED = tuple(
    ipaddress.ip_network(network)
    for network in (
        "64:ff9b::/96",
        "64:ff9b:1::/48",
        "2002::/16",
        "2001::/32",
        "::/96",
        "::ffff:0:0:0/96",
        "fec0::/10",
    )
)


@functools.lru_cache(maxsize=8)
def _networks(values: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(value, strict=False) for value in values)


def allowed_networks() -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """``OMS_OUTBOUND_ALLOWED_NETWORKS``, parsed (checked at start-up: ``checks.py``)."""
    return _networks(tuple(settings.OMS_OUTBOUND_ALLOWED_NETWORKS))


def allowed(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in network for network in allowed_networks()):
        return True
    if isinstance(address, ipaddress.IPv6Address) and any(
        address in network for network in _TUNNELLED
    ):
        return False
    return address.is_global and not address.is_multicast


def check_endpoint_url(url: str) -> None:
    """What saving an endpoint checks: the URL's form and where its host resolves now."""
    host, port, _ = check_url(url)
    resolve_allowed(host, port)
