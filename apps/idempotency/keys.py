"""What an idempotency key is attached to: the key itself, its caller, its endpoint, its request.

The key comes from the ``Idempotency-Key`` header or, for clients of the first API version, from an
``idempotency_key`` body field; both may be sent if they agree. The fingerprint leaves that body
field out, so the header form and the body form of one request fingerprint alike.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.validators import RegexValidator
from django.http import QueryDict
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from apps.idempotency.models import MAX_KEY_LENGTH, MAX_SCOPE_LENGTH

HEADER = "Idempotency-Key"
BODY_FIELD = "idempotency_key"


def idempotency_key_of(request: Request, body: Mapping[str, Any] | None = None) -> str | None:
    """The request's key, from the header or the body field (``body``, else the parsed body).

    A key that is empty, not a string, longer than 255 characters or made of anything but
    printable ASCII is a 400, and so is a request carrying two different keys.
    """
    header = request.headers.get(HEADER)
    source = request.data if body is None else body
    sent = isinstance(source, Mapping) and BODY_FIELD in source
    field = source[BODY_FIELD] if sent else None
    if header is not None and not _is_valid_key(header):
        raise ValidationError({HEADER: [KEY_RULE]})
    # Present means it must be a key: a null is not "no key", it is a malformed one.
    if sent and not _is_valid_key(field):
        raise ValidationError({BODY_FIELD: [KEY_RULE]})
    if header and field and header != field:
        raise ValidationError({BODY_FIELD: [f"Differs from the {HEADER} header; send one key."]})
    return header or field or None


KEY_RULE = (
    f"Must be 1 to {MAX_KEY_LENGTH} printable ASCII characters, without leading or trailing spaces."
)
# The same rule as a JSON Schema pattern, for the OpenAPI description of header and body field.
KEY_PATTERN = rf"^[!-~](?:[ -~]{{0,{MAX_KEY_LENGTH - 2}}}[!-~])?$"


class IdempotencyKeyField(serializers.CharField):
    """The ``idempotency_key`` body field: a JSON string under the header's rule."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", "Same as the Idempotency-Key header.")
        super().__init__(max_length=MAX_KEY_LENGTH, trim_whitespace=False, **kwargs)
        self.validators.append(RegexValidator(KEY_PATTERN.replace("$", r"\Z"), KEY_RULE))

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


def _is_valid_key(value: object) -> bool:
    # The header is a structured-field string: printable ASCII. Holding the body field to the
    # same rule keeps NUL bytes and control characters out of the database and the logs, and a
    # key that is all blanks would be trimmed to nothing by one side and not the other.
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_KEY_LENGTH
        and value.strip() == value
        and all(" " <= char <= "~" for char in value)
    )


def owner_of(request: Request) -> str | None:
    """Whose key it is: the authenticated user's id; None for an anonymous caller."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return str(user.pk)


def scope_of(request: Request) -> str:
    """The endpoint a key belongs to: method and path (hashed if too long for the column)."""
    method = request.method or ""
    scope = f"{method} {request.path}"
    if len(scope) <= MAX_SCOPE_LENGTH:
        return scope
    return f"{method} sha256:{hashlib.sha256(request.path.encode()).hexdigest()}"


def fingerprint_of(request: Request) -> str:
    """The fingerprint of ``request``: method, path, query string and body, without the key."""
    query = sorted(
        (name, value) for name, values in request.query_params.lists() for value in values
    )
    return request_fingerprint(request.method or "", request.path, request.data, query)


def request_fingerprint(
    method: str, path: str, body: Any, query: list[tuple[str, str]] | None = None
) -> str:
    """sha256 of the request in a canonical form: JSON with sorted keys and no whitespace."""
    if isinstance(body, QueryDict):
        # No body at all parses to an empty QueryDict: the same request as an empty JSON object.
        body = dict(body.lists())
    if isinstance(body, Mapping):
        body = {name: value for name, value in body.items() if name != BODY_FIELD}
    canonical = json.dumps(
        [method.upper(), path, query or [], body],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=_json_default,
    )
    # surrogatepass: a lone surrogate in a JSON string is valid JSON; the serializer rejects it
    # later with a 400, and the fingerprint must not fail on it first.
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def _json_default(value: object) -> str:
    # The JSON parser reads numbers with a fraction as Decimal; their text is their identity.
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} cannot be part of a request fingerprint")
