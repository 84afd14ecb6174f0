"""HTTP load on loopback: wrk when it is installed, else a small bundled asyncio client.

Both are closed-loop: ``concurrency`` connections each send a request, wait for the whole answer
and send the next, for at most ``seconds`` and (bundled client) at most ``max_requests``. Only
127.0.0.1 is ever a target. Latency is measured per request from sending (connecting included,
since gunicorn's sync workers close each connection) to the last byte of the answer.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.stats import percentile

HOST = "127.0.0.1"
REQUEST_TIMEOUT = 30.0


@dataclass(frozen=True)
class Endpoint:
    """One kind of request. ``paths`` with several entries are picked at random per request."""

    name: str
    method: str
    paths: Sequence[str]
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def raw(self, port: int) -> bytes:
        path = self.paths[0] if len(self.paths) == 1 else random.choice(self.paths)
        lines = [f"{self.method} {path} HTTP/1.1", f"Host: {HOST}:{port}"]
        lines += [f"{key}: {value}" for key, value in self.headers.items()]
        if self.body or self.method in {"POST", "PUT", "PATCH"}:
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


def json_endpoint(name: str, path: str, token: str | None, body: object) -> Endpoint:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    return Endpoint(name, "POST", [path], headers, json.dumps(body).encode())


def get_endpoint(name: str, paths: Sequence[str], token: str | None) -> Endpoint:
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    return Endpoint(name, "GET", list(paths), headers)


@dataclass
class LoadResult:
    requests: int = 0
    errors: int = 0
    elapsed: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    p50_ms: float | None = None
    p99_ms: float | None = None
    first_error: str = ""

    @property
    def rate(self) -> float:
        return (self.requests - self.errors) / self.elapsed if self.elapsed else 0.0

    def finish(self) -> LoadResult:
        if self.latencies_ms:
            self.p50_ms = percentile(self.latencies_ms, 0.50)
            self.p99_ms = percentile(self.latencies_ms, 0.99)
        return self


def chosen_generator(preference: str) -> str:
    """ "wrk" or "python" for the configured preference ("auto", "wrk" or "python")."""
    if preference == "python":
        return "python"
    if preference == "wrk" or shutil.which("wrk"):
        return "wrk" if shutil.which("wrk") else "python"
    return "python"


def describe_generator(preference: str) -> str:
    if chosen_generator(preference) == "wrk":
        return "wrk"
    why = "wrk not installed" if preference == "auto" else "chosen by OMS_BENCH_LOADGEN"
    return f"bundled Python asyncio client ({why})"


def run_load(
    endpoint: Endpoint,
    port: int,
    *,
    seconds: float,
    max_requests: int,
    concurrency: int,
    preference: str = "auto",
) -> LoadResult:
    if chosen_generator(preference) == "wrk":
        return _run_wrk(endpoint, port, seconds, concurrency)
    return asyncio.run(_run_python(endpoint, port, seconds, max_requests, concurrency))


# --- bundled client -------------------------------------------------------------------------


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one whole response; its status and whether the connection stays open."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed before the answer")
    version, status, *_ = status_line.decode("latin-1").split(" ", 2)
    length: int | None = None
    chunked = False
    keep_alive = version == "HTTP/1.1"
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value:
            chunked = True
        elif name == "connection":
            keep_alive = value != "close"
    if chunked:
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length is not None:
        await reader.readexactly(length)
    else:
        await reader.read()
        keep_alive = False
    return int(status), keep_alive


async def _connection(
    endpoint: Endpoint, port: int, deadline: float, budget: list[int], result: LoadResult
) -> None:
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    try:
        while time.perf_counter() < deadline and budget[0] > 0:
            budget[0] -= 1
            request = endpoint.raw(port)
            started = time.perf_counter()
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(HOST, port)
                assert reader is not None
                writer.write(request)
                status, keep_alive = await asyncio.wait_for(_read_answer(reader), REQUEST_TIMEOUT)
            except (OSError, ConnectionError, asyncio.IncompleteReadError, TimeoutError) as exc:
                result.requests += 1
                result.errors += 1
                result.first_error = result.first_error or f"{type(exc).__name__}: {exc}"
                if writer is not None:
                    writer.close()
                reader = writer = None
                continue
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
            result.requests += 1
            result.statuses[status] += 1
            if not 200 <= status < 300:
                result.errors += 1
                result.first_error = result.first_error or f"HTTP {status}"
            if not keep_alive:
                writer.close()
                reader = writer = None
    finally:
        if writer is not None:
            writer.close()


async def _run_python(
    endpoint: Endpoint, port: int, seconds: float, max_requests: int, concurrency: int
) -> LoadResult:
    result = LoadResult()
    budget = [max_requests]
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(_connection(endpoint, port, deadline, budget, result) for _ in range(concurrency))
    )
    result.elapsed = time.perf_counter() - started
    return result.finish()


# --- wrk ------------------------------------------------------------------------------------

_LUA = """
local paths = {%(paths)s}
wrk.method = "%(method)s"
%(headers)s
%(body)s
request = function()
  return wrk.format(nil, paths[math.random(#paths)])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH-RESULT %%d %%d %%d %%f %%f\\n", summary.requests,
    e.connect + e.read + e.write + e.timeout + e.status, summary.duration,
    latency:percentile(50), latency:percentile(99)))
end
"""


def _lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string literal is a valid Lua string literal here


def _run_wrk(endpoint: Endpoint, port: int, seconds: float, concurrency: int) -> LoadResult:
    script = _LUA % {
        "paths": ", ".join(_lua_string(path) for path in endpoint.paths),
        "method": endpoint.method,
        "headers": "\n".join(
            f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in endpoint.headers.items()
        ),
        "body": f"wrk.body = {_lua_string(endpoint.body.decode())}" if endpoint.body else "",
    }
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "load.lua"
        path.write_text(script)
        completed = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{concurrency}",
                f"-d{max(1, round(seconds))}s",
                f"--timeout={REQUEST_TIMEOUT:.0f}s",
                "-s",
                str(path),
                f"http://{HOST}:{port}{endpoint.paths[0]}",
            ],
            capture_output=True,
            text=True,
            timeout=seconds + REQUEST_TIMEOUT + 10,
            check=False,
        )
    match = re.search(r"BENCH-RESULT (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+)", completed.stdout)
    if not match:
        raise RuntimeError(f"wrk printed no result: {completed.stdout}\n{completed.stderr}")
    requests, errors, duration_us = (int(match.group(i)) for i in (1, 2, 3))
    result = LoadResult(requests=requests, errors=errors, elapsed=duration_us / 1e6)
    result.p50_ms = float(match.group(4)) / 1000
    result.p99_ms = float(match.group(5)) / 1000
    if errors:
        result.first_error = "wrk counted errors (non-2xx answers or socket errors)"
    return result
