"""The operator console through Django's test client: access, pages, fragments, commands,
retries, and query counts that do not grow with the orders or events."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.events.models import ParkedStatus, StoredEvent
from apps.orders.models import Order
from apps.orders.tests.factories import create_order
from apps.recovery.services import resolve_stuck_orders
from tests.console.support import dead_letter, orders_in_every_state, webhook_received

pytestmark = pytest.mark.django_db

PAGES = (
    "/console/",
    "/console/subscriptions/",
    "/console/failures/",
    "/console/stuck-orders/",
    "/console/webhooks/",
)


@pytest.fixture
def operator(staff: Any) -> Client:
    client = Client()
    client.force_login(staff)
    return client


def test_anonymous_users_get_the_login_page_and_customers_are_refused(customer: Any) -> None:
    for page in PAGES:
        anonymous = Client().get(page)
        assert anonymous.status_code == 302
        assert anonymous["Location"].startswith(f"/console/login/?next={page}")
    customer_client = Client()
    customer_client.force_login(customer)
    for page in PAGES:
        refused = customer_client.get(page)
        assert refused.status_code == 403
        assert "for staff" in refused.content.decode()


@pytest.mark.parametrize("page", PAGES)
def test_each_page_and_its_live_part_render_for_staff(
    operator: Client, customer: Any, page: str
) -> None:
    orders = orders_in_every_state(customer)
    dead_letter(orders[0])
    webhook_received(orders[1])
    full = operator.get(page)
    assert full.status_code == 200
    assert 'id="live"' in full.content.decode()
    assert "console.js" in full.content.decode()
    fragment = operator.get(page, {"fragment": "1"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.content.decode()


class RealPaymentProvider:
    """Stands for the client of a real payment provider: it says so. Never called here."""

    simulated = False


def test_every_page_names_the_provider_clients_in_use_and_marks_the_simulated_ones(
    operator: Client, settings: Any
) -> None:
    settings.OMS_PAYMENT_PROVIDER = f"{__name__}.RealPaymentProvider"
    for page in PAGES:
        html = operator.get(page).content.decode()
        line = html.split('id="providers"', 1)[1].split("</p>", 1)[0]
        payment = line.split('data-role="payment"', 1)[1].split("</span>", 1)[0]
        carrier = line.split('data-role="carrier"', 1)[1].split("</span>", 1)[0]
        assert payment.endswith(f">Payment provider: {__name__}.RealPaymentProvider")
        assert "simulated" not in payment
        assert 'class="simulated"' in line
        assert carrier.endswith(">Carrier: simulated (apps.webhooks.ledger.LedgerCarrier)")
        assert "no parcel moves" in carrier  # why it matters, on hover
    # Not shown to whoever is not logged in.
    assert 'id="providers"' not in Client().get("/console/login/").content.decode()


def test_the_funnel_counts_are_the_apis_statistics(
    operator: Client, customer: Any, staff_client: Any
) -> None:
    orders_in_every_state(customer, rounds=2)
    stats = staff_client.get("/api/v1/orders/stats/").json()["orders_per_state"]
    page = operator.get("/console/").content.decode()
    for state, count in stats.items():
        assert f'data-state="{state}"' in page
        row = page.split(f'data-state="{state}"', 1)[1].split("</tr>", 1)[0]
        assert f'<td class="count">{count}</td>' in row


def queries_of(client: Client, url: str) -> int:
    cache.clear()  # the statistics are computed, not read from the cache
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("page", PAGES)
def test_query_counts_do_not_grow_with_orders_or_events(
    operator: Client, customer: Any, page: str
) -> None:
    few = orders_in_every_state(customer)
    dead_letter(few[0])
    webhook_received(few[1])
    resolve_stuck_orders()
    operator.get(page)  # warm: sessions, content types
    before = queries_of(operator, page)
    many = orders_in_every_state(customer, rounds=4)
    for order in many[:6]:
        dead_letter(order)
        webhook_received(order)
    assert queries_of(operator, page) == before


def test_the_order_page_costs_the_same_however_long_its_timeline(
    operator: Client, customer: Any
) -> None:
    from apps.orders.state_machine import OrderState
    from apps.orders.tests.factories import move_to

    short = create_order(customer)
    long = move_to(create_order(customer), OrderState.DELIVERED)
    for _ in range(3):
        webhook_received(long)
    operator.get(f"/console/orders/{short.id}/")
    assert queries_of(operator, f"/console/orders/{short.id}/") == queries_of(
        operator, f"/console/orders/{long.id}/"
    )


def test_cancelling_from_the_order_page_grows_its_timeline(operator: Client, customer: Any) -> None:
    order = create_order(customer)
    page = operator.get(f"/console/orders/{order.id}/").content.decode()
    assert 'id="command-cancel"' in page
    assert 'id="command-ship"' not in page  # only what its state allows
    response = operator.post(
        f"/console/orders/{order.id}/cancel/", {"version": "1", "reason": "duplicate order"}
    )
    assert response.status_code == 302
    assert Order.objects.get(id=order.id).state == "CANCELLED"
    page = operator.get(f"/console/orders/{order.id}/").content.decode()
    assert '<td class="what">OrderCancelled</td>' in page
    assert 'id="command-cancel"' not in page


def test_the_order_page_offers_the_orders_allowed_actions_it_has_forms_for(
    operator: Client, staff_client: APIClient, customer: Any
) -> None:
    offered = {}
    for order in orders_in_every_state(customer):
        page = operator.get(f"/console/orders/{order.id}/").content.decode()
        buttons = re.findall(r'id="command-([a-z]+)"', page)
        allowed = staff_client.get(f"/api/v1/orders/{order.id}/").json()["allowed_actions"]
        # pay is the customer's and refund needs an amount: the API offers them, not the console.
        assert buttons == [name for name in allowed if name not in ("pay", "refund")]
        offered[order.state] = buttons
    assert offered == {
        "PENDING": ["cancel"],
        "PAID": ["cancel", "process"],
        "PROCESSING": ["ship"],
        "SHIPPED": ["deliver"],
        "DELIVERED": [],
        "CANCELLED": [],
        "FAILED": [],
    }


def test_a_refused_command_shows_the_apis_problem_and_changes_nothing(
    operator: Client, customer: Any
) -> None:
    order = create_order(customer)
    stale = operator.post(f"/console/orders/{order.id}/cancel/", {"version": "7"})
    assert stale.status_code == 302
    page = operator.get(f"/console/orders/{order.id}/").content.decode()
    assert "409 concurrency_conflict" in page
    assert Order.objects.get(id=order.id).state == "PENDING"
    operator.post(f"/console/orders/{order.id}/cancel/", {"version": "1"})
    refused = operator.post(f"/console/orders/{order.id}/ship/", {"version": "2"})
    assert refused.status_code == 302
    page = operator.get(f"/console/orders/{order.id}/").content.decode()
    assert "409 invalid_state_transition" in page
    assert "current state CANCELLED" in page


def test_forms_need_the_csrf_token(staff: Any, customer: Any) -> None:
    order = create_order(customer)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(staff)
    assert strict.post(f"/console/orders/{order.id}/cancel/", {"version": "1"}).status_code == 403
    assert Order.objects.get(id=order.id).state == "PENDING"


def test_retrying_a_dead_letter_shows_its_outcome(operator: Client, customer: Any) -> None:
    order = create_order(customer)
    dead = dead_letter(order)
    page = operator.get("/console/failures/", {"handler": "payments.request_payment"})
    assert f'data-parked="{dead.id}"' in page.content.decode()
    response = operator.post(
        "/console/failures/retry/",
        {"parked": [str(dead.id)], "next": "/console/failures/"},
        follow=True,
    )
    assert f"Dead letter {dead.id}: succeeded." in response.content.decode()
    dead.refresh_from_db()
    assert dead.status == ParkedStatus.RESOLVED
    assert StoredEvent.objects.filter(event_type="PaymentRequested").count() == 1


def test_stuck_orders_are_listed_past_their_deadline_with_what_recovery_tried(
    operator: Client, customer: Any, settings: Any
) -> None:
    from apps.orders.state_machine import OrderState
    from apps.orders.tests.factories import move_to

    settings.OMS_STUCK_PAID_MINUTES = 0.0  # every PAID order is past its deadline at once
    paid = move_to(create_order(customer), OrderState.PAID)  # its shipment never requested
    fresh = create_order(customer)  # PENDING without a submitted payment: not stuck
    page = operator.get("/console/stuck-orders/").content.decode()
    assert f'data-order="{paid.id}"' in page
    assert f'data-order="{fresh.id}"' not in page
    assert "PAID without a shipment requested" in page


def test_a_retry_goes_back_to_the_page_it_came_from_and_only_on_this_site(
    operator: Client, customer: Any
) -> None:
    dead = dead_letter(create_order(customer))
    back = operator.post(
        "/console/failures/retry/",
        {"parked": [str(dead.id)], "next": "/console/failures/?handler=x&fragment=1"},
    )
    assert back["Location"] == "/console/failures/?handler=x"  # the page, not its live part
    for elsewhere in ("https://elsewhere.example/", "//elsewhere.example/path"):
        response = operator.post("/console/failures/retry/", {"next": elsewhere})
        assert response["Location"] == "/console/failures/"


def test_odd_numbers_in_forms_are_refused_not_500(operator: Client, customer: Any) -> None:
    order = create_order(customer)
    for odd in ("²", "9" * 5000, "", "-1"):
        retried = operator.post("/console/failures/retry/", {"parked": odd}, follow=True)
        assert retried.status_code == 200
        assert "Select the dead letters to retry." in retried.content.decode()
        commanded = operator.post(f"/console/orders/{order.id}/cancel/", {"version": odd})
        assert commanded.status_code == 302
        page = operator.get(f"/console/orders/{order.id}/").content.decode()
        assert "400 validation_error" in page
    assert Order.objects.get(id=order.id).state == "PENDING"


def test_dead_letters_come_before_parked_events(operator: Client, customer: Any) -> None:
    first, second = create_order(customer), create_order(customer)
    parked = dead_letter(first)
    parked.status = ParkedStatus.PARKED
    parked.save(update_fields=["status"])
    dead = dead_letter(second)
    page = operator.get("/console/failures/").content.decode()
    assert page.index(f'data-parked="{dead.id}"') < page.index(f'data-parked="{parked.id}"')
