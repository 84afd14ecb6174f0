"""``make run`` says where everything is served, at the address ``OMS_ADDRESS`` picks."""

from __future__ import annotations

import pytest

from core.serving import embedded_address, embedded_base_url
from scripts.run_embedded import banner


def test_the_banner_names_every_page_a_newcomer_opens_at_the_served_address() -> None:
    text = banner("http://127.0.0.1:8123")
    for path in ("/api/v1/orders/", "/api/docs/", "/api/schema/", "/console/", "/admin/"):
        assert f"http://127.0.0.1:8123{path}" in text
    for probe in ("/healthz", "/readyz", "/metrics"):
        assert f"http://127.0.0.1:8123{probe}" in text
    assert "OMS_ADDRESS" in text


def test_the_served_address_follows_oms_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_ADDRESS", "0.0.0.0:9100")
    assert embedded_address() == "0.0.0.0:9100"
    assert embedded_base_url() == "http://0.0.0.0:9100"
    monkeypatch.delenv("OMS_ADDRESS")
    assert embedded_base_url() == "http://127.0.0.1:8000"
