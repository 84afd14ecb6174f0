"""A real Chromium for the console's browser tests (Debian's ``chromium`` and
``chromium-driver``, installed by ``make test`` when missing), driven through Selenium."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

from conftest import on_postgres
from scripts.services import CHROMEDRIVER, CHROMIUM, browser_problem, require_services

# Without the network-quieting flags Chromium keeps trying to reach Google's hosts, which a
# closed network refuses, many at a time.
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
)


def chromium() -> Iterator[Any]:
    """A fresh headless Chromium with an empty profile; skipped (or, when the services are
    required, failed) where none is installed."""
    if on_postgres():
        pytest.skip("the browser tests run in the SQLite pass of `make test`")
    problem = browser_problem()
    if problem is not None:
        message = f"no browser for the browser tests ({problem}); `make test` installs it as root"
        if require_services():
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    with tempfile.TemporaryDirectory(prefix="oms-chromium-") as profile:
        for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
            options.add_argument(flag)
        driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
        driver.implicitly_wait(0)
        try:
            yield driver
        finally:
            driver.quit()
