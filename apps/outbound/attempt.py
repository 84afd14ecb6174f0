"""One attempt to post an outbound message: the URL checked and its host resolved, the body
signed, the checked address connected to, the answer read within bounds. Never raises: whatever
the far end or its name does becomes an :class:`Outcome` that the sender records.

Safety: the URL is checked and its host resolved before each attempt
(``apps/outbound/addresses.py``) and a plain-http connection goes to the address that was
checked; no redirect is followed; the answer is read up to ``OMS_OUTBOUND_RESPONSE_LIMIT_BYTES``
and for at most :func:`attempt_deadline` seconds.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass, field
from datetime import UTC
from urllib.parse import urlsplit, urlunsplit

import httpx
from django.conf import settings

from apps.outbound.addresses import AddressRefused, IPAddress, check_url, resolve_allowed
from apps.outbound.models import OutboundMessage
from apps.outbound.signing import signed_headers
from shared import clock

USER_AGENT = "oms-webhooks/1"
MAX_RETRY_AFTER_SECONDS = 86400.0
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass
class Outcome:
    status: int | None = None
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    error: str = ""
    duration_ms: float = 0.0
    retry_after: float | None = None

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300 and not self.error


_client: httpx.Client | None = None


def new_client(transport: httpx.BaseTransport | None = None) -> httpx.Client:
    # Redirects are never followed; proxies from the environment are not used (they would do
    # the name resolution the address check relies on); timeouts are given per request.
    return httpx.Client(transport=transport, follow_redirects=False, trust_env=False)


def shared_client() -> httpx.Client:
    """One client per process: its connections are kept alive between runs, and its TLS
    context is built once (the periodic job runs every second)."""
    global _client
    if _client is None:
        _client = new_client()
    return _client


def attempt_deadline() -> float:
    """The longest one attempt may take in all: httpx's timeouts bound each step (connect,
    each read), so a server answering a byte at a time is cut off by this instead."""
    return 2 * settings.OMS_OUTBOUND_TIMEOUT_SECONDS


def authority(host: str, port: int, scheme: str) -> str:
    """``host[:port]`` as a URL and the Host header write it (RFC 3986 §3.2.2, RFC 9110 §7.2):
    an IPv6 address in brackets, the port left out when it is the scheme's default."""
    name = f"[{host}]" if ":" in host else host
    return name if DEFAULT_PORTS.get(scheme) == port else f"{name}:{port}"


def post(client: httpx.Client, message: OutboundMessage) -> Outcome:
    """One POST of ``message`` to its endpoint; never raises."""
    endpoint = message.endpoint
    started = time.perf_counter()
    outcome = Outcome()
    try:
        host, port, scheme = check_url(endpoint.url)
        address = resolve_allowed(host, port)
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            **signed_headers(
                endpoint, webhook_id=message.webhook_id, body=message.body, now=clock.now()
            ),
        }
        message.sent_headers = headers  # type: ignore[attr-defined]
        _exchange(client, endpoint.url, address, host, port, scheme, headers, message.body, outcome)
    except AddressRefused as exc:
        outcome.error = exc.detail
    except Exception as exc:  # whatever the far end or its name does, the attempt is recorded
        outcome.error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    outcome.duration_ms = round((time.perf_counter() - started) * 1000, 2)
    return outcome


def _exchange(
    client: httpx.Client,
    url: str,
    address: IPAddress,
    host: str,
    port: int,
    scheme: str,
    headers: dict[str, str],
    body: str,
    outcome: Outcome,
) -> None:
    parts = urlsplit(url)
    # Uncompressed: the size limit counts the bytes that arrive, not what they inflate to.
    target, request_headers = url, {**headers, "accept-encoding": "identity"}
    if scheme == "http":
        # Connect to the address that was checked, not to a second lookup of the name (which
        # could answer differently), and still name the host in the Host header. Over https the
        # name also selects the certificate and the TLS session (pooled connections are kept
        # per origin), so it is connected to by name, resolved an instant after the check, and
        # httpx writes the Host header from the URL.
        literal = f"[{address}]" if address.version == 6 else str(address)
        target = urlunsplit((parts.scheme, f"{literal}:{port}", parts.path or "/", parts.query, ""))
        request_headers["host"] = authority(host, port, scheme)
    limit = settings.OMS_OUTBOUND_RESPONSE_LIMIT_BYTES
    cutoff = time.monotonic() + attempt_deadline()
    with client.stream(
        "POST",
        target,
        content=body.encode(),
        headers=request_headers,
        timeout=settings.OMS_OUTBOUND_TIMEOUT_SECONDS,
    ) as response:
        outcome.status = response.status_code
        outcome.headers = {
            name: storable(value)
            for name, value in response.headers.items()
            if name.lower() in {"content-type", "retry-after", "location"}
        }
        received = bytearray()
        for chunk in response.iter_raw():
            received.extend(chunk)
            if len(received) > limit:
                outcome.error = f"the answer is larger than {limit} bytes; the rest was not read"
                break
            if time.monotonic() > cutoff:
                outcome.error = f"the answer took longer than {attempt_deadline():g} s"
                outcome.status = None
                break
        outcome.body = storable(bytes(received[:limit]).decode("utf-8", errors="replace"))
    if outcome.status is None:
        return
    if outcome.error.startswith("the answer is larger") and 200 <= outcome.status < 300:
        # Received: an oversized acknowledgement is not read on, but the message arrived.
        outcome.body += "\n[truncated]"
        outcome.error = ""
    if 300 <= outcome.status < 400:
        location = outcome.headers.get("location", "")
        outcome.error = f"redirect to {location or '(no location)'} not followed"
    if outcome.status in {429, 503}:
        outcome.retry_after = _retry_after(response.headers.get("retry-after"))


def storable(text: str) -> str:
    # PostgreSQL text cannot hold NUL; what a receiver answers is kept, less those.
    return text.replace("\x00", "")


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:  # "-0000" or no zone: HTTP dates are in UTC
            moment = moment.replace(tzinfo=UTC)
        seconds = (moment - clock.now()).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)
