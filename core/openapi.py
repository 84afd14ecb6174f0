"""The finishing pass over the generated OpenAPI document (a drf-spectacular post-processing hook).

Views declare which error statuses they answer; this pass makes the document say how every error
looks, in one place rather than in each view:

* every 4xx/5xx response is ``application/problem+json`` with the ``Problem`` schema;
* answers any operation can give are listed on every operation: 401 (a bad token), 406 (an
  unacceptable ``Accept``), 429 (a rate limit), and for operations with a body 400 (not what
  this schema describes), 413 (too large), 415 (not JSON) and 422 (well formed, refused by a
  business rule);
* request bodies built on ``StrictInputSerializer`` are closed objects (``additionalProperties:
  false``): the server answers an unknown field with a 400, and the schema says so.
"""

from __future__ import annotations

from typing import Any

from core.problems import PROBLEM_CONTENT_TYPE
from shared.strict import STRICT_COMPONENTS

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_COMPONENT: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details. `code` is stable and meant for programs; `title` "
    "and `detail` are for people. Some codes add members, listed below.",
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "code": {"type": "string", "example": "invalid_state_transition"},
        "errors": {
            "description": "`validation_error`: the messages for each invalid field or "
            "parameter (an object keyed by name, nested like the request)."
        },
        "current_state": {"type": "string", "description": "`invalid_state_transition`"},
        "target_state": {"type": "string", "description": "`invalid_state_transition`"},
        "allowed_transitions": {
            "type": "array",
            "items": {"type": "string"},
            "description": "`invalid_state_transition`: where the order may go from here.",
        },
        "current_version": {"type": "integer", "description": "`concurrency_conflict`"},
    },
    "required": ["type", "title", "status", "detail", "code"],
}
HTTP_METHODS = frozenset({"get", "put", "post", "patch", "delete", "head", "options"})
COMMON_ANSWERS = {
    "401": "`not_authenticated` or `authentication_failed`: no or invalid credentials.",
    "406": "`not_acceptable`: the `Accept` header asks for something other than JSON.",
    "429": "`throttled`: too many requests (writes per user, webhooks per address, or failed "
    "authentications from this address); retry after `Retry-After` seconds.",
}
BODY_ANSWERS = {
    "400": "`validation_error` (see `errors`) or `malformed_request` (not JSON, duplicate keys, "
    "nested too deep).",
    "413": "`payload_too_large`: the body is over the size limit.",
    "422": "`invalid_command` or one of its kinds (`invalid_amount`, ...): the body matches this "
    "schema but a business rule refuses it (say, more decimals than the currency has).",
    "415": "`unsupported_media_type`: the body is not `application/json` in UTF-8.",
}


def describe_problems_and_closed_bodies(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_COMPONENT
    for methods in result.get("paths", {}).values():
        for method, operation in methods.items():
            if method in HTTP_METHODS:
                _describe_errors(operation)
    for name in STRICT_COMPONENTS:
        for component in (f"{name}Request", f"Patched{name}Request", name):
            if component in schemas and schemas[component].get("type") == "object":
                schemas[component]["additionalProperties"] = False
    return result


def _describe_errors(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    answers = dict(COMMON_ANSWERS)
    if "requestBody" in operation:
        answers.update(BODY_ANSWERS)
    for status, text in answers.items():
        response = responses.setdefault(status, {"description": text})
        if not response.get("description"):
            response["description"] = text
    for status, response in responses.items():
        if status[0] in "45":
            response["content"] = {PROBLEM_CONTENT_TYPE: {"schema": PROBLEM_REF}}
            if not response.get("description"):
                response["description"] = "Problem details."
