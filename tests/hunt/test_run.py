"""A hunt across a mixed corpus built at run time: git history (a deleted
file, a commit message, base64 in a docker config.json), a CI log, a Slack
export, a Confluence page and a zip. Every copy at its place and encoding, by
value and by sha256, on one or two processes."""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path
from urllib.parse import quote

import pytest

from scanner.config import ScanConfig
from scanner.hunt.run import HuntResult, hunt, identify
from scanner.hunt.targets import HuntTargets, value_sha256
from scanner.model import Liveness, Rule, Severity
from scanner.pipeline import scan
from tests.hunt import corpus
from tests.hunt.corpus import Corpus
from tests.tokenfactory import npm_token

# (rule, source, path, line, column, commit, extra pairs worth checking)
Place = tuple[str, str, str, int, int, str | None, tuple[tuple[str, str], ...]]


@pytest.fixture(scope="module")
def value() -> str:
    return corpus.password(random.Random("hunt mixed corpus"))


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory, value: str) -> Corpus:
    return corpus.build(tmp_path_factory.mktemp("mixed"), value)


def expected_places(c: Corpus, value: str) -> set[Place]:
    docker_json = (c.repo / "docker" / "config.json").read_text()
    auth = base64.b64encode(f"{corpus.DOCKER_USER}:{value}".encode()).decode()
    docker_line, docker_column = corpus.position(docker_json, auth)
    # base64 of "deployer:" is 12 characters that hold no bit of the value
    shift = len(corpus.DOCKER_USER + ":") * 8 // 6
    log_line, log_column = corpus.position(corpus.ci_log(value), quote(value, safe=""))
    return {
        ("hunt:raw", "git", "deploy/secret.env", 2, len("DB_PASSWORD=") + 1, c.added, (("state", "history-only"),)),
        ("hunt:raw", "git", "(commit message)", 3, len("It held the database password ") + 1, c.removed, (("state", "message"),)),
        ("hunt:base64", "git", "docker/config.json", docker_line, docker_column + shift, c.docker, (("state", "still-present"),)),
        ("hunt:url-encoded", "ci-log", str(c.ci / "1_login.txt"), log_line, log_column, None, ()),
        (
            "hunt:raw",
            "slack",
            str(c.slack / "releases" / "2026-01-01.json"),
            1,
            len(corpus.SLACK_PREFIX) + 1,
            None,
            (("channel", "#releases"),),
        ),
        (
            "hunt:raw",
            "confluence",
            str(c.confluence / f"Publishing-runbook_{corpus.PAGE_ID}.html"),
            corpus.CONFLUENCE_HEADER_LINES + 1,
            len(corpus.PAGE_PREFIX) + 1,
            None,
            (("page_title", "Publishing runbook"),),
        ),
        ("hunt:raw", "file", f"{c.bundle}!app/settings.ini", 3, len("secret = ") + 1, None, ()),
    }


def places(outcome: HuntResult, keys: tuple[str, ...] = ("state", "channel", "page_title")) -> set[Place]:
    found = set()
    for finding in outcome.result.findings:
        for o in finding.occurrences:
            extra = dict(o.provenance.extra)
            assert extra["encoding"] == finding.rule_id.removeprefix("hunt:")
            wanted = tuple((k, extra[k]) for k in keys if k in extra)
            found.add((finding.rule_id, o.provenance.source, o.provenance.path, o.line, o.column, o.provenance.commit, wanted))
    return found


def test_every_copy_by_value(mixed: Corpus, value: str) -> None:
    outcome = hunt(ScanConfig(paths=mixed.sources), HuntTargets(values=(value,)))
    assert places(outcome) == expected_places(mixed, value)
    assert outcome.summary_lines() == ["7 copies in 7 places (raw: 5, url-encoded: 1, base64: 1)"]
    assert outcome.exit_code == 1 and outcome.result.stats.errors == ()
    findings = {f.rule_id: f for f in outcome.result.findings}
    assert list(findings) == ["hunt:raw", "hunt:url-encoded", "hunt:base64"]
    # In history only as written; the base64 copy is still in the tree.
    assert findings["hunt:raw"].still_present is False and findings["hunt:base64"].still_present is True
    for finding in findings.values():
        assert finding.secret == value and finding.secret_sha256 == value_sha256(value)
        assert finding.redacted == "…" + value[-4:]
        assert finding.liveness is Liveness.UNVERIFIABLE and finding.registry == "unknown"
        # high for an unknown format, one step for chat/log/wiki, one for the current tree
        assert finding.severity is Severity.CRITICAL
    log = next(o for o in findings["hunt:url-encoded"].occurrences)
    assert log.end_column - log.column == len(quote(value, safe=""))
    assert log.provenance.when is not None and log.provenance.when.isoformat().startswith("2026-03-02T09:14:05")
    slack = next(o for o in findings["hunt:raw"].occurrences if o.provenance.source == "slack")
    assert slack.provenance.author == "Alice Liddell"
    assert [r.id for r in outcome.result.rules] == ["hunt:raw", "hunt:url-encoded", "hunt:base64"]


def test_sha256_alone_finds_the_same_copies(mixed: Corpus, value: str) -> None:
    other = value_sha256("never-leaked-anywhere")
    outcome = hunt(ScanConfig(paths=mixed.sources), HuntTargets(digests=(value_sha256(value), other)))
    assert places(outcome) == expected_places(mixed, value)
    assert outcome.unmatched == (other,)
    assert outcome.summary_lines() == [
        "7 copies in 7 places (raw: 5, url-encoded: 1, base64: 1)",
        f"  #1 …{value[-4:]}: 7 copies in 7 places (raw: 5, url-encoded: 1, base64: 1)",
        f"  sha256 {other[:16]}…: no candidate hashes to it",
    ]
    # the second pass read everything once more, and is what the stats count
    assert outcome.result.stats.inputs_scanned == hunt(
        ScanConfig(paths=mixed.sources), HuntTargets(values=(value,))
    ).result.stats.inputs_scanned


def test_two_processes_find_the_same(mixed: Corpus, value: str) -> None:
    for targets in (HuntTargets(values=(value,)), HuntTargets(digests=(value_sha256(value),))):
        outcome = hunt(ScanConfig(paths=mixed.sources, jobs=2), targets)
        assert places(outcome) == expected_places(mixed, value)


def test_no_rule_matches_the_value_yet_the_hunt_finds_it(mixed: Corpus, value: str, bundled_rules: list[Rule]) -> None:
    assert identify(value, bundled_rules) is None
    scanned = scan(ScanConfig(paths=(str(mixed.bundle), str(mixed.ci), str(mixed.confluence))))
    assert [f for f in scanned.findings if f.secret == value] == []
    outcome = hunt(ScanConfig(paths=(str(mixed.bundle),)), HuntTargets(values=(value,)))
    assert [(f.rule_id, o.location) for f in outcome.result.findings for o in f.occurrences] == [
        ("hunt:raw", f"{mixed.bundle}!app/settings.ini:3:10")
    ]


def test_nothing_found_is_exit_0_and_says_so(mixed: Corpus) -> None:
    outcome = hunt(ScanConfig(paths=mixed.sources), HuntTargets(values=("not-in-there-at-all",)))
    assert outcome.result.findings == () and outcome.exit_code == 0
    assert outcome.summary_lines() == ["0 copies in 0 places"]


def test_unreadable_input_without_copies_is_exit_2(tmp_path: Path) -> None:
    outcome = hunt(ScanConfig(paths=(str(tmp_path / "missing"),)), HuntTargets(values=("not-in-there-at-all",)))
    assert outcome.result.stats.errors and outcome.exit_code == 2


def test_several_values_are_reported_apart(tmp_path: Path, rng: random.Random) -> None:
    first, second, absent = corpus.password(rng), corpus.password(rng), corpus.password(rng)
    (tmp_path / "a.txt").write_text(f"{first}\n{base64.b64encode(second.encode()).decode()}\n")
    outcome = hunt(ScanConfig(paths=(str(tmp_path),)), HuntTargets(values=(first, second, absent)))
    assert [(f.rule_name, f.secret, f.occurrences[0].line) for f in outcome.result.findings] == [
        ("hunted credential #1 (raw)", first, 1),
        ("hunted credential #2 (base64)", second, 2),
    ]
    assert outcome.summary_lines()[1:] == [
        f"  #1 …{first[-4:]}: 1 copy in 1 place (raw: 1)",
        f"  #2 …{second[-4:]}: 1 copy in 1 place (base64: 1)",
        f"  #3 …{absent[-4:]}: 0 copies in 0 places",
    ]


def test_a_recognised_token_is_judged_by_its_rule(tmp_path: Path, rng: random.Random, bundled_rules: list[Rule]) -> None:
    token = npm_token(rng)
    (tmp_path / "notes.md").write_text(f"old token was {token}\n")
    (tmp_path / "config.json").write_text(json.dumps({"auth": base64.b64encode(f"ci:{token}".encode()).decode()}))
    outcome = hunt(ScanConfig(paths=(str(tmp_path),)), HuntTargets(values=(token,)))
    rule = next(r for r in bundled_rules if r.id == "npm-access-token")
    assert [(f.rule_id, f.rule_name, f.registry) for f in outcome.result.findings] == [
        ("hunt:raw", "npm access token (raw)", rule.registry),
        ("hunt:base64", "npm access token (base64)", rule.registry),
    ]
    for finding in outcome.result.findings:
        assert finding.liveness is Liveness.LIVE_LOOKING and finding.revoke_url == rule.revoke_url
        assert finding.redacted == f"npm_…{token[-4:]}"
        assert finding.severity is Severity.CRITICAL


def test_html_read_written_and_rendered_counts_each_copy_once(tmp_path: Path, rng: random.Random) -> None:
    value = corpus.password(rng)
    page = tmp_path / "page.html"
    page.write_text(f"<html><body><p>pass: {value.replace('/', '&#x2F;')}</p></body></html>\n")
    outcome = hunt(ScanConfig(paths=(str(page),)), HuntTargets(values=(value,)))
    assert [(f.rule_id, o.line, o.column) for f in outcome.result.findings for o in f.occurrences] == [
        ("hunt:html-escaped", 1, len("<html><body><p>pass: ") + 1)
    ]
