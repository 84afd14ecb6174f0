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


@pytest.mark.parametrize(
    ("address", "url"),
    [
        ("127.0.0.1:9100", "http://127.0.0.1:9100"),
        ("192.0.2.10:9100", "http://192.0.2.10:9100"),
        ("localhost:9100", "http://localhost:9100"),
        ("[::1]:9100", "http://[::1]:9100"),
        # Every interface is served, but no client can call "0.0.0.0": loopback is one of them.
        ("0.0.0.0:9100", "http://127.0.0.1:9100"),
        ("[::]:9100", "http://[::1]:9100"),
        ("9100", "http://127.0.0.1:9100"),  # a port alone, as runserver takes it
    ],
)
def test_the_served_address_follows_oms_address_and_is_called_where_it_can_be(
    address: str, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMS_ADDRESS", address)
    assert embedded_address() == address  # what runserver binds
    assert embedded_base_url() == url  # what the banner, the simulator and `simulate` call
    assert f"{url}/api/docs/" in banner(embedded_base_url())


def test_the_served_address_is_loopback_port_8000_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OMS_ADDRESS", raising=False)
    assert embedded_address() == "127.0.0.1:8000"
    assert embedded_base_url() == "http://127.0.0.1:8000"
