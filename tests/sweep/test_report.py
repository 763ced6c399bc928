"""Turning recorded findings into a sweep report: selection (new, open,
history-only, fake, baselined), severity, JSON shape, table and summary."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import UTC, datetime

from scanner.sweep.report import ReportOptions, Selection, render, select, summary_line, to_swept
from scanner.sweep.runner import SweepSummary
from scanner.sweep.state import StoredFinding, StoredOccurrence
from scanner.sweep.tasks import SecretRecord

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def _secret(fp: str, **changes: object) -> SecretRecord:
    base = SecretRecord(
        fingerprint=fp,
        finding_id=fp[:24],
        rule_id="npm-access-token",
        rule_name="npm access token",
        registry="npm",
        kind="api-token",
        sha256="5" * 64,
        redacted="npm_…abcd",
        liveness="live-looking",
        liveness_reason="checksum valid",
        scope="publish every package the account can publish",
        breadth="account",
        base_severity="critical",
        expires_at=None,
        revoke_url="https://www.npmjs.com/settings/~/tokens",
        remediation="Revoke the token.",
        references=(),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def _occurrence(repo: str, *, state: str = "still-present", present: bool = True) -> StoredOccurrence:
    return StoredOccurrence(
        repo=repo,
        oid="a" * 40,
        kind="blob",
        path=".npmrc",
        line=2,
        column=34,
        end_line=2,
        end_column=74,
        commit="c" * 40,
        author="Ada <ada@example.test>",
        when=datetime(2025, 1, 2, tzinfo=UTC),
        state=state,
        present=present,
        first_sweep=1,
    )


def _stored(fp: str, status: str = "open", first_sweep: int = 1, **secret: object) -> StoredFinding:
    present = status == "open"
    return StoredFinding(
        secret=_secret(fp, **secret),
        status=status,
        first_sweep=first_sweep,
        first_seen_at=datetime(2026, 1, 1, tzinfo=UTC),
        last_sweep=2,
        last_seen_at=datetime(2026, 2, 1, tzinfo=UTC),
        occurrences=(_occurrence("/srv/app", present=present),),
    )


def _summary(**changes: object) -> SweepSummary:
    base = SweepSummary(
        sweep_id=2,
        resumed=False,
        repositories=3,
        scanned=1,
        unchanged=2,
        failed=0,
        already_done=0,
        unusable=0,
        objects_scanned=10,
        objects_skipped=4,
        bytes_scanned=3_000_000,
        seconds=2.0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_selection_by_status_newness_fakes_and_baseline() -> None:
    stored = [
        _stored("1" * 64, first_sweep=1),
        _stored("2" * 64, first_sweep=2),
        _stored("3" * 64, status="history-only"),
        _stored("4" * 64, first_sweep=2, liveness="fake"),
        _stored("6" * 64, first_sweep=2),
    ]
    options = ReportOptions(sweep_id=2)
    chosen = select(stored, options, baselined=frozenset({"6" * 64}), now=NOW)
    assert [(str(s.finding.fingerprint)[:1], s.new, s.status) for s in chosen.findings] == [("1", False, "open"), ("2", True, "open")]
    assert (chosen.open_total, chosen.new_total, chosen.history_only_total) == (2, 1, 1)
    assert (chosen.fake_hidden, chosen.baselined) == (1, 1)
    new_only = select(stored, replace(options, new_only=True), now=NOW)
    assert [str(s.finding.fingerprint)[:1] for s in new_only.findings] == ["2", "6"]
    with_history = select(stored, replace(options, include_history=True, include_fake=True), now=NOW)
    assert [str(s.finding.fingerprint)[:1] for s in with_history.findings] == ["1", "2", "6", "4", "3"]


def test_severity_is_computed_from_the_judgement_and_where_it_still_is() -> None:
    present = to_swept(_stored("1" * 64, breadth="project"), 2, NOW)
    assert present.finding.severity.value == "critical"  # project -> high, still present -> one up
    assert present.finding.still_present is True
    gone = to_swept(_stored("1" * 64, status="history-only", breadth="project"), 2, NOW)
    assert gone.finding.severity.value == "high" and gone.finding.still_present is False
    assert dict(gone.finding.occurrences[0].provenance.extra)["state"] == "unreachable"


def test_a_recorded_expiry_that_has_passed_reports_expired() -> None:
    expired = to_swept(_stored("1" * 64, expires_at=datetime(2026, 2, 1, tzinfo=UTC)), 2, NOW)
    assert expired.finding.liveness.value == "expired" and expired.finding.severity.value == "info"
    later = to_swept(_stored("1" * 64, expires_at=datetime(2027, 1, 1, tzinfo=UTC)), 2, NOW)
    assert later.finding.liveness.value == "live-looking"


def test_json_document_has_the_scan_finding_shape_plus_sweep_fields() -> None:
    selection = select([_stored("1" * 64, first_sweep=2)], ReportOptions(sweep_id=2), now=NOW)
    out = io.StringIO()
    render("json", _summary(), selection, out)
    document = json.loads(out.getvalue())
    assert document["sweep"]["repositories"] == {"total": 3, "scanned": 1, "unchanged": 2, "failed": 0, "already_done": 0}
    assert document["sweep"]["repositories_per_minute"] == 90.0
    assert document["sweep"]["mb_per_second"] == 1.5
    assert document["sweep"]["findings"]["new"] == 1
    assert document["incomplete"] is False
    [finding] = document["findings"]
    assert (finding["rule_id"], finding["status"], finding["new"]) == ("npm-access-token", "open", True)
    assert finding["fingerprint"] == "1" * 64 and "secret" not in finding
    assert finding["first_seen"] == "2026-01-01T00:00:00+00:00"
    [place] = finding["occurrences"]
    assert place["extra"] == {"repository": "/srv/app", "blob": "a" * 40, "state": "still-present"}
    assert (place["path"], place["line"], place["column"], place["commit"]) == (".npmrc", 2, 34, "c" * 40)


def test_jsonl_is_one_finding_per_line() -> None:
    selection = select([_stored("1" * 64), _stored("2" * 64)], ReportOptions(sweep_id=2), now=NOW)
    out = io.StringIO()
    render("jsonl", _summary(), selection, out)
    lines = out.getvalue().splitlines()
    assert [json.loads(line)["fingerprint"][:1] for line in lines] == ["1", "2"]


def test_table_names_repository_place_and_status() -> None:
    selection = select([_stored("1" * 64, first_sweep=2)], ReportOptions(sweep_id=2), now=NOW)
    out = io.StringIO()
    render("table", _summary(), selection, out)
    text = out.getvalue()
    assert "CRITICAL (1)" in text
    assert "/srv/app: .npmrc:2:34 @ cccccccccc (still present)" in text
    assert "new" in text and "since 2026-01-01" in text
    assert "Revoke: https://www.npmjs.com/settings/~/tokens" in text
    empty = io.StringIO()
    render("table", _summary(), Selection((), 0, 0, 0), empty)
    assert "No publication credentials to report." in empty.getvalue()


def test_summary_line_gives_counts_and_throughput() -> None:
    line = summary_line(_summary(resumed=True, already_done=5, unusable=1), Selection((), 7, 2, 1))
    assert line == (
        "resumed sweep 2: 3 repositories (1 scanned, 2 unchanged, 0 failed, 5 finished before the interruption), "
        "1 unusable targets in 2.0 s: 90.0 repositories/min, 1.5 MB/s (10 objects, 3.0 MB read, "
        "4 already scanned); 2 new findings, 7 open, 1 history-only"
    )
