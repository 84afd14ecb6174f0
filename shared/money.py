"""Money: an exact Decimal amount together with its ISO 4217 currency.

Amounts are never floats. Each currency has a number of minor units (2 for EUR, 0 for JPY, 3 for
KWD); an amount with more decimal places than its currency allows is rejected rather than rounded,
because silently rounding a price is a billing bug.

An amount that comes from outside (the API, a provider's webhook) is judged as it was WRITTEN
(:meth:`Money.parse`): "30.400" is worth 30.40 EUR, but whoever writes three places for euros is
wrong about the currency or the amount, and neither is ours to guess. Every surface that reads an
amount uses that one rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from shared.exceptions import InvalidAmount, UnsupportedCurrency

# ISO 4217 minor units of the currencies the service accepts.
CURRENCY_MINOR_UNITS: dict[str, int] = {
    "AUD": 2,
    "BHD": 3,
    "BRL": 2,
    "CAD": 2,
    "CHF": 2,
    "CNY": 2,
    "CZK": 2,
    "DKK": 2,
    "EUR": 2,
    "GBP": 2,
    "HKD": 2,
    "INR": 2,
    "JPY": 0,
    "KRW": 0,
    "KWD": 3,
    "MXN": 2,
    "NOK": 2,
    "NZD": 2,
    "PLN": 2,
    "SEK": 2,
    "SGD": 2,
    "USD": 2,
    "ZAR": 2,
}

# The most decimals any accepted currency has (KWD, BHD).
MAX_MINOR_UNITS = max(CURRENCY_MINOR_UNITS.values())

# How amounts are stored (DecimalField): 19 digits, 4 of them after the point, which holds every
# currency's minor units (KWD has 3) with one to spare.
MONEY_DIGITS = 19
MONEY_PLACES = 4
# Upper bound of any single amount: keeps every total inside those columns.
MAX_AMOUNT = Decimal("999999999999.9999")


def validate_currency(code: str) -> str:
    if code not in CURRENCY_MINOR_UNITS:
        raise UnsupportedCurrency(
            f"Currency {code!r} is not supported.", supported=sorted(CURRENCY_MINOR_UNITS)
        )
    return code


def to_decimal(value: Any) -> Decimal:
    """Convert a string, int or Decimal to Decimal; floats are refused, they are not exact."""
    if isinstance(value, bool | float):
        raise InvalidAmount("Amounts must be given as strings or exact decimals, not floats.")
    try:
        result = Decimal(value)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise InvalidAmount(f"{value!r} is not a decimal amount.") from exc
    if not result.is_finite():
        raise InvalidAmount(f"{value!r} is not a finite amount.")
    return result


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        validate_currency(self.currency)
        if not isinstance(self.amount, Decimal):
            raise InvalidAmount("Money amounts must be Decimal.")

    @classmethod
    def of(cls, amount: Any, currency: str) -> Money:
        """Build a Money, rejecting amounts with more decimals than the currency has."""
        validate_currency(currency)
        value = to_decimal(amount)
        if abs(value) > MAX_AMOUNT:
            raise InvalidAmount(f"Amount {value} is too large.")
        places = CURRENCY_MINOR_UNITS[currency]
        quantized = value.quantize(Decimal(1).scaleb(-places))
        if quantized != value:
            raise InvalidAmount(
                f"{currency} amounts have at most {places} decimal places; got {value}."
            )
        return cls(quantized, currency)

    @classmethod
    def parse(cls, written: str | Decimal, currency: str) -> Money:
        """An amount from outside, refused if it is WRITTEN with more places than the currency has.

        ``written`` is the decimal string as sent, or the Decimal read from it (a Decimal keeps the
        places it was written with: ``Decimal("30.400")`` has three).
        """
        validate_currency(currency)
        value = to_decimal(written)
        places = CURRENCY_MINOR_UNITS[currency]
        written_places = max(0, -int(value.as_tuple().exponent))
        if written_places > places:
            raise InvalidAmount(
                f"{currency} amounts are written with at most {places} decimal places; "
                f"got {written}."
            )
        return cls.of(value, currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls.of(0, currency)

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money.of(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money.of(self.amount - other.amount, self.currency)

    def times(self, quantity: int) -> Money:
        return Money.of(self.amount * quantity, self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise InvalidAmount(f"Cannot combine {self.currency} with {other.currency}.")

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def in_currency_places(amount: Decimal, currency: str) -> Decimal:
    """``amount`` with exactly the currency's number of decimal places.

    Amounts come back from the database with the column's four places ("25.0000"); what the API,
    the events and the admin show has the currency's ("25.00" EUR, "25" JPY, "25.000" KWD).
    """
    places = CURRENCY_MINOR_UNITS.get(currency, 2)
    return amount.quantize(Decimal(1).scaleb(-places))


def format_amount(amount: Decimal, currency: str) -> str:
    """The amount as a string with exactly the currency's number of decimal places."""
    return str(in_currency_places(amount, currency))
