"""Production settings pass Django's deployment checklist."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_check_deploy_is_clean_with_production_values() -> None:
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "k" * 20 + "production-secret-with-enough-entropy-0123456789",
        "ALLOWED_HOSTS": "oms.example.com",
        "DATABASE_URL": "sqlite:///:memory:",
        # Without its providers' secrets production warns that every webhook will be rejected.
        "OMS_WEBHOOK_SECRETS_PAYMENT": "whsec_cHJvZHVjdGlvbi1wYXltZW50LXNlY3JldA==",
        "OMS_WEBHOOK_SECRETS_SHIPPING": "whsec_cHJvZHVjdGlvbi1zaGlwcGluZy1zZWNyZXQ=",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
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
