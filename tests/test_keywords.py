"""The keyword prefilter: the Aho-Corasick path and the pure-Python path
find exactly the same hits."""

from __future__ import annotations

import random

import pytest

from scanner.keywords import KeywordIndex
from scanner.ruleset import load_rules




def test_both_paths_agree_on_rule_keywords_in_mixed_text(rng: random.Random) -> None:
    keywords = [k for rule in load_rules() for k in rule.keywords]
    pieces = [k.lower() for k in keywords] + ["x", " ", "\n", "tok", "npm", "_", "aa", "ёж", "İ"]
    text = "".join(rng.choice(pieces) for _ in range(20_000)).lower()
    fast = KeywordIndex(keywords)
    pure = KeywordIndex(keywords, accelerate=False)
    assert fast.accelerated and not pure.accelerated
    for cap in (0, 3, 2000):
        assert fast.hits(text, cap) == pure.hits(text, cap)


def test_overlapping_and_nested_keywords() -> None:
    index = KeywordIndex(["aa", "aaa", "npm_", "npm_token"])
    text = "aaaa npm_token npm_"
    expected = {"aa": [0, 1, 2], "aaa": [0, 1], "npm_": [5, 15], "npm_token": [5]}
    assert index.hits(text, 10) == expected
    assert KeywordIndex(["aa", "aaa", "npm_", "npm_token"], accelerate=False).hits(text, 10) == expected


def test_cap_keeps_one_more_than_the_cap() -> None:
    for accelerate in (True, False):
        assert KeywordIndex(["ab"], accelerate=accelerate).hits("ab" * 10, 3) == {"ab": [0, 2, 4, 6]}
