"""Settings of the benchmark: the product's settings, plus the bench app and its ceiling URLs.

Everything the product does is configured exactly as in ``core.settings`` (by the same
environment variables); the additions only serve the benchmark, which is why they live here and
the product never ships them:

* the ``bench`` app (it subscribes no handler: the figures run the product's subscriptions);
* ``bench.ceiling_urls``: the product's URLs plus the two ceiling endpoints;
* a Celery queue of the benchmark's own, so that its workers and a shared Redis never mix tasks.
"""

from __future__ import annotations

import os

from core.settings import *  # noqa: F403
from core.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench.apps.BenchConfig"]
ROOT_URLCONF = "bench.ceiling_urls"
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("OMS_BENCH_QUEUE", "oms-bench")
