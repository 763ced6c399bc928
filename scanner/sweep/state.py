"""The sweep state database (SQLite, WAL): what every sweep scanned and found,
so the next one reads only new objects and can tell new findings from old.

Only the coordinator writes it, one transaction per finished repository, so
a sweep killed at any moment leaves every finished repository recorded and
nothing half-written. Plaintext secrets are never stored: a finding is its
HMAC fingerprint (baseline.py), sha256 and redaction.

Tables (schema version in ``PRAGMA user_version``):
  meta            key check of the fingerprint key, digest of the rules in use
  sweeps          one row per sweep: progress counters, running/finished
  repos           one row per repository (key = path or credential-free URL)
  refs            the refs each repository had when last swept (name -> oid)
  objects         every object scanned, once for all repositories, and by whom
  object_matches  matches per scanned object: rule, fingerprint, line/column
  findings        one per distinct secret: judged fields, first/last seen, status
  occurrences     where each finding is: repository, path, commit, line, author,
                  date, state; ``present`` = some ref still reaches it
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scanner.errors import ConfigError
from scanner.sweep.targets import Target
from scanner.sweep.tasks import Refs, RepoScan, SecretRecord

SCHEMA_VERSION = 1
# Finding status: still reachable from some ref of some repository; seen
# before but no ref reaches it any more; or matched only in objects no ref
# has reached since it was scanned (never reported).
OPEN = "open"
HISTORY_ONLY = "history-only"
UNREACHABLE = "unreachable"
# Rows per IN (...) query: below SQLite's default variable limit.
_CHUNK = 900

_SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE sweeps (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'abandoned')),
    pid INTEGER,
    runs INTEGER NOT NULL DEFAULT 1,
    targets_digest TEXT NOT NULL,
    repos_total INTEGER NOT NULL,
    repos_done INTEGER NOT NULL DEFAULT 0,
    repos_scanned INTEGER NOT NULL DEFAULT 0,
    repos_unchanged INTEGER NOT NULL DEFAULT 0,
    repos_failed INTEGER NOT NULL DEFAULT 0,
    objects_scanned INTEGER NOT NULL DEFAULT 0,
    bytes_scanned INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE repos (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    display TEXT NOT NULL,
    remote INTEGER NOT NULL,
    first_sweep INTEGER,
    last_sweep INTEGER,
    last_scanned_at TEXT,
    last_error TEXT,
    last_error_sweep INTEGER
);
CREATE TABLE refs (
    repo_id INTEGER NOT NULL REFERENCES repos (id),
    name TEXT NOT NULL,
    oid TEXT NOT NULL,
    PRIMARY KEY (repo_id, name)
) WITHOUT ROWID;
CREATE TABLE objects (
    oid TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    repo_id INTEGER NOT NULL,
    sweep_id INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE object_matches (
    oid TEXT NOT NULL,
    kind TEXT NOT NULL,
    member TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    line INTEGER NOT NULL,
    col INTEGER NOT NULL,
    end_line INTEGER NOT NULL,
    end_col INTEGER NOT NULL,
    PRIMARY KEY (oid, member, fingerprint, line, col)
) WITHOUT ROWID;
CREATE TABLE findings (
    fingerprint TEXT PRIMARY KEY,
    finding_id TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    rule_name TEXT NOT NULL,
    registry TEXT NOT NULL,
    kind TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    redacted TEXT NOT NULL,
    liveness TEXT NOT NULL,
    liveness_reason TEXT NOT NULL,
    scope TEXT,
    breadth TEXT NOT NULL,
    base_severity TEXT NOT NULL,
    expires_at TEXT,
    revoke_url TEXT,
    remediation TEXT,
    refs_json TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'history-only', 'unreachable')),
    first_sweep INTEGER,
    first_seen_at TEXT,
    last_sweep INTEGER,
    last_seen_at TEXT
) WITHOUT ROWID;
CREATE TABLE occurrences (
    id INTEGER PRIMARY KEY,
    fingerprint TEXT NOT NULL REFERENCES findings (fingerprint),
    repo_id INTEGER NOT NULL REFERENCES repos (id),
    oid TEXT NOT NULL,
    kind TEXT NOT NULL,
    path TEXT NOT NULL,
    line INTEGER NOT NULL,
    col INTEGER NOT NULL,
    end_line INTEGER NOT NULL,
    end_col INTEGER NOT NULL,
    commit_id TEXT NOT NULL,
    author TEXT,
    authored_at TEXT,
    state TEXT NOT NULL,
    present INTEGER NOT NULL,
    first_sweep INTEGER NOT NULL,
    last_sweep INTEGER NOT NULL,
    UNIQUE (fingerprint, repo_id, oid, path, commit_id, line, col)
);
CREATE INDEX occurrences_by_repo ON occurrences (repo_id, present);
CREATE INDEX occurrences_by_finding ON occurrences (fingerprint, present);
"""


@dataclass(frozen=True)
class SweepRun:
    """The sweep this process runs: new, or an interrupted one resumed."""

    id: int
    resumed: bool
    done_before: int  # repositories the interrupted run had finished


@dataclass(frozen=True)
class StoredOccurrence:
    repo: str
    oid: str
    kind: str
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    commit: str | None
    author: str | None
    when: datetime | None
    state: str
    present: bool
    first_sweep: int


@dataclass(frozen=True)
class StoredFinding:
    """A finding as recorded, with the occurrences a report shows."""

    secret: SecretRecord
    status: str
    first_sweep: int | None
    first_seen_at: datetime | None
    last_sweep: int | None
    last_seen_at: datetime | None
    occurrences: tuple[StoredOccurrence, ...]


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def default_state_path(env: Mapping[str, str]) -> Path:
    """``$XDG_STATE_HOME/sprawl/sweep.db``, else ``~/.local/state/sprawl/sweep.db``."""
    base = env.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "sprawl" / "sweep.db"


class StateDB:
    """The open state database. Use ``StateDB.open`` and close it."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self._db = connection

    @classmethod
    def open(cls, path: Path) -> StateDB:
        """Open (creating it, owner-only, with its folder) and migrate; a
        file that is not a sprawl state database is a ConfigError."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not path.exists():
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
            connection = sqlite3.connect(path, timeout=60, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"{path}: cannot open the sweep state database: {_reason(exc)}") from exc
        db = cls(path, connection)
        try:
            db._prepare()
        except sqlite3.Error as exc:
            connection.close()
            raise ConfigError(f"{path}: not a usable sweep state database: {_reason(exc)}") from exc
        except BaseException:
            connection.close()
            raise
        return db

    def _prepare(self) -> None:
        db = self._db
        db.execute("PRAGMA journal_mode=WAL")
        # With WAL, NORMAL never corrupts the database on a crash; at worst a
        # power cut loses the last repositories' transactions.
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise ConfigError(
                f"{self.path}: written by a newer sprawl (state schema {version}, this one reads {SCHEMA_VERSION})"
            )
        if version == 0:
            tables = db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
            if tables:
                raise ConfigError(f"{self.path}: an SQLite database, but not a sprawl sweep state")
            # One script, one transaction: a database is created whole or not at all.
            db.executescript(f"BEGIN IMMEDIATE;\n{_SCHEMA}\nPRAGMA user_version = {SCHEMA_VERSION};\nCOMMIT;")

    def close(self) -> None:
        self._db.close()

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    # ------------------------------------------------------------ meta

    def check_key(self, key_check: str) -> None:
        """Fingerprints are only comparable under one key: refuse another."""
        stored = self._meta("key_check")
        if stored is None:
            with self._transaction():
                self._set_meta("key_check", key_check)
        elif stored != key_check:
            raise ConfigError(
                f"{self.path}: recorded with a different fingerprint key (SPRAWL_BASELINE_KEY / baseline-key); "
                "use that key or another --state file"
            )

    def check_rules(self, digest: str) -> bool:
        """Record the rules (and scan settings) digest. When it changed, what
        was scanned under the old rules no longer counts: every object is
        read again. True when that happened."""
        stored = self._meta("rules_digest")
        if stored == digest:
            return False
        with self._transaction():
            if stored is not None:
                self._db.execute("DELETE FROM objects")
                self._db.execute("DELETE FROM object_matches")
                self._db.execute("DELETE FROM refs")
            self._set_meta("rules_digest", digest)
        return stored is not None

    def _meta(self, name: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, name: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", (name, value))

    # ---------------------------------------------------------- sweeps

    def start_sweep(self, targets_digest: str, total: int) -> SweepRun:
        """A new sweep, or the last one if it was interrupted (its process
        is gone: the caller holds the lock) over the same targets."""
        with self._transaction():
            row = self._db.execute(
                "SELECT id, status, targets_digest, repos_done FROM sweeps ORDER BY id DESC LIMIT 1"
            ).fetchone()
            if row is not None and row[1] == "running":
                if row[2] == targets_digest:
                    self._db.execute(
                        "UPDATE sweeps SET pid = ?, runs = runs + 1, repos_total = ? WHERE id = ?",
                        (os.getpid(), total, row[0]),
                    )
                    done = self._db.execute("SELECT count(*) FROM repos WHERE last_sweep = ?", (row[0],)).fetchone()[0]
                    return SweepRun(int(row[0]), resumed=True, done_before=int(done))
                self._db.execute("UPDATE sweeps SET status = 'abandoned' WHERE id = ?", (row[0],))
            cursor = self._db.execute(
                "INSERT INTO sweeps (started_at, status, pid, targets_digest, repos_total) VALUES (?, 'running', ?, ?, ?)",
                (now_iso(), os.getpid(), targets_digest, total),
            )
            assert cursor.lastrowid is not None
            return SweepRun(cursor.lastrowid, resumed=False, done_before=0)

    def finish_sweep(self, sweep_id: int) -> None:
        with self._transaction():
            self._db.execute(
                "UPDATE sweeps SET status = 'finished', finished_at = ? WHERE id = ?", (now_iso(), sweep_id)
            )

    def sweep_counters(self, sweep_id: int) -> dict[str, int]:
        row = self._db.execute(
            "SELECT repos_total, repos_done, repos_scanned, repos_unchanged, repos_failed, objects_scanned, "
            "bytes_scanned, runs FROM sweeps WHERE id = ?",
            (sweep_id,),
        ).fetchone()
        names = (
            "repos_total",
            "repos_done",
            "repos_scanned",
            "repos_unchanged",
            "repos_failed",
            "objects_scanned",
            "bytes_scanned",
            "runs",
        )
        return dict(zip(names, (int(v) for v in row)))

    def done_in(self, sweep_id: int) -> set[str]:
        """Keys of the repositories this sweep has finished (scanned or
        unchanged); failed ones are tried again when it resumes."""
        return {row[0] for row in self._db.execute("SELECT key FROM repos WHERE last_sweep = ?", (sweep_id,))}

    # --------------------------------------------------- what is known

    def known_refs(self, key: str) -> Refs | None:
        """The refs recorded for ``key``; None when it was never swept (or
        the rules changed since)."""
        row = self._db.execute("SELECT id FROM repos WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        refs = self._db.execute("SELECT name, oid FROM refs WHERE repo_id = ? ORDER BY name", (row[0],)).fetchall()
        scanned = self._db.execute("SELECT 1 FROM objects WHERE repo_id = ? LIMIT 1", (row[0],)).fetchone()
        if not refs and scanned is None:
            # Never completed a scan under these rules (or an empty
            # repository, which is cheap to look at again).
            return None
        return tuple((str(name), str(oid)) for name, oid in refs)

    def scanned_among(self, oids: Sequence[str]) -> set[str]:
        """The objects among ``oids`` some sweep already scanned."""
        found: set[str] = set()
        for part in _chunks(oids):
            marks = ",".join("?" * len(part))
            found.update(row[0] for row in self._db.execute(f"SELECT oid FROM objects WHERE oid IN ({marks})", part))
        return found

    def matched_among(self, oids: Iterable[str]) -> dict[str, str]:
        """The objects among ``oids`` that hold a match: oid -> kind."""
        found: dict[str, str] = {}
        for part in _chunks(list(oids)):
            marks = ",".join("?" * len(part))
            rows = self._db.execute(f"SELECT DISTINCT oid, kind FROM object_matches WHERE oid IN ({marks})", part)
            found.update((str(oid), str(kind)) for oid, kind in rows)
        return found

    def located_objects(self, key: str) -> dict[str, str]:
        """Matched objects with a present occurrence in ``key``: oid -> kind
        (each is located again whenever the repository changes)."""
        rows = self._db.execute(
            "SELECT DISTINCT o.oid, o.kind FROM occurrences o JOIN repos r ON r.id = o.repo_id "
            "WHERE r.key = ? AND o.present = 1",
            (key,),
        )
        return {str(oid): str(kind) for oid, kind in rows}

    # -------------------------------------------------------- recording

    def record_failure(self, sweep_id: int, target: Target, error: str) -> None:
        with self._transaction():
            repo_id = self._repo(target, sweep_id)
            self._db.execute(
                "UPDATE repos SET last_error = ?, last_error_sweep = ? WHERE id = ?", (error, sweep_id, repo_id)
            )
            self._count(sweep_id, repos_failed=1)

    def record_unchanged(self, sweep_id: int, target: Target) -> None:
        """Its refs did not move: every present occurrence is seen again."""
        now = now_iso()
        with self._transaction():
            repo_id = self._repo(target, sweep_id)
            self._db.execute(
                "UPDATE repos SET last_sweep = ?, last_error = NULL, last_error_sweep = NULL WHERE id = ?",
                (sweep_id, repo_id),
            )
            self._db.execute(
                "UPDATE occurrences SET last_sweep = ? WHERE repo_id = ? AND present = 1", (sweep_id, repo_id)
            )
            self._db.execute(
                "UPDATE findings SET last_sweep = ?, last_seen_at = ? WHERE fingerprint IN "
                "(SELECT fingerprint FROM occurrences WHERE repo_id = ? AND present = 1)",
                (sweep_id, now, repo_id),
            )
            self._count(sweep_id, repos_unchanged=1)

    def record_scan(self, sweep_id: int, result: RepoScan) -> None:
        """Everything one repository's scan produced, in one transaction."""
        now = now_iso()
        db = self._db
        with self._transaction():
            repo_id = self._repo(result.target, sweep_id)
            db.execute(
                "UPDATE repos SET last_sweep = ?, last_scanned_at = ?, last_error = NULL, last_error_sweep = NULL "
                "WHERE id = ?",
                (sweep_id, now, repo_id),
            )
            db.execute("DELETE FROM refs WHERE repo_id = ?", (repo_id,))
            db.executemany(
                "INSERT INTO refs (repo_id, name, oid) VALUES (?, ?, ?)",
                ((repo_id, name, oid) for name, oid in result.refs),
            )
            db.executemany(
                "INSERT OR IGNORE INTO objects (oid, kind, repo_id, sweep_id) VALUES (?, ?, ?, ?)",
                ((oid, kind, repo_id, sweep_id) for oid, kind in result.scanned),
            )
            db.executemany(
                "INSERT OR IGNORE INTO object_matches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    (m.oid, m.kind, m.member, m.rule_id, m.fingerprint, m.line, m.column, m.end_line, m.end_column)
                    for m in result.matches
                ),
            )
            for secret in result.secrets:
                self._judged(secret)
            before = {
                row[0]
                for row in db.execute(
                    "SELECT DISTINCT fingerprint FROM occurrences WHERE repo_id = ? AND present = 1", (repo_id,)
                )
            }
            db.execute("UPDATE occurrences SET present = 0 WHERE repo_id = ? AND present = 1", (repo_id,))
            seen = self._place(sweep_id, repo_id, result)
            for print_ in seen:
                db.execute(
                    "UPDATE findings SET first_sweep = COALESCE(first_sweep, ?), "
                    "first_seen_at = COALESCE(first_seen_at, ?), last_sweep = ?, last_seen_at = ? "
                    "WHERE fingerprint = ?",
                    (sweep_id, now, sweep_id, now, print_),
                )
            touched = before | seen | {s.fingerprint for s in result.secrets}
            for print_ in touched:
                db.execute(
                    "UPDATE findings SET status = CASE "
                    "WHEN EXISTS (SELECT 1 FROM occurrences o WHERE o.fingerprint = findings.fingerprint "
                    "AND o.present = 1) THEN 'open' "
                    "WHEN first_sweep IS NULL THEN 'unreachable' ELSE 'history-only' END "
                    "WHERE fingerprint = ?",
                    (print_,),
                )
            self._count(sweep_id, repos_scanned=1, objects_scanned=len(result.scanned), bytes_scanned=result.bytes_scanned)

    def _place(self, sweep_id: int, repo_id: int, result: RepoScan) -> set[str]:
        """Occurrences: every located object times its recorded matches."""
        db = self._db
        seen: set[str] = set()
        for location in result.locations:
            rows = db.execute(
                "SELECT member, fingerprint, line, col, end_line, end_col FROM object_matches WHERE oid = ?",
                (location.oid,),
            ).fetchall()
            for member, print_, line, col, end_line, end_col in rows:
                db.execute(
                    "INSERT INTO occurrences (fingerprint, repo_id, oid, kind, path, line, col, end_line, end_col, "
                    "commit_id, author, authored_at, state, present, first_sweep, last_sweep) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?) "
                    "ON CONFLICT (fingerprint, repo_id, oid, path, commit_id, line, col) DO UPDATE SET "
                    "present = 1, last_sweep = excluded.last_sweep, state = excluded.state, "
                    "author = excluded.author, authored_at = excluded.authored_at",
                    (
                        print_,
                        repo_id,
                        location.oid,
                        location.kind,
                        location.path + member,
                        line,
                        col,
                        end_line,
                        end_col,
                        location.commit or "",
                        location.author,
                        location.when.isoformat() if location.when else None,
                        location.state,
                        sweep_id,
                        sweep_id,
                    ),
                )
                seen.add(print_)
        return seen

    def _judged(self, secret: SecretRecord) -> None:
        """Insert a new secret, or refresh what is judged about a known one
        (first and last seen are kept)."""
        self._db.execute(
            "INSERT INTO findings (fingerprint, finding_id, rule_id, rule_name, registry, kind, sha256, redacted, "
            "liveness, liveness_reason, scope, breadth, base_severity, expires_at, revoke_url, remediation, "
            "refs_json, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'unreachable') "
            "ON CONFLICT (fingerprint) DO UPDATE SET rule_name = excluded.rule_name, registry = excluded.registry, "
            "kind = excluded.kind, redacted = excluded.redacted, liveness = excluded.liveness, "
            "liveness_reason = excluded.liveness_reason, scope = excluded.scope, breadth = excluded.breadth, "
            "base_severity = excluded.base_severity, expires_at = excluded.expires_at, "
            "revoke_url = excluded.revoke_url, remediation = excluded.remediation, refs_json = excluded.refs_json",
            (
                secret.fingerprint,
                secret.finding_id,
                secret.rule_id,
                secret.rule_name,
                secret.registry,
                secret.kind,
                secret.sha256,
                secret.redacted,
                secret.liveness,
                secret.liveness_reason,
                secret.scope,
                secret.breadth,
                secret.base_severity,
                secret.expires_at.isoformat() if secret.expires_at else None,
                secret.revoke_url,
                secret.remediation,
                json.dumps(list(secret.references)),
            ),
        )

    def _repo(self, target: Target, sweep_id: int) -> int:
        self._db.execute(
            "INSERT INTO repos (key, display, remote, first_sweep) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET display = excluded.display",
            (target.key, target.display, int(target.remote), sweep_id),
        )
        row = self._db.execute("SELECT id FROM repos WHERE key = ?", (target.key,)).fetchone()
        return int(row[0])

    def _count(self, sweep_id: int, **counters: int) -> None:
        sets = ", ".join(f"{name} = {name} + ?" for name in counters)
        self._db.execute(
            f"UPDATE sweeps SET repos_done = repos_done + 1, {sets} WHERE id = ?", (*counters.values(), sweep_id)
        )

    # ------------------------------------------------------------ report

    def findings(self, keys: Iterable[str], *, statuses: Sequence[str]) -> list[StoredFinding]:
        """Findings with the given statuses that occur in the repositories
        ``keys``: open ones with their present occurrences, history-only
        ones with where they were last seen."""
        wanted = set(keys)
        repos = {int(i): str(k) for i, k in self._db.execute("SELECT id, key FROM repos") if k in wanted}
        displays = {int(i): str(d) for i, d in self._db.execute("SELECT id, display FROM repos")}
        if not repos or not statuses:
            return []
        marks = ",".join("?" * len(statuses))
        columns = (
            "f.fingerprint, f.finding_id, f.rule_id, f.rule_name, f.registry, f.kind, f.sha256, f.redacted, "
            "f.liveness, f.liveness_reason, f.scope, f.breadth, f.base_severity, f.expires_at, f.revoke_url, "
            "f.remediation, f.refs_json, f.status, f.first_sweep, f.first_seen_at, f.last_sweep, f.last_seen_at, "
            "o.repo_id, o.oid, o.kind, o.path, o.line, o.col, o.end_line, o.end_col, o.commit_id, o.author, "
            "o.authored_at, o.state, o.present, o.first_sweep"
        )
        rows = self._db.execute(
            f"SELECT {columns} FROM findings f JOIN occurrences o ON o.fingerprint = f.fingerprint "
            f"WHERE f.status IN ({marks}) AND (o.present = 1 OR f.status != 'open') "
            "ORDER BY f.fingerprint, o.repo_id, o.path, o.commit_id, o.line, o.col",
            tuple(statuses),
        )
        grouped: dict[str, tuple[tuple[Any, ...], list[StoredOccurrence]]] = {}
        for row in rows:
            repo_id = int(row[22])
            if repo_id not in repos:
                continue
            entry = grouped.setdefault(row[0], (row, []))
            entry[1].append(
                StoredOccurrence(
                    repo=displays[repo_id],
                    oid=row[23],
                    kind=row[24],
                    path=row[25],
                    line=row[26],
                    column=row[27],
                    end_line=row[28],
                    end_column=row[29],
                    commit=row[30] or None,
                    author=row[31],
                    when=_time(row[32]),
                    state=row[33],
                    present=bool(row[34]),
                    first_sweep=int(row[35]),
                )
            )
        return [_stored(row, occurrences) for row, occurrences in grouped.values()]

    def integrity(self) -> str:
        return str(self._db.execute("PRAGMA integrity_check").fetchone()[0])


def _stored(row: tuple[Any, ...], occurrences: list[StoredOccurrence]) -> StoredFinding:
    secret = SecretRecord(
        fingerprint=row[0],
        finding_id=row[1],
        rule_id=row[2],
        rule_name=row[3],
        registry=row[4],
        kind=row[5],
        sha256=row[6],
        redacted=row[7],
        liveness=row[8],
        liveness_reason=row[9],
        scope=row[10],
        breadth=row[11],
        base_severity=row[12],
        expires_at=_time(row[13]),
        revoke_url=row[14],
        remediation=row[15],
        references=tuple(json.loads(row[16])),
    )
    return StoredFinding(
        secret=secret,
        status=row[17],
        first_sweep=row[18],
        first_seen_at=_time(row[19]),
        last_sweep=row[20],
        last_seen_at=_time(row[21]),
        occurrences=tuple(occurrences),
    )


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on any exception)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if exc_type is None:
            self._db.execute("COMMIT")
        else:
            self._db.execute("ROLLBACK")


def _chunks(items: Sequence[str]) -> Iterator[tuple[str, ...]]:
    for start in range(0, len(items), _CHUNK):
        yield tuple(items[start : start + _CHUNK])


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)
