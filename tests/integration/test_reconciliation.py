"""Reconciliation with the provider: answers whose webhooks were all lost are found by asking,
applied through the calls the webhooks would have made, and never applied twice."""

from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from apps.events.models import StoredEvent
from apps.orders.commands import Actor
from apps.orders.models import Order
from apps.orders.tests.factories import create_order
from apps.payments.commands import RequestRefund, SubmitPayment
from apps.payments.models import Payment, Refund
from apps.payments.services import PaymentService
from apps.webhooks.ledger import LedgerPaymentProvider
from apps.webhooks.models import LedgerRefund, SimulatedWebhook
from shared import clock

pytestmark = pytest.mark.django_db(transaction=True)

payments = PaymentService()


@pytest.fixture(autouse=True)
def simulator_settings(instant_simulator: Any) -> Any:
    """The simulator plays the provider and keeps its ledger."""
    return instant_simulator


def lose_every_webhook() -> int:
    """The provider gave up on every message it had to send (an outage longer than its
    retries): nothing of it will ever arrive."""
    lost, _ = SimulatedWebhook.objects.filter(sent_at__isnull=True).delete()
    return lost


def reconcile() -> dict[str, Any]:
    out = StringIO()
    call_command("reconcile", "--json", "--no-stuck", stdout=out)
    report: dict[str, Any] = json.loads(out.getvalue())
    return report


def applied(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["order_id"], c["action"]) for c in report["payments"]["corrections"] if c["applied"]]


def count(event_type: str, order_id: Any) -> int:
    payment_id = Payment.objects.get(order_id=order_id).id
    return StoredEvent.objects.filter(aggregate_id=payment_id, event_type=event_type).count()


def submitted(customer: Any, method: str = "card") -> Order:
    order = create_order(customer, payment_method=method)
    payments.submit_payment(SubmitPayment(order_id=order.id, actor=Actor(user_id=customer.pk)))
    return order


def test_a_lost_success_is_recovered_exactly_once(customer: Any) -> None:
    order = submitted(customer)
    assert lose_every_webhook() == 1
    assert Order.objects.get(id=order.id).state == "PENDING"

    first = reconcile()
    assert applied(first) == [(str(order.id), "payment succeeded")]
    assert Order.objects.get(id=order.id).state != "PENDING"  # paid, and taken in hand since
    assert count("PaymentSucceeded", order.id) == 1

    second = reconcile()
    assert applied(second) == []
    assert count("PaymentSucceeded", order.id) == 1
    assert StoredEvent.objects.filter(aggregate_id=order.id, event_type="OrderPaid").count() == 1


def test_a_lost_decline_fails_the_order_once(customer: Any, settings: Any) -> None:
    settings.OMS_SIMULATOR_APPROVAL_RATE = 0.0
    order = submitted(customer)
    lose_every_webhook()
    assert applied(reconcile()) == [(str(order.id), "payment failed")]
    assert Order.objects.get(id=order.id).state == "FAILED"
    assert applied(reconcile()) == []
    assert count("PaymentDeclined", order.id) == 1


def test_a_lost_wallet_approval_is_captured_once(customer: Any) -> None:
    order = submitted(customer, "wallet")
    lose_every_webhook()
    assert applied(reconcile()) == [(str(order.id), "payment authorized")]
    assert Payment.objects.get(order_id=order.id).status == "succeeded"
    assert applied(reconcile()) == []
    assert count("PaymentSucceeded", order.id) == 1


def test_a_lost_refund_webhook_is_recovered_exactly_once(customer: Any) -> None:
    order = submitted(customer)
    lose_every_webhook()
    reconcile()  # the payment's success
    refund = payments.request_refund(
        RequestRefund(order_id=order.id, amount=Decimal("4.90"), actor=Actor.system())
    )
    assert refund.status == "requested"  # the simulated provider answers refunds later
    assert lose_every_webhook() >= 1  # its refund.succeeded among them
    assert Payment.objects.get(order_id=order.id).amount_refund_pending == Decimal("4.90")

    assert applied(reconcile()) == [(str(order.id), "refund succeeded")]
    after = Payment.objects.get(order_id=order.id)
    assert (after.amount_refunded, after.amount_refund_pending) == (Decimal("4.90"), 0)
    assert Refund.objects.get(id=refund.id).status == "succeeded"
    assert applied(reconcile()) == []
    assert count("RefundSucceeded", order.id) == 1


def test_a_refund_made_at_the_provider_is_recorded_as_such(customer: Any) -> None:
    order = submitted(customer)
    lose_every_webhook()
    reconcile()
    payment = Payment.objects.get(order_id=order.id)
    assert payment.provider_reference
    LedgerRefund.objects.create(
        reference="refund_by_support_desk",
        payment_reference=payment.provider_reference,
        amount=Decimal("2.00"),
        currency="EUR",
        outcome="succeeded",
        known_from=clock.now(),
    )
    assert applied(reconcile()) == [(str(order.id), "refund succeeded")]
    refund = Refund.objects.get(provider_reference="refund_by_support_desk")
    assert (refund.amount, refund.status) == (Decimal("2.00"), "succeeded")
    assert applied(reconcile()) == []


def test_nothing_is_applied_while_the_provider_has_no_answer(customer: Any, settings: Any) -> None:
    settings.OMS_SIMULATOR_MIN_DELAY_SECONDS = 3600.0
    settings.OMS_SIMULATOR_MAX_DELAY_SECONDS = 3600.0
    order = submitted(customer)
    report = reconcile()
    assert report["payments"]["checked"] == 1
    assert applied(report) == []
    assert Order.objects.get(id=order.id).state == "PENDING"


def test_an_amount_the_provider_disagrees_on_is_reported_not_applied(customer: Any) -> None:
    order = submitted(customer)
    lose_every_webhook()
    from apps.webhooks.models import LedgerPayment

    LedgerPayment.objects.filter(order_id=order.id).update(amount=Decimal("1.00"))
    report = reconcile()
    [refused] = [c for c in report["payments"]["corrections"] if not c["applied"]]
    assert refused["action"] == "payment succeeded"
    assert "14.90" in refused["detail"]
    assert Order.objects.get(id=order.id).state == "PENDING"


def test_verify_event_store_checks_each_orders_money(customer: Any) -> None:
    order = submitted(customer)
    lose_every_webhook()
    reconcile()
    payments.request_refund(
        RequestRefund(order_id=order.id, amount=Decimal("3.00"), actor=Actor.system())
    )
    out = StringIO()
    call_command("verify_event_store", stdout=out)
    assert "0 mismatches" in out.getvalue()
    Payment.objects.filter(order_id=order.id).update(amount_refund_pending=Decimal("0"))
    out = StringIO()
    with pytest.raises(Exception, match="mismatch"):
        call_command("verify_event_store", stdout=out)
    assert "amount_refund_pending is Decimal('0.0000'), events say Decimal('3.00')" in (
        out.getvalue()
    )


def test_a_provider_that_contradicts_a_settled_refund_is_reported_not_applied(
    customer: Any,
) -> None:
    order = submitted(customer)
    lose_every_webhook()
    reconcile()
    refund = payments.request_refund(
        RequestRefund(order_id=order.id, amount=Decimal("4.90"), actor=Actor.system())
    )
    lose_every_webhook()
    reconcile()  # the refund's success
    LedgerRefund.objects.filter(reference=refund.provider_reference).update(outcome="failed")
    report = reconcile()
    [refused] = [c for c in report["payments"]["corrections"] if not c["applied"]]
    assert (refused["action"], refused["detail"]) == (
        "refund failed",
        f"{refund.provider_reference}: recorded as succeeded",
    )
    assert Payment.objects.get(order_id=order.id).amount_refunded == Decimal("4.90")


class UnreachableForOneOrder(LedgerPaymentProvider):
    """The provider's API times out for one payment's reference."""

    unreachable: str = ""

    def fetch_payment(self, *, reference: str) -> Any:
        if reference == self.unreachable:
            raise TimeoutError("the provider did not answer in time")
        return super().fetch_payment(reference=reference)


def test_a_provider_that_cannot_be_asked_about_one_payment_does_not_stop_the_others(
    customer: Any, settings: Any
) -> None:
    first, second = submitted(customer), submitted(customer)
    lose_every_webhook()
    reference = Payment.objects.get(order_id=first.id).provider_reference
    assert reference
    UnreachableForOneOrder.unreachable = reference
    settings.OMS_PAYMENT_PROVIDER = f"{__name__}.UnreachableForOneOrder"
    report = reconcile()
    assert applied(report) == [(str(second.id), "payment succeeded")]
    [refused] = [c for c in report["payments"]["corrections"] if not c["applied"]]
    assert (refused["order_id"], refused["action"]) == (str(first.id), "ask the provider")
    assert "did not answer" in refused["detail"]
