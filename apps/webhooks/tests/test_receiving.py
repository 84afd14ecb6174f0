"""What a verified message does: malformed, unknown, duplicate, stale, early and reordered ones."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from apps.orders.commands import Actor, CancelOrder
from apps.orders.models import Order
from apps.orders.services import OrderService
from apps.orders.tests.factories import create_order
from apps.payments.commands import SubmitPayment
from apps.payments.models import Payment, Refund
from apps.payments.provider import SimulatedPaymentProvider
from apps.payments.services import PaymentService
from apps.payments.tests.helpers import submitted_order
from apps.payments.tests.providers import RECORDING_PROVIDER, RecordingProvider
from apps.shipping.models import Shipment
from apps.webhooks.models import WebhookLog, WebhookOutcome
from apps.webhooks.tests.helpers import (
    event_types,
    new_webhook_id,
    only_log,
    outcomes,
    payment_failed,
    payment_succeeded,
    post_webhook,
    shipment_message,
    state_of,
)
from shared.money import Money

CUSTOMER_FLOW = ["OrderCreated", "PaymentRequested", "PaymentSubmitted"]
PAID_FLOW = [
    *CUSTOMER_FLOW,
    "PaymentSucceeded",
    "OrderPaid",
    "ShipmentRequested",
    "OrderProcessingStarted",
]


def reference_message(message_type: str, payment: Payment) -> dict[str, Any]:
    return {"type": message_type, "data": {"provider_reference": payment.provider_reference}}


def processing_order(client: APIClient, customer: Any) -> Order:
    """An order paid through a webhook, whose shipment the shipping handler then requested."""
    order, payment = submitted_order(customer, "card")
    response = post_webhook(client, "payment", payment_succeeded(payment))
    assert response.status_code == 200, response.content
    assert state_of(order.id) == "PROCESSING"
    return order


# --- malformed messages -------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "claimed_type"),
    [
        (b"not json", ""),
        (b"\xff\xfe{}", ""),
        (b'[{"type": "payment.failed"}]', ""),
        (b'{"type": "payment.failed", "data": {"provider_reference": "card_1"}}', "payment.failed"),
        (b'{"type": "payment.teleported", "data": {}}', "payment.teleported"),
        (b'{"type": "shipment.shipped", "data": {}}', "shipment.shipped"),
        (b'{"type": "payment.failed"}', "payment.failed"),
        (b'{"type": "payment.failed", "data": {"provider_reference": 7, "reason": NaN}}', ""),
        (
            b'{"type": "payment.succeeded", "data": '
            b'{"provider_reference": "card_1", "amount": "1.001", "currency": "EUR"}}',
            "payment.succeeded",
        ),
        (
            b'{"type": "payment.succeeded", "data": '
            b'{"provider_reference": "card_1", "amount": "1.00", "currency": "XXX"}}',
            "payment.succeeded",
        ),
        (
            b'{"type": "payment.failed", "data": {"provider_reference": "\\u0000", "reason": "x"}}',
            "payment.failed",
        ),
    ],
    ids=[
        "not-json",
        "not-utf8",
        "not-an-object",
        "missing-reason",
        "unknown-type",
        "other-providers-type",
        "no-data",
        "nan",
        "too-many-decimals",
        "unknown-currency",
        "nul-character",
    ],
)
def test_a_malformed_body_is_rejected_with_400_and_logged(
    anon_client: APIClient, body: bytes, claimed_type: str
) -> None:
    response = post_webhook(anon_client, "payment", body)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] in {"validation_error", "malformed_request"}
    log = only_log()
    assert (log.outcome, log.signature_valid) == (WebhookOutcome.REJECTED, True)
    if claimed_type != "":
        assert log.message_type == claimed_type
    assert log.error


@pytest.mark.django_db
def test_a_malformed_message_does_not_claim_its_webhook_id(
    anon_client: APIClient, customer: Any
) -> None:
    order, payment = submitted_order(customer, "card")
    webhook_id = new_webhook_id()
    broken = {
        "type": "payment.succeeded",
        "data": {"provider_reference": payment.provider_reference},
    }
    assert post_webhook(anon_client, "payment", broken, webhook_id=webhook_id).status_code == 400
    fixed = post_webhook(anon_client, "payment", payment_succeeded(payment), webhook_id=webhook_id)
    assert fixed.json()["outcome"] == "processed"
    assert state_of(order.id) == "PAID"


@pytest.mark.django_db
def test_a_body_over_the_size_limit_is_rejected_with_413(
    anon_client: APIClient, settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = post_webhook(anon_client, "payment", b'{"pad": "' + b"x" * 2000 + b'"}')
    assert response.status_code == 413
    assert response.json()["code"] == "webhook_body_too_large"
    log = only_log()
    assert (log.outcome, log.body) == (WebhookOutcome.REJECTED, "")
    assert log.webhook_id.startswith("msg_")


# --- unknown orders and payments ----------------------------------------------------------------


@pytest.mark.django_db
def test_a_shipment_of_an_unknown_order_is_404_and_logged_as_failed(anon_client: APIClient) -> None:
    order_id = uuid.uuid4()
    response = post_webhook(anon_client, "shipping", shipment_message("shipped", order_id))
    assert response.status_code == 404
    assert response.json()["code"] == "order_not_found"
    log = only_log()
    assert (log.outcome, log.order_id) == (WebhookOutcome.FAILED, order_id)
    assert log.error.startswith("order_not_found")


@pytest.mark.django_db(transaction=True)
def test_a_result_that_overtakes_its_payment_fails_and_its_retry_is_processed(
    anon_client: APIClient, customer: Any
) -> None:
    # The provider answers before our submission committed: the reference is unknown to us yet.
    order = create_order(customer, payment_method="card")
    payment = Payment.objects.get(order_id=order.id)
    reference = SimulatedPaymentProvider().start_card_charge(
        amount=Money.of(payment.amount, payment.currency), idempotency_key=f"submit:{payment.id}"
    )
    message = {
        "type": "payment.succeeded",
        "data": {"provider_reference": reference, "amount": "14.90", "currency": "EUR"},
    }
    webhook_id = new_webhook_id()
    early = post_webhook(anon_client, "payment", message, webhook_id=webhook_id)
    assert early.status_code == 404
    assert early.json()["code"] == "payment_not_found"
    assert state_of(order.id) == "PENDING"

    PaymentService().submit_payment(
        SubmitPayment(order_id=order.id, actor=Actor(user_id=customer.pk))
    )
    assert Payment.objects.get(id=payment.id).provider_reference == reference
    retry = post_webhook(anon_client, "payment", message, webhook_id=webhook_id)
    assert retry.status_code == 200, retry.content
    assert retry.json()["outcome"] == "processed"
    assert outcomes() == [WebhookOutcome.FAILED, WebhookOutcome.PROCESSED]
    # The first attempt could not tell which order it was about; the retry could.
    assert list(WebhookLog.objects.order_by("id").values_list("order_id", flat=True)) == [
        None,
        order.id,
    ]
    assert event_types(order.id) == PAID_FLOW


# --- duplicates ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_duplicate_is_answered_200_and_changes_nothing(
    anon_client: APIClient, customer: Any
) -> None:
    order, payment = submitted_order(customer, "card")
    webhook_id = new_webhook_id()
    first = post_webhook(anon_client, "payment", payment_succeeded(payment), webhook_id=webhook_id)
    assert first.json()["outcome"] == "processed"
    events_after_first = event_types(order.id)
    assert events_after_first == PAID_FLOW

    # The same message again, and a copy whose body differs (the id is what identifies it).
    again = post_webhook(anon_client, "payment", payment_succeeded(payment), webhook_id=webhook_id)
    other = post_webhook(anon_client, "payment", payment_failed(payment), webhook_id=webhook_id)
    for response in (again, other):
        assert response.status_code == 200
        assert response.json()["outcome"] == "duplicate"
    assert event_types(order.id) == events_after_first
    assert state_of(order.id) == "PROCESSING"
    assert outcomes() == [
        WebhookOutcome.PROCESSED,
        WebhookOutcome.DUPLICATE,
        WebhookOutcome.DUPLICATE,
    ]
    assert set(WebhookLog.objects.values_list("order_id", flat=True)) == {order.id}


@pytest.mark.django_db
def test_the_same_id_from_another_provider_is_not_a_duplicate(
    anon_client: APIClient, customer: Any
) -> None:
    order, payment = submitted_order(customer, "card")
    webhook_id = new_webhook_id()
    post_webhook(anon_client, "payment", payment_succeeded(payment), webhook_id=webhook_id)
    shipped = post_webhook(
        anon_client, "shipping", shipment_message("shipped", order.id), webhook_id=webhook_id
    )
    assert shipped.json()["outcome"] == "processed"


# --- stale messages -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_decline_after_the_payment_succeeded_is_ignored_and_the_order_stays(
    anon_client: APIClient, customer: Any
) -> None:
    order, payment = submitted_order(customer, "card")
    post_webhook(anon_client, "payment", payment_succeeded(payment))
    before = event_types(order.id)

    webhook_id = new_webhook_id()
    late = post_webhook(anon_client, "payment", payment_failed(payment), webhook_id=webhook_id)
    assert late.status_code == 200, late.content
    assert late.json()["outcome"] == "ignored"
    assert "payment_result_conflict" in late.json()["detail"]
    assert state_of(order.id) == "PROCESSING"
    assert event_types(order.id) == before
    # Ignored claims the id: the provider's retry of it is a duplicate.
    retry = post_webhook(anon_client, "payment", payment_failed(payment), webhook_id=webhook_id)
    assert retry.json()["outcome"] == "duplicate"
    assert outcomes() == [
        WebhookOutcome.PROCESSED,
        WebhookOutcome.IGNORED,
        WebhookOutcome.DUPLICATE,
    ]


@pytest.mark.django_db(transaction=True)
def test_a_wallet_approval_for_a_cancelled_order_is_ignored(
    anon_client: APIClient, customer: Any
) -> None:
    order, payment = submitted_order(customer, "wallet")
    OrderService().cancel_order(CancelOrder(actor=Actor(user_id=customer.pk), order_id=order.id))
    before = event_types(order.id)
    message = {
        "type": "payment.authorized",
        "data": {"provider_reference": payment.provider_reference},
    }
    response = post_webhook(anon_client, "payment", message)
    assert response.json()["outcome"] == "ignored"
    assert state_of(order.id) == "CANCELLED"
    assert event_types(order.id) == before


# --- out of order -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_delivered_before_shipped_ships_then_delivers_and_the_late_shipped_is_ignored(
    anon_client: APIClient, customer: Any
) -> None:
    order = processing_order(anon_client, customer)
    delivered = post_webhook(anon_client, "shipping", shipment_message("delivered", order.id))
    assert delivered.status_code == 200, delivered.content
    assert delivered.json()["outcome"] == "processed"
    assert state_of(order.id) == "DELIVERED"
    expected = [
        *PAID_FLOW,
        "ShipmentShipped",
        "OrderShipped",
        "ShipmentDelivered",
        "OrderDelivered",
    ]
    assert event_types(order.id) == expected
    shipment = Shipment.objects.get(order_id=order.id)
    assert (shipment.status, shipment.tracking_number) == (
        "delivered",
        shipment_message("delivered", order.id)["data"]["tracking_number"],
    )

    late = post_webhook(anon_client, "shipping", shipment_message("shipped", order.id))
    assert late.status_code == 200
    assert late.json()["outcome"] == "ignored"
    assert state_of(order.id) == "DELIVERED"
    assert event_types(order.id) == expected
    assert outcomes() == [
        WebhookOutcome.PROCESSED,
        WebhookOutcome.PROCESSED,
        WebhookOutcome.IGNORED,
    ]


@pytest.mark.django_db(transaction=True)
def test_shipped_then_delivered_in_order(anon_client: APIClient, customer: Any) -> None:
    order = processing_order(anon_client, customer)
    for kind, state in (("shipped", "SHIPPED"), ("delivered", "DELIVERED")):
        response = post_webhook(anon_client, "shipping", shipment_message(kind, order.id))
        assert response.json()["outcome"] == "processed"
        assert state_of(order.id) == state
    assert event_types(order.id)[len(PAID_FLOW) :] == [
        "ShipmentShipped",
        "OrderShipped",
        "ShipmentDelivered",
        "OrderDelivered",
    ]


@pytest.mark.django_db
def test_a_shipment_report_that_overtakes_our_reaction_to_the_payment_requests_it_first(
    anon_client: APIClient, customer: Any
) -> None:
    # Here handlers do not run (no commit): the order is PAID and its shipment not requested yet.
    order, payment = submitted_order(customer, "card")
    with transaction.atomic():
        post_webhook(anon_client, "payment", payment_succeeded(payment))
    assert state_of(order.id) == "PAID"
    assert not Shipment.objects.filter(order_id=order.id).exists()

    response = post_webhook(anon_client, "shipping", shipment_message("shipped", order.id))
    assert response.json()["outcome"] == "processed"
    assert state_of(order.id) == "SHIPPED"
    assert event_types(order.id)[len(CUSTOMER_FLOW) + 2 :] == [
        "ShipmentRequested",
        "OrderProcessingStarted",
        "ShipmentShipped",
        "OrderShipped",
    ]


@pytest.mark.django_db(transaction=True)
def test_a_shipment_report_for_an_unpaid_order_fails_with_409_until_it_can_apply(
    anon_client: APIClient, customer: Any
) -> None:
    order, payment = submitted_order(customer, "card")
    webhook_id = new_webhook_id()
    message = shipment_message("shipped", order.id)
    early = post_webhook(anon_client, "shipping", message, webhook_id=webhook_id)
    assert early.status_code == 409
    assert early.json()["code"] == "invalid_state_transition"
    assert state_of(order.id) == "PENDING"

    post_webhook(anon_client, "payment", payment_succeeded(payment))
    retry = post_webhook(anon_client, "shipping", message, webhook_id=webhook_id)
    assert retry.json()["outcome"] == "processed"
    assert state_of(order.id) == "SHIPPED"
    assert outcomes() == [WebhookOutcome.FAILED, WebhookOutcome.PROCESSED, WebhookOutcome.PROCESSED]


@pytest.mark.django_db(transaction=True)
def test_a_report_from_another_carrier_fails_with_422(
    anon_client: APIClient, customer: Any
) -> None:
    order = processing_order(anon_client, customer)
    response = post_webhook(anon_client, "shipping", shipment_message("shipped", order.id, "UPS"))
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_command"
    assert state_of(order.id) == "PROCESSING"
    assert WebhookLog.objects.order_by("-id").first().outcome == WebhookOutcome.FAILED  # type: ignore[union-attr]


# --- payments: wallet, amounts, refunds ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_wallet_approval_captures_the_money_and_pays_the_order(
    anon_client: APIClient, customer: Any
) -> None:
    order, payment = submitted_order(customer, "wallet")
    message = {
        "type": "payment.authorized",
        "data": {"provider_reference": payment.provider_reference},
    }
    response = post_webhook(anon_client, "payment", message)
    assert response.json()["outcome"] == "processed"
    assert state_of(order.id) == "PROCESSING"
    assert event_types(order.id)[len(CUSTOMER_FLOW) : len(CUSTOMER_FLOW) + 3] == [
        "PaymentAuthorized",
        "PaymentSucceeded",
        "OrderPaid",
    ]


@pytest.mark.django_db
def test_a_success_for_another_amount_fails_with_422(anon_client: APIClient, customer: Any) -> None:
    order, payment = submitted_order(customer, "card")
    message = payment_succeeded(payment)
    message["data"]["amount"] = "0.01"
    response = post_webhook(anon_client, "payment", message)
    assert response.status_code == 422
    assert response.json()["code"] == "webhook_amount_mismatch"
    assert state_of(order.id) == "PENDING"
    assert only_log().outcome == WebhookOutcome.FAILED


@pytest.mark.django_db(transaction=True)
def test_a_refund_made_at_the_provider_is_recorded_without_asking_the_provider_again(
    anon_client: APIClient, customer: Any, settings: Any
) -> None:
    settings.OMS_PAYMENT_PROVIDER = RECORDING_PROVIDER
    RecordingProvider.reset()
    order, payment = submitted_order(customer, "card")
    post_webhook(anon_client, "payment", payment_succeeded(payment))
    message = {
        "type": "payment.refunded",
        "data": {
            "provider_reference": payment.provider_reference,
            "refund_reference": "re_at_provider_1",
            "reason": "chargeback",
        },
    }
    webhook_id = new_webhook_id()
    response = post_webhook(anon_client, "payment", message, webhook_id=webhook_id)
    assert response.json()["outcome"] == "processed"
    refund = Refund.objects.get(payment_id=payment.id)
    assert (refund.provider_reference, refund.reason) == ("re_at_provider_1", "chargeback")
    assert Payment.objects.get(id=payment.id).status == "refunded"
    assert RecordingProvider.called("refund") == []
    assert event_types(order.id)[-1] == "PaymentRefunded"
    # The provider repeats itself under a new id: the refund exists, nothing changes.
    events = event_types(order.id)
    again = post_webhook(anon_client, "payment", message)
    assert again.json()["outcome"] == "processed"
    assert event_types(order.id) == events
    assert Refund.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_refund_report_before_the_success_fails_and_its_retry_is_processed(
    anon_client: APIClient, customer: Any
) -> None:
    order, payment = submitted_order(customer, "card")
    message = {
        "type": "payment.refunded",
        "data": {"provider_reference": payment.provider_reference},
    }
    webhook_id = new_webhook_id()
    early = post_webhook(anon_client, "payment", message, webhook_id=webhook_id)
    assert early.status_code == 409
    assert early.json()["code"] == "invalid_payment_transition"
    post_webhook(anon_client, "payment", payment_succeeded(payment))
    retry = post_webhook(anon_client, "payment", message, webhook_id=webhook_id)
    assert retry.json()["outcome"] == "processed"
    assert Payment.objects.get(id=payment.id).status == "refunded"
    assert state_of(order.id) == "PROCESSING"
