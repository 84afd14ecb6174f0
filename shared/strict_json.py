"""Strict JSON: one reader for every body that comes in, the API's and the providers' webhooks.

* Numbers with a fraction are read as Decimal, never as float (money fields refuse numbers anyway,
  but nothing should ever see 19.989999999999998).
* A body is UTF-8 (RFC 8259); another declared charset is a 415.
* Duplicate object keys are a 400: "last one wins" means two parties may read one message two ways.
* Nesting deeper than ``MAX_DEPTH`` is a 400: no body nests beyond a few levels, and unbounded
  nesting is how a parser is driven into a RecursionError.
* Strings that no database can store (lone UTF-16 surrogates spelled as escapes) are a 400.

A message that two parties could read two ways is refused whichever door it comes in by, so both
doors read through here.
"""

from __future__ import annotations

import codecs
import json
from decimal import Decimal
from typing import Any

from django.utils.http import parse_header_parameters
from rest_framework.exceptions import ParseError, UnsupportedMediaType

MAX_DEPTH = 32
JSON_MEDIA_TYPE = "application/json"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid JSON number")


def _object_without_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _check_shape(data: Any) -> None:
    """Refuse what JSON allows and these bodies do not: deep nesting and unpaired surrogates.

    Iterative, so that the check itself cannot recurse too deep.
    """
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ParseError(
                    "JSON parse error - a string holds an unpaired surrogate"
                ) from None
            continue
        if isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels")
            items = list(value.keys()) + list(value.values()) if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items)


def utf8_charset(encoding: str) -> str:
    """The codec name of ``encoding`` if it is UTF-8; an UnsupportedMediaType (415) otherwise."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        name = ""
    if name != "utf-8":
        raise UnsupportedMediaType(
            f"application/json; charset={encoding}",
            detail="JSON request bodies must be UTF-8 (charset=utf-8 or no charset).",
        )
    return name


def require_json_media_type(content_type: str | None) -> None:
    """Refuse (415) a body not declared as ``application/json`` in UTF-8, or not declared at all.

    For a caller that reads the raw body itself; DRF's parser selection does the same for the API.
    """
    media_type, params = parse_header_parameters(content_type or "")
    if media_type != JSON_MEDIA_TYPE:
        raise UnsupportedMediaType(
            content_type or "(none)",
            detail=f"The body must be sent as {JSON_MEDIA_TYPE} (charset=utf-8 or no charset).",
        )
    if "charset" in params:
        utf8_charset(params["charset"])


def read_json(raw: bytes, encoding: str = "utf-8") -> Any:
    """``raw`` read as strict JSON (see the module docstring); a ParseError (400) otherwise."""
    try:
        data = json.loads(
            raw.decode(encoding),
            parse_float=Decimal,
            parse_constant=_reject_constant,
            object_pairs_hook=_object_without_duplicate_keys,
        )
    except RecursionError:
        raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(f"JSON parse error - {exc}") from exc
    _check_shape(data)
    return data
