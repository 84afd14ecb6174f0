from __future__ import annotations

from decimal import Decimal

import pytest

from shared.exceptions import InvalidAmount, UnsupportedCurrency
from shared.money import Money, format_amount


def test_amounts_are_quantized_to_the_currency() -> None:
    assert Money.of("12.5", "EUR").amount == Decimal("12.50")
    assert Money.of("1000", "JPY").amount == Decimal("1000")
    assert Money.of("1.234", "KWD").amount == Decimal("1.234")


@pytest.mark.parametrize(
    ("amount", "currency"), [("1.001", "EUR"), ("1.5", "JPY"), ("0.0001", "KWD")]
)
def test_more_decimals_than_the_currency_has_are_refused(amount: str, currency: str) -> None:
    with pytest.raises(InvalidAmount):
        Money.of(amount, currency)


@pytest.mark.parametrize("bad", [0.1, float("nan"), "NaN", "Infinity", "abc", None, True])
def test_floats_and_non_numbers_are_refused(bad: object) -> None:
    with pytest.raises(InvalidAmount):
        Money.of(bad, "EUR")


def test_unknown_currency_is_refused() -> None:
    with pytest.raises(UnsupportedCurrency):
        Money.of("1", "XXX")


def test_arithmetic_keeps_currency_and_exactness() -> None:
    total = Money.of("0.10", "USD").times(3) + Money.of("0.20", "USD")
    assert total == Money.of("0.50", "USD")
    with pytest.raises(InvalidAmount):
        Money.of("1", "USD") + Money.of("1", "EUR")


def test_format_amount_uses_the_minor_units() -> None:
    assert format_amount(Decimal("5"), "EUR") == "5.00"
    assert format_amount(Decimal("5.0000"), "JPY") == "5"


@pytest.mark.parametrize(
    ("written", "currency"),
    [("30.400", "EUR"), ("5.0", "JPY"), ("1.2340", "KWD"), (Decimal("30.400"), "EUR")],
)
def test_an_amount_from_outside_is_refused_when_written_with_too_many_places(
    written: str | Decimal, currency: str
) -> None:
    # The value would fit ("30.400" is 30.40): the amount is judged as it was written.
    with pytest.raises(InvalidAmount, match="written with at most"):
        Money.parse(written, currency)


@pytest.mark.parametrize(
    ("written", "currency", "amount"),
    [
        ("12.50", "EUR", "12.50"),
        ("12.5", "EUR", "12.50"),
        ("5", "JPY", "5"),
        ("7.650", "KWD", "7.650"),
        (Decimal("7.65"), "KWD", "7.650"),
    ],
)
def test_an_amount_from_outside_within_the_currencys_places_is_read(
    written: str | Decimal, currency: str, amount: str
) -> None:
    money = Money.parse(written, currency)
    assert (str(money.amount), money.currency) == (amount, currency)


@pytest.mark.parametrize("bad", [30.4, "abc", "NaN"])
def test_an_amount_from_outside_that_is_not_a_decimal_is_refused(bad: object) -> None:
    with pytest.raises(InvalidAmount):
        Money.parse(bad, "EUR")  # type: ignore[arg-type]
