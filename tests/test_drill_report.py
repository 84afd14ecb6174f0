"""The drill's count of 5xx answers reads the service's request lines in either log format, and
fails the drill on a 500 (a bug) but not on a 503 (the answer to a dropped database)."""

from __future__ import annotations

import json
from pathlib import Path

from drill.report import http_statuses, server_errors_row


def json_request_line(status: int) -> str:
    return json.dumps(
        {
            "level": "INFO",
            "logger": "oms.requests",
            "message": f"POST /api/v1/orders/ {status}",
            "status": status,
        }
    )


def test_json_request_lines_are_counted_and_other_json_lines_are_not(tmp_path: Path) -> None:
    log = tmp_path / "web.log"
    log.write_text(
        "\n".join(
            [
                json_request_line(201),
                json_request_line(503),
                json_request_line(500),
                json.dumps(
                    {"logger": "gunicorn.error", "message": "Booting worker", "status": 500}
                ),
                "{not json",
                "--- drill: start #1 of web",
            ]
        )
    )
    assert http_statuses(log) == {201: 1, 503: 1, 500: 1}


def test_text_request_lines_and_access_lines_are_counted(tmp_path: Path) -> None:
    log = tmp_path / "web.log"
    log.write_text(
        "2026-12-07 12:00:00 INFO oms.requests: POST /api/v1/orders/ 201 (4.1 ms)\n"
        '127.0.0.1 - - [07/Dec/2026:12:00:00 +0000] "GET /readyz HTTP/1.1" 503 120 "-" "curl"\n'
    )
    assert http_statuses(log) == {201: 1, 503: 1}


def test_a_missing_log_counts_nothing(tmp_path: Path) -> None:
    assert http_statuses(tmp_path / "absent.log") == {}


def test_a_503_is_reported_and_a_500_fails_the_drill(tmp_path: Path) -> None:
    log = tmp_path / "web.log"
    log.write_text("\n".join([json_request_line(201)] * 3 + [json_request_line(503)]))
    outage = server_errors_row(http_statuses(log))
    assert outage.ok
    assert outage.found == "1 of 4 (503: 1)"
    log.write_text("\n".join([json_request_line(201), json_request_line(500)]))
    bug = server_errors_row(http_statuses(log))
    assert not bug.ok
    assert bug.found == "1 of 2 (500: 1)"
