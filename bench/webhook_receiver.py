"""The merchant's side of figure 8: a webhook receiver in a process of its own.

    python -m bench.webhook_receiver --port 8123

It listens on 127.0.0.1, keeps connections alive (HTTP/1.1, as httpx uses them), verifies every
``POST /hooks/<name>`` with the ``standardwebhooks`` reference package and the secret registered
for that path, and answers 200 (401 for a bad signature). It is one asyncio event loop with no
Django, so it costs the sender's machine little and never shares the sender's GIL.

Each accepted message is recorded with the wall-clock time its request was read in full (before
the signature was checked), so the figure can put it beside the time of the commit it came from.
The figure drives it over the same port:

* ``POST /control/secret`` with ``{"path": "/hooks/a", "secret": "whsec_..."}``;
* ``GET /control/arrivals?after=N``: the arrivals from the N-th on, and the counts so far.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from standardwebhooks import Webhook, WebhookVerificationError

MAX_BODY = 1024 * 1024


class Receiver:
    def __init__(self) -> None:
        self.verifiers: dict[str, Webhook] = {}
        # (received at, path, webhook-id, type, order id, event timestamp, event position)
        self.arrivals: list[tuple[float, str, str, str, str, str, int]] = []
        self.rejected = 0
        self.unknown = 0

    def control(self, method: str, target: str, body: bytes) -> tuple[int, bytes]:
        parts = urlsplit(target)
        if method == "POST" and parts.path == "/control/secret":
            data = json.loads(body)
            self.verifiers[data["path"]] = Webhook(data["secret"])
            return 200, b"{}"
        if method == "GET" and parts.path == "/control/arrivals":
            after = int(parse_qs(parts.query).get("after", ["0"])[0])
            answer = {
                "arrivals": self.arrivals[after:],
                "count": len(self.arrivals),
                "rejected": self.rejected,
                "unknown": self.unknown,
            }
            return 200, json.dumps(answer).encode()
        if method == "GET" and parts.path == "/control/ready":
            return 200, b"{}"
        return 404, b"{}"

    def hook(self, path: str, headers: dict[str, str], body: bytes, at: float) -> int:
        verifier = self.verifiers.get(path)
        if verifier is None:
            self.unknown += 1
            return 404
        try:
            message: Any = verifier.verify(body, headers)
        except WebhookVerificationError:
            self.rejected += 1
            return 401
        data = message.get("data", {})
        self.arrivals.append(
            (
                at,
                path,
                headers.get("webhook-id", ""),
                str(message.get("type", "")),
                str(data.get("order_id", "")),
                str(message.get("timestamp", "")),
                int(data.get("position") or 0),
            )
        )
        return 200

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, version = lines[0].split(" ", 2)
                headers: dict[str, str] = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length") or 0)
                if length > MAX_BODY:
                    return
                body = await reader.readexactly(length) if length else b""
                at = time.time()
                if target.startswith("/control/"):
                    status, payload = self.control(method, target, body)
                elif method == "POST" and target.startswith("/hooks/"):
                    status, payload = self.hook(target, headers, body, at), b'{"ok":true}'
                else:
                    status, payload = 404, b"{}"
                close = version != "HTTP/1.1" or headers.get("connection", "").lower() == "close"
                writer.write(
                    f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\n"
                    f"content-type: application/json\r\ncontent-length: {len(payload)}\r\n"
                    f"{'connection: close' + chr(13) + chr(10) if close else ''}\r\n".encode()
                    + payload
                )
                await writer.drain()
                if close:
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()


async def main(port: int) -> None:
    receiver = Receiver()
    server = await asyncio.start_server(receiver.serve, "127.0.0.1", port, backlog=256)
    print(f"receiver listening on 127.0.0.1:{port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(main(parser.parse_args().port))
