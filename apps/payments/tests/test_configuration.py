"""Payment methods and strategies must agree, or the service refuses to start."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from apps.payments.strategies import (
    BankTransferStrategy,
    CardStrategy,
    WalletStrategy,
    check_configuration,
    strategy_for,
)


def test_the_default_configuration_is_consistent() -> None:
    check_configuration()
    assert isinstance(strategy_for("card"), CardStrategy)
    assert isinstance(strategy_for("wallet"), WalletStrategy)
    assert isinstance(strategy_for("bank_transfer"), BankTransferStrategy)


def test_a_method_without_a_strategy_is_refused(settings: Any) -> None:
    settings.OMS_PAYMENT_METHODS = ["card", "cheque"]
    with pytest.raises(ImproperlyConfigured, match="cheque"):
        check_configuration()


def test_a_strategy_that_cannot_be_imported_is_refused(settings: Any) -> None:
    settings.OMS_PAYMENT_STRATEGIES = {
        **settings.OMS_PAYMENT_STRATEGIES,
        "card": "apps.payments.strategies.Missing",
    }
    with pytest.raises(ImproperlyConfigured, match="Missing"):
        check_configuration()


def test_looking_up_an_unconfigured_method_is_a_configuration_error() -> None:
    with pytest.raises(ImproperlyConfigured):
        strategy_for("cheque")
