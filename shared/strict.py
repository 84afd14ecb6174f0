"""Strict input: a request body means exactly what the OpenAPI schema says, or it is a 400.

DRF is lenient by default: a CharField takes the number 12 as "12", an IntegerField takes "3" and
3.0, a DecimalField takes "1e2", " 1.00 " and full-width digits, and fields it does not know are
dropped without a word. A client that sends ``"total": "0.01"`` believing it sets the total, or a
price in full-width digits, deserves to hear that it was not understood. These fields accept only
the JSON type the schema documents, and :class:`StrictInputSerializer` names unknown fields (as
Stripe's API does).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from shared.money import MAX_AMOUNT, MAX_MINOR_UNITS

# ASCII digits only (full-width and Arabic-Indic digits are digits to Python's Decimal), no
# exponent, no sign, no surrounding spaces; at most as many decimals as any currency has.
_INTEGER_DIGITS = len(str(int(MAX_AMOUNT)))
AMOUNT_PATTERN = rf"^[0-9]{{1,{_INTEGER_DIGITS}}}(\.[0-9]{{1,{MAX_MINOR_UNITS}}})?$"
_AMOUNT = re.compile(AMOUNT_PATTERN.replace("$", r"\Z"))

# Component names of the strict request bodies, so the schema can say they are closed objects.
STRICT_COMPONENTS: set[str] = set()


class StrictInputSerializer(serializers.Serializer):
    """A request body whose unknown fields are a 400 naming them."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        STRICT_COMPONENTS.add(cls.__name__.removesuffix("Serializer"))

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(str(name) for name in data if name not in self.fields)
            if unknown:
                raise serializers.ValidationError(
                    {name: ["Unknown field: it is not part of this request."] for name in unknown}
                )
        return super().to_internal_value(data)


# No NUL: PostgreSQL text cannot hold it (DRF refuses it too; this puts the rule in the schema).
NO_NUL_PATTERN = r"^[^\x00]*$"


class StrictCharField(serializers.CharField):
    """A JSON string, never a number or a boolean turned into one; kept as sent (not trimmed)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)
        self.validators.append(RegexValidator(NO_NUL_PATTERN.replace("$", r"\Z")))

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer: not a string of digits, not 3.0, not true."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return int(super().to_internal_value(data))


class StrictBooleanField(serializers.BooleanField):
    """A JSON boolean: not "yes", not 1."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


@extend_schema_field(
    {
        "type": "string",
        "pattern": AMOUNT_PATTERN,
        "example": "12.50",
        "description": "A decimal string of ASCII digits, with at most as many decimals as the "
        "currency has minor units (2 for EUR, 0 for JPY, 3 for KWD). Not a JSON number.",
    }
)
class AmountField(serializers.Field):
    """A non-negative money amount as a decimal string; JSON numbers are refused.

    Most JSON clients turn a number with a fraction into a binary float before it is sent, so an
    exact amount travels only as a string. Whether the decimals fit the currency is the domain's
    check (``Money.of``), which knows the currency.
    """

    default_error_messages = {
        "not_a_string": 'Amounts are decimal strings such as "12.50", not JSON numbers.',
        "invalid": 'Not an amount: use ASCII digits with an optional "." and decimals, '
        'such as "12.50" (no sign, exponent or spaces).',
        "too_large": f"At most {MAX_AMOUNT}.",
    }

    def to_internal_value(self, data: Any) -> Decimal:
        if not isinstance(data, str):
            self.fail("not_a_string")
        if not _AMOUNT.match(data):
            self.fail("invalid")
        value = Decimal(data)
        if value > MAX_AMOUNT:
            self.fail("too_large")
        return value

    def to_representation(self, value: Any) -> str:
        return str(value)
