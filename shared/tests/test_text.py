"""The free-text rule: its code point tables match Unicode, and the schema's pattern is the rule."""

from __future__ import annotations

import re
import sys
import unicodedata

import pytest
from rest_framework import serializers

from shared.text import (
    KEPT_FORMAT_CHARACTERS,
    PRINTABLE_TEXT_PATTERN,
    REFUSED_RANGES,
    SPACE_RANGES,
    PrintableTextField,
    UnprintableText,
    printable_text,
)


def code_points(ranges: tuple[tuple[int, int], ...]) -> set[int]:
    return {code for first, last in ranges for code in range(first, last + 1)}


def in_categories(*categories: str) -> set[int]:
    return {
        code for code in range(sys.maxunicode + 1) if unicodedata.category(chr(code)) in categories
    }


def test_the_tables_are_this_pythons_unicode_categories() -> None:
    # Fails when a new Unicode version moves a character: update the tables in shared/text.py.
    kept = {ord(char) for char in KEPT_FORMAT_CHARACTERS}
    assert code_points(REFUSED_RANGES) | kept == in_categories("Cc", "Cf", "Zl", "Zp")
    assert not code_points(REFUSED_RANGES) & kept
    assert code_points(SPACE_RANGES) == in_categories("Zs")


SAMPLES = [
    "A book",
    "  A book\t",
    "\n\r padded \u3000",
    "x",
    "caf\u00e9 \u00e0 la cr\u00e8me",
    "\u06a9\u062a\u0627\u0628 \u0645\u06cc\u200c\u062e\u0648\u0627\u0646\u0645",
    "\U0001f468\u200d\U0001f469",
    "a\u00a0b",
    "",
    " ",
    "\t\n",
    "a\tb",
    "a\nb",
    "\u001b[31m",
    "\u0007",
    "\u202eevil",
    "\u2066x\u2069",
    "a\u200bb",
    "\ufeffBOM",
    "soft\u00adhyphen",
    "tag\U000e0041",
    "two\u2028lines",
    "nul\u0000",
    "\u0085next line",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_the_schema_pattern_accepts_exactly_what_the_rule_accepts(text: str) -> None:
    try:
        accepted = printable_text(text) != ""
    except UnprintableText:
        accepted = False
    # The empty string is left to the schema's minLength (and, where allowed, its other branch).
    matched = re.match(PRINTABLE_TEXT_PATTERN.replace("$", r"\Z"), text) and text != ""
    assert bool(matched) == accepted


def test_every_refused_character_is_refused_inside_text_and_named() -> None:
    for code in sorted(code_points(REFUSED_RANGES) - {0x09, 0x0A, 0x0B, 0x0C, 0x0D})[::7]:
        with pytest.raises(UnprintableText, match=f"U\\+{code:04X}"):
            printable_text(f"a{chr(code)}b")


def test_a_blank_value_is_refused_unless_the_field_allows_the_empty_string() -> None:
    assert printable_text("", allow_blank=True) == ""
    for blank, allow_blank in [("", False), ("   ", True), ("\u3000", False)]:
        with pytest.raises(UnprintableText, match="blank"):
            printable_text(blank, allow_blank=allow_blank)


def test_the_length_limit_counts_the_text_as_sent() -> None:
    # As the schema's maxLength does: a client cannot tell what trimming will remove.
    assert printable_text("abc", max_length=3) == "abc"
    with pytest.raises(UnprintableText, match="no more than 3"):
        printable_text("abc ", max_length=3)


class NoteSerializer(serializers.Serializer):
    note = PrintableTextField(max_length=20)


def test_the_field_trims_refuses_non_strings_and_names_itself() -> None:
    assert NoteSerializer(data={"note": " hello "}).is_valid()
    for bad in ["\u202ehello", "   ", 12, ["hello"], "x" * 21]:
        given = NoteSerializer(data={"note": bad})
        assert not given.is_valid()
        assert list(given.errors) == ["note"]
    trimmed = NoteSerializer(data={"note": " hello "})
    trimmed.is_valid()
    assert trimmed.validated_data == {"note": "hello"}
