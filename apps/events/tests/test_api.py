"""The staff endpoints of the event machinery."""

from __future__ import annotations

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from apps.events import store
from tests.support.probe import ProbeSent

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("get", "/api/v1/events/"),
    ("get", "/api/v1/events/subscriptions/"),
    ("get", "/api/v1/events/dead-letters/"),
    ("post", "/api/v1/events/dead-letters/1/retry/"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_anonymous_is_401_and_customer_is_403(
    anon_client: APIClient, customer_client: APIClient, method: str, path: str
) -> None:
    anonymous = getattr(anon_client, method)(path)
    assert anonymous.status_code == 401
    assert anonymous["Content-Type"] == "application/problem+json"
    customer = getattr(customer_client, method)(path)
    assert customer.status_code == 403
    assert customer.json()["code"] == "permission_denied"


@pytest.mark.django_db(transaction=True)
def test_staff_read_the_stream_in_commit_order_with_filters(staff_client: APIClient) -> None:
    import uuid

    ids = [uuid.uuid4() for _ in range(3)]
    # Positions are given as transactions commit: a committed transaction, not a test's savepoint.
    with transaction.atomic():
        for aggregate_id in ids:
            store.append([ProbeSent(aggregate_id=aggregate_id)], expected_version=0)
    page = staff_client.get("/api/v1/events/?page_size=2&event_type=ProbeSent").json()
    assert [e["aggregate_id"] for e in page["results"]] == [str(i) for i in ids[:2]]
    assert page["next"] is not None
    assert page["previous"] is None
    # The next link and the stored position lead to the same page.
    followed = staff_client.get(page["next"]).json()
    rest = staff_client.get(
        f"/api/v1/events/?page_size=2&event_type=ProbeSent&after={page['next_after']}"
    ).json()
    assert followed == rest
    assert [e["aggregate_id"] for e in rest["results"]] == [str(ids[2])]
    assert rest["next"] is None
    assert rest["next_after"] == rest["results"][-1]["position"]
    one = staff_client.get(f"/api/v1/events/?aggregate_id={ids[1]}").json()["results"]
    assert [e["event_type"] for e in one] == ["ProbeSent"]
    positions = [e["position"] for e in staff_client.get("/api/v1/events/").json()["results"]]
    assert positions == sorted(positions)


def test_bad_filters_are_400(staff_client: APIClient) -> None:
    queries = ("after=-1", "aggregate_id=nope", "page_size=0", "page_size=5000", "event_type=")
    for query in queries:
        response = staff_client.get(f"/api/v1/events/?{query}")
        assert response.status_code == 400, query
        assert response["Content-Type"] == "application/problem+json"


def test_retrying_an_unknown_delivery_is_404(staff_client: APIClient) -> None:
    response = staff_client.post("/api/v1/events/dead-letters/999999/retry/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_the_endpoints_are_in_the_openapi_schema(staff_client: APIClient) -> None:
    paths = staff_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    assert "/api/v1/events/" in paths
    assert "/api/v1/events/dead-letters/" in paths
    assert "/api/v1/events/subscriptions/" in paths
    retry = paths["/api/v1/events/dead-letters/{delivery_id}/retry/"]["post"]
    assert {"200", "401", "403", "404"} <= set(retry["responses"])
