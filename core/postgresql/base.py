"""Django's PostgreSQL backend, checking a persistent connection only after it sat idle.

With persistent connections (``CONN_MAX_AGE``) a connection can die between requests (a server
restart, a failover, a proxy closing idle connections), which is why ``CONN_HEALTH_CHECKS`` asks
the server (``SELECT 1``) before the first query of every request: one round trip per request,
spent on connections that worked a few milliseconds ago. Here that check runs only when the
connection has not been used for ``OMS_DB_HEALTH_CHECK_AFTER_IDLE_SECONDS`` (default 5): under
load, never; after a pause, once. A connection used moments ago is no more likely to be dead than
it is to die between the check and the query, which no check covers anyway; and a query that
fails marks the connection, which Django then checks or closes at the end of the request.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    last_used: float | None = None

    def _cursor(self, name: Any = None) -> Any:
        cursor = super()._cursor(name)  # type: ignore[misc]
        self.last_used = time.monotonic()
        return cursor

    def close_if_health_check_failed(self) -> None:
        idle_limit = getattr(settings, "OMS_DB_HEALTH_CHECK_AFTER_IDLE_SECONDS", 5.0)
        if (
            self.connection is not None
            and self.last_used is not None
            and time.monotonic() - self.last_used < idle_limit
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def close(self) -> None:
        super().close()
        self.last_used = None
