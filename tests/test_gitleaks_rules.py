"""gitleaks/betterleaks TOML rules: Go regex translation, the secret group,
keywords, entropy, what is skipped or not applied, and matches through the
real Detector."""

from __future__ import annotations

import random
import string
from pathlib import Path

import pytest
import regex

from scanner.engine import Detector
from scanner.errors import RuleError
from scanner.gitleaks_rules import IMPORTED_KIND, load_gitleaks_rules, translate_go_regex
from scanner.model import Rule, Severity
from scanner.rulecheck import check_rules
from scanner.ruleset import compile_rule_pattern, load_rules, shannon_entropy
from tests.conftest import detect_text

# In the style of a team's .gitleaks.toml: custom rules next to an [extend].
GITLEAKS_TOML = """\
title = "acme gitleaks config"

[extend]
useDefault = true

[[rules]]
id = "acme-registry-token"
description = "ACME internal package registry token"
regex = '''\\b(acme_[a-z0-9]{32})(?:['"\\s;]|$)'''
keywords = ["acme_"]
entropy = 3.5
tags = ["registry:acme", "severity:critical", "package-registry"]

[[rules]]
id = "acme-deploy-password"
description = "ACME deploy password assigned in a config file"
regex = '''(?i)(deploy[_-]?pass(?:word)?)\\s*[:=]\\s*["']?([a-z0-9!@#%^&*]{16,64})["']?'''
secretGroup = 2
keywords = ["deploy_pass", "deploy-pass", "deploypass"]
[rules.allowlist]
stopwords = ["example"]

[[rules]]
id = "acme-ci-key"
description = "ACME CI key: a fixed upper-case prefix, then hex in any case"
regex = '''\\bACMECI-(?i)[a-f0-9]{24}\\b'''
keywords = ["acmeci-"]

[[rules]]
id = "acme-legacy-signing-key"
description = "Legacy signing key; old rules had no keywords"
regex = '''legacy_sk=([A-Z2-7]{20})'''

[[rules]]
id = "acme-keystore-file"
description = "A keystore file"
path = '''(?i)\\.p(?:12|fx)$'''

[[rules]]
id = "acme-client-id"
description = "Only a component of a composite rule"
regex = '''\\b(acmeid_[a-z0-9]{12})\\b'''
keywords = ["acmeid_"]
skipReport = true
"""


def alnum(rng: random.Random, size: int, alphabet: str = string.ascii_lowercase + string.digits) -> str:
    return "".join(rng.choice(alphabet) for _ in range(size))


@pytest.fixture()
def toml_file(tmp_path: Path) -> Path:
    path = tmp_path / ".gitleaks.toml"
    path.write_text(GITLEAKS_TOML)
    return path


@pytest.fixture()
def loaded(toml_file: Path) -> tuple[list[Rule], list[str]]:
    warnings: list[str] = []
    rules = load_gitleaks_rules(toml_file, warn=warnings.append)
    for rule in rules:
        compile_rule_pattern(rule)
    return rules, warnings


def test_rules_are_mapped_onto_the_rule_model(loaded: tuple[list[Rule], list[str]], toml_file: Path) -> None:
    rules, _ = loaded
    by_id = {rule.id: rule for rule in rules}
    assert list(by_id) == ["acme-registry-token", "acme-deploy-password", "acme-ci-key", "acme-legacy-signing-key"]
    token = by_id["acme-registry-token"]
    assert (token.registry, token.severity, token.kind) == ("acme", Severity.CRITICAL, IMPORTED_KIND)
    assert token.name == "ACME internal package registry token"
    assert token.keywords == ("acme_",)
    assert token.boundary is False and token.context is False
    assert token.source_file == str(toml_file)
    # gitleaks drops a secret whose entropy is at or below the figure
    assert 3.5 < token.min_entropy < 3.5 + 1e-9
    password = by_id["acme-deploy-password"]
    assert (password.registry, password.severity) == ("custom", Severity.HIGH)
    assert password.multiline  # \s may cross a line in gitleaks
    assert by_id["acme-legacy-signing-key"].keywords == ()


def test_what_cannot_be_applied_is_said_once(loaded: tuple[list[Rule], list[str]], toml_file: Path) -> None:
    _, warnings = loaded
    assert warnings == [
        f"{toml_file}: not loaded, 1 rule(s) that match file names only ('path' without 'regex'): acme-keystore-file",
        f"{toml_file}: not loaded, 1 rule(s) that only support composite rules ('skipReport'): acme-client-id",
        f"{toml_file}: not applied: allowlists (acme-deploy-password); [extend] (only the rules in this file are loaded)",
    ]


def test_matches_through_the_real_detector(loaded: tuple[list[Rule], list[str]], rng: random.Random) -> None:
    rules, _ = loaded
    token = "acme_" + alnum(rng, 32)
    password = alnum(rng, 20, string.ascii_letters + string.digits + "!@#")
    ci_key = "ACMECI-" + alnum(rng, 24, "abcdefABCDEF0123456789")
    signing = alnum(rng, 20, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    text = (
        "# deployment settings\n"
        f'registry_token: "{token}"\n'
        f"DEPLOY_PASSWORD = '{password}'\n"
        f"ci {ci_key} end\n"
        f"legacy_sk={signing}\n"
    )
    found = {(m.rule_id, m.line, m.column, m.secret) for m in detect_text(Detector(rules), text)}
    assert found == {
        ("acme-registry-token", 2, 18, token),
        ("acme-deploy-password", 3, 20, password),  # secretGroup 2, not the variable name
        ("acme-ci-key", 4, 4, ci_key),  # no capture group: the whole match
        ("acme-legacy-signing-key", 5, 11, signing),  # no keywords: runs on every chunk
    }


def test_a_case_flag_in_mid_pattern_covers_only_what_follows(loaded: tuple[list[Rule], list[str]]) -> None:
    rules, _ = loaded
    detector = Detector([r for r in rules if r.id == "acme-ci-key"])
    hex_part = "0a1B2c3D4e5F6a7B8c9D0e1F"
    assert [m.secret for m in detect_text(detector, f"x ACMECI-{hex_part}\n")] == [f"ACMECI-{hex_part}"]
    assert detect_text(detector, f"x acmeci-{hex_part}\n") == []


def test_entropy_gate(loaded: tuple[list[Rule], list[str]], rng: random.Random) -> None:
    rules, _ = loaded
    detector = Detector([r for r in rules if r.id == "acme-registry-token"])
    low = "acme_" + "ab" * 16  # entropy 1.0
    assert detect_text(detector, f"t={low}\n") == []
    high = "acme_" + alnum(rng, 32)
    assert shannon_entropy(high) > 3.5
    assert [m.secret for m in detect_text(detector, f"t={high}\n")] == [high]


def test_entropy_equal_to_the_figure_is_dropped_as_in_gitleaks(tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    path.write_text("[[rules]]\nid = 'two-bits'\nregex = '''tb_([a-d]{8})'''\nkeywords = ['tb_']\nentropy = 2.0\n")
    (rule,) = load_gitleaks_rules(path, warn=lambda _: None)
    detector = Detector([rule])
    assert shannon_entropy("abcdabcd") == 2.0
    assert detect_text(detector, "tb_abcdabcd\n") == []
    assert [m.secret for m in detect_text(detector, "tb_abcdabcc\n")] == []  # 1.9 bits
    path.write_text(path.read_text().replace("entropy = 2.0", "entropy = 1.9"))
    (rule,) = load_gitleaks_rules(path, warn=lambda _: None)
    assert [m.secret for m in detect_text(Detector([rule]), "tb_abcdabcd\n")] == ["abcdabcd"]


def test_betterleaks_entropy_filter(tmp_path: Path) -> None:
    path = tmp_path / "betterleaks.toml"
    path.write_text(
        "[[rules]]\nid = 'bl-token'\nregex = '''\\b(bl_[a-z]{8})\\b'''\nkeywords = ['bl_']\n"
        "filter = '''\nfilter.entropy(finding[\"secret\"]) < 3.0\n'''\n"
        "validate = '''cel.expression()'''\n"
        "[[rules]]\nid = 'bl-other'\nregex = '''\\b(blo_[a-z]{8})\\b'''\nkeywords = ['blo_']\n"
        "filter = '''\nentropy(finding[\"secret\"]) <= 2.5\n'''\n"
    )
    warnings: list[str] = []
    first, second = load_gitleaks_rules(path, warn=warnings.append)
    assert first.min_entropy == 3.0
    assert 2.5 < second.min_entropy < 2.5 + 1e-9
    assert warnings == [f"{path}: not applied: 'validate' expressions (bl-token)"]


def test_first_capture_group_is_the_secret_when_no_secret_group(tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    path.write_text("[[rules]]\nid = 'kv'\nregex = '''(kv_[0-9]{4})-(?P<rest>[0-9]{4})'''\nkeywords = ['kv_']\n")
    (rule,) = load_gitleaks_rules(path, warn=lambda _: None)
    assert compile_rule_pattern(rule).groups == 1
    assert [m.secret for m in detect_text(Detector([rule]), "kv_1234-5678\n")] == ["kv_1234"]


def test_loaded_through_ruleset_and_checked(toml_file: Path) -> None:
    rules = load_rules([toml_file], include_bundled=False)
    assert [r.id for r in rules][:1] == ["acme-registry-token"]
    # imported rules have no examples to check: only that they compile
    assert check_rules(rules) == []


# --- translation ---------------------------------------------------------------


@pytest.mark.parametrize(
    "go,matches,misses",
    [
        (r"a(?i)b|c", ["ab", "aB", "c", "C"], ["AB"]),  # (?i) lasts past "|" to the group's end
        (r"(x(?i)y|z)w", ["xYw", "Zw"], ["ZW", "Xyw"]),
        (r"(?i:a)b", ["Ab"], ["AB"]),
        (r"(?i)a(?-i)b", ["Ab"], ["AB"]),
        (r"\x{41}\x42\101\0", ["ABA\x00"], []),  # braced hex, octal
        (r"\Qa.b*\E+", ["a.b*", "a.b**"], ["axbb"]),
        (r"x{,3}", ["x{,3}"], ["xxx"]),  # RE2 reads "{" that starts no repeat as a literal
        (r"x{2}", ["xx"], ["x"]),
        (r"[[a]+", ["[a["], ["b"]),
        (r"[]a]+", ["]a"], ["b"]),
        (r"[[:alpha:]]+\d", ["abc1"], ["ab_1"]),
        (r"^key=\w+", ["key=v"], []),
        (r"end\z", ["end"], []),
        (r"\pL\p{Greek}", ["aβ"], ["ab"]),
        # Go's \w, \d, \s, \b and POSIX classes are ASCII
        (r"(?i)\w+", ["aZ_9"], ["é"]),
        (r"[\w.]+", ["a.b"], ["é"]),
        (r"[[:alpha:][:digit:]]+", ["ab1"], ["é1"]),
        (r"[^[:alpha:]]", ["1"], ["a"]),
        (r"\d", ["7"], ["\u0667"]),
        (r"x\b.", ["x-", "xé"], ["xy"]),
    ],
)
def test_go_patterns_mean_the_same(go: str, matches: list[str], misses: list[str]) -> None:
    compiled = regex.compile(translate_go_regex(go).source)
    for text in matches:
        assert compiled.fullmatch(text), (go, text)
    for text in misses:
        assert not compiled.fullmatch(text), (go, text)


def test_start_and_end_anchors() -> None:
    start = regex.compile(translate_go_regex(r"^key").source)
    assert start.search("key") and not start.search("x\nkey")  # Go's ^ is the text's start
    assert regex.compile(translate_go_regex(r"(?m)^key").source).search("x\nkey")
    end = regex.compile(translate_go_regex(r"v(?:;|$)").source)
    assert end.search("v\nnext")  # the line's end ends a token, as \s would in Go


@pytest.mark.parametrize(
    "go,keep,expected",
    [
        (r"(a)(b)(c)", [2], "(?:a)(b)(?:c)"),
        (r"(?P<x>a)((?:b))", [1], "(a)(?:(?:b))"),
        (r"(a)", [], "(?:a)"),
        (r"(?<=x)(a)", [1], "(?<=x)(a)"),
        (r"x(a)|y(b)", [1, 2], "x(?P<secret>a)|y(?P<secret>b)"),
    ],
)
def test_only_the_secret_group_stays_capturing(go: str, keep: list[int], expected: str) -> None:
    assert translate_go_regex(go, keep=keep).source == expected


@pytest.mark.parametrize(
    "go,first",
    [
        (r"(a)(b)", (1,)),  # the second is the secret only when the first is empty
        (r"((a)b)", (1,)),  # the outer group holds the inner one
        (r"x(a)|y(b)|z", (1, 2)),
        (r"(?:x(a)|y(b))(c)", (1, 2)),
        (r"k(?:(a)|b)|(c)(d)", (1, 2)),
    ],
)
def test_groups_that_can_be_the_first_non_empty_one(go: str, first: tuple[int, ...]) -> None:
    assert translate_go_regex(go).first_groups == first


ALTERNATIVES_TOML = """\
[[rules]]
id = "widget-token"
regex = '''(?i:widget)[ =:]{1,3}([a-z0-9]{24})\\b|\\b(WGT3[A-Za-z0-9]{30})\\b'''
keywords = ["widget", "wgt3"]
"""


def test_alternatives_each_with_their_own_group(tmp_path: Path, rng: random.Random) -> None:
    # as in gitleaks' atlassian rule: a context branch and a prefixed-token branch
    path = tmp_path / "r.toml"
    path.write_text(ALTERNATIVES_TOML)
    (rule,) = load_gitleaks_rules(path, warn=lambda _: None)
    assert compile_rule_pattern(rule).groups == 1
    plain = alnum(rng, 24)
    prefixed = "WGT3" + alnum(rng, 30, string.ascii_letters + string.digits)
    matches = detect_text(Detector([rule]), f"WIDGET = {plain}\nuse {prefixed}\n")
    assert [(m.line, m.column, m.secret) for m in matches] == [(1, 10, plain), (2, 5, prefixed)]


@pytest.mark.parametrize(
    "go,crosses",
    [
        (r"key=([a-z]{8})", False),
        (r"key\s*=\s*([a-z]{8})", True),
        (r"key=([^'\"]{8})", True),
        (r"(?s)a.b", True),
        (r"a.b", False),
        (r"[\x0a]", True),
        (r"[[:space:]]", True),
    ],
)
def test_patterns_that_may_cross_a_line(go: str, crosses: bool) -> None:
    assert translate_go_regex(go).crosses_lines is crosses


# --- errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "body,message",
    [
        ("[[rules]]\nid = 'x'\nregex = 'a'\n[[rules]\n", "not valid TOML"),
        ("title = 'no rules'\n", "no [[rules]] in this gitleaks configuration"),
        ("rules = 3\n", "'rules' must be an array of [[rules]] tables"),
        ("[[rules]]\nregex = 'a'\n", "rule #1: 'id' must be letters, digits"),
        ("[[rules]]\nid = 'has space'\nregex = 'a'\n", "rule #1: 'id' must be"),
        ("[[rules]]\nid = 'r1'\n", "rule 'r1': has neither 'regex' nor 'path'"),
        ("[[rules]]\nid = 'r1'\nregex = '''(a)'''\nsecretGroup = 2\n", "rule 'r1': secretGroup 2, but the regex has 1 capture group(s)"),
        ("[[rules]]\nid = 'r1'\nregex = 'a'\nsecretGroup = -1\n", "rule 'r1': 'secretGroup' must be a whole number"),
        ("[[rules]]\nid = 'r1'\nregex = 'a'\nentropy = 'high'\n", "rule 'r1': 'entropy' must be a number"),
        ("[[rules]]\nid = 'r1'\nregex = 'a'\nkeywords = 'a'\n", "rule 'r1': 'keywords' must be a list of non-empty strings"),
        ("[[rules]]\nid = 'r1'\nregex = 'a'\nkeywords = ['']\n", "rule 'r1': 'keywords' must be a list"),
        ("[[rules]]\nid = 'r1'\nregex = 'a'\ntags = ['severity:severe']\n", "rule 'r1': tag 'severity:severe': severity is not one of"),
        ("[[rules]]\nid = 'r1'\nregex = '''(a)\\1'''\n", "rule 'r1': regex: escape \\1 (backreferences are not supported"),
        ("[[rules]]\nid = 'r1'\nregex = '''(?U)a+'''\n", "rule 'r1': regex: the ungreedy flag (?U) has no equivalent here"),
        ("[[rules]]\nid = 'r1'\nregex = '''\\ya'''\n", "rule 'r1': regex: escape \\y is not valid"),
        ("[[rules]]\nid = 'r1'\nregex = '''(a'''\n", "rule 'r1': regex: missing ')'"),
        ("[[rules]]\nid = 'r1'\nregex = '''[a'''\n", "rule 'r1': regex: missing ']'"),
    ],
)
def test_a_broken_file_is_one_line_naming_file_and_rule(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(body)
    with pytest.raises(RuleError) as caught:
        load_gitleaks_rules(path, warn=lambda _: None)
    assert str(caught.value).startswith(f"{path}: {message}"), str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_pattern_that_does_not_compile_names_the_rule(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[[rules]]\nid = 'r1'\nregex = '''a{2,1}'''\nkeywords = ['a']\n")
    with pytest.raises(RuleError, match=rf"^{path}: rule 'r1': pattern does not compile"):
        load_rules([path], include_bundled=False)


def test_warnings_go_to_stderr_by_default(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "r.toml"
    path.write_text("[[rules]]\nid = 'f'\npath = 'x'\n[[rules]]\nid = 'g'\nregex = 'g_[a-z]{9}'\nkeywords = ['g_']\n")
    assert [r.id for r in load_gitleaks_rules(path)] == ["g"]
    assert capsys.readouterr().err == (
        f"sprawl: warning: {path}: not loaded, 1 rule(s) that match file names only ('path' without 'regex'): f\n"
    )
