"""A merchant's webhook receiver for the tests: a real HTTP server on loopback that verifies
every message with the ``standardwebhooks`` reference package, records what arrived, and answers
as it is told (fail, stall, redirect, answer too much), as a consumer's system would.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from standardwebhooks import Webhook, WebhookVerificationError


@dataclass
class Arrival:
    webhook_id: str
    body: dict[str, Any]
    status: int  # what the receiver answered
    at: float
    host_header: str = ""  # the Host the request named


# A behaviour answers (status, extra headers, body) for the n-th request, or stalls.
Behaviour = Callable[[int, str], tuple[int, dict[str, str], bytes]]


def accept(number: int, webhook_id: str) -> tuple[int, dict[str, str], bytes]:
    return 200, {}, b'{"ok": true}'


@dataclass
class Receiver:
    secret: str = ""
    behaviour: Behaviour = accept
    arrivals: list[Arrival] = field(default_factory=list)
    rejected: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None
    port: int = 0
    # The address it listens on (any loopback address, IPv4 or IPv6) and the one its URL names:
    # an IPv4-mapped IPv6 address reaches a server on the IPv4 address it maps.
    address: str = "127.0.0.1"
    url_host: str = ""

    @property
    def url(self) -> str:
        host = self.url_host or self.address
        literal = f"[{host}]" if ipaddress.ip_address(host).version == 6 else host
        return f"http://{literal}:{self.port}/hooks"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                headers = {name.lower(): value for name, value in self.headers.items()}
                try:
                    body = Webhook(receiver.secret).verify(raw, headers)
                except WebhookVerificationError:
                    with receiver.lock:
                        receiver.rejected += 1
                    self._answer(401, {}, b"bad signature")
                    return
                with receiver.lock:
                    number = len(receiver.arrivals)
                status, extra, payload = receiver.behaviour(number, headers["webhook-id"])
                with receiver.lock:
                    receiver.arrivals.append(
                        Arrival(
                            headers["webhook-id"],
                            body,
                            status,
                            time.monotonic(),
                            headers.get("host", ""),
                        )
                    )
                self._answer(status, extra, payload)

            def _answer(self, status: int, extra: dict[str, str], payload: bytes) -> None:
                try:
                    self.send_response(status)
                    for name, value in extra.items():
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender gave up waiting

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            allow_reuse_address = True
            address_family = (
                socket.AF_INET6
                if ipaddress.ip_address(receiver.address).version == 6
                else socket.AF_INET
            )

        self.server = Server((self.address, self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def accepted(self) -> list[Arrival]:
        """Arrivals it answered 2xx, first time each webhook id (what a deduplicating consumer
        acts on), in arrival order."""
        seen: set[str] = set()
        first: list[Arrival] = []
        for arrival in list(self.arrivals):
            if 200 <= arrival.status < 300 and arrival.webhook_id not in seen:
                seen.add(arrival.webhook_id)
                first.append(arrival)
        return first


def stall(seconds: float) -> Behaviour:
    def behaviour(number: int, webhook_id: str) -> tuple[int, dict[str, str], bytes]:
        time.sleep(seconds)
        return 200, {}, b"late"

    return behaviour


def json_body(arrival: Arrival) -> dict[str, Any]:
    return json.loads(json.dumps(arrival.body))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A receiver started on a free port of 127.0.0.1 and stopped after the test."""
    running = Receiver().start()
    yield running
    running.stop()


def send_to_loopback(settings: Any, *, retries: list[float], timeout: float) -> None:
    """Let endpoints point at 127.0.0.1 (the receiver), with a short schedule and timeout."""
    settings.OMS_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.OMS_OUTBOUND_RETRY_SCHEDULE_SECONDS = retries
    settings.OMS_OUTBOUND_TIMEOUT_SECONDS = timeout
