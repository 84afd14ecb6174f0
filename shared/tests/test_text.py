"""The free-text rule: its code point tables match Unicode, and the schema's pattern is the rule."""

from __future__ import annotations

import re
import sys
import unicodedata

import pytest
from rest_framework import serializers

from shared.combining_marks import COMBINING_MARK_RANGES
from shared.text import (
    KEPT_FORMAT_CHARACTERS,
    PRINTABLE_IDENTIFIER_PATTERN,
    PRINTABLE_TEXT_PATTERN,
    REFUSED_RANGES,
    SPACE_RANGES,
    PrintableIdentifierField,
    PrintableTextField,
    UnprintableText,
    printable_identifier,
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
    assert code_points(COMBINING_MARK_RANGES) == in_categories("Mn", "Mc", "Me")


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
    "\u3164",
    " \u2800 ",
    "\u115f\u1160",
    "\uffa0",
    "\u0301",
    "\u3164 \u0301\u200d",
    "\u3164a",
    "e\u0301",
    "DHL 1234 5678",
    "DHL  1234",
    "DHL\u00a01234",
    "DHL\u3000",
]

# Looks blank, holds no visible character: refused as free text and as an identifier.
NOTHING_VISIBLE = {
    "hangul-filler": "\u3164",
    "halfwidth-hangul-filler": "\uffa0",
    "choseong-jungseong-fillers": "\u115f\u1160",
    "braille-blank": "\u2800",
    "lone-combining-mark": "\u0301",
    "marks-on-a-space": " \u0301\u20dd",
    "lone-joiner": "\u200d",
    "fillers-and-spaces": "\u3164 \u2800",
}


@pytest.mark.parametrize("text", SAMPLES)
def test_the_schema_pattern_accepts_exactly_what_the_rule_accepts(text: str) -> None:
    try:
        accepted = printable_text(text) != ""
    except UnprintableText:
        accepted = False
    # The empty string is left to the schema's minLength (and, where allowed, its other branch).
    matched = re.match(PRINTABLE_TEXT_PATTERN.replace("$", r"\Z"), text) and text != ""
    assert bool(matched) == accepted


@pytest.mark.parametrize("text", SAMPLES)
def test_the_identifier_pattern_accepts_exactly_what_the_identifier_rule_accepts(text: str) -> None:
    try:
        accepted = bool(printable_identifier(text))
    except UnprintableText:
        accepted = False
    # The empty string is left to the schema's minLength, as for free text.
    matched = re.match(PRINTABLE_IDENTIFIER_PATTERN.replace("$", r"\Z"), text) and text != ""
    assert bool(matched) == accepted


@pytest.mark.parametrize("text", NOTHING_VISIBLE.values(), ids=NOTHING_VISIBLE.keys())
def test_a_value_without_a_visible_character_is_refused(text: str) -> None:
    for rule in (printable_text, printable_identifier):
        with pytest.raises(UnprintableText, match="no visible character"):
            rule(text)
    for pattern in (PRINTABLE_TEXT_PATTERN, PRINTABLE_IDENTIFIER_PATTERN):
        assert not re.match(pattern, text)


def test_fillers_and_marks_next_to_a_visible_character_are_kept() -> None:
    assert printable_text(" \u3164a ") == "\u3164a"
    assert printable_text("cafe\u0301") == "cafe\u0301"
    assert printable_identifier("SKU-e\u0301") == "SKU-e\u0301"


def test_an_identifier_is_trimmed_and_may_hold_single_spaces_between_words() -> None:
    assert printable_identifier("  1Z 999 AA1 0123456784\t") == "1Z 999 AA1 0123456784"
    for bad, why in [
        ("1Z  999", "two spaces"),
        ("1Z\u00a0999", "U\\+00A0"),
        ("1Z\u3000999", "U\\+3000"),
        ("1Z\t999", "U\\+0009"),
        ("1Z\n999", "U\\+000A"),
        ("\u001b[31mDHL", "U\\+001B"),
        ("DHL\u202e", "U\\+202E"),
        ("   ", "blank"),
        ("", "blank"),
    ]:
        with pytest.raises(UnprintableText, match=why):
            printable_identifier(bad)


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


class ParcelSerializer(serializers.Serializer):
    tracking_number = PrintableIdentifierField(max_length=20)


def test_the_identifier_field_trims_refuses_non_strings_and_blank_and_names_itself() -> None:
    given = ParcelSerializer(data={"tracking_number": " 1Z 999 "})
    assert given.is_valid()
    assert given.validated_data == {"tracking_number": "1Z 999"}
    for bad in ["", "  ", "\u3164", "1Z  999", "\u202e1Z", 12, "x" * 21]:
        refused = ParcelSerializer(data={"tracking_number": bad})
        assert not refused.is_valid()
        assert list(refused.errors) == ["tracking_number"]
