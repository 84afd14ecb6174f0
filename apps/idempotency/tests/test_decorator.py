"""``@idempotent`` on a minimal view whose command writes an ``auth.Group`` row.

The view is domain-free on purpose: these tests pin the decorator's own contract (one transaction,
only 2xx kept, non-2xx leaves nothing behind, replay, 422, key validation, required keys, request
checks before a replay), while tests/integration exercises it on the real order and dead-letter
endpoints.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.urls import path
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from apps.idempotency.decorators import idempotent, idempotent_routes
from apps.idempotency.models import IdempotencyRecord

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


class GroupCreateView(APIView):
    """Creates a group; answers 400 (without raising) for a name starting with "bad"."""

    permission_classes = (IsAuthenticated,)

    @idempotent
    def post(self, request: Request) -> Response:
        name = str(request.data.get("name", ""))
        Group.objects.create(name=name)
        if name.startswith("bad"):
            # Returned, not raised: the decorator itself must undo the row written above.
            return Response({"detail": "bad name"}, status=status.HTTP_400_BAD_REQUEST)
        response = Response({"name": name, "groups": Group.objects.count()}, status=201)
        response["Location"] = f"/groups/{name}/"
        response["ETag"] = '"1"'
        response["X-Not-Replayed"] = "yes"
        return response


class UndecoratedGroupView(APIView):
    permission_classes = (IsAuthenticated,)

    def post(self, request: Request) -> Response:
        Group.objects.create(name=str(request.data["name"]))
        return Response({"groups": Group.objects.count()})


class CheckedGroupView(APIView):
    """Reads a header the fingerprint leaves out, checked in ``initial()`` as the decorator's
    documentation asks."""

    permission_classes = (IsAuthenticated,)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        colour = request.headers.get("X-Colour", "red")
        if colour not in ("red", "blue"):
            raise ValidationError({"X-Colour": ["Must be red or blue."]})
        request.colour = colour  # type: ignore[attr-defined]

    @idempotent
    def post(self, request: Request) -> Response:
        name = f"{request.data['name']}-{request.colour}"  # type: ignore[attr-defined]
        Group.objects.create(name=name)
        return Response({"name": name}, status=201)


urlpatterns = [
    path("groups/", GroupCreateView.as_view(), name="groups"),
    path("checked-groups/", CheckedGroupView.as_view(), name="checked-groups"),
    *idempotent_routes(
        [path("wrapped/", UndecoratedGroupView.as_view(), name="wrapped")], "wrapped"
    ),
]


@pytest.fixture
def client(customer_client: APIClient) -> APIClient:
    return customer_client


def post(client: APIClient, url: str, body: dict[str, Any], key: str | None = None) -> Any:
    headers: dict[str, Any] = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(url, body, format="json", **headers)


def test_a_retry_replays_the_stored_response_without_running_again(client: APIClient) -> None:
    first = post(client, "/groups/", {"name": "a"}, key="k1")
    again = post(client, "/groups/", {"name": "a"}, key="k1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() == {"name": "a", "groups": 1}
    assert again["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert again["Location"] == "/groups/a/"
    assert again["ETag"] == '"1"'
    assert not again.has_header("X-Not-Replayed")  # only Location, ETag, Content-Type are kept
    assert again["Content-Type"] == "application/json"
    assert Group.objects.count() == 1


def test_the_body_form_of_the_key_replays_the_header_form(client: APIClient) -> None:
    post(client, "/groups/", {"name": "a"}, key="k1")
    again = post(client, "/groups/", {"name": "a", "idempotency_key": "k1"})
    assert again["Idempotent-Replayed"] == "true"
    assert Group.objects.count() == 1


def test_a_different_request_with_the_same_key_is_422_and_writes_nothing(
    client: APIClient,
) -> None:
    post(client, "/groups/", {"name": "a"}, key="k1")
    response = post(client, "/groups/", {"name": "b"}, key="k1")
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "idempotency_key_reused"
    assert list(Group.objects.values_list("name", flat=True)) == ["a"]
    assert IdempotencyRecord.objects.count() == 1


def test_a_returned_4xx_rolls_back_the_command_and_the_record(client: APIClient) -> None:
    rejected = post(client, "/groups/", {"name": "bad"}, key="k1")
    assert rejected.status_code == 400
    assert Group.objects.count() == 0
    assert IdempotencyRecord.objects.count() == 0
    corrected = post(client, "/groups/", {"name": "good"}, key="k1")
    assert corrected.status_code == 201
    assert not corrected.has_header("Idempotent-Replayed")
    assert list(Group.objects.values_list("name", flat=True)) == ["good"]


def test_without_a_key_every_request_runs(client: APIClient) -> None:
    post(client, "/groups/", {"name": "a"})
    post(client, "/groups/", {"name": "b"})
    assert Group.objects.count() == 2
    assert IdempotencyRecord.objects.count() == 0


@override_settings(OMS_IDEMPOTENCY_KEY_REQUIRED=True)
def test_a_missing_key_is_400_when_keys_are_required(client: APIClient) -> None:
    response = post(client, "/groups/", {"name": "a"})
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]
    assert Group.objects.count() == 0
    assert post(client, "/groups/", {"name": "a"}, key="k1").status_code == 201


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({"HTTP_IDEMPOTENCY_KEY": ""}, {"name": "a"}),
        ({"HTTP_IDEMPOTENCY_KEY": "k" * 256}, {"name": "a"}),
        ({}, {"name": "a", "idempotency_key": 7}),
        ({}, {"name": "a", "idempotency_key": ""}),
        ({"HTTP_IDEMPOTENCY_KEY": "one"}, {"name": "a", "idempotency_key": "two"}),
    ],
)
def test_malformed_or_conflicting_keys_are_400(
    client: APIClient, headers: dict[str, Any], body: dict[str, Any]
) -> None:
    response = client.post("/groups/", body, format="json", **headers)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert Group.objects.count() == 0


def test_a_key_of_255_characters_is_accepted(client: APIClient) -> None:
    key = "k" * 255
    assert post(client, "/groups/", {"name": "a"}, key=key).status_code == 201
    assert post(client, "/groups/", {"name": "a"}, key=key)["Idempotent-Replayed"] == "true"


def test_keys_belong_to_their_caller(client: APIClient, other_client: APIClient) -> None:
    assert post(client, "/groups/", {"name": "a"}, key="k1").status_code == 201
    # Another caller's request with the same key is its own: it runs, and is neither served the
    # first caller's response nor refused as a different request.
    response = post(other_client, "/groups/", {"name": "b"}, key="k1")
    assert response.status_code == 201
    assert not response.has_header("Idempotent-Replayed")
    assert Group.objects.count() == 2


def test_idempotent_routes_wraps_a_view_its_app_does_not_decorate(client: APIClient) -> None:
    first = post(client, "/wrapped/", {"name": "a"}, key="k1")
    again = post(client, "/wrapped/", {"name": "a"}, key="k1")
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json() == {"groups": 1}
    assert Group.objects.count() == 1


def test_idempotent_routes_rejects_an_unknown_route_name() -> None:
    with pytest.raises(ImproperlyConfigured, match="nope"):
        idempotent_routes([path("x/", UndecoratedGroupView.as_view(), name="x")], "nope")


@pytest.mark.parametrize("key", ["k\x00", " padded ", "\t", "caf\u00e9"])
def test_keys_outside_printable_ascii_are_400_and_write_nothing(
    client: APIClient, key: str
) -> None:
    response = client.post("/groups/", {"name": "a", "idempotency_key": key}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert Group.objects.count() == 0
    assert not IdempotencyRecord.objects.exists()


def test_request_checks_run_before_a_replay_as_before_the_first_run(client: APIClient) -> None:
    refused = client.post(
        "/checked-groups/",
        {"name": "a"},
        format="json",
        HTTP_X_COLOUR="x",
        HTTP_IDEMPOTENCY_KEY="k1",
    )
    assert refused.status_code == 400
    assert "X-Colour" in refused.json()["errors"]
    first = client.post("/checked-groups/", {"name": "a"}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == 201
    # Same key, same body: without the check first, this would replay the 201.
    replay = client.post(
        "/checked-groups/",
        {"name": "a"},
        format="json",
        HTTP_X_COLOUR="x",
        HTTP_IDEMPOTENCY_KEY="k1",
    )
    assert replay.status_code == 400
    assert replay["Content-Type"] == "application/problem+json"
    assert "X-Colour" in replay.json()["errors"]
    assert list(Group.objects.values_list("name", flat=True)) == ["a-red"]
    assert IdempotencyRecord.objects.count() == 1
    again = client.post("/checked-groups/", {"name": "a"}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert (again.status_code, again["Idempotent-Replayed"]) == (201, "true")
