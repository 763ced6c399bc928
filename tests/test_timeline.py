"""Per-credential exposure timelines: occurrences from git history, CI logs,
chat exports and files ordered by their own time, first and last exposure,
public reach, still-present; the JSON-report loader; ``sprawl timeline``."""

from __future__ import annotations

import json
import random
import stat
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from scanner.cli import app
from scanner.config import ScanConfig
from scanner.errors import SourceError
from scanner.exposure import Audience, PlaceKind
from scanner.model import ScanResult, Severity
from scanner.pipeline import scan
from scanner.report.base import get_reporter
from scanner.timeline import (
    CredentialTimeline,
    build_timeline,
    credential_timeline,
    format_time,
    parse_report_text,
    result_from_report,
)
from tests.gitbuild import Repo
from tests.report.test_serialize import make_finding, make_occurrence, make_result
from tests.tokenfactory import github_style, npm_token

runner = CliRunner()

# The story the fixture tells (all UTC):
CI_TIME = datetime(2023, 11, 14, 20, 0, 5, tzinfo=UTC)  # a publish job echoes the token
COMMIT_TIME = datetime(2023, 11, 14, 23, 13, 20, tzinfo=UTC)  # first commit (Repo's clock)
REMOVAL_TIME = datetime(2023, 11, 15, 0, 13, 20, tzinfo=UTC)  # second commit deletes .npmrc
PUBLIC_TIME = datetime(2023, 11, 15, 9, 0, 0, tzinfo=UTC)  # pasted in public #releases
PRIVATE_TIME = datetime(2023, 11, 16, 9, 0, 0, tzinfo=UTC)  # pasted again in private #ops


@dataclass(frozen=True)
class Incident:
    root: Path
    repo: Path
    slack: Path
    logs: Path
    notes: Path
    tokens: dict[str, str]

    @property
    def targets(self) -> tuple[str, ...]:
        return (str(self.repo), str(self.slack), f"logs:{self.logs}", str(self.notes))


def _slack_message(user: str, when: datetime, text: str) -> dict[str, Any]:
    return {"type": "message", "user": user, "ts": f"{int(when.timestamp())}.000000", "text": text}


def build_incident(root: Path, rng: random.Random, *, hostile: str = "") -> Incident:
    """A repository, a Slack export, a CI log folder and a notes file sharing tokens.

    - ``spread``: CI log, then git (committed, later deleted), then a public
      Slack channel, then a private one.
    - ``kept``: committed and still in the tree; also in the private channel.
    - ``history``: committed, then deleted: only in git history.
    - ``untimed``: in a notes file (no time) and in the public channel.
    ``hostile`` is put into the Slack user name and channel topic.
    """
    tokens = {
        "spread": npm_token(rng),
        "kept": github_style("ghp", rng),
        "history": npm_token(rng),
        "untimed": github_style("ghp", rng),
    }
    repo = Repo(root / "repo")
    repo.write(".npmrc", f"//registry.npmjs.org/:_authToken={tokens['spread']}\n")
    repo.write("deploy.sh", f"#!/bin/sh\nexport GH_TOKEN={tokens['kept']}\n")
    repo.write("old.env", f"NPM_TOKEN={tokens['history']}\n")
    repo.commit("release settings")
    repo.remove(".npmrc")
    repo.remove("old.env")
    repo.commit("remove secrets")

    slack = root / "Acme Slack export"
    (slack / "releases").mkdir(parents=True)
    (slack / "ops").mkdir(parents=True)
    (slack / "users.json").write_text(
        json.dumps([{"id": "U01BOB", "name": "bob", "real_name": f"Bob Dobbs{hostile}"}]), encoding="utf-8"
    )
    (slack / "channels.json").write_text(json.dumps([{"id": "C01REL", "name": "releases"}]), encoding="utf-8")
    (slack / "groups.json").write_text(json.dumps([{"id": "G01OPS", "name": "ops"}]), encoding="utf-8")
    (slack / "releases" / "2023-11-15.json").write_text(
        json.dumps(
            [
                _slack_message("U01BOB", PUBLIC_TIME, f"token for tonight's release: {tokens['spread']}"),
                _slack_message("U01BOB", PUBLIC_TIME.replace(minute=5), f"and the GitHub one {tokens['untimed']}"),
            ]
        ),
        encoding="utf-8",
    )
    (slack / "ops" / "2023-11-16.json").write_text(
        json.dumps([_slack_message("U01BOB", PRIVATE_TIME, f"again: {tokens['spread']} and {tokens['kept']}")]),
        encoding="utf-8",
    )

    logs = root / "logs"
    logs.mkdir()
    (logs / "publish.txt").write_text(
        "2023-11-14T20:00:04.0000000Z ##[group]Run npm publish\n"
        f"2023-11-14T20:00:05.0000000Z + echo //registry.npmjs.org/:_authToken={tokens['spread']}\n",
        encoding="utf-8",
    )
    notes = root / "notes.txt"
    notes.write_text(f"GH_TOKEN={tokens['untimed']}\n", encoding="utf-8")
    return Incident(root, repo.path, slack, logs, notes, tokens)


@pytest.fixture(scope="module")
def incident(tmp_path_factory: pytest.TempPathFactory) -> Incident:
    return build_incident(tmp_path_factory.mktemp("incident"), random.Random("timeline-incident"))


@pytest.fixture(scope="module")
def scanned(incident: Incident) -> ScanResult:
    return scan(ScanConfig(paths=incident.targets))


def _credential(result: ScanResult, secret: str) -> CredentialTimeline:
    [credential] = [c for c in build_timeline(result).credentials if c.finding.secret == secret]
    return credential


def _story(credential: CredentialTimeline) -> list[tuple[str, str, datetime | None, str]]:
    return [
        (e.occurrence.provenance.source, e.exposure.place, e.when, e.exposure.audience.value)
        for e in credential.events
    ]


# ------------------------------------------------------------------ model


def test_occurrences_are_ordered_by_their_own_time_across_sources(incident: Incident, scanned: ScanResult) -> None:
    assert not scanned.stats.errors
    credential = _credential(scanned, incident.tokens["spread"])
    assert _story(credential) == [
        ("ci-log", f"github-actions log {incident.logs / 'publish.txt'}", CI_TIME, "internal"),
        ("git", f"git history of {incident.repo}", COMMIT_TIME, "unknown"),
        ("slack", "Slack #releases", PUBLIC_TIME, "public"),
        ("slack", "Slack #ops", PRIVATE_TIME, "private"),
    ]
    git = credential.events[1]
    assert (git.location, git.state, git.kind) == (".npmrc:1:34", "history-only", PlaceKind.GIT)
    assert credential.first is credential.events[0] and credential.last is credential.events[-1]
    assert credential.first.location == f"{incident.logs / 'publish.txt'}:2:70"


def test_public_reach_names_the_public_channel_only(incident: Incident, scanned: ScanResult) -> None:
    spread = _credential(scanned, incident.tokens["spread"])
    assert spread.reached_public
    assert spread.public_places == ("Slack #releases",)
    assert spread.first_public is not None and spread.first_public.when == PUBLIC_TIME
    assert spread.audience is Audience.PUBLIC
    # Seen only in git and the private channel: never public.
    kept = _credential(scanned, incident.tokens["kept"])
    assert not kept.reached_public
    assert kept.public_places == ()
    assert kept.audience is Audience.PRIVATE
    assert [e.exposure.place for e in kept.events] == [f"git history of {incident.repo}", "Slack #ops"]


def test_still_present_from_git_state_files_and_exports(incident: Incident, scanned: ScanResult) -> None:
    kept = _credential(scanned, incident.tokens["kept"])
    assert kept.still_present is True
    assert kept.presence == "yes: in the current tree of the default branch (deploy.sh)"
    history = _credential(scanned, incident.tokens["history"])
    assert history.still_present is False
    assert history.presence.startswith("no longer in the current tree, but still in git history")
    assert [(e.location, e.state) for e in history.events] == [("old.env:1:11", "history-only")]
    # Deleted from the tree, but the CI log and chat copies are snapshots.
    spread = _credential(scanned, incident.tokens["spread"])
    assert spread.still_present is None
    assert spread.presence.startswith("not known")
    untimed = _credential(scanned, incident.tokens["untimed"])
    assert untimed.still_present is True
    assert untimed.presence == f"yes: in the scanned files ({incident.notes})"


def test_untimed_occurrences_come_last_and_do_not_count_as_first_or_last(
    incident: Incident, scanned: ScanResult
) -> None:
    credential = _credential(scanned, incident.tokens["untimed"])
    assert [(e.occurrence.provenance.source, e.when) for e in credential.events] == [
        ("slack", PUBLIC_TIME.replace(minute=5)),
        ("file", None),
    ]
    assert credential.untimed == (credential.events[1],)
    assert credential.first is credential.last is credential.events[0]
    assert format_time(credential.events[1].when) == "time unknown"


def test_credentials_by_severity_then_first_exposure_and_summary(incident: Incident, scanned: ScanResult) -> None:
    timeline = build_timeline(scanned)
    order = [(c.finding.severity, c.first.when if c.first else None) for c in timeline.credentials]
    assert order == sorted(order, key=lambda item: (-item[0].rank, item[1] or datetime.max.replace(tzinfo=UTC)))
    assert {c.finding.secret for c in timeline.credentials} == set(incident.tokens.values())
    rows = {row.registry: row for row in timeline.summary}
    assert set(rows) == {"npm", "github"}
    assert (rows["npm"].total, rows["npm"].public, rows["npm"].still_present) == (2, 1, 0)
    assert (rows["github"].total, rows["github"].public, rows["github"].still_present) == (2, 1, 2)
    totals = timeline.totals
    assert (totals.total, totals.public, totals.still_present) == (4, 2, 2)
    assert sum(count for _, count in totals.by_severity) == 4
    assert (timeline.start, timeline.end) == (CI_TIME, PRIVATE_TIME)


def test_same_time_events_keep_a_stable_place_order() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    occurrences = (
        make_occurrence("b.txt", 1, 1, when=when),
        make_occurrence("a.txt", 9, 1, when=when),
        make_occurrence("a.txt", 2, 1, when=when),
        make_occurrence("z.txt", 1, 1),
        make_occurrence("c.txt", 1, 1, when=when.replace(year=2025)),
    )
    credential = credential_timeline(make_finding(occurrences=occurrences))
    assert [e.location for e in credential.events] == ["c.txt:1:1", "a.txt:2:1", "a.txt:9:1", "b.txt:1:1", "z.txt:1:1"]


def test_naive_and_offset_times_are_compared_in_utc() -> None:
    occurrences = (
        make_occurrence("offset.log", 1, 1, when=datetime.fromisoformat("2026-01-02T10:00:00+02:00")),  # 08:00Z
        make_occurrence("naive.log", 1, 1, when=datetime(2026, 1, 2, 9, 0, 0)),  # taken as 09:00Z
    )
    credential = credential_timeline(make_finding(occurrences=occurrences))
    assert [e.location for e in credential.events] == ["offset.log:1:1", "naive.log:1:1"]
    assert credential.first is not None and format_time(credential.first.when) == "2026-01-02 08:00:00 UTC"


def test_no_time_at_all() -> None:
    credential = credential_timeline(make_finding(occurrences=(make_occurrence("x.env", 1, 1),)))
    assert credential.first is None and credential.last is None
    assert build_timeline(make_result((credential.finding,))).start is None


# ------------------------------------------------------------ JSON reports


def test_a_json_report_rebuilds_the_same_timeline(incident: Incident, scanned: ScanResult, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    with out.open("w", encoding="utf-8") as handle:
        get_reporter("json").render(scanned, handle)
    loaded = parse_report_text(out.read_text(encoding="utf-8"), str(out))

    def shape(result: ScanResult) -> list[tuple[Any, ...]]:
        return [
            (
                c.finding.id,
                c.finding.severity,
                c.still_present,
                c.reached_public,
                [(e.location, e.when, e.exposure, e.state) for e in c.events],
            )
            for c in build_timeline(result).credentials
        ]

    assert shape(loaded) == shape(scanned)
    assert all(f.secret == "" for f in loaded.findings)  # the report had no raw values
    assert loaded.stats.inputs_scanned == scanned.stats.inputs_scanned


def test_raw_secrets_in_a_report_are_kept_only_when_asked(scanned: ScanResult) -> None:
    secret_report = json.loads(_rendered(replace(scanned, show_secrets=True), "json"))
    assert {f["secret"] for f in secret_report["findings"]}
    kept = result_from_report(secret_report, "r.json", show_secrets=True)
    dropped = result_from_report(secret_report, "r.json")
    assert {f.secret for f in kept.findings} == {f.secret for f in scanned.findings}
    assert {f.secret for f in dropped.findings} == {""}


def test_a_jsonl_report_loads_too(scanned: ScanResult) -> None:
    loaded = parse_report_text(_rendered(scanned, "jsonl"), "report.jsonl")
    assert sorted(f.id for f in loaded.findings) == sorted(f.id for f in scanned.findings)


def _rendered(result: ScanResult, name: str) -> str:
    import io

    out = io.StringIO()
    get_reporter(name).render(result, out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "r.json: not a JSON report: Expecting property name enclosed in double quotes at line 1 column 2"),
        ('{"tool": {"name": "other"}, "findings": []}', "r.json: not a sprawl JSON report"),
        ('{"tool": {"name": "sprawl"}, "schema_version": 9, "findings": []}', "r.json: 'schema_version' 9 is not supported"),
        ('{"tool": {"name": "sprawl"}, "schema_version": 1, "findings": {}}', "r.json: top level: 'findings' must be a list, not an object"),
    ],
)
def test_bad_reports_name_the_file_and_the_problem(text: str, message: str) -> None:
    with pytest.raises(SourceError) as caught:
        parse_report_text(text, "r.json")
    assert str(caught.value).startswith(message)


def test_a_bad_field_is_named_by_its_path(scanned: ScanResult) -> None:
    report = json.loads(_rendered(scanned, "json"))
    report["findings"][1]["occurrences"][0]["line"] = "three"
    with pytest.raises(SourceError, match=r"^r\.json: findings\[1\]\.occurrences\[0\]: 'line' must be an integer, not a string$"):
        result_from_report(report, "r.json")
    report = json.loads(_rendered(scanned, "json"))
    report["findings"][0]["severity"] = "catastrophic"
    with pytest.raises(SourceError, match=r"^r\.json: findings\[0\]: 'severity' must be one of info, low"):
        result_from_report(report, "r.json")


# ------------------------------------------------------------------- CLI


def test_cli_markdown_to_stdout(incident: Incident) -> None:
    result = runner.invoke(app, ["timeline", *incident.targets, "-q"])
    assert result.exit_code == 1, result.output  # like `sprawl scan`: credentials at or above --fail-on
    text = result.stdout
    assert text.startswith("# Credential exposure timeline\n")
    assert "## Summary by registry and severity" in text
    assert text.count("\n### ") == 4
    for secret in incident.tokens.values():
        assert secret not in text


def test_cli_html_file_from_the_output_suffix(incident: Incident, tmp_path: Path) -> None:
    out = tmp_path / "incident.html"
    result = runner.invoke(app, ["timeline", *incident.targets, "-q", "-o", str(out), "--fail-on", "never"])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert page.count('<article class="credential') == 4


def test_cli_show_secrets_writes_an_owner_only_file(incident: Incident, tmp_path: Path) -> None:
    out = tmp_path / "incident.md"
    result = runner.invoke(app, ["timeline", str(incident.notes), "-q", "--show-secrets", "-o", str(out)])
    assert result.exit_code == 1, result.output
    assert incident.tokens["untimed"] in out.read_text(encoding="utf-8")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_cli_from_report_matches_a_direct_scan(incident: Incident, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    scanned = runner.invoke(app, ["scan", *incident.targets, "-q", "-f", "json", "-o", str(report)])
    assert scanned.exit_code == 1, scanned.output
    direct = runner.invoke(app, ["timeline", *incident.targets, "-q"])
    loaded = runner.invoke(app, ["timeline", "--from-report", str(report)])
    assert loaded.exit_code == 1, loaded.output

    def body(text: str) -> str:
        # Everything after the generated-at line, whose clock differs.
        return text.split("\n", 3)[3]

    assert body(loaded.stdout) == body(direct.stdout)


def test_scan_format_timeline_html_goes_through_the_registry(incident: Incident) -> None:
    result = runner.invoke(app, ["scan", str(incident.notes), "-q", "-f", "timeline-html"])
    assert result.exit_code == 1
    assert result.stdout.startswith("<!DOCTYPE html>")
    assert incident.tokens["untimed"] not in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "sprawl: error: give the paths to scan, or --from-report REPORT.json"),
        (["x", "--from-report", "r.json"], "sprawl: error: --from-report builds the timeline from a report: give no paths"),
        (["--from-report", "r.json", "--rules", "extra.yaml"], "sprawl: error: --rules applies to a scan"),
        (["x", "--format", "pdf"], "sprawl: error: --format 'pdf' is not a timeline format; valid formats: markdown, html"),
        (["--from-report", "missing.json"], "sprawl: error: missing.json: cannot read the report: No such file or directory"),
    ],
)
def test_cli_errors_are_one_line_and_exit_2(args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["timeline", *args])
    assert result.exit_code == 2
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1


def test_severity_threshold_applies_to_from_report(tmp_path: Path) -> None:
    low = make_finding(severity=Severity.LOW, occurrences=(make_occurrence("a.env", 1, 1),))
    report = tmp_path / "r.json"
    report.write_text(_rendered(make_result((low,)), "json"), encoding="utf-8")
    assert runner.invoke(app, ["timeline", "--from-report", str(report)]).exit_code == 1
    assert runner.invoke(app, ["timeline", "--from-report", str(report), "--fail-on", "high"]).exit_code == 0


def test_cli_from_report_reads_stdin(scanned: ScanResult, incident: Incident) -> None:
    result = runner.invoke(app, ["timeline", "--from-report", "-", "-f", "html"], input=_rendered(scanned, "json"))
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("<!DOCTYPE html>")
    assert result.stdout.count('<article class="credential') == len(incident.tokens)
