"""The service's Prometheus counters and histograms, counted where things happen.

Each process counts its own. With several processes (gunicorn workers, Celery's pool) set
``PROMETHEUS_MULTIPROC_DIR`` to one empty directory shared by all of them before they start:
prometheus_client then keeps every process's values in files there and ``/metrics`` adds them up
(``core/metrics.py``). What the database already knows (subscription positions, lag, parked and
dead counts) is not counted here but read when ``/metrics`` is scraped, so it is right whichever
process answers.

Label values come from closed sets (route patterns, event and command class names, outcomes), never
from ids or paths, so the number of series stays bounded.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

http_requests = Counter(
    "oms_http_requests",
    "HTTP requests answered, by route pattern, method and status code.",
    ["route", "method", "status"],
)
http_request_duration = Histogram(
    "oms_http_request_duration_seconds",
    "Time from the request reaching the application to its response, by route and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
commands = Counter(
    "oms_commands",
    "Commands handled by the services, by command and outcome (ok, refused, error).",
    ["command", "outcome"],
)
events_appended = Counter(
    "oms_events_appended",
    "Events committed to the log, by event type.",
    ["event_type"],
)
event_deliveries = Counter(
    "oms_event_deliveries",
    "Events a subscription's handler ran on, by subscription and outcome (succeeded, failed).",
    ["subscription", "outcome"],
)
webhooks_received = Counter(
    "oms_webhooks_received",
    "Inbound provider webhooks, by provider and outcome "
    "(processed, duplicate, ignored, rejected, failed).",
    ["provider", "outcome"],
)
idempotent_replays = Counter(
    "oms_idempotent_replays",
    "Requests answered with the stored response of an earlier request with the same key.",
    ["route"],
)
throttled_requests = Counter(
    "oms_throttled_requests",
    "Requests refused with 429, by throttle scope.",
    ["scope"],
)
outbound_deliveries = Counter(
    "oms_outbound_deliveries",
    "Attempts to deliver outbound webhooks, by result (delivered, retrying, given_up).",
    ["result"],
)
