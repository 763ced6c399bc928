"""The state database: schema, key and rules checks, sweeps and resuming,
and how recorded scans become findings with first/last seen and status."""

from __future__ import annotations

import sqlite3
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scanner.errors import ConfigError
from scanner.sweep.state import SCHEMA_VERSION, StateDB, default_state_path
from scanner.sweep.targets import Target
from scanner.sweep.tasks import Location, ObjectMatch, RepoScan, SecretRecord

BLOB = "b" * 40
COMMIT = "c" * 40


def _secret(fp: str = "f" * 64) -> SecretRecord:
    return SecretRecord(
        fingerprint=fp,
        finding_id="1" * 24,
        rule_id="npm-access-token",
        rule_name="npm access token",
        registry="npm",
        kind="api-token",
        sha256="2" * 64,
        redacted="npm_…abcd",
        liveness="live-looking",
        liveness_reason="checksum valid",
        scope=None,
        breadth="account",
        base_severity="critical",
        expires_at=None,
        revoke_url="https://www.npmjs.com/settings/~/tokens",
        remediation="Revoke it.",
        references=("https://docs.npmjs.com/",),
    )


def _target(name: str) -> Target:
    return Target(key=f"/srv/{name}", display=name, location=f"/srv/{name}")


def _scan(name: str, *, located: bool = True, scanned: bool = True) -> RepoScan:
    secret = _secret()
    match = ObjectMatch(BLOB, "blob", "", secret.rule_id, secret.fingerprint, 2, 34, 2, 74)
    location = Location(BLOB, "blob", ".npmrc", COMMIT, "Ada <ada@example.test>", datetime(2024, 5, 1, tzinfo=UTC), "still-present")
    return RepoScan(
        _target(name),
        refs=(("HEAD", COMMIT), ("refs/heads/main", COMMIT)),
        scanned=((BLOB, "blob"), (COMMIT, "commit")) if scanned else (),
        matches=(match,) if scanned else (),
        secrets=(secret,) if scanned else (),
        locations=(location,) if located else (),
        bytes_scanned=120,
    )


@pytest.fixture()
def db(tmp_path: Path) -> Iterator[StateDB]:
    opened = StateDB.open(tmp_path / "deep" / "state.db")
    yield opened
    opened.close()


def test_created_owner_only_in_wal_mode_with_a_schema_version(db: StateDB) -> None:
    assert stat.S_IMODE(db.path.stat().st_mode) == 0o600
    raw = sqlite3.connect(db.path)
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    raw.close()
    assert db.integrity() == "ok"


def test_default_path_follows_xdg_state_home(tmp_path: Path) -> None:
    assert default_state_path({"XDG_STATE_HOME": str(tmp_path)}) == tmp_path / "sprawl" / "sweep.db"


def test_foreign_or_newer_databases_are_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    raw = sqlite3.connect(other)
    raw.execute("CREATE TABLE t (x)")
    raw.commit()
    raw.close()
    with pytest.raises(ConfigError, match="an SQLite database, but not a sprawl sweep state"):
        StateDB.open(other)
    newer = tmp_path / "newer.db"
    raw = sqlite3.connect(newer)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(ConfigError, match="written by a newer sprawl"):
        StateDB.open(newer)
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(ConfigError, match="not a usable sweep state database"):
        StateDB.open(garbage)


def test_a_different_fingerprint_key_is_refused(db: StateDB) -> None:
    db.check_key("aaaa")
    db.check_key("aaaa")
    with pytest.raises(ConfigError, match="different fingerprint key"):
        db.check_key("bbbb")


def test_changed_rules_forget_what_was_scanned(db: StateDB) -> None:
    assert db.check_rules("rules-1") is False
    run = db.start_sweep("targets", 1)
    db.record_scan(run.id, _scan("app"))
    assert db.scanned_among([BLOB, COMMIT]) == {BLOB, COMMIT}
    assert db.known_refs("/srv/app") is not None
    assert db.check_rules("rules-1") is False
    assert db.check_rules("rules-2") is True
    assert db.scanned_among([BLOB, COMMIT]) == set()
    assert db.matched_among([BLOB]) == {}
    assert db.known_refs("/srv/app") is None


def test_an_interrupted_sweep_over_the_same_targets_is_resumed(db: StateDB) -> None:
    first = db.start_sweep("targets", 3)
    db.record_scan(first.id, _scan("one"))
    db.record_failure(first.id, _target("two"), "two: broken")
    resumed = db.start_sweep("targets", 3)
    assert (resumed.id, resumed.resumed, resumed.done_before) == (first.id, True, 1)
    assert db.done_in(first.id) == {"/srv/one"}  # the failed one is tried again
    assert db.sweep_counters(first.id)["runs"] == 2
    # Other targets: the interrupted sweep is abandoned, a new one starts.
    other = db.start_sweep("other-targets", 1)
    assert (other.id, other.resumed) == (first.id + 1, False)
    db.finish_sweep(other.id)
    assert db.start_sweep("other-targets", 1).id == other.id + 1


def test_a_shared_blob_is_one_finding_in_both_repositories(db: StateDB) -> None:
    run = db.start_sweep("t", 2)
    db.record_scan(run.id, _scan("upstream"))
    # The fork read nothing: the blob's recorded matches are placed for it.
    assert db.matched_among([BLOB, COMMIT]) == {BLOB: "blob"}
    db.record_scan(run.id, _scan("fork", scanned=False))
    [finding] = db.findings(["/srv/upstream", "/srv/fork"], statuses=("open",))
    assert finding.status == "open" and finding.first_sweep == run.id
    assert sorted((o.repo, o.path, o.line, o.column, o.commit) for o in finding.occurrences) == [
        ("fork", ".npmrc", 2, 34, COMMIT),
        ("upstream", ".npmrc", 2, 34, COMMIT),
    ]
    # A report over one repository shows only its own occurrences.
    [only_fork] = db.findings(["/srv/fork"], statuses=("open",))
    assert [o.repo for o in only_fork.occurrences] == ["fork"]
    counters = db.sweep_counters(run.id)
    assert (counters["repos_scanned"], counters["objects_scanned"], counters["bytes_scanned"]) == (2, 2, 240)


def test_history_only_once_no_repository_reaches_it(db: StateDB) -> None:
    first = db.start_sweep("t", 2)
    db.record_scan(first.id, _scan("upstream"))
    db.record_scan(first.id, _scan("fork", scanned=False))
    db.finish_sweep(first.id)
    second = db.start_sweep("t", 2)
    db.record_scan(second.id, _scan("upstream", located=False, scanned=False))
    [still] = db.findings(["/srv/upstream", "/srv/fork"], statuses=("open",))
    # Still open through the fork, last seen when the fork was last swept.
    assert [o.repo for o in still.occurrences] == ["fork"] and still.last_sweep == first.id
    db.record_scan(second.id, _scan("fork", located=False, scanned=False))
    assert db.findings(["/srv/upstream", "/srv/fork"], statuses=("open",)) == []
    [gone] = db.findings(["/srv/upstream", "/srv/fork"], statuses=("history-only",))
    assert gone.status == "history-only"
    assert (gone.first_sweep, gone.last_sweep) == (first.id, first.id)  # not seen in the second
    assert {(o.repo, o.present) for o in gone.occurrences} == {("upstream", False), ("fork", False)}


def test_unchanged_repository_is_seen_again(db: StateDB) -> None:
    first = db.start_sweep("t", 1)
    db.record_scan(first.id, _scan("app"))
    db.finish_sweep(first.id)
    second = db.start_sweep("t", 1)
    db.record_unchanged(second.id, _target("app"))
    [finding] = db.findings(["/srv/app"], statuses=("open",))
    assert (finding.first_sweep, finding.last_sweep) == (first.id, second.id)
    assert db.done_in(second.id) == {"/srv/app"}
    assert db.known_refs("/srv/app") == (("HEAD", COMMIT), ("refs/heads/main", COMMIT))


def test_match_only_in_unreachable_objects_is_never_a_finding(db: StateDB) -> None:
    run = db.start_sweep("t", 1)
    db.record_scan(run.id, _scan("app", located=False))
    assert db.findings(["/srv/app"], statuses=("open", "history-only")) == []
    # ...but its match is kept: a repository that does reach the blob reports it.
    db.record_scan(run.id, _scan("other", scanned=False))
    [finding] = db.findings(["/srv/other"], statuses=("open",))
    assert finding.first_sweep == run.id
