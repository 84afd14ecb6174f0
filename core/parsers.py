"""The API's JSON parser: strict JSON (:mod:`shared.strict_json`), bounded in size.

A body larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is a 413, read no further than the limit; what
the body may hold (UTF-8, Decimal numbers, no duplicate keys, bounded nesting, no lone surrogates)
is the strict JSON reader's rule, which inbound webhooks are read by too.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.parsers import JSONParser

from shared.exceptions import PayloadTooLarge
from shared.strict_json import read_json, utf8_charset


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"Request bodies are limited to {limit} bytes.", limit_bytes=limit)


class DecimalJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        parser_context = parser_context or {}
        request = parser_context.get("request")
        # Django drops a charset it does not know and falls back to the default: read the header.
        declared = getattr(request, "content_params", {}).get("charset")
        encoding = utf8_charset(
            declared or parser_context.get("encoding") or settings.DEFAULT_CHARSET
        )
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is None:
            raw = stream.read()
        else:
            raw = stream.read(limit + 1)
            if len(raw) > limit:
                raise too_large(limit)
        return read_json(raw, encoding)
