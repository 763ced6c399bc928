"""The keyword prefilter: the Hyperscan, Aho-Corasick and pure-Python paths
find exactly the same hits."""

from __future__ import annotations

import platform
import random
import sys

import pytest

from scanner.errors import RuleError
from scanner.keywords import KeywordIndex, vectorisable
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


def test_find_on_text_as_written_agrees_with_hits_on_lowered_text(rng: random.Random) -> None:
    keywords = [k for rule in load_rules() for k in rule.keywords]
    pieces = [k.upper() for k in keywords] + [k for k in keywords] + ["x", " ", "\n", "Tok", "NPM", "ёж", "é"]
    text = "".join(rng.choice(pieces) for _ in range(20_000))
    for sample in (text, "".join(ch for ch in text if ch.isascii())):
        for options in ({}, {"vectorise": False}, {"accelerate": False}):
            index = KeywordIndex(keywords, **options)
            hits, valid = index.find(sample, 2000)
            assert valid
            assert hits == KeywordIndex(keywords, accelerate=False).hits(sample.lower(), 2000)


def test_find_says_when_positions_are_off() -> None:
    # "İ" lower-cases to two characters: positions in the lowered text are
    # then not positions in the text (only the paths without Hyperscan lower-case).
    hits, valid = KeywordIndex(["npm_"], accelerate=False).find("İ npm_", 5)
    assert hits == {"npm_": [3]} and not valid


@pytest.mark.skipif(not vectorisable(["x"]), reason="prefilters need Hyperscan (Linux x86_64 wheels)")
def test_prefilter_hits_stand_at_the_last_character_of_each_match() -> None:
    index = KeywordIndex(["npm_"], prefilters={"\x00p": r"^[ \t]*password[ \t]*=[ \t]*[^\s*]"})
    text = "x password = a\n  PASSWORD=b\npassword = ***\nnpm_"
    hits, valid = index.find(text, 10)
    assert valid
    assert hits == {"\x00p": [text.index("PASSWORD=b") + len("PASSWORD=b") - 1], "npm_": [text.index("npm_")]}


@pytest.mark.skipif(not vectorisable(["x"]), reason="prefilters need Hyperscan (Linux x86_64 wheels)")
def test_a_prefilter_that_does_not_compile_names_its_rule() -> None:
    with pytest.raises(RuleError, match="my-rule"):
        KeywordIndex(["npm_"], prefilters={"\x00prefilter:my-rule": "(unclosed"})


def test_every_bundled_prefilter_is_ascii_and_only_on_a_few_rules() -> None:
    prefiltered = [rule for rule in load_rules() if rule.prefilter]
    assert {rule.id for rule in prefiltered} >= {"url-credentials", "gem-credentials-host-key"}
    assert all(rule.prefilter.isascii() for rule in prefiltered if rule.prefilter)
