"""Free text from outside (item names, reasons, descriptions): one rule for every way it comes in.

What a client writes as free text is shown later to people: on the console, in the API, in an
operator's terminal tailing the logs, in a merchant's e-mail. It must show what it says, so it is
one line of printable text:

* leading and trailing whitespace is trimmed; a value that is only whitespace says nothing and is
  refused (the empty string stays "none" where a field allows it);
* control characters (category Cc: a bell, an ANSI escape that recolours a terminal, a newline that
  forges a second log line) are refused;
* format characters (Cf) are refused: bidirectional overrides and isolates (U+202A to U+202E,
  U+2066 to U+2069) make "photo" + U+202E + "gnp.exe" display as "photoexe.png", zero-width
  characters make two names that look the same differ, and tag characters carry hidden ASCII.
  Only the zero-width non-joiner and joiner (U+200C, U+200D) are kept: Persian and Indic words
  need them to be spelled right, emoji sequences are joined by them, and they neither reorder
  nor hide anything;
* line and paragraph separators (U+2028, U+2029) are refused with the other line breaks;
* a value must hold at least one visible character: what is left once whitespace, the blank
  "fillers" (U+115F, U+1160, U+3164 and U+FFA0 HANGUL FILLERs, U+2800 BRAILLE PATTERN BLANK),
  the joiners U+200C/U+200D and the combining marks (categories Mn, Mc, Me) are taken away must
  not be empty. A filler is a letter or a symbol to Unicode but shows as a blank, and a lone
  combining mark shows next to nothing.

Identifiers from outside (a sku, a carrier's name, a tracking number, a provider's reference) are
shown the same way and keep the same rule, with one more: inside, words are separated by single
ASCII spaces (a carrier's tracking number is sometimes printed in groups), never by two spaces or
another space character, which would make two identifiers that look the same differ.

The rule is written as explicit code point ranges (Unicode 14, Python 3.11's ``unicodedata``; the
combining marks in :mod:`shared.combining_marks`),
from which the OpenAPI schema's pattern is built, so that the schema states exactly what the server
accepts; a test compares the ranges with ``unicodedata`` and fails when a new Unicode version moves
a character.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from shared.combining_marks import COMBINING_MARK_RANGES
from shared.strict import StrictCharField

# (first, last) code points of the characters free text may not hold anywhere.
CONTROL_RANGES = ((0x00, 0x1F), (0x7F, 0x9F))  # Cc
FORMAT_RANGES = (  # Cf, without U+200C and U+200D (see the module docstring)
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200B),
    (0x200E, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x13438),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)
KEPT_FORMAT_CHARACTERS = "\u200c\u200d"
SEPARATOR_RANGES = ((0x2028, 0x2029),)  # Zl, Zp
REFUSED_RANGES = CONTROL_RANGES + FORMAT_RANGES + SEPARATOR_RANGES

# What trimming removes at either end: the spaces (Zs) and the usual line-end characters.
SPACE_RANGES = (
    (0x0020, 0x0020),
    (0x00A0, 0x00A0),
    (0x1680, 0x1680),
    (0x2000, 0x200A),
    (0x202F, 0x202F),
    (0x205F, 0x205F),
    (0x3000, 0x3000),
)
TRIMMED_RANGES = ((0x09, 0x0D), *SPACE_RANGES)
# Letters and symbols to Unicode that show as a blank (see the module docstring).
FILLER_RANGES = ((0x115F, 0x1160), (0x2800, 0x2800), (0x3164, 0x3164), (0xFFA0, 0xFFA0))
# What does not count as a visible character.
INVISIBLE_RANGES = (
    REFUSED_RANGES
    + SPACE_RANGES
    + FILLER_RANGES
    + ((0x200C, 0x200D),)  # the kept joiners
    + COMBINING_MARK_RANGES
)


def _escaped(code: int) -> str:
    # Outside the BMP, the character itself: Python's regexes do not read "\\u{1xxxx}" nor ECMA's
    # "\\U0001xxxx", but both (and Rust's) read the literal character.
    return f"\\u{code:04x}" if code <= 0xFFFF else chr(code)


def _character_class(ranges: tuple[tuple[int, int], ...], *, negated: bool = False) -> str:
    members = "".join(
        _escaped(first) if first == last else f"{_escaped(first)}-{_escaped(last)}"
        for first, last in ranges
    )
    return f"[{'^' if negated else ''}{members}]"


_TRIMMED = _character_class(TRIMMED_RANGES)
_ALLOWED = _character_class(REFUSED_RANGES, negated=True)
_ALLOWED_NOT_TRIMMED = _character_class(REFUSED_RANGES + SPACE_RANGES, negated=True)
_VISIBLE = _character_class(INVISIBLE_RANGES, negated=True)
# Optional whitespace, then the trimmed text: it starts and ends with a printable character that is
# not a space and holds a visible one somewhere; then optional whitespace. Or nothing at all: the
# empty string is the schema's ``minLength`` to refuse, and where a field allows it
# (``allow_blank``) the schema offers it as the other branch of a ``oneOf``.
PRINTABLE_TEXT_PATTERN = (
    rf"^(?:{_TRIMMED}*(?:{_ALLOWED_NOT_TRIMMED}{_ALLOWED}*)?{_VISIBLE}"
    rf"(?:{_ALLOWED}*{_ALLOWED_NOT_TRIMMED})?{_TRIMMED}*)?$"
)
_WORD = f"{_ALLOWED_NOT_TRIMMED}+"
# Optional whitespace, then words of printable characters that are not spaces, separated by single
# U+0020 spaces, one of them holding a visible character; then optional whitespace. One optional
# group between the anchors, as in the free-text pattern (the empty string is left to
# ``minLength``): tools that fold maxLength into a pattern's quantifiers leave such a pattern as
# written instead of rewriting it with escapes ECMA regexes do not read.
PRINTABLE_IDENTIFIER_PATTERN = (
    rf"^(?:{_TRIMMED}*(?:{_WORD}\u0020)*{_ALLOWED_NOT_TRIMMED}*{_VISIBLE}{_ALLOWED_NOT_TRIMMED}*"
    rf"(?:\u0020{_WORD})*{_TRIMMED}*)?$"
)
_REFUSED = re.compile(_character_class(REFUSED_RANGES))
_ANY_VISIBLE = re.compile(_VISIBLE)
_INNER_SPACE_BUT_ONE = re.compile(
    rf"{_character_class(tuple(r for r in SPACE_RANGES if r != (0x20, 0x20)))}|\u0020\u0020"
)
_TRIM = "".join(chr(code) for first, last in TRIMMED_RANGES for code in range(first, last + 1))

RULE = (
    "Free text is one line of printable characters: no control characters, no invisible or "
    "bidirectional formatting characters, at least one visible character."
)
IDENTIFIER_RULE = (
    "An identifier is printable text (no control, invisible or bidirectional formatting "
    "characters, at least one visible character) whose words are separated by single spaces."
)


class UnprintableText(ValueError):
    """Text that breaks the free-text rule; the message says where."""


def _trimmed_printable(value: str, max_length: int | None, rule: str) -> str:
    """``value`` trimmed, refused if too long or if it holds a refused character."""
    if max_length is not None and len(value) > max_length:
        raise UnprintableText(f"Ensure this field has no more than {max_length} characters.")
    trimmed = value.strip(_TRIM)
    if refused := _REFUSED.search(trimmed):
        char = refused.group()
        name = unicodedata.name(char, "") or "a control character"
        raise UnprintableText(f"Contains U+{ord(char):04X} ({name}). {rule}")
    return trimmed


def _require_visible(trimmed: str, rule: str) -> None:
    if not _ANY_VISIBLE.search(trimmed):
        raise UnprintableText(f"Has no visible character. {rule}")


def printable_text(value: str, *, allow_blank: bool = False, max_length: int | None = None) -> str:
    """``value`` trimmed, or UnprintableText saying why it is refused.

    ``max_length`` counts the characters as sent, before trimming, as the schema's maxLength does.
    """
    trimmed = _trimmed_printable(value, max_length, RULE)
    if not trimmed and (value or not allow_blank):
        raise UnprintableText(f"Must not be blank or only whitespace. {RULE}")
    if trimmed:
        _require_visible(trimmed, RULE)
    return trimmed


def printable_identifier(value: str, *, max_length: int | None = None) -> str:
    """``value`` trimmed, or UnprintableText saying why it is not a printable identifier."""
    trimmed = _trimmed_printable(value, max_length, IDENTIFIER_RULE)
    if not trimmed:
        raise UnprintableText(f"Must not be blank or only whitespace. {IDENTIFIER_RULE}")
    if space := _INNER_SPACE_BUT_ONE.search(trimmed):
        found = "two spaces" if space.group() == "  " else f"U+{ord(space.group()):04X}"
        raise UnprintableText(f"Contains {found} between words. {IDENTIFIER_RULE}")
    _require_visible(trimmed, IDENTIFIER_RULE)
    return trimmed


class PrintableTextField(StrictCharField):
    """A JSON string of free text under :func:`printable_text`, stored trimmed."""

    def to_internal_value(self, data: Any) -> str:
        text = super().to_internal_value(data)
        try:
            return printable_text(text, allow_blank=self.allow_blank, max_length=self.max_length)
        except UnprintableText as exc:
            raise serializers.ValidationError(str(exc), code="unprintable") from None


class PrintableTextFieldSchema(OpenApiSerializerFieldExtension):
    """The field's schema states the rule: its ``pattern``, and ``minLength`` 1.

    Set here rather than through a RegexValidator, whose pattern drf-spectacular rewrites to ASCII
    escapes (``\\U000e0020``) that no ECMA regex reads.
    """

    target_class = PrintableTextField

    def map_serializer_field(self, auto_schema: AutoSchema, direction: Any) -> Any:
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        return {**schema, "pattern": PRINTABLE_TEXT_PATTERN, "minLength": 1}


class PrintableIdentifierField(StrictCharField):
    """A JSON string naming something (a sku, a carrier, a tracking number) under
    :func:`printable_identifier`, stored trimmed; never blank."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["allow_blank"] = False
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        text = super().to_internal_value(data)
        try:
            return printable_identifier(text, max_length=self.max_length)
        except UnprintableText as exc:
            raise serializers.ValidationError(str(exc), code="unprintable") from None


class PrintableIdentifierFieldSchema(OpenApiSerializerFieldExtension):
    """The identifier's schema states its rule, as :class:`PrintableTextFieldSchema` does."""

    target_class = PrintableIdentifierField

    def map_serializer_field(self, auto_schema: AutoSchema, direction: Any) -> Any:
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        return {**schema, "pattern": PRINTABLE_IDENTIFIER_PATTERN, "minLength": 1}
