# Set-up and everyday commands. A fresh machine needs only Python 3.11+.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: install run run-prod test lint format bench drill screenshots clean

$(INSTALLED): requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	@touch $(INSTALLED)

install: $(INSTALLED)

# Embedded mode: SQLite under var/, the embedded worker (subscriptions) beside the web server.
run: install
	@mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py bootstrap_demo
	$(PY) scripts/run_embedded.py

# Production on this machine (docs/operations.md "Production"): PostgreSQL from DATABASE_URL,
# migrations, static files, deploy checks, then gunicorn and the subscription runners (Celery worker + beat,
# or RUN_PROD_ARGS=--runner=worker), all stopped together. Needs SECRET_KEY and DATABASE_URL.
RUN_PROD_ARGS ?=
run-prod: install
	$(PY) scripts/run_prod.py $(RUN_PROD_ARGS)

# The whole suite on SQLite, then again on PostgreSQL (skipped with a reason when unreachable,
# a failure with OMS_REQUIRE_SERVICES=1).
test: install
	$(PY) scripts/run_tests.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Benchmarks on PostgreSQL (OMS_BENCH_DATABASE_URL, default postgres://127.0.0.1:5432/oms_bench,
# recreated) and the local Redis; rewrites BENCHMARKS.md. Never part of `make test`. See bench/README.md.
BENCH_INSTALLED := $(VENV)/.installed-bench

$(BENCH_INSTALLED): $(INSTALLED) requirements-bench.lock
	$(PY) bench/check_lock.py
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-bench.lock
	@touch $(BENCH_INSTALLED)

bench: $(BENCH_INSTALLED)
	@sh bench/install_wrk.sh
	$(PY) -m bench.run

# Fault drills (docs/operations.md "Fault drills"): the production processes under 1,000 simulated
# orders with crashes, broker loss and dropped connections, then embedded mode; rewrites RELIABILITY.md and
# fails when any check fails. Never part of `make test` (a small drill runs in its PostgreSQL pass).
DRILL_ARGS ?=
drill: install
	$(PY) -m drill --mode celery --report RELIABILITY.md $(DRILL_ARGS); celery=$$?; \
	$(PY) -m drill --mode embedded --report RELIABILITY.md $(DRILL_ARGS); embedded=$$?; \
	test $$celery -eq 0 && test $$embedded -eq 0

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache

# The console's screenshots (docs/console/*.png, shown in docs/operations.md "Operator console"),
# taken by its browser test in a real Chromium (installed as for `make test` when missing).
screenshots: install
	$(PY) scripts/install_browser.py
	OMS_CONSOLE_SCREENSHOTS=docs/console DATABASE_URL=sqlite:///:memory: $(PY) -m pytest -q tests/console/test_browser.py -k flow
