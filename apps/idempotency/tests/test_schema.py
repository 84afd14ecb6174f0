"""The OpenAPI documentation ``@idempotent`` adds, whichever side of ``extend_schema`` it sits."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings
from django.urls import path
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.idempotency.decorators import idempotent

CONFLICT = OpenApiResponse(response=OpenApiTypes.OBJECT, description="Another conflict.")


class AboveView(APIView):
    @idempotent
    @extend_schema(operation_id="above", request=None, responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request) -> Response:
        return Response(status=201)


class BelowView(APIView):
    @extend_schema(
        operation_id="below", request=None, responses={201: OpenApiTypes.OBJECT, 409: CONFLICT}
    )
    @idempotent
    def post(self, request: Request) -> Response:
        return Response(status=201)


class BareView(APIView):
    @idempotent
    def post(self, request: Request) -> Response:
        return Response()

    def get(self, request: Request) -> Response:
        return Response()


def schema() -> dict[str, Any]:
    patterns = [
        path("above/", AboveView.as_view()),
        path("below/", BelowView.as_view()),
        path("bare/", BareView.as_view()),
    ]
    result: dict[str, Any] = SchemaGenerator(patterns=patterns).get_schema(None, public=True)
    return result


def key_parameter(operation: dict[str, Any]) -> dict[str, Any]:
    (parameter,) = [p for p in operation.get("parameters", []) if p["name"] == "Idempotency-Key"]
    return parameter


@pytest.mark.parametrize("url", ["/above/", "/below/", "/bare/"])
def test_the_header_and_the_idempotency_answers_are_documented(url: str) -> None:
    operation = schema()["paths"][url]["post"]
    parameter = key_parameter(operation)
    assert parameter["in"] == "header"
    assert parameter["schema"]["maxLength"] == 255
    assert parameter["required"] is False
    responses = operation["responses"]
    for code, problem_code in [
        ("400", "validation_error"),
        ("409", "idempotency_key_in_progress"),
        ("422", "idempotency_key_reused"),
    ]:
        assert problem_code in responses[code]["description"]
        assert "application/problem+json" in responses[code]["content"]
    success = next(code for code in responses if code.startswith("2"))
    assert "Idempotent-Replayed" in responses[success]["headers"]


def test_a_conflict_the_view_documents_itself_is_kept() -> None:
    conflict = schema()["paths"]["/below/"]["post"]["responses"]["409"]["description"]
    assert conflict.startswith("Another conflict.")
    assert "idempotency_key_in_progress" in conflict


def test_undecorated_methods_of_the_view_are_left_alone() -> None:
    operation = schema()["paths"]["/bare/"]["get"]
    assert "Idempotency-Key" not in [p["name"] for p in operation.get("parameters", [])]
    assert "422" not in operation["responses"]


@override_settings(OMS_IDEMPOTENCY_KEY_REQUIRED=True)
def test_the_header_is_documented_as_required_when_keys_are_required() -> None:
    assert key_parameter(schema()["paths"]["/above/"]["post"])["required"] is True
