"""OpenAPI pieces every API module documents the same way."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

PROBLEM = OpenApiResponse(
    response=OpenApiTypes.OBJECT, description="RFC 9457 problem details (application/problem+json)"
)

# What ``expected_version_of`` reads: a version number, quoted or not, optionally weak (W/"3").
IF_MATCH_PATTERN = r'^(W/)?("[0-9]{1,9}"|[0-9]{1,9})$'

IF_MATCH = OpenApiParameter(
    "If-Match",
    {"type": "string", "pattern": IF_MATCH_PATTERN, "example": '"3"'},
    OpenApiParameter.HEADER,
    required=False,
    description="The order version the change is based on (as in the ETag); 409 if it moved on.",
)
