"""``sprawl hook pre-push``: scan the commits a push is about to publish.

git hands the hook one line per ref on stdin (``<local ref> <local id>
<remote ref> <remote id>``); the pre-commit framework instead sets
PRE_COMMIT_FROM_REF / PRE_COMMIT_TO_REF. Every blob, commit message and tag
message reachable from the pushed ids but not from what the remote already
has is scanned once, with the commit that introduced each finding.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TextIO

from scanner.config import ScanConfig
from scanner.errors import ScannerError, SourceError
from scanner.gitcmd import run_git
from scanner.hooks.precommit import HookOptions, baseline_file, resolve_config
from scanner.hooks.staged import hook_env, repo_root
from scanner.model import Finding, ScanResult

_OID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


@dataclass(frozen=True)
class PushUpdate:
    """One ref being pushed."""

    local_ref: str
    local_oid: str
    remote_ref: str
    remote_oid: str

    @property
    def deletes(self) -> bool:
        return set(self.local_oid) == {"0"}

    @property
    def creates(self) -> bool:
        return set(self.remote_oid) == {"0"}


def parse_push_lines(text: str) -> list[PushUpdate]:
    """The pre-push protocol; a malformed line is a SourceError naming it."""
    updates = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != 4 or not (_OID.fullmatch(fields[1]) and _OID.fullmatch(fields[3])):
            raise SourceError(f"pre-push input line {number} is not '<local ref> <id> <remote ref> <id>': {line[:120]!r}")
        updates.append(PushUpdate(*fields))
    return updates


def framework_updates(environ: Mapping[str, str]) -> list[PushUpdate]:
    """The pre-commit framework's pre-push variables, as one update."""
    to_ref, from_ref = environ.get("PRE_COMMIT_TO_REF"), environ.get("PRE_COMMIT_FROM_REF")
    if not to_ref:
        return []
    zero = "0" * len(to_ref) if _OID.fullmatch(to_ref) else "0" * 40
    return [PushUpdate(environ.get("PRE_COMMIT_LOCAL_BRANCH", "HEAD"), to_ref, environ.get("PRE_COMMIT_REMOTE_BRANCH", ""), from_ref or zero)]


def push_revisions(root: Path, updates: Sequence[PushUpdate]) -> list[str]:
    """rev-list arguments for what the push publishes: each pushed id minus
    what the remote already has. A new branch, or a remote id this clone
    lacks, is measured against every remote-tracking branch instead."""
    revisions: list[str] = []
    against_remotes = False
    for update in updates:
        if update.deletes:
            continue
        revisions.append(update.local_oid)
        if update.creates or not _have(root, update.remote_oid):
            against_remotes = True
        else:
            revisions.append(f"^{update.remote_oid}")
    if revisions and against_remotes:
        revisions += ["--not", "--remotes"]
    return revisions


def _have(root: Path, oid: str) -> bool:
    return run_git(root, ["cat-file", "-e", f"{oid}^{{commit}}"], check=False).returncode == 0


def scan_push(
    root: Path, updates: Sequence[PushUpdate], options: HookOptions, environ: Mapping[str, str], today: date
) -> tuple[ScanResult, Path | None, ScanConfig]:
    """Scan the pushed commits with the project's configuration."""
    from scanner.baseline import apply_baseline, baseline_key, load_baseline
    from scanner.engine import Detector
    from scanner.model import ScanStats
    from scanner.pipeline import build_judge, load_selected_rules, run
    from scanner.sources.base import SourceStats
    from scanner.sources.git import GitHistorySource, GitScanOptions

    config = resolve_config(root, options, environ)
    revisions = push_revisions(root, updates)
    if not revisions:  # only deletions
        return ScanResult(findings=(), stats=ScanStats()), None, config
    rules = load_selected_rules(config)
    stats = SourceStats()
    detector = Detector(rules, regex_timeout=config.regex_timeout, on_error=stats.error, vectorise=False)
    source = GitHistorySource(
        str(root),
        GitScanOptions(
            revisions=tuple(revisions),
            max_file_size=config.max_file_size,
            archive_limits=config.archive_limits,
            path_excludes=config.path_excludes,
        ),
    )
    result = run([source], detector, build_judge(rules), stats, include_fake=config.include_fake, jobs=1)
    baseline = baseline_file(root, config)
    key = baseline_key(config.baseline_key)
    result = apply_baseline(result, load_baseline(baseline, key) if baseline else None, key, today)
    return result, baseline, config


def run_pre_push(
    repo: Path,
    options: HookOptions,
    *,
    stdin: TextIO,
    out: TextIO,
    err: TextIO,
    environ: Mapping[str, str] | None = None,
    today: date | None = None,
) -> int:
    """The whole hook: 0 when the push publishes nothing at or above the
    fail-on severity, 1 with the report when it does, 2 when it cannot run."""
    environ = os.environ if environ is None else environ
    try:
        env = hook_env(environ, Path.cwd())
        root = repo_root(repo, env)
        text = "" if stdin.isatty() else stdin.read()
        updates = parse_push_lines(text) or framework_updates(environ)
        result, baseline, config = scan_push(root, updates, options, environ, today or date.today())
    except ScannerError as exc:
        print(f"sprawl: error: {exc}", file=err)
        return 2
    for line in (*result.stats.errors, *result.stats.gaps):
        print(f"sprawl: error: {line}", file=err)
    blocking = [f for f in result.findings if config.fail_on is not None and f.severity >= config.fail_on]
    if blocking:
        render_push_blocked(blocking, out, baseline=baseline, root=root)
        return 1
    return 2 if result.stats.errors else 0


def render_push_blocked(findings: Sequence[Finding], out: TextIO, *, baseline: Path | None, root: Path) -> None:
    """The report of a blocked push: each finding (redacted) with the
    commit that brought it in, and the ways forward."""
    from scanner.baseline import DEFAULT_BASELINE_FILE
    from scanner.hooks.precommit import _finding_lines, _printable
    from scanner.report.serialize import scrub

    count = len(findings)
    noun = "credential" if count == 1 else "credentials"
    lines = [f"sprawl: push blocked: the commits being pushed contain {count} {noun}.", ""]
    for finding in findings:
        lines.extend(_finding_lines(finding))
        commits = sorted({o.provenance.commit[:12] for o in finding.occurrences if o.provenance.commit})
        if commits:
            lines.append(f"    commit  {', '.join(commits)}")
        lines.append("")
    shown = DEFAULT_BASELINE_FILE if baseline is None else str(baseline.relative_to(root) if baseline.is_relative_to(root) else baseline)
    paths = sorted({_printable(scrub(o.provenance.path, f.secret)) for f in findings for o in f.occurrences})
    lines += [
        "Ways forward (pick one):",
        "  1. Take it out of the unpushed commits (git commit --amend, or git rebase -i to edit the",
        "     commit named above), and rotate it: it has left your editor, so treat it as exposed.",
        "  2. A false alarm? Mark the line with a comment holding sprawl:allow (then amend the commit).",
        "  3. Accept it knowingly: record it in the baseline and commit that file:",
        f"       sprawl baseline update {' '.join(paths)} --baseline {shown} --reason '<why>'",
        "",
        "git push --no-verify would skip this check; once pushed, removing it means rewriting shared history.",
    ]
    out.write("\n".join(lines) + "\n")
