"""The forms of a hunted value: one expression for the value as written and
every character-escaped form; base64 at each alignment; hex."""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import quote, quote_plus

import pytest

from scanner.hunt.variants import (
    BASE64,
    BASE64URL,
    ESCAPED,
    HTML_ESCAPED,
    JSON_ESCAPED,
    RAW,
    URL_ENCODED,
    base64_forms,
    classify,
    forms_of,
    label_rank,
    unescape_js,
)

VALUE = "s3cr/t+p@ss w0rd!é"


def _full(value: str, text: str) -> bool:
    return re.fullmatch(forms_of(value).pattern, text) is not None


@pytest.mark.parametrize(
    ("text", "label"),
    [
        (VALUE, RAW),
        (quote(VALUE, safe=""), URL_ENCODED),
        (quote(VALUE, safe="").lower(), URL_ENCODED),
        (quote_plus(VALUE, safe=""), URL_ENCODED),
        (quote(VALUE, safe="/@"), URL_ENCODED),  # only some characters escaped
        (json.dumps(VALUE)[1:-1].replace("/", "\\/"), JSON_ESCAPED),
        (json.dumps(VALUE, ensure_ascii=True)[1:-1], JSON_ESCAPED),
        (VALUE.replace("+", "\\u002B").replace("/", "\\x2f"), JSON_ESCAPED),
        (VALUE.replace("@", "&#64;").replace("/", "&#x2F;").replace("!", "&excl;").replace("é", "&eacute;"), HTML_ESCAPED),
        (VALUE.replace("@", "&#0064;").replace(" ", "&#x20;"), HTML_ESCAPED),
        (VALUE.replace("/", "%2F").replace("@", "\\u0040"), ESCAPED),
    ],
)
def test_every_escaped_form_matches_and_is_named(text: str, label: str) -> None:
    assert _full(VALUE, text)
    assert classify(text, VALUE) == label


def test_other_values_do_not_match() -> None:
    assert not _full(VALUE, VALUE.replace("w0rd", "word"))
    assert not _full(VALUE, quote(VALUE, safe="").replace("%2F", "%2E"))
    # letters and digits are never looked for as escapes
    assert not _full("abcdef", "%61bcdef")


def test_anchor_is_the_longest_run_of_letters_and_digits_lower_cased() -> None:
    forms = forms_of("x/Ab3Cd9+q")
    assert forms.anchor == "ab3cd9"
    assert forms.reach_before >= len("%2F") + 1 and forms.reach_after >= len("%2B") + 1
    assert forms_of("a!b@c#d$").anchor == ""


@pytest.mark.parametrize("prefix", [b"", b"u", b"us", b"use", b"user", b"user:"])
@pytest.mark.parametrize("suffix", [b"", b"\n", b":x", b"rest-of-it"])
@pytest.mark.parametrize("urlsafe", [False, True])
def test_base64_found_at_every_alignment_with_exact_span(prefix: bytes, suffix: bytes, urlsafe: bool) -> None:
    value = "Ab>?~x/y+z=Q>>?"  # encodes to + and / in both alphabets' special positions
    data = prefix + value.encode() + suffix
    encoded = (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(data).decode()
    for text in (encoded, encoded.rstrip("=")):
        spans = set()
        for form in base64_forms(value):
            position = text.find(form.stable)
            if position >= 0:
                assert form.shift == len(prefix) % 3
                assert form.label in ((BASE64URL, BASE64) if urlsafe else (BASE64,))
                spans.add(form.span(text, position))
        first, last = 8 * len(prefix), 8 * (len(prefix) + len(value.encode()))
        # every character holding a bit of the value, and only those
        assert spans == {(first // 6, -(-last // 6))}


def test_base64_stable_part_needs_enough_characters() -> None:
    assert all(len(form.stable) >= 6 for form in base64_forms("abcdef"))
    assert {form.shift for form in base64_forms("abcdef")} == {0, 1, 2}


def test_partial_characters_that_disagree_are_left_out() -> None:
    value = "password-1"
    form = next(f for f in base64_forms(value) if f.shift == 1)
    text = base64.b64encode(b"\x00" + value.encode()).decode()
    position = text.find(form.stable)
    assert position == 2
    assert form.span(text, position)[0] == 1  # its low 4 bits are the top of "p": 0111
    damaged = text[:1] + "/" + text[2:]  # 111111: those bits disagree
    assert form.span(damaged, position)[0] == 2


def test_hex_is_of_the_utf8_bytes() -> None:
    assert forms_of("é-password").hex == "é-password".encode().hex()


def test_unescape_js_handles_surrogate_pairs_and_short_escapes() -> None:
    assert unescape_js("a\\ud83d\\ude00\\/\\x41\\u00e9\\n") == "a\U0001f600/Aé\n"


def test_summary_order_puts_raw_first_and_nested_forms_last() -> None:
    labels = ["base64-in-base64", BASE64, URL_ENCODED, RAW, "hex"]
    assert sorted(labels, key=label_rank) == [RAW, URL_ENCODED, BASE64, "hex", "base64-in-base64"]
