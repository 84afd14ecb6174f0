"""Settings of the order management service, configured by environment variables.

The API's contract (``core/api_settings.py``) and the log configuration
(``core/logging_config.py``) are built in modules of their own; variables are parsed by
``core/environment.py``, which refuses what it cannot read.

Defaults are safe for development: SQLite under ``var/``, DEBUG on, the embedded worker.
Production sets ``DEBUG=0``, ``SECRET_KEY``, ``ALLOWED_HOSTS``, ``DATABASE_URL`` and runs
subscriptions with ``manage.py worker`` processes or Celery (``CELERY_BROKER_URL``).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from core.api_settings import SPECTACULAR, rest_framework_settings
from core.environment import env_bool, env_float, env_int, env_list
from core.logging_config import logging_config
from core.serving import embedded_base_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("OMS_VAR_DIR", BASE_DIR / "var"))


DEBUG = env_bool("DEBUG", True)
OMS_DEVELOPMENT_SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"
SECRET_KEY = os.environ.get("SECRET_KEY", OMS_DEVELOPMENT_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "axes",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "apps.events",
    "apps.idempotency",
    "apps.orders",
    "apps.payments",
    "apps.shipping",
    "apps.webhooks",
    "apps.outbound",
    "apps.recovery",
    "apps.console",
]
# Extra apps for a special deployment (the fault drill installs its fault-injecting handlers so).
INSTALLED_APPS += env_list("OMS_EXTRA_APPS", [])

MIDDLEWARE = [
    # Outermost: every line logged below carries the correlation id, and the request's own line
    # and metrics record the final answer (also what the middleware below answer).
    "core.middleware.CorrelationIdMiddleware",
    "core.middleware.RequestTelemetryMiddleware",
    # A disallowed Host is a 400 answered below: this turns it into a problem document too.
    "core.middleware.ApiProblemMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files (the admin's, the Swagger UI's) from STATIC_ROOT, compressed, cached forever
    # under their hashed names; answered before sessions and authentication are looked at.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "core.middleware.ApiCommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: turns a locked-out login into its answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "core.urls"
WSGI_APPLICATION = "core.wsgi.application"
ASGI_APPLICATION = "core.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'oms.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The same backend, with the per-request health check only after an idle spell.
    DATABASES["default"]["ENGINE"] = "core.postgresql"
OMS_DB_HEALTH_CHECK_AFTER_IDLE_SECONDS = env_float("OMS_DB_HEALTH_CHECK_AFTER_IDLE_SECONDS", 5.0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the embedded worker share the file: wait for the write lock instead of
    # failing at once, and take it at BEGIN so a read never has to upgrade to a write mid-way.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-axes first: a login from a locked-out username and address is refused before the
# password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or VAR_DIR / "static")
# WhiteNoise's own defaults follow DEBUG when the middleware starts; tied to the DEBUG of the
# environment here, so a test run (which turns DEBUG off) does not look for collected files.
WHITENOISE_AUTOREFRESH = DEBUG
WHITENOISE_USE_FINDERS = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Production serves what `collectstatic` gathered, under names that carry a hash of their
    # content (cacheable forever) and pre-compressed; development serves the apps' files as they
    # are (WhiteNoise finds them itself while DEBUG is on).
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

REST_FRAMEWORK = rest_framework_settings(debug=DEBUG)
SPECTACULAR_SETTINGS = SPECTACULAR

# --- Event delivery: subscriptions over the log ------------------------------------------------
OMS_DELIVERY_MAX_RETRIES = env_int("OMS_DELIVERY_MAX_RETRIES", 3)
OMS_DELIVERY_RETRY_BASE_SECONDS = env_float("OMS_DELIVERY_RETRY_BASE_SECONDS", 2.0)
OMS_DELIVERY_RETRY_CAP_SECONDS = env_float("OMS_DELIVERY_RETRY_CAP_SECONDS", 300.0)
# Segments per subscription (by partition key; a divisor of 1024): how many runners can work on
# one subscription at once. Changing it moves events between segments: stop the runners first.
OMS_SUBSCRIPTION_SEGMENTS = env_int("OMS_SUBSCRIPTION_SEGMENTS", 4)
if 1024 % OMS_SUBSCRIPTION_SEGMENTS:
    raise ImproperlyConfigured("OMS_SUBSCRIPTION_SEGMENTS must divide 1024 (1, 2, 4, ... 64)")
# Events read and handled per batch (one transaction, one commit).
OMS_SUBSCRIPTION_BATCH_SIZE = env_int("OMS_SUBSCRIPTION_BATCH_SIZE", 100)
# Celery: how often beat looks for segments with work, how long a drain task runs at most, and
# how long a sent task holds its segment's lease before another may be sent.
OMS_SUBSCRIPTION_DISPATCH_SECONDS = env_float("OMS_SUBSCRIPTION_DISPATCH_SECONDS", 1.0)
OMS_SUBSCRIPTION_DRAIN_SECONDS = env_float("OMS_SUBSCRIPTION_DRAIN_SECONDS", 10.0)
OMS_SUBSCRIPTION_DISPATCH_LEASE_SECONDS = env_float("OMS_SUBSCRIPTION_DISPATCH_LEASE_SECONDS", 60.0)
# The embedded worker's poll interval (on PostgreSQL it also wakes on NOTIFY).
OMS_WORKER_INTERVAL_SECONDS = env_float("OMS_WORKER_INTERVAL_SECONDS", 0.5)
# Tests only: run every subscription until idle right after each commit that appended events, in
# the committing process. Production leaves reactions to workers.
OMS_SUBSCRIPTIONS_RUN_AFTER_COMMIT = env_bool("OMS_SUBSCRIPTIONS_RUN_AFTER_COMMIT", False)

# --- Idempotency keys -------------------------------------------------------------------------
OMS_IDEMPOTENCY_KEY_TTL_HOURS = env_float("OMS_IDEMPOTENCY_KEY_TTL_HOURS", 24.0)
# When true, a state-changing POST without an Idempotency-Key is a 400.
OMS_IDEMPOTENCY_KEY_REQUIRED = env_bool("OMS_IDEMPOTENCY_KEY_REQUIRED", False)
# How long (PostgreSQL) a request waits for a twin holding the same key before answering 409.
OMS_IDEMPOTENCY_LOCK_TIMEOUT_MS = env_int("OMS_IDEMPOTENCY_LOCK_TIMEOUT_MS", 500)

# --- Celery -----------------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
# Celery's processes log through LOGGING below (JSON in production), not a handler of their own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# One queue name per deployment keeps several OMS instances (or test runs) on one broker apart.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("OMS_CELERY_QUEUE", "oms")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BEAT_SCHEDULE = {
    "dispatch-subscriptions": {
        "task": "events.dispatch_subscriptions",
        "schedule": OMS_SUBSCRIPTION_DISPATCH_SECONDS,
    },
}
# The apps' own periodic jobs are added to beat's schedule from their declarations (jobs.py, read
# by core/celery.py), at the intervals below, the same the embedded worker keeps.
OMS_IDEMPOTENCY_PURGE_INTERVAL_SECONDS = env_float("OMS_IDEMPOTENCY_PURGE_INTERVAL_SECONDS", 3600.0)

# --- Caching ----------------------------------------------------------------------------------
_CACHE_URL = os.environ.get("CACHE_URL") or os.environ.get("REDIS_URL")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _CACHE_URL}
        if _CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Security (production values when DEBUG is off) -------------------------------------------
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    # Probes and scrapes come over plain HTTP from inside the network, not through the proxy.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]

# --- Admin login attempts (django-axes) -------------------------------------------------------
# After OMS_LOGIN_FAILURE_LIMIT wrong passwords for one username from one address, that pair is
# refused (429) for OMS_LOGIN_LOCKOUT_MINUTES, even with the right password; a success resets it.
AXES_FAILURE_LIMIT = env_int("OMS_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_float("OMS_LOGIN_LOCKOUT_MINUTES", 15.0))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# The client's address as the rate limits see it (OMS_TRUSTED_PROXIES).
AXES_CLIENT_IP_CALLABLE = "shared.client_address.client_address"

# --- Logs -------------------------------------------------------------------------------------
# One line per request, command and event delivery, each with the ids it concerns
# (shared/log_context.py). JSON in production (one object per line, for the log pipeline),
# readable text in development. Every line goes through the root handler only, once; Celery's
# worker and beat use this configuration too (core/celery_logging.py).
OMS_LOG_FORMAT = os.environ.get("OMS_LOG_FORMAT") or ("text" if DEBUG else "json")
if OMS_LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured("OMS_LOG_FORMAT must be json or text")
LOGGING = logging_config(OMS_LOG_FORMAT, os.environ.get("LOG_LEVEL", "INFO"))

# --- Payment and shipping methods offered at order creation -----------------------------------
# Method name → strategy class. OMS_*_METHODS (what order creation accepts) defaults to every
# configured strategy; narrowing it by environment is allowed, naming a method without a strategy
# stops the start-up (see apps/payments/apps.py and apps/shipping/apps.py).
OMS_PAYMENT_STRATEGIES = {
    "card": "apps.payments.strategies.CardStrategy",
    "wallet": "apps.payments.strategies.WalletStrategy",
    "bank_transfer": "apps.payments.strategies.BankTransferStrategy",
}
OMS_PAYMENT_METHODS = env_list("OMS_PAYMENT_METHODS", list(OMS_PAYMENT_STRATEGIES))
# The client of the external payment provider (simulated: answers arrive through PaymentService).
OMS_PAYMENT_PROVIDER = os.environ.get(
    "OMS_PAYMENT_PROVIDER", "apps.webhooks.ledger.LedgerPaymentProvider"
)
# A bank transfer not received within this many days expires and fails its order.
OMS_BANK_TRANSFER_EXPIRY_DAYS = env_int("OMS_BANK_TRANSFER_EXPIRY_DAYS", 7)
OMS_PAYMENT_EXPIRY_INTERVAL_SECONDS = env_float("OMS_PAYMENT_EXPIRY_INTERVAL_SECONDS", 300.0)
# Reconciliation asks the provider about open payments, payments with refunds under way, and
# payments changed within this many hours, every OMS_RECONCILE_INTERVAL_SECONDS.
OMS_RECONCILE_WINDOW_HOURS = env_float("OMS_RECONCILE_WINDOW_HOURS", 72.0)
OMS_RECONCILE_INTERVAL_SECONDS = env_float("OMS_RECONCILE_INTERVAL_SECONDS", 900.0)
# Stuck orders (apps/recovery): how long an order may wait in a state before it is asked about
# again, how often the job looks, and how many tries each stuck order gets.
OMS_STUCK_PAYMENT_MINUTES = env_float("OMS_STUCK_PAYMENT_MINUTES", 30.0)
OMS_STUCK_PAID_MINUTES = env_float("OMS_STUCK_PAID_MINUTES", 15.0)
OMS_STUCK_PICKUP_HOURS = env_float("OMS_STUCK_PICKUP_HOURS", 48.0)
OMS_STUCK_REFUND_MINUTES = env_float("OMS_STUCK_REFUND_MINUTES", 60.0)
OMS_STUCK_MAX_ATTEMPTS = env_int("OMS_STUCK_MAX_ATTEMPTS", 3)
OMS_STUCK_CHECK_INTERVAL_SECONDS = env_float("OMS_STUCK_CHECK_INTERVAL_SECONDS", 300.0)
OMS_SHIPPING_STRATEGIES = {
    "standard": "apps.shipping.strategies.StandardShipping",
    "express": "apps.shipping.strategies.ExpressShipping",
}
OMS_SHIPPING_METHODS = env_list("OMS_SHIPPING_METHODS", list(OMS_SHIPPING_STRATEGIES))
# Quotes a new order's shipping charge (fixed at creation); orders does not import shipping.
OMS_SHIPPING_QUOTER = os.environ.get(
    "OMS_SHIPPING_QUOTER", "apps.shipping.quotes.charge_for_new_order"
)
# The client of the carriers (simulated): books the pickup and issues the tracking number.
OMS_CARRIER_CLIENT = os.environ.get("OMS_CARRIER_CLIENT", "apps.webhooks.ledger.LedgerCarrier")
# With DEBUG off, ``check --deploy`` refuses simulated provider and carrier clients (they record
# money and parcels that never moved) unless this says the deployment is a demo (oms.E004).
OMS_ALLOW_SIMULATED_PROVIDERS = env_bool("OMS_ALLOW_SIMULATED_PROVIDERS", False)

# --- Webhooks and the provider simulator --------------------------------------------------------
# Standard Webhooks secrets per provider (``whsec_<base64>``), comma-separated: every listed secret
# is accepted, and the simulator signs with the first. Rotate without downtime: add the new secret,
# switch the sender to it, remove the old one. The development defaults are public, so they apply
# only while DEBUG is on; in production a provider without a secret has every webhook rejected.
OMS_DEVELOPMENT_WEBHOOK_SECRETS = {
    "payment": "whsec_b21zLWRldmVsb3BtZW50LW9ubHktcGF5bWVudC13ZWJob29rLXNlY3JldCE=",
    "shipping": "whsec_b21zLWRldmVsb3BtZW50LW9ubHktc2hpcHBpbmctd2ViaG9vay1zZWNyZXQ=",
}
OMS_WEBHOOK_SECRETS = {
    provider: env_list(f"OMS_WEBHOOK_SECRETS_{provider.upper()}", [secret] if DEBUG else [])
    for provider, secret in OMS_DEVELOPMENT_WEBHOOK_SECRETS.items()
}
# The simulated payment provider and carrier call the service back with signed webhooks.
OMS_SIMULATOR_ENABLED = env_bool("OMS_SIMULATOR_ENABLED", DEBUG)
# Where they call: the service `make run` serves (OMS_ADDRESS) unless named.
OMS_SIMULATOR_BASE_URL = os.environ.get("OMS_SIMULATOR_BASE_URL") or embedded_base_url()
OMS_SIMULATOR_MIN_DELAY_SECONDS = env_float("OMS_SIMULATOR_MIN_DELAY_SECONDS", 1.0)
OMS_SIMULATOR_MAX_DELAY_SECONDS = env_float("OMS_SIMULATOR_MAX_DELAY_SECONDS", 3.0)
OMS_SIMULATOR_APPROVAL_RATE = env_float("OMS_SIMULATOR_APPROVAL_RATE", 0.9)
OMS_SIMULATOR_DUPLICATE_RATE = env_float("OMS_SIMULATOR_DUPLICATE_RATE", 0.1)
OMS_SIMULATOR_REORDER_RATE = env_float("OMS_SIMULATOR_REORDER_RATE", 0.1)
OMS_SIMULATOR_REFUND_FAILURE_RATE = env_float("OMS_SIMULATOR_REFUND_FAILURE_RATE", 0.0)
OMS_SIMULATOR_SEED = os.environ.get("OMS_SIMULATOR_SEED", "oms")
OMS_SIMULATOR_INTERVAL_SECONDS = env_float("OMS_SIMULATOR_INTERVAL_SECONDS", 1.0)
OMS_SIMULATOR_RETRY_SECONDS = env_float("OMS_SIMULATOR_RETRY_SECONDS", 2.0)
OMS_SIMULATOR_MAX_ATTEMPTS = env_int("OMS_SIMULATOR_MAX_ATTEMPTS", 8)
OMS_SIMULATOR_SEND_CONCURRENCY = env_int("OMS_SIMULATOR_SEND_CONCURRENCY", 4)
OMS_SIMULATOR_HTTP_TIMEOUT_SECONDS = env_float("OMS_SIMULATOR_HTTP_TIMEOUT_SECONDS", 10.0)

# --- Read side ----------------------------------------------------------------------------------
# Upper bound on the age of cached statistics (events also drop the cache as they are applied).
OMS_STATS_CACHE_SECONDS = env_int("OMS_STATS_CACHE_SECONDS", 30)
# How long a token that authenticated is trusted without a database read (core/authentication.py).
OMS_AUTH_CACHE_SECONDS = env_int("OMS_AUTH_CACHE_SECONDS", 60)

# --- Health, readiness and metrics ------------------------------------------------------------
# /readyz fails when the oldest event a subscription has not handled yet is older than this, or
# when a segment with work has not moved its checkpoint for OMS_READY_STALL_SECONDS.
OMS_READY_MAX_LAG_SECONDS = env_float("OMS_READY_MAX_LAG_SECONDS", 300.0)
OMS_READY_STALL_SECONDS = env_float("OMS_READY_STALL_SECONDS", 120.0)
# /readyz also connects to the broker: by default when CELERY_BROKER_URL is set (Celery runs the
# subscriptions); deployments with `manage.py worker` processes have no broker to check.
OMS_READY_CHECK_BROKER = env_bool("OMS_READY_CHECK_BROKER", "CELERY_BROKER_URL" in os.environ)
# The subscriptions are global: a web tier whose load balancer should not drop every instance
# when the runners fall behind turns this off and alerts on the lag metrics instead.
OMS_READY_CHECK_SUBSCRIPTIONS = env_bool("OMS_READY_CHECK_SUBSCRIPTIONS", True)
# Who may read /metrics: addresses in these networks, or a request with
# "Authorization: Bearer <OMS_METRICS_TOKEN>". Both empty: /metrics answers 404.
OMS_METRICS_ALLOWED_NETWORKS = env_list("OMS_METRICS_ALLOWED_NETWORKS", ["127.0.0.0/8", "::1/128"])
OMS_METRICS_TOKEN = os.environ.get("OMS_METRICS_TOKEN", "")

# --- Outbound webhooks --------------------------------------------------------------------------
# Seconds after each failed attempt before the next (then the message is given up): 5 s, 5 min,
# 30 min, 2 h, 5 h, 10 h by default. A Retry-After in the answer is honoured when longer.
OMS_OUTBOUND_RETRY_SCHEDULE_SECONDS = [
    float(step)
    for step in env_list(
        "OMS_OUTBOUND_RETRY_SCHEDULE_SECONDS", ["5", "300", "1800", "7200", "18000", "36000"]
    )
]
# An endpoint whose every attempt failed for this long is disabled (with its reason).
OMS_OUTBOUND_DISABLE_AFTER_SECONDS = env_float("OMS_OUTBOUND_DISABLE_AFTER_SECONDS", 5 * 86400.0)
OMS_OUTBOUND_TIMEOUT_SECONDS = env_float("OMS_OUTBOUND_TIMEOUT_SECONDS", 10.0)
# At most this much of an answer is read (and kept in the delivery log).
OMS_OUTBOUND_RESPONSE_LIMIT_BYTES = env_int("OMS_OUTBOUND_RESPONSE_LIMIT_BYTES", 16 * 1024)
OMS_OUTBOUND_ATTEMPT_RETENTION_DAYS = env_float("OMS_OUTBOUND_ATTEMPT_RETENTION_DAYS", 30.0)
# Networks endpoints may point into although private or reserved (e.g. "10.0.0.0/8").
OMS_OUTBOUND_ALLOWED_NETWORKS = env_list("OMS_OUTBOUND_ALLOWED_NETWORKS", [])
# How often the embedded worker or beat sends due messages; messages per batch; parallel posts.
OMS_OUTBOUND_SEND_INTERVAL_SECONDS = env_float("OMS_OUTBOUND_SEND_INTERVAL_SECONDS", 1.0)
OMS_OUTBOUND_BATCH_SIZE = env_int("OMS_OUTBOUND_BATCH_SIZE", 16)
OMS_OUTBOUND_CONCURRENCY = env_int("OMS_OUTBOUND_CONCURRENCY", 8)
# How long a rotated-out secret keeps signing beside the new one, unless the rotation says.
OMS_OUTBOUND_SECRET_OVERLAP_SECONDS = env_float("OMS_OUTBOUND_SECRET_OVERLAP_SECONDS", 86400.0)
