"""``allowed_actions`` lists exactly the commands the API accepts from the caller now.

Not compared with a table: for a customer and for staff, in every state an order can be in, each
command is issued on a fresh order in that state, and what the API did (accepted: 2xx and the
order's log grew; refused: 4xx) must match what the order's representation listed just before.
Paying again while the provider has the payment is answered 202 with the payment unchanged and
writes nothing, so it is not an action the caller can take.

The reactions to events are not run here (no commit inside the test's transaction): each state
is reached by the API's commands and the provider's answers alone, the way a paid order waits
for its shipment to be requested while the workers are behind.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.events.models import StoredEvent
from apps.orders import actions, queries
from apps.orders.api.v1.serializers import (
    VIEWER_CONTEXT_KEY,
    OrderOutputSerializer,
    order_payload,
)
from apps.orders.commands import Actor
from apps.payments.commands import RecordPaymentResult, RequestPayment
from apps.payments.models import Payment
from apps.payments.services import PaymentService
from apps.payments.tests.helpers import delivery_of, run

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system()
RELEASE = "payments.release_cancelled_order_payment"
ORDER = {
    "currency": "EUR",
    "payment_method": "card",
    "items": [{"sku": "BOOK-1", "name": "A book", "quantity": 2, "unit_price": "12.50"}],
}
# The body each command is issued with: the smallest request the API takes.
BODIES: dict[str, dict[str, Any]] = {
    "pay": {},
    "cancel": {"reason": "changed my mind"},
    "process": {},
    "ship": {},
    "deliver": {},
    "refund": {"amount": "0.01", "reason": "goodwill"},
}
SITUATIONS = [
    "PENDING",
    "PENDING_PAYMENT_SUBMITTED",
    "PAID",
    "PROCESSING",
    "SHIPPED",
    "DELIVERED",
    "CANCELLED",
    "CANCELLED_AFTER_PAYMENT",
    "FAILED",
]
ROLES = ["customer", "staff"]


def command_url(order_id: str, action: str) -> str:
    segment = "refunds" if action == "refund" else action
    return f"/api/v1/orders/{order_id}/{segment}/"


def ok(response: Any, status: int) -> Any:
    assert response.status_code == status, response.content
    return response.json()


def provider_answers(order_id: str, *, succeeded: bool) -> None:
    """The payment provider's answer to the payment (what its webhook applies)."""
    reference = Payment.objects.get(order_id=order_id).provider_reference
    assert reference
    PaymentService().record_result(
        RecordPaymentResult(
            provider_reference=reference, succeeded=succeeded, reason="card declined", actor=SYSTEM
        )
    )


def order_in(situation: str, customer_client: APIClient, staff_client: APIClient) -> str:
    """A new order of the customer's, brought to ``situation`` through the API."""
    order_id = ok(customer_client.post("/api/v1/orders/", ORDER, format="json"), 201)["id"]
    # The payments app's reaction to OrderCreated.
    PaymentService().request_payment(RequestPayment(order_id=uuid.UUID(order_id), actor=SYSTEM))
    if situation == "PENDING":
        return order_id
    if situation == "CANCELLED":
        ok(customer_client.post(command_url(order_id, "cancel"), {}, format="json"), 200)
        return order_id
    ok(customer_client.post(command_url(order_id, "pay"), {}, format="json"), 202)
    if situation == "PENDING_PAYMENT_SUBMITTED":
        return order_id
    provider_answers(order_id, succeeded=situation != "FAILED")
    if situation in ("PAID", "FAILED"):
        return order_id
    if situation == "CANCELLED_AFTER_PAYMENT":
        ok(customer_client.post(command_url(order_id, "cancel"), {}, format="json"), 200)
        # The payments app's reaction: what was captured is asked back.
        run(delivery_of("OrderCancelled", RELEASE, uuid.UUID(order_id)))
        return order_id
    for step in ("process", "ship", "deliver"):
        ok(staff_client.post(command_url(order_id, step), {}, format="json"), 200)
        if situation == {"process": "PROCESSING", "ship": "SHIPPED"}.get(step):
            return order_id
    assert situation == "DELIVERED"
    return order_id


def log_length(order_id: str) -> int:
    return StoredEvent.objects.filter(partition_key=order_id).count()


def accepted(client: APIClient, order_id: str, action: str) -> bool:
    before = log_length(order_id)
    response = client.post(command_url(order_id, action), BODIES[action], format="json")
    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        assert response["Content-Type"] == "application/problem+json"
        assert log_length(order_id) == before, "a refused command wrote nothing"
        return False
    return log_length(order_id) > before


def test_every_command_has_a_rule() -> None:
    assert actions.registered_actions() == sorted(BODIES)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("situation", SITUATIONS)
def test_allowed_actions_are_exactly_the_commands_the_api_accepts(
    situation: str, role: str, customer_client: APIClient, staff_client: APIClient
) -> None:
    caller = staff_client if role == "staff" else customer_client
    listed: dict[str, list[str]] = {}
    outcome: dict[str, bool] = {}
    for action in BODIES:
        order_id = order_in(situation, customer_client, staff_client)
        listed[action] = ok(caller.get(f"/api/v1/orders/{order_id}/"), 200)["allowed_actions"]
        outcome[action] = accepted(caller, order_id, action)
    # One order per command, all in the same situation: they all list the same actions.
    (shown,) = {tuple(names) for names in listed.values()}
    assert sorted(name for name, yes in outcome.items() if yes) == list(shown), outcome


def test_the_customer_of_a_new_order_may_pay_or_cancel_while_the_state_machine_says_more(
    customer_client: APIClient, staff_client: APIClient
) -> None:
    created = ok(customer_client.post("/api/v1/orders/", ORDER, format="json"), 201)
    assert created["allowed_transitions"] == ["CANCELLED", "FAILED", "PAID"]
    assert created["allowed_actions"] == ["cancel", "pay"]
    as_staff = ok(staff_client.get(f"/api/v1/orders/{created['id']}/"), 200)
    assert as_staff["allowed_actions"] == ["cancel", "pay"]


def test_command_answers_list_the_callers_actions_after_the_command(
    customer_client: APIClient, staff_client: APIClient
) -> None:
    order_id = order_in("PAID", customer_client, staff_client)
    detail = ok(customer_client.get(f"/api/v1/orders/{order_id}/"), 200)
    assert detail["allowed_actions"] == ["cancel"]
    processed = ok(staff_client.post(command_url(order_id, "process"), {}, format="json"), 200)
    assert processed["allowed_actions"] == ["refund", "ship"]
    shipped = ok(staff_client.post(command_url(order_id, "ship"), {}, format="json"), 200)
    assert shipped["allowed_actions"] == ["deliver", "refund"]
    delivered = ok(staff_client.post(command_url(order_id, "deliver"), {}, format="json"), 200)
    assert delivered["allowed_actions"] == ["refund"]
    assert ok(customer_client.get(f"/api/v1/orders/{order_id}/"), 200)["allowed_actions"] == []

    other = ok(customer_client.post("/api/v1/orders/", ORDER, format="json"), 201)["id"]
    cancelled = ok(customer_client.post(command_url(other, "cancel"), {}, format="json"), 200)
    assert (cancelled["state"], cancelled["allowed_actions"]) == ("CANCELLED", [])


def test_refund_leaves_the_actions_once_nothing_is_left_to_give_back(
    customer_client: APIClient, staff_client: APIClient
) -> None:
    order_id = order_in("DELIVERED", customer_client, staff_client)
    total = ok(staff_client.get(f"/api/v1/orders/{order_id}/"), 200)["total"]
    refund = staff_client.post(command_url(order_id, "refund"), {"amount": total}, format="json")
    assert refund.status_code == 201, refund.content
    assert ok(staff_client.get(f"/api/v1/orders/{order_id}/"), 200)["allowed_actions"] == []
    assert not accepted(staff_client, order_id, "refund")


def test_anonymous_callers_are_asked_to_authenticate_for_every_command(
    anon_client: APIClient, customer_client: APIClient
) -> None:
    order_id = ok(customer_client.post("/api/v1/orders/", ORDER, format="json"), 201)["id"]
    for action, body in BODIES.items():
        response = anon_client.post(command_url(order_id, action), body, format="json")
        assert response.status_code == 401, (action, response.content)


def test_the_schema_serializer_lists_the_same_actions_as_the_hand_written_answer(
    customer: Any, staff: Any, customer_client: APIClient, staff_client: APIClient
) -> None:
    order_id = order_in("PAID", customer_client, staff_client)
    order = queries.get_order_for(staff, uuid.UUID(order_id))
    for user, expected in ((staff, ["cancel", "process", "refund"]), (customer, ["cancel"])):
        viewer = Actor(user_id=user.pk, is_staff=user.is_staff)
        declared = OrderOutputSerializer(order, context={VIEWER_CONTEXT_KEY: viewer}).data
        assert declared["allowed_actions"] == expected
        assert order_payload(order, viewer=viewer)["allowed_actions"] == expected
    assert order_payload(order)["allowed_actions"] == []
