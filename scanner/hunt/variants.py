"""The forms a hunted value takes in text: as written or character-escaped
(percent, JSON/JavaScript, HTML; one regular expression per value covers them
all and any mix), base64 at each of its three alignments, and hex."""

from __future__ import annotations

import base64
import html
import html.entities
import re
from dataclasses import dataclass, field
from urllib.parse import unquote, unquote_plus

# Encoding labels, in the order summaries list them. A copy found inside a
# decoded base64 run is labelled "<inner>-in-base64".
RAW = "raw"
URL_ENCODED = "url-encoded"
JSON_ESCAPED = "json-escaped"
HTML_ESCAPED = "html-escaped"
ESCAPED = "escaped"  # escapes of more than one kind mixed in one copy
BASE64 = "base64"
BASE64URL = "base64url"
HEX = "hex"
LABEL_ORDER = (RAW, URL_ENCODED, JSON_ESCAPED, HTML_ESCAPED, ESCAPED, BASE64, BASE64URL, HEX)
IN_BASE64 = "-in-base64"
RULE_PREFIX = "hunt:"

# A base64 form is searched for only if this many of its characters depend
# on the value alone (36 bits: chance matches are negligible).
MIN_BASE64_STABLE = 6
# Leading zeros allowed in a numeric HTML character reference.
_MAX_ZEROS = 3
# The anchor every escaped form holds must be at least this long, else the
# value's expression is run over the whole text.
MIN_ANCHOR = 3

STANDARD_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
URLSAFE_ALPHABET = STANDARD_ALPHABET[:62] + "-_"
_JS_SIMPLE = {"/": "/", '"': '"', "'": "'", "\\": "\\", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_JS_SHORT = {value: key for key, value in _JS_SIMPLE.items()}  # character -> its short escape letter
_JS_ESCAPE = re.compile(
    r"\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})"
    r"|\\u([0-9a-fA-F]{4})|\\x([0-9a-fA-F]{2})|\\([/\"'\\bfnrt])"
)
_ANCHOR_RUN = re.compile(r"[A-Za-z0-9]+")


def rule_id(label: str) -> str:
    """The synthetic rule id a copy in this encoding is reported under (``hunt:base64``)."""
    return RULE_PREFIX + label


def label_of(rule: str) -> str:
    return rule.removeprefix(RULE_PREFIX)


def label_rank(label: str) -> tuple[int, int, str]:
    """Sort key: the order of LABEL_ORDER, nested forms after direct ones."""
    inner = label.removesuffix(IN_BASE64)
    rank = LABEL_ORDER.index(inner) if inner in LABEL_ORDER else len(LABEL_ORDER)
    return (int(inner != label), rank, label)


@dataclass(frozen=True)
class Base64Form:
    """Base64 of the value at one alignment (the value starting ``shift`` bytes
    into a 3-byte group): the characters that depend on the value alone, and,
    for the partly-determined characters either side, how many of their six
    bits the value sets and what it sets them to."""

    stable: str = field(repr=False)
    label: str
    shift: int
    lead_bits: int = 0
    lead: int = 0
    tail_bits: int = 0
    tail: int = 0

    def span(self, text: str, position: int) -> tuple[int, int]:
        """Where the copy whose stable part stands at ``position`` begins and
        ends: widened by the partly-determined character on each side when
        that character is there and agrees with the value's bits."""
        start, end = position, position + len(self.stable)
        if self.lead_bits and start > 0:
            index = _sextet(text[start - 1])
            mask = (1 << self.lead_bits) - 1
            if index >= 0 and index & mask == self.lead & mask:
                start -= 1
        if self.tail_bits and end < len(text):
            index = _sextet(text[end])
            mask = ((1 << self.tail_bits) - 1) << (6 - self.tail_bits)
            if index >= 0 and index & mask == self.tail & mask:
                end += 1
        return start, end


def _sextet(char: str) -> int:
    """The 6-bit value of a base64 character of either alphabet, -1 if none."""
    index = STANDARD_ALPHABET.find(char)
    return index if index >= 0 else URLSAFE_ALPHABET.find(char)


@dataclass(frozen=True)
class ValueForms:
    """Every form of one value that the detector searches for."""

    value: str = field(repr=False)
    # Matches the value as written and every character-escaped form of it.
    pattern: str = field(repr=False)
    # A lower-case run of letters and digits of the value, which escaping
    # leaves as it is: the prefilter looks for it ('' if the value has none).
    anchor: str = field(repr=False)
    # How far before and after the anchor an escaped copy may reach.
    reach_before: int
    reach_after: int
    base64: tuple[Base64Form, ...]
    hex: str = field(repr=False)


def forms_of(value: str) -> ValueForms:
    """The forms of ``value`` (see ValueForms)."""
    entities = _entity_names()
    alternatives = [_char_alternatives(char, entities) for char in value]
    lengths = [max(_longest(a) for a in alts) for alts in alternatives]
    pattern = "".join(alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")" for alts in alternatives)
    runs = list(_ANCHOR_RUN.finditer(value))
    best = max(runs, key=lambda m: len(m.group()), default=None)
    if best is None or len(best.group()) < MIN_ANCHOR:
        anchor, before, after = "", 0, 0
    else:
        anchor = best.group().lower()
        before, after = sum(lengths[: best.start()]), sum(lengths[best.end() :])
    return ValueForms(
        value=value,
        pattern=pattern,
        anchor=anchor,
        reach_before=before,
        reach_after=after,
        base64=base64_forms(value),
        hex=value.encode("utf-8", "surrogatepass").hex(),
    )


def base64_forms(value: str) -> tuple[Base64Form, ...]:
    """Base64 (standard and URL-safe) of ``value`` at the three alignments a
    value can have inside longer encoded data (docker ``auth`` is base64 of
    ``user:token``, so the token starts wherever the user name ends)."""
    data = value.encode("utf-8", "surrogatepass")
    forms: list[Base64Form] = []
    for shift in range(3):
        encoded = base64.b64encode(bytes(shift) + data).decode("ascii").rstrip("=")
        first_bit, last_bit = 8 * shift, 8 * (shift + len(data))
        start, end = -(-first_bit // 6), last_bit // 6
        stable = encoded[start:end]
        if len(stable) < MIN_BASE64_STABLE:
            continue
        lead_bits = (6 * start - first_bit) if first_bit % 6 else 0
        tail_bits = (last_bit - 6 * end) if last_bit % 6 else 0
        common = {
            "shift": shift,
            "lead_bits": lead_bits,
            "lead": STANDARD_ALPHABET.index(encoded[start - 1]) if lead_bits else 0,
            "tail_bits": tail_bits,
            "tail": STANDARD_ALPHABET.index(encoded[end]) if tail_bits else 0,
        }
        forms.append(Base64Form(stable=stable, label=BASE64, **common))
        urlsafe = stable.translate(str.maketrans("+/", "-_"))
        if urlsafe != stable:
            forms.append(Base64Form(stable=urlsafe, label=BASE64URL, **common))
    return tuple(forms)


def classify(found: str, value: str) -> str:
    """Which encoding ``found`` (a match of the value's pattern) is in."""
    if found == value:
        return RAW
    if unescape_js(found) == value:
        return JSON_ESCAPED
    if ("%" in found or "+" in found) and value in (unquote(found), unquote_plus(found)):
        return URL_ENCODED
    if "&" in found and html.unescape(found) == value:
        return HTML_ESCAPED
    return ESCAPED


def unescape_js(text: str) -> str:
    """JSON and JavaScript string escapes undone (``\\/``, ``\\u002f``, ``\\x2f``)."""
    if "\\" not in text:
        return text
    return _JS_ESCAPE.sub(_js_char, text)


def _js_char(match: re.Match[str]) -> str:
    high, low, code, byte, simple = match.groups()
    if simple is not None:
        return _JS_SIMPLE[simple]
    if high is not None:
        return chr(0x10000 + ((int(high, 16) - 0xD800) << 10) + (int(low, 16) - 0xDC00))
    return chr(int(code if code is not None else byte, 16))


def _entity_names() -> dict[str, list[str]]:
    """Character -> the HTML named references (with ``;``) that stand for it."""
    names: dict[str, list[str]] = {}
    for name, chars in html.entities.html5.items():
        if name.endswith(";") and len(chars) == 1:
            names.setdefault(chars, []).append(name)
    return names


def _any_case_hex(digits: str) -> str:
    return "".join(f"[{d.lower()}{d.upper()}]" if d.isalpha() else d for d in digits)


def _char_alternatives(char: str, entities: dict[str, list[str]]) -> list[str]:
    """Regular expressions for every way ``char`` may be written: as itself,
    percent-encoded (its UTF-8 bytes, hex in either case; ``+`` for a space),
    JSON/JavaScript-escaped and as an HTML character reference."""
    code = ord(char)
    alternatives = [re.escape(char)]
    if char.isascii() and char.isalnum():
        # Encoders leave letters and digits alone; only obfuscation escapes
        # them, and the value's anchor would not be found then anyway.
        return alternatives
    utf8 = char.encode("utf-8", "surrogatepass")
    alternatives.append("".join("%" + _any_case_hex(f"{b:02x}") for b in utf8))
    if char == " ":
        alternatives.append(r"\+")
    if code > 0xFFFF:
        high = 0xD800 + ((code - 0x10000) >> 10)
        low = 0xDC00 + ((code - 0x10000) & 0x3FF)
        alternatives.append(rf"\\u{_any_case_hex(f'{high:04x}')}\\u{_any_case_hex(f'{low:04x}')}")
    else:
        alternatives.append(rf"\\u{_any_case_hex(f'{code:04x}')}")
    if code < 0x100:
        alternatives.append(rf"\\x{_any_case_hex(f'{code:02x}')}")
    if char in _JS_SHORT:
        alternatives.append(r"\\" + re.escape(_JS_SHORT[char]))
    alternatives.append(f"&#0{{0,{_MAX_ZEROS}}}{code};")
    alternatives.append(f"&#[xX]0{{0,{_MAX_ZEROS}}}{_any_case_hex(f'{code:x}')};")
    alternatives.extend(re.escape("&" + name) for name in sorted(entities.get(char, ())))
    return alternatives


def _longest(alternative: str) -> int:
    """An upper bound on the length of text ``alternative`` matches."""
    # Each [xX] class, escaped character or zero-repeat stands for at most
    # this many characters; a generous bound is all the window needs.
    return len(alternative) + _MAX_ZEROS
