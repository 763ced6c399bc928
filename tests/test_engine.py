"""The detector: prefilter, boundaries in real-world glue, exact positions."""

from __future__ import annotations

import random

import pytest

from scanner.engine import Detector
from scanner.model import Rule, Severity
from tests.conftest import detect_text
from tests.tokenfactory import github_style, npm_token

GLUE = [
    ("\x1b[32m{t}\x1b[0m", "ANSI colour codes"),
    ('"{t}"', "double quotes"),
    ("'{t}'", "single quotes"),
    ("TOKEN={t}", "equals"),
    ("token: {t}", "colon"),
    ("https://user:{t}@host/x", "userinfo @"),
    ("a=1&token={t}&b=2", "ampersand"),
    ("<password>{t}</password>", "xml"),
    ("[{t},{t}]", "comma"),
    ("{{{{{t}}}}}", "template braces"),
    ("token%3D{t}%26x", "percent escapes"),
    ('"line\\n{t}\\n"', "JSON newline escape"),
    ('"\\u003d{t}"', "JSON unicode escape"),
    ("`{t}`", "backticks"),
    ("({t})", "parentheses"),
]


@pytest.mark.parametrize("template,label", GLUE, ids=[g[1] for g in GLUE])
def test_token_found_when_glued(detector: Detector, rng: random.Random, template: str, label: str) -> None:
    token = npm_token(rng)
    text = "first line\n" + template.format(t=token) + "\n"
    matches = detect_text(detector, text)
    assert matches, label
    assert {(m.rule_id, m.secret, m.line) for m in matches} == {("npm-access-token", token, 2)}
    first = min(matches, key=lambda m: m.column)
    assert text.split("\n")[1][first.column - 1 :].startswith(token)


def test_token_inside_longer_word_is_not_a_token(detector: Detector, rng: random.Random) -> None:
    token = npm_token(rng)
    assert detect_text(detector, f"xnpm_{token[4:]}") == []
    assert detect_text(detector, f"{token}Z") == []


def test_line_and_column_count_only_newlines(detector: Detector, rng: random.Random) -> None:
    token = github_style("ghp", rng)
    # GitLab section markers and progress bars use bare \r: not a new line.
    text = "a\r\nb\rprogress 10%\rprogress 100%\n\t  key=" + token + "\n"
    (match,) = detect_text(detector, text)
    assert (match.line, match.column) == (3, len("\t  key=") + 1)
    assert match.end_line == 3
    assert match.end_column == match.column + len(token)


def test_first_line_offset_is_added(detector: Detector, rng: random.Random) -> None:
    token = npm_token(rng)
    (match,) = detect_text(detector, f"x\n{token}", first_line=41)
    assert match.line == 42


def test_many_matches_in_order_with_exact_lines(detector: Detector, rng: random.Random) -> None:
    tokens = [npm_token(rng) for _ in range(50)]
    text = "".join(f"line {i} {t}\n" for i, t in enumerate(tokens))
    matches = detect_text(detector, text)
    assert [(m.secret, m.line, m.column) for m in matches] == [
        (t, i + 1, len(f"line {i} ") + 1) for i, t in enumerate(tokens)
    ]


def test_match_deep_inside_long_minified_line(detector: Detector, rng: random.Random) -> None:
    token = npm_token(rng)
    filler = "x" * 50_000
    text = f'{{"a":"{filler}","npmrc":"//r/:_authToken={token}","b":"{filler}"}}'
    (match,) = detect_text(detector, text)
    assert match.secret == token
    assert match.column == text.index(token) + 1


def test_keyword_prefilter_is_case_insensitive_but_pattern_is_not(detector: Detector, rng: random.Random) -> None:
    token = npm_token(rng)
    assert detect_text(detector, "NPM_TOKEN=" + token.upper()) == []


def test_non_ascii_text_keeps_positions(detector: Detector, rng: random.Random) -> None:
    token = npm_token(rng)
    # 'İ' lower-cases to two characters; positions must still be right.
    text = "İstanbul ünïcödé\nclé=" + token
    (match,) = detect_text(detector, text)
    assert (match.line, match.column) == (2, 5)


def test_entropy_gate_drops_low_entropy_values() -> None:
    rule = Rule(
        id="t-rule", name="t", registry="t", kind="t", pattern=r"(tok_[a-z]{12})", keywords=("tok_",),
        severity=Severity.LOW, min_entropy=3.0,
    )
    detector = Detector([rule])
    assert detect_text(detector, "tok_aaaaaaaaaaab") == []
    assert [m.secret for m in detect_text(detector, "tok_qwertyuiopas")] == ["tok_qwertyuiopas"]


def test_regex_timeout_is_reported_not_fatal() -> None:
    rule = Rule(
        id="slow-rule", name="slow", registry="t", kind="t", pattern=r"(k(?:a|aa)+c)", keywords=("k",),
        severity=Severity.LOW, boundary=False,
    )
    errors: list[str] = []
    detector = Detector([rule], regex_timeout=0.05, on_error=errors.append)
    # Catastrophic backtracking on purpose; the timeout must stop it.
    detect_text(detector, "k" + "a" * 5000 + "!", path="slow.txt")
    assert errors and errors[0].startswith("slow.txt: rule 'slow-rule' timed out")


def test_multiline_rule_scans_whole_chunk() -> None:
    rule = Rule(
        id="block-rule", name="b", registry="t", kind="t",
        pattern=r"BEGIN\n((?:[A-Za-z0-9]{10}\n){3})END", keywords=("BEGIN",), severity=Severity.LOW,
        boundary=False, multiline=True,
    )
    detector = Detector([rule])
    text = "x\nBEGIN\nAbcdefghij\nKlmnopqrst\nUvwxyz0123\nEND\n"
    (match,) = detect_text(detector, text)
    assert (match.line, match.end_line) == (3, 6)


def test_multiline_rule_finds_a_block_deep_inside_a_large_input() -> None:
    rule = Rule(
        id="block-rule", name="b", registry="t", kind="t",
        pattern=r"BEGIN\n((?:[A-Za-z0-9]{64}\n){200})END", keywords=("BEGIN",), severity=Severity.LOW,
        boundary=False, multiline=True, span=32768,
    )
    rng = random.Random(5)
    body = "".join("".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(64)) + "\n" for _ in range(200))
    prefix = "filler line\n" * 200_000
    text = prefix + "BEGIN\n" + body + "END\n" + "tail\n" * 1000
    (match,) = detect_text(Detector([rule]), text)
    assert (match.line, match.end_line) == (200_002, 200_202)


@pytest.mark.parametrize(
    "line",
    ['TOKEN = "{t}"  # sprawl:allow test fixture', 'const token = "{t}"; // sprawl:allow', "{t} sprawl:allow"],
    ids=["hash comment", "slash comment", "after the token"],
)
def test_allow_marker_marks_only_its_own_line(detector: Detector, rng: random.Random, line: str) -> None:
    token = npm_token(rng)
    text = "header\n" + line.format(t=token) + "\n" + f'TOKEN = "{token}"\n'
    matches = detect_text(detector, text)
    assert [(m.rule_id, m.secret, m.line, m.allowed) for m in matches] == [
        ("npm-access-token", token, 2, True),
        ("npm-access-token", token, 3, False),
    ]


def test_allow_marker_on_a_long_line_covers_every_match_on_it(detector: Detector, rng: random.Random) -> None:
    tokens = [npm_token(rng) for _ in range(3)]
    text = " ".join(f'"k{i}":"{t}"' for i, t in enumerate(tokens)) + " /* sprawl:allow */\n" + tokens[0]
    matches = detect_text(detector, text)
    assert [(m.secret, m.line, m.allowed) for m in matches] == [
        (tokens[0], 1, True), (tokens[1], 1, True), (tokens[2], 1, True), (tokens[0], 2, False),
    ]  # fmt: skip


def test_allow_marker_on_the_previous_line_or_in_other_case_does_not_count(
    detector: Detector, rng: random.Random
) -> None:
    token = npm_token(rng)
    text = f"# sprawl:allow\nA={token}\nB={token} # SPRAWL:ALLOW\n"
    assert [(m.line, m.allowed) for m in detect_text(detector, text)] == [(2, False), (3, False)]


def test_allowed_match_survives_pickling(detector: Detector, rng: random.Random) -> None:
    import pickle

    (match,) = detect_text(detector, f"{npm_token(rng)} # sprawl:allow")
    assert pickle.loads(pickle.dumps(match)) == match
    assert match.allowed


def test_prefiltered_rules_find_what_their_keywords_find(rng: random.Random) -> None:
    """A rule tried only where its prefilter matches (Hyperscan) finds exactly
    what it finds when tried at every keyword hit (no Hyperscan)."""
    from scanner.model import Chunk, Provenance
    from scanner.ruleset import load_rules

    rules = [rule for rule in load_rules() if rule.prefilter]
    assert rules
    lines = []
    for number in range(3000):
        secret = "".join(rng.choice("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(24))
        lines.append(
            rng.choice(
                [
                    f"GET https://registry.example.com/pkg/{number} 200",
                    f"remote: https://ci-bot:{secret}@git.example.com/org/repo.git",
                    f"https://gems.example.com: {secret}",
                    f"  'https://rubygems.pkg.github.com/acme': Bearer {secret}",
                    f"//registry.example.com/:_auth = {secret}==",
                    f"NODE_AUTH_TOKEN _auth={secret}",
                    f"[pypi]\nusername = __token__\npassword = {secret}",
                    "password: ***",
                    f"HTTP://USER:{secret}@Host.example.com/x",
                ]
            )
        )
    chunk = Chunk("\n".join(lines) + "\n", Provenance("file", "mixed.log"), "d")
    vectorised = Detector(rules)
    plain = Detector(rules, vectorise=False)
    found = vectorised.detect(chunk)
    assert found == plain.detect(chunk)
    assert {match.rule_id for match in found} == {rule.id for rule in rules}
