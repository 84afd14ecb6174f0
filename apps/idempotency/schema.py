"""The OpenAPI side of ``@idempotent``: the header, the replay marker and the 400/409/422 answers.

Their bodies are problem documents, described once for the whole API by ``core.openapi``.

The additions are made to the finished operation (``get_operation``), not through
``extend_schema`` arguments, because ``extend_schema(responses=...)`` replaces the responses
instead of merging them: this way they survive whatever ``extend_schema`` the view declares, above
or below the decorator.
"""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from drf_spectacular.openapi import AutoSchema
from rest_framework.settings import api_settings

from apps.idempotency.keys import HEADER, KEY_PATTERN
from apps.idempotency.models import MAX_KEY_LENGTH

REPLAYED_HEADER = "Idempotent-Replayed"
KEY_DESCRIPTION = (
    f"Client-chosen key (1 to {MAX_KEY_LENGTH} characters, e.g. a UUID) that makes retrying this "
    "request safe. The same key with the same request replays the first response (with "
    f"`{REPLAYED_HEADER}: true`); with a different request it is a 422; while the first request "
    "is still running it is a 409. Keys belong to the caller and the endpoint and expire after "
    "`OMS_IDEMPOTENCY_KEY_TTL_HOURS`. A request that fails stores nothing: fix it and retry "
    "with the same key. The body field `idempotency_key`, where accepted, is the same key."
)
ANSWERS = {
    "400": "`validation_error`: a malformed `Idempotency-Key`, two different keys, or a missing "
    "key when keys are required.",
    "409": "`idempotency_key_in_progress`: a request with this key is still being processed; "
    "retry later with the same key.",
    "422": "`idempotency_key_reused`: this key was already used for a different request; nothing "
    "was done.",
}


def document_idempotency(operation: dict[str, Any]) -> dict[str, Any]:
    """Add the ``Idempotency-Key`` parameter and the idempotency answers to ``operation``."""
    parameters = [
        parameter
        for parameter in operation.get("parameters", [])
        if not (
            parameter.get("in") == "header" and parameter.get("name", "").lower() == HEADER.lower()
        )
    ]
    parameters.append(
        {
            "in": "header",
            "name": HEADER,
            "schema": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_KEY_LENGTH,
                "pattern": KEY_PATTERN,
            },
            "required": bool(settings.OMS_IDEMPOTENCY_KEY_REQUIRED),
            "description": KEY_DESCRIPTION,
        }
    )
    operation["parameters"] = parameters
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for code, response in responses.items():
        if code.startswith("2"):
            response.setdefault("headers", {})[REPLAYED_HEADER] = {
                "description": "`true` when this is the stored response of an earlier request "
                "with the same idempotency key.",
                "schema": {"type": "string", "enum": ["true"]},
            }
    for code, text in ANSWERS.items():
        response = responses.setdefault(code, {"description": ""})
        description = response.get("description", "")
        response["description"] = f"{description.rstrip('.')}. Also {text}" if description else text
    return operation


def idempotent_schema(base: type[AutoSchema] | AutoSchema | None) -> type[AutoSchema]:
    """A schema class that documents idempotency on top of ``base`` (the view method's own)."""
    if isinstance(base, AutoSchema):
        base = type(base)
    # DRF's setting is the imported class by the time a view is decorated.
    parent = base or cast(type[AutoSchema], api_settings.DEFAULT_SCHEMA_CLASS)

    class IdempotentSchema(parent):  # type: ignore[valid-type,misc]
        def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
            operation: dict[str, Any] | None = super().get_operation(*args, **kwargs)
            return None if operation is None else document_idempotency(operation)

    return IdempotentSchema
