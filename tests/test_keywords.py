"""The keyword prefilter: the Hyperscan, Aho-Corasick and pure-Python paths
find exactly the same hits."""

from __future__ import annotations

import platform
import random
import sys

from scanner.keywords import KeywordIndex
from scanner.ruleset import load_rules


def test_both_paths_agree_on_rule_keywords_in_mixed_text(rng: random.Random) -> None:
    keywords = [k for rule in load_rules() for k in rule.keywords]
    pieces = [k.lower() for k in keywords] + ["x", " ", "\n", "tok", "npm", "_", "aa", "ёж", "İ"]
    text = "".join(rng.choice(pieces) for _ in range(20_000)).lower()
    ascii_text = "".join(ch for ch in text if ch.isascii())
    vectorised = KeywordIndex(keywords)
    automaton = KeywordIndex(keywords, vectorise=False)
    pure = KeywordIndex(keywords, accelerate=False)
    # pyproject installs hyperscan on Linux x86_64 (its wheels' platform)
    on_hyperscan_platform = sys.platform == "linux" and platform.machine() == "x86_64"
    assert vectorised.vectorised is on_hyperscan_platform
    assert automaton.accelerated and not automaton.vectorised and not pure.accelerated
    for sample in (text, ascii_text):  # non-ASCII text goes to the automaton
        for cap in (0, 3, 2000):
            expected = pure.hits(sample, cap)
            assert automaton.hits(sample, cap) == expected
            assert vectorised.hits(sample, cap) == expected


def test_overlapping_and_nested_keywords() -> None:
    text = "aaaa npm_token npm_ a-b ://"
    expected = {"aa": [0, 1, 2], "aaa": [0, 1], "npm_": [5, 15], "npm_token": [5], "a-b": [20], "://": [24]}
    for options in ({}, {"vectorise": False}, {"accelerate": False}):
        assert KeywordIndex(["aa", "aaa", "npm_", "npm_token", "a-b", "://"], **options).hits(text, 10) == expected


def test_cap_keeps_one_more_than_the_cap() -> None:
    for options in ({}, {"vectorise": False}, {"accelerate": False}):
        assert KeywordIndex(["ab"], **options).hits("ab" * 10, 3) == {"ab": [0, 2, 4, 6]}
