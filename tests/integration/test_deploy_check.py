"""Production settings pass Django's deployment checklist."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


PRODUCTION_VALUES = {
    "DEBUG": "0",
    "SECRET_KEY": "k" * 20 + "production-secret-with-enough-entropy-0123456789",
    "ALLOWED_HOSTS": "oms.example.com",
    "DATABASE_URL": "sqlite:///:memory:",
    # Without its providers' secrets production warns that every webhook will be rejected.
    "OMS_WEBHOOK_SECRETS_PAYMENT": "whsec_cHJvZHVjdGlvbi1wYXltZW50LXNlY3JldA==",
    "OMS_WEBHOOK_SECRETS_SHIPPING": "whsec_cHJvZHVjdGlvbi1zaGlwcGluZy1zZWNyZXQ=",
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
