"""The REST API's settings: Django REST Framework's (authentication, strict JSON, problem
details, throttles) and the OpenAPI document's (drf-spectacular). Kept apart from the service's
own settings because they describe the API's contract, not its deployment."""

from __future__ import annotations

import os
from typing import Any

from core.environment import env_int


def rest_framework_settings(*, debug: bool) -> dict[str, Any]:
    """``REST_FRAMEWORK``: the browsable API only while ``debug``."""
    return {
        "DEFAULT_AUTHENTICATION_CLASSES": [
            "core.authentication.CachedTokenAuthentication",
            "rest_framework.authentication.SessionAuthentication",
        ],
        "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
        "DEFAULT_PARSER_CLASSES": ["core.parsers.DecimalJSONParser"],
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
        + (["rest_framework.renderers.BrowsableAPIRenderer"] if debug else []),
        "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
        "EXCEPTION_HANDLER": "core.problems.problem_exception_handler",
        "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
        "COERCE_DECIMAL_TO_STRING": True,
        # Writes per user (per address when anonymous) and webhook requests per address; the failed
        # authentications per address are counted by core.authentication (shared/throttling.py).
        "DEFAULT_THROTTLE_CLASSES": ["shared.throttling.WriteRateThrottle"],
        "DEFAULT_THROTTLE_RATES": {
            "writes": os.environ.get("OMS_THROTTLE_WRITES", "50/s") or None,
            "webhooks": os.environ.get("OMS_THROTTLE_WEBHOOKS", "100/s") or None,
            "auth_failures": os.environ.get("OMS_THROTTLE_AUTH_FAILURES", "20/m") or None,
        },
        # The client address is the connection's unless a proxy in front says otherwise: with
        # OMS_TRUSTED_PROXIES=N the N-th address from the right of X-Forwarded-For (0: ignore it).
        "NUM_PROXIES": env_int("OMS_TRUSTED_PROXIES", 0),
    }


SPECTACULAR: dict[str, Any] = {
    "TITLE": "OMS — Order Management Service",
    "DESCRIPTION": (
        "Event-driven order management: orders move through a strict state machine and every "
        "change is an event in a durable log. Errors are RFC 9457 problem details "
        "(application/problem+json) with a stable `code`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several resources have a "status"; each set of choices gets its own name.
    "ENUM_NAME_OVERRIDES": {
        "OutboundMessageStatusEnum": "apps.outbound.models.MessageStatus",
        # The payment's status appears on the payment and in the order's payment section.
        "PaymentOutputStatusEnum": "apps.payments.api.v1.serializers.PAYMENT_STATUS_CHOICES",
    },
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.openapi.describe_problems_and_closed_bodies",
    ],
}
