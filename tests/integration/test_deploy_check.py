"""Production settings pass Django's deployment checklist, and ``make run-prod`` stops on it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from apps.webhooks.ledger import LedgerPaymentProvider
from scripts import run_prod

ROOT = Path(__file__).resolve().parents[2]


class RealPaymentProvider:
    """Stands for the client of a real payment provider: it says so. Never called here."""

    simulated = False


class RealCarrier:
    """Stands for the client of a real carrier: it says so. Never called here."""

    simulated = False


class RenamedLedgerProvider(LedgerPaymentProvider):
    """The simulated provider under another name: it stays simulated."""


class UndeclaredCarrier:
    """A carrier client that does not say whether it is simulated."""


PRODUCTION_VALUES = {
    "DEBUG": "0",
    "SECRET_KEY": "k" * 20 + "production-secret-with-enough-entropy-0123456789",
    "ALLOWED_HOSTS": "oms.example.com",
    "DATABASE_URL": "sqlite:///:memory:",
    # Without its providers' secrets production warns that every webhook will be rejected.
    "OMS_WEBHOOK_SECRETS_PAYMENT": "whsec_cHJvZHVjdGlvbi1wYXltZW50LXNlY3JldA==",
    "OMS_WEBHOOK_SECRETS_SHIPPING": "whsec_cHJvZHVjdGlvbi1zaGlwcGluZy1zZWNyZXQ=",
    # Production talks to a real provider and a real carrier.
    "OMS_PAYMENT_PROVIDER": f"{__name__}.RealPaymentProvider",
    "OMS_CARRIER_CLIENT": f"{__name__}.RealCarrier",
    "OMS_ALLOW_SIMULATED_PROVIDERS": "0",  # not a demo
    # Scrapers present a token: loopback alone would let a same-host proxy expose /metrics.
    "OMS_METRICS_TOKEN": "production-scrape-token-0123456789",
}
SIMULATED_CLIENTS = {
    "OMS_PAYMENT_PROVIDER": "apps.webhooks.ledger.LedgerPaymentProvider",
    "OMS_CARRIER_CLIENT": "apps.webhooks.ledger.LedgerCarrier",
}


def deploy_check(*arguments: str, **overrides: str) -> subprocess.CompletedProcess[str]:
    """``manage.py check --deploy`` in a process of its own, with production values."""
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", *arguments],
        cwd=ROOT,
        env={**os.environ, **PRODUCTION_VALUES, **overrides},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_values() -> None:
    result = deploy_check("--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_that_a_same_host_proxy_would_expose_metrics_by_default() -> None:
    # No token and the loopback default: what run_prod.py runs still passes (a scraper on the
    # machine is legitimate), but the operator is told how a local proxy would open it.
    manage = [sys.executable, "manage.py", *run_prod.DEPLOY_CHECK]
    env = {**os.environ, **PRODUCTION_VALUES, "OMS_METRICS_TOKEN": ""}
    env.pop("OMS_METRICS_ALLOWED_NETWORKS", None)
    result = subprocess.run(manage, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "(oms.W001) /metrics is readable from loopback without a token" in result.stderr
    assert "Set OMS_METRICS_TOKEN" in result.stderr
    assert "OMS_METRICS_ALLOWED_NETWORKS to the networks your scraper is in" in result.stderr
    assert "ERRORS:" not in result.stderr


@pytest.mark.parametrize(
    "closed",
    [
        {"OMS_METRICS_TOKEN": "production-scrape-token-0123456789"},
        {"OMS_METRICS_TOKEN": "", "OMS_METRICS_ALLOWED_NETWORKS": "10.20.0.0/16"},
        {"OMS_METRICS_TOKEN": "", "OMS_METRICS_ALLOWED_NETWORKS": ""},  # /metrics off
        {"OMS_METRICS_TOKEN": "", "DEBUG": "1"},
    ],
    ids=["token", "named-networks", "metrics-off", "development"],
)
def test_check_deploy_does_not_warn_about_metrics_once_the_operator_has_chosen(
    closed: dict[str, str],
) -> None:
    result = deploy_check(**closed)
    assert "oms.W001" not in result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key() -> None:
    env = {**os.environ, "DEBUG": "0", "SECRET_KEY": "", "DATABASE_URL": "sqlite:///:memory:"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_check_deploy_fails_with_the_simulator_on_in_production() -> None:
    result = deploy_check(OMS_SIMULATOR_ENABLED="1")
    assert result.returncode != 0
    assert "ERRORS:" in result.stderr
    assert "(oms.E001) The provider simulator is on with DEBUG off" in result.stderr


def test_check_deploy_fails_with_a_public_development_webhook_secret() -> None:
    from django.conf import settings

    public = settings.OMS_DEVELOPMENT_WEBHOOK_SECRETS["shipping"]
    result = deploy_check(OMS_WEBHOOK_SECRETS_SHIPPING=f"whsec_cHJvZHVjdGlvbg==,{public}")
    assert result.returncode != 0
    assert "(oms.E002) OMS_WEBHOOK_SECRETS_SHIPPING holds the public development" in result.stderr
    assert "OMS_WEBHOOK_SECRETS_PAYMENT holds" not in result.stderr


def test_check_deploy_fails_with_the_public_development_secret_key() -> None:
    from django.conf import settings

    result = deploy_check(SECRET_KEY=settings.OMS_DEVELOPMENT_SECRET_KEY)
    assert result.returncode != 0
    assert "(oms.E003) SECRET_KEY is the public development key" in result.stderr


def test_check_deploy_sees_the_development_secret_however_it_is_written() -> None:
    from django.conf import settings

    public = settings.OMS_DEVELOPMENT_WEBHOOK_SECRETS["payment"]
    bare = public.removeprefix("whsec_").rstrip("=")  # the same key, without prefix or padding
    result = deploy_check(OMS_WEBHOOK_SECRETS_PAYMENT=f"whsec_{bare}")
    assert result.returncode != 0
    assert "(oms.E002) OMS_WEBHOOK_SECRETS_PAYMENT holds the public development" in result.stderr


def test_check_deploy_fails_with_the_simulated_provider_and_carrier_clients() -> None:
    result = deploy_check(**SIMULATED_CLIENTS)
    assert result.returncode != 0
    assert (
        "(oms.E004) OMS_PAYMENT_PROVIDER is apps.webhooks.ledger.LedgerPaymentProvider, "
        "a simulated payment provider client: with DEBUG off, payments and refunds would be "
        "recorded as done while no money moves." in result.stderr
    )
    assert (
        "(oms.E004) OMS_CARRIER_CLIENT is apps.webhooks.ledger.LedgerCarrier, "
        "a simulated carrier client" in result.stderr
    )
    assert "set OMS_ALLOW_SIMULATED_PROVIDERS=1 if this deployment is a demo" in result.stderr


def test_check_deploy_is_clean_with_simulated_clients_in_a_declared_demo() -> None:
    result = deploy_check(
        "--fail-level", "WARNING", OMS_ALLOW_SIMULATED_PROVIDERS="1", **SIMULATED_CLIENTS
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_goes_by_what_a_client_class_declares_not_by_its_name() -> None:
    # A subclass of a simulated client is simulated; a class that does not say is taken for one.
    result = deploy_check(
        OMS_PAYMENT_PROVIDER=f"{__name__}.RenamedLedgerProvider",
        OMS_CARRIER_CLIENT=f"{__name__}.UndeclaredCarrier",
    )
    assert result.returncode != 0
    assert (
        f"(oms.E004) OMS_PAYMENT_PROVIDER is {__name__}.RenamedLedgerProvider, a simulated "
        "payment provider client" in result.stderr
    )
    assert (
        f"(oms.E004) OMS_CARRIER_CLIENT is {__name__}.UndeclaredCarrier, which does not declare "
        "simulated = False, so it is taken for a simulated carrier client" in result.stderr
    )


def test_check_deploy_leaves_development_alone() -> None:
    result = deploy_check(DEBUG="1", **SIMULATED_CLIENTS)
    assert "oms.E004" not in result.stdout + result.stderr


def test_run_prod_stops_before_starting_anything_when_a_client_is_simulated(
    tmp_path: Path,
) -> None:
    env = {
        **os.environ,
        **PRODUCTION_VALUES,
        **SIMULATED_CLIENTS,
        # Nothing listens there: the check comes before any step that touches the database.
        "DATABASE_URL": "postgres://127.0.0.1:1/oms",
        "OMS_VAR_DIR": str(tmp_path / "var"),
    }
    result = subprocess.run(
        [sys.executable, "scripts/run_prod.py", "--runner", "worker", "--workers", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "(oms.E004) OMS_PAYMENT_PROVIDER is apps.webhooks.ledger.LedgerPaymentProvider" in output
    assert "run-prod: running" not in output
    # The check's own report is what the operator reads, not a traceback of the script.
    assert "Traceback" not in output
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("run-prod: manage.py check --deploy"), last
    assert "failed" in last
