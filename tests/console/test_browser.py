"""The operator console in a real Chromium: a staff member logs in, reads the funnel the API's
statistics give, retries a dead letter, cancels an order and sees its timeline grow; a customer
is refused. With ``OMS_CONSOLE_SCREENSHOTS=<dir>`` (``make screenshots``) each page is saved."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as until
from selenium.webdriver.support.ui import WebDriverWait

from apps.orders.models import Order
from apps.orders.tests.factories import create_order
from tests.console.browser import chromium
from tests.console.support import dead_letter, orders_in_every_state, webhook_received

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "test-password-123"  # make_user's
WAIT_SECONDS = 15


@pytest.fixture
def browser() -> Iterator[Any]:
    yield from chromium()


def wait(browser: Any) -> WebDriverWait:
    # The live part is replaced every few seconds: an element found just before may be gone,
    # so each condition looks again until it holds.
    return WebDriverWait(
        browser,
        WAIT_SECONDS,
        ignored_exceptions=(StaleElementReferenceException, NoSuchElementException),
    )


def log_in(browser: Any, live_server: Any, username: str, next_page: str = "/console/") -> None:
    browser.get(f"{live_server.url}{next_page}")
    wait(browser).until(until.presence_of_element_located((By.ID, "id_username")))
    assert "/console/login/" in browser.current_url  # anonymous: sent to the login page
    browser.find_element(By.ID, "id_username").send_keys(username)
    browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()


def screenshot(browser: Any, name: str) -> None:
    folder = os.environ.get("OMS_CONSOLE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(Path(folder) / f"{name}.png"))


def funnel_count(browser: Any, state: str) -> int:
    cell = browser.find_element(By.CSS_SELECTOR, f'#funnel tr[data-state="{state}"] td.count')
    return int(cell.text)


def test_staff_see_the_flow_retry_a_dead_letter_and_cancel_an_order(
    browser: Any, live_server: Any, staff: Any, customer: Any, staff_client: Any, settings: Any
) -> None:
    settings.OMS_STUCK_PICKUP_HOURS = 0.0  # every order in PROCESSING is overdue at once
    orders = orders_in_every_state(customer, rounds=2)
    for order in orders[:3]:
        webhook_received(order)
    pending = create_order(customer)
    dead = dead_letter(pending)

    log_in(browser, live_server, staff.username)
    wait(browser).until(until.presence_of_element_located((By.ID, "funnel")))
    stats = staff_client.get("/api/v1/orders/stats/").json()["orders_per_state"]
    wait(browser).until(lambda _: {state: funnel_count(browser, state) for state in stats} == stats)
    screenshot(browser, "flow")

    # The page follows the flow by itself: a new order shows up without a reload.
    marker = browser.find_element(By.TAG_NAME, "h1")
    create_order(customer)
    wait(browser).until(lambda _: funnel_count(browser, "PENDING") == stats["PENDING"] + 1)
    assert marker.is_displayed()  # the same page, not a new one

    browser.get(f"{live_server.url}/console/subscriptions/")
    wait(browser).until(until.presence_of_element_located((By.ID, "subscriptions")))
    screenshot(browser, "subscriptions")

    browser.get(f"{live_server.url}/console/failures/")
    dead_row = f'tr[data-parked="{dead.id}"]'
    wait(browser).until(
        lambda _: "payments.request_payment" in browser.find_element(By.CSS_SELECTOR, dead_row).text
    )
    screenshot(browser, "dead-letters")

    def tick() -> bool:
        box = browser.find_element(By.CSS_SELECTOR, f"{dead_row} input[type=checkbox]")
        box.click()  # once ticked, the live part stops refreshing while it is in use
        return bool(box.is_selected())

    wait(browser).until(lambda _: tick())
    browser.find_element(By.ID, "retry").click()
    outcome = wait(browser).until(until.presence_of_element_located((By.ID, "messages")))
    assert f"Dead letter {dead.id}: succeeded." in outcome.text

    browser.get(f"{live_server.url}/console/webhooks/")
    wait(browser).until(until.presence_of_element_located((By.ID, "webhooks")))
    screenshot(browser, "webhooks")

    browser.get(f"{live_server.url}/console/stuck-orders/")
    stuck = wait(browser).until(until.presence_of_element_located((By.ID, "stuck")))
    processing = Order.objects.filter(state="PROCESSING").count()
    assert processing > 0
    assert len(stuck.find_elements(By.CSS_SELECTOR, "tr[data-order]")) == processing
    screenshot(browser, "stuck-orders")

    browser.get(f"{live_server.url}/console/orders/{pending.id}/")
    wait(browser).until(until.presence_of_element_located((By.ID, "timeline")))
    before = wait(browser).until(
        lambda _: len(browser.find_elements(By.CSS_SELECTOR, "#timeline tr.event"))
    )
    screenshot(browser, "order")
    browser.find_element(By.NAME, "reason").send_keys("the customer called")
    browser.find_element(By.ID, "command-cancel").click()
    wait(browser).until(until.text_to_be_present_in_element((By.ID, "state"), "CANCELLED"))

    def events() -> list[str]:
        cells = browser.find_elements(By.CSS_SELECTOR, "#timeline tr.event td.what")
        return [cell.text for cell in cells]

    def grown() -> bool:
        found = events()
        return "OrderCancelled" in found and len(found) > before

    wait(browser).until(lambda _: grown())
    assert Order.objects.get(id=pending.id).state == "CANCELLED"


def test_a_customer_is_refused(browser: Any, live_server: Any, customer: Any) -> None:
    log_in(browser, live_server, customer.username)
    refusal = wait(browser).until(until.presence_of_element_located((By.ID, "refusal")))
    assert "for staff" in refusal.text
    assert browser.find_elements(By.ID, "funnel") == []
