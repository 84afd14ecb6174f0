"""Where the request path spends its time: cProfile of ``POST /api/v1/orders/``, an order's
detail and a page of the list, in-process.

Writes ``var/bench/profile.txt`` (quoted in BENCHMARKS.md): the SQL statements of one create, the
share of the request taken by each layer, and the functions with the most own time. The profiler
slows Python code more than waiting on PostgreSQL, so the shares lean towards Python.

The request does what it does in production: one transaction (order, items, the event, the
projections) and nothing after the commit. The reactions (``payments.request_payment``) are left
to the subscriptions; no worker runs here, so none is in the profile, and the backlog they leave
is dropped with the database.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from bench.config import VAR_DIR, BenchConfig
from bench.fixtures import fresh_start, setup_django
from bench.workload import order_body

REQUESTS = 300
# (label, file suffix, function name): layers of the request, by cumulative time.
LAYERS = [
    ("whole request (Django test client)", "django/test/client.py", "request"),
    (
        "token authentication (trusted from the cache)",
        "rest_framework/authentication.py",
        "authenticate",
    ),
    ("input validation (serializer)", "rest_framework/serializers.py", "is_valid"),
    ("OrderService.create_order", "apps/orders/services.py", "create_order"),
    ("  events store.append (event + projections)", "apps/events/store.py", "append"),
    ("    projections applied in the transaction", "apps/events/projection.py", "apply_inline"),
    ("  transaction commit", "django/db/backends/base/base.py", "commit"),
    ("order read with its sections (detail)", "apps/orders/queries.py", "get_order_for"),
    ("response: the order's representation", "apps/orders/api/v1/serializers.py", "order_payload"),
    ("list: the page's rows written out", "apps/orders/api/v1/read_views.py", "summary_payload"),
    ("list: the page's query", "rest_framework/pagination.py", "paginate_queryset"),
    ("SQL compilation (Django ORM)", "django/db/models/sql/compiler.py", "as_sql"),
    ("waiting on PostgreSQL (psycopg)", "psycopg/connection.py", "wait"),
]


def cumulative(stats: pstats.Stats, suffix: str, function: str) -> float:
    total = 0.0
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for (filename, _line, name), (_cc, _nc, _tt, ct, _callers) in raw.items():
        if name == function and filename.replace("\\", "/").endswith(suffix):
            total += ct
    return total


def statement_kinds(queries: list[dict[str, Any]]) -> list[str]:
    kinds: Counter[str] = Counter()
    for query in queries:
        sql = query["sql"].strip()
        words = sql.split()
        verb = words[0].upper() if words else "?"
        table = ""
        found = re.search(r'(?:INTO|FROM|UPDATE)\s+"?(\w+)"?', sql, re.IGNORECASE)
        if found:
            table = found.group(1)
        kinds[f"{verb} {table}".strip()] += 1
    return [f"{count} x {kind}" if count > 1 else kind for kind, count in kinds.items()]


def wrap(items: list[str], width: int = 96) -> list[str]:
    lines, current = [], ""
    for item in items:
        piece = f"{current}; {item}" if current else item
        if current and len(piece) > width:
            lines.append(f"  {current};")
            piece = item
        current = piece
    return [*lines, f"  {current}"] if current else lines


def profile(call: Callable[[], None], title: str, requests: int) -> list[str]:
    """One section of the report: statements of one request, layers, top functions."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(20):
        call()
    with CaptureQueriesContext(connection) as captured:
        call()
    # Copied now: the next request's request_started signal empties the connection's log.
    statements = list(captured.captured_queries)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        call()
    profiler.disable()

    stats = pstats.Stats(profiler)
    whole = cumulative(stats, *LAYERS[0][1:]) or 1.0
    lines = [
        f"== {title}",
        f"{len(statements)} SQL statements per request:",
        *wrap(statement_kinds(statements)),
        f"Share of the request ({requests} requests under cProfile, "
        f"{whole / requests * 1000:.1f} ms each with the profiler on):",
    ]
    for name, suffix, function in LAYERS:
        seconds = cumulative(stats, suffix, function)
        lines.append(f"  {name:44} {seconds / whole * 100:5.1f} %")
    lines.append("Own time, top functions:")
    buffer = io.StringIO()
    pstats.Stats(profiler, stream=buffer).sort_stats("tottime").print_stats(10)
    table = buffer.getvalue().splitlines()
    start = next(i for i, line in enumerate(table) if line.strip().startswith("ncalls"))
    for line in table[start : start + 11]:
        line = re.sub(r"\S*/site-packages/", "", line)
        line = re.sub(r"\S*/(apps|core|shared|bench)/", r"\1/", line)
        lines.append("  " + line.strip())
    return [*lines, ""]


def main() -> None:
    cfg = BenchConfig()
    setup_django()
    from django.test import override_settings
    from rest_framework.test import APIClient

    users = fresh_start()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {users.customer_token}")
    body = order_body(cfg.items_per_order)

    def post() -> None:
        response = client.post("/api/v1/orders/", body, format="json")
        if response.status_code != 201:
            raise RuntimeError(f"POST /api/v1/orders/ answered {response.status_code}")

    def get(path: str) -> Callable[[], None]:
        def call() -> None:
            response = client.get(path)
            if response.status_code != 200:
                raise RuntimeError(f"GET {path} answered {response.status_code}")

        return call

    items = f"{cfg.items_per_order} items"
    with override_settings(OMS_SUBSCRIPTIONS_RUN_AFTER_COMMIT=False):
        lines = profile(
            post,
            f"POST /api/v1/orders/ ({items}), as in production: reactions left to the "
            "subscriptions",
            REQUESTS,
        )
        newest = client.get("/api/v1/orders/").json()["results"][0]["id"]
        lines += profile(get(f"/api/v1/orders/{newest}/"), "GET /api/v1/orders/{id}/", REQUESTS)
        lines += profile(get("/api/v1/orders/"), "GET /api/v1/orders/ (a page of 50)", REQUESTS)
    text = "\n".join(lines)
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    (VAR_DIR / "profile.txt").write_text(text)
    print(text, flush=True)


if __name__ == "__main__":
    main()
