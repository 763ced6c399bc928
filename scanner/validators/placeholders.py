"""Recognising values that only look like credentials.

Templates and variables (``${NPM_TOKEN}``, ``{{ secrets.X }}``), CI masking
(``***``, ``[MASKED]``), repeated or sequential bodies, placeholder words and
known documentation examples. Applied to every candidate before its
structure check; a hit makes the candidate ``fake``.
"""

from __future__ import annotations

import hashlib
import re

# Interpolations and angle-bracket placeholders; a real token never contains these.
_TEMPLATE = re.compile(r"\$\{|\$\(|\{\{|\}\}|%[A-Za-z_]+%|<[A-Za-z_ -]+>|^\$[A-Za-z_][A-Za-z0-9_]*$")
_MASKED = re.compile(r"\*{3,}|\[MASKED\]|•|\u2026|\.\.\.")
# Words that mark a value as illustrative. Whole-word case forms only for the
# short ones, so a random body is very unlikely to hit them by chance.
_WORDS = re.compile(
    r"(?i:example|dummy|sample|placeholder|redacted|changeme|your[_-]?(?:api[_-]?)?(?:token|key|secret|password))"
    r"|test|TEST|Test|fake|FAKE|Fake"
)
_SEQUENCES = (
    "0123456789",
    "abcdefghijklmnopqrstuvwxyz",
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
)
_MAX_RUN = 6  # a body with 6 identical characters in a row is not random
# ... except runs of "A" in long bodies: that is how base64 writes zero bytes,
# which structured tokens and keys hold (Azure DevOps PATs with all-zero
# platform data, DER keys). Short placeholders such as "npm_AAAA..." still fail
# the distinct-characters check.
_ZERO_BASE64 = "A"
_LONG_BODY = 60
_SEQUENCE_RUN = 6  # nor one with 6 consecutive letters or digits
# A body uses few distinct characters when it has at most 1 per 8 characters,
# but never more than this: long hex (16) or base64 (64) bodies, such as keys,
# must not count as "few".
_FEW_DISTINCT_CAP = 8

# sha256 of published documentation example tokens (kept as hashes so the
# repository holds no token-shaped literal). Each is the example from the doc named.
_KNOWN_EXAMPLES = {
    # Docker Hub API documentation "dckr_pat_124509…" (wrong length; reported by context rules otherwise)
    "3a12151da54c0029cd70ed3685f686e6aed0fc25028c9690d91a12cf93c8020a",
    # GitHub fixture "ghp_16C7e42F…178B4a" copied across many READMEs (also fails its checksum)
    "3543c50b0cb9cea8e55eb1f529b79f043cb250d485fde7b66cabbb5183add7da",
    # npm example "npm_qkJaB6Mf…0LsakP" quoted in secretlint issue #200 (valid checksum)
    "59a272fc32b47dc451babe3b52943ce39eca19955816cf739fefb4abfdf1902f",
    # NuGet key "qz2jga8p…x6w6x6" from the Microsoft Learn push examples
    "caa3b5c0b6adfb917915b10dca22f060b85f740ac2033983e45532e155566c04",
    # RubyGems key "rubygems_b9ce70c3…00566c" from the guides.rubygems.org API example
    "969f1c1a7ecaf5fcafa09c290313e8e43387dc15296202141aa1781d03561b1e",
}


def known_example(secret: str) -> bool:
    """True when ``secret`` is a known documentation example."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest() in _KNOWN_EXAMPLES


def _longest_run(body: str, ignore: str = "") -> int:
    """Length of the longest run of one character, not counting runs of
    characters in ``ignore``."""
    longest = run = 0
    previous = ""
    for current in body:
        run = run + 1 if current == previous else 1
        previous = current
        if current not in ignore:
            longest = max(longest, run)
    return longest


def _has_sequence(body: str) -> bool:
    for alphabet in _SEQUENCES:
        for start in range(len(alphabet) - _SEQUENCE_RUN + 1):
            if alphabet[start : start + _SEQUENCE_RUN] in body:
                return True
    return False


def notation_reason(secret: str) -> str | None:
    """Why ``secret`` is notation rather than a value (a known documentation
    example, a template or variable, masking), or None."""
    if known_example(secret):
        return "a published documentation example"
    if _TEMPLATE.search(secret):
        return "a template or variable reference, not a value"
    if _MASKED.search(secret):
        return "masked or elided"
    return None


def body_reason(body: str) -> str | None:
    """Why a token body is not random (placeholder words, repeated or
    sequential characters, too few distinct characters), or None."""
    word = _WORDS.search(body)
    if word:
        return f"contains the placeholder word '{word.group(0)}'"
    ignore = _ZERO_BASE64 if len(body) >= _LONG_BODY else ""
    if len(body) >= 8 and _longest_run(body, ignore) >= _MAX_RUN:
        return "repeated characters"
    if len(body) >= 12 and len(set(body)) <= min(max(3, len(body) // 8), _FEW_DISTINCT_CAP):
        return "too few distinct characters"
    if _has_sequence(body):
        return "sequential characters"
    return None


def placeholder_reason(secret: str, prefix: str = "") -> str | None:
    """Why ``secret`` is a placeholder rather than a credential, or None.

    ``prefix`` is the rule's literal prefix (``npm_``), excluded from the
    body checks.
    """
    body = secret[len(prefix) :] if prefix and secret.lower().startswith(prefix.lower()) else secret
    return notation_reason(secret) or body_reason(body)
