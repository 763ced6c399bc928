"""``sprawl hook pre-commit``: scan exactly what the commit adds and, when it
adds a credential, block it with what was found, where, and the ways forward.

Each changed file's staged content is scanned whole (multi-line and context
rules see their surroundings); only matches on added lines are kept. Never
touches the network: no live checks in a hook.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from scanner.errors import ScannerError
from scanner.hooks.staged import SUBMODULE_MODE, StagedFile, hook_env, read_blobs, repo_root, staged_files
from scanner.model import Chunk, Finding, Provenance, ScanResult, ScanStats
from scanner.sources.base import Source, SourceStats

if TYPE_CHECKING:
    from scanner.config import ScanConfig

SOURCE_KIND = "git-staged"


@dataclass(frozen=True)
class HookOptions:
    """What the command line may say; None means "not given" (the project
    config or the built-in default decides)."""

    config_file: Path | None = None
    use_config: bool = True
    fail_on: str | None = None
    baseline: Path | None = None
    rules: tuple[Path, ...] = ()


class StagedSource(Source):
    """The staged content of the files a commit changes, one chunk per file."""

    kind = SOURCE_KIND

    def __init__(
        self,
        root: Path,
        env: Mapping[str, str],
        files: Sequence[StagedFile],
        *,
        max_file_size: int,
        path_excludes: Sequence[str] = (),
    ) -> None:
        self._root = root
        self._env = dict(env)
        self._files = list(files)
        self._max_file_size = max_file_size
        self._path_excludes = tuple(path_excludes)

    def chunks(self, stats: SourceStats) -> Iterator[Chunk]:
        from scanner.sources.text import decode_text

        wanted: list[StagedFile] = []
        for staged in self._files:
            if staged.mode == SUBMODULE_MODE:
                stats.skip("submodule")  # a commit id, not content of this repository
            elif self._path_excludes and _excluded(staged.path, self._path_excludes):
                stats.skip("excluded")
            else:
                wanted.append(staged)
        for staged, data in read_blobs(self._root, self._env, wanted, self._max_file_size):
            if isinstance(data, int):
                stats.skip("too large")
                continue
            text = decode_text(data)
            if text is None:
                stats.skip("binary")
                continue
            stats.scanned(len(data))
            yield Chunk(content=text, provenance=Provenance(source=self.kind, path=staged.path), digest=staged.blob)


def _excluded(path: str, patterns: Sequence[str]) -> bool:
    from scanner.pathfilter import path_excluded

    return path_excluded(path, patterns)


def only_added_lines(result: ScanResult, files: Iterable[StagedFile]) -> ScanResult:
    """``result`` keeping only occurrences that touch a line the commit adds
    (a secret already committed is history's business, not this commit's);
    findings left with no occurrence are dropped."""
    by_path = {staged.path: staged for staged in files}
    kept: list[Finding] = []
    for finding in result.findings:
        places = tuple(
            o
            for o in finding.occurrences
            if (staged := by_path.get(o.provenance.path)) is not None and staged.touches(o.line, o.end_line)
        )
        if places:
            kept.append(finding if places == finding.occurrences else replace(finding, occurrences=places))
    used = {finding.rule_id for finding in kept}
    return replace(result, findings=tuple(kept), rules=tuple(rule for rule in result.rules if rule.id in used))


def resolve_config(root: Path, options: HookOptions, environ: Mapping[str, str]) -> ScanConfig:
    """The scan settings: flags, then the project's .sprawl.yaml or
    [tool.sprawl] (found from the repository root up), then defaults."""
    from scanner.projectconfig import resolve_scan_config

    flags: dict[str, object | None] = {
        "fail_on": options.fail_on,
        "baseline": options.baseline,
        "rules": list(options.rules) or None,
    }
    config, _ = resolve_scan_config(
        (str(root),), flags, config_file=options.config_file, use_config=options.use_config, env=environ
    )
    return config


def scan_staged(
    repo: Path,
    config: ScanConfig,
    *,
    environ: Mapping[str, str] | None = None,
    today: date | None = None,
) -> ScanResult:
    """Scan what the commit being made in ``repo`` adds, with ``config``'s
    rules, path excludes, size limit and baseline (``.sprawl-baseline.json``
    at the repository root when no baseline is configured)."""
    environ = os.environ if environ is None else environ
    env = hook_env(environ, Path.cwd())
    return _scan(repo_root(repo, env), env, config, today or date.today())


def _scan(root: Path, env: Mapping[str, str], config: ScanConfig, today: date) -> ScanResult:
    from scanner.engine import Detector
    from scanner.pipeline import build_judge, load_selected_rules, run

    files = staged_files(root, env)
    if not files:  # only deletions, renames, mode changes: no rule to load
        return ScanResult(findings=(), stats=ScanStats())
    rules = load_selected_rules(config)
    stats = SourceStats()
    # The keyword automaton builds in about a millisecond; Hyperscan's
    # database takes longer to compile than a commit's files take to search.
    detector = Detector(rules, regex_timeout=config.regex_timeout, on_error=stats.error, vectorise=False)
    source = StagedSource(
        root, env, files, max_file_size=config.max_file_size, path_excludes=config.path_excludes
    )
    result = run(
        [source],
        detector,
        build_judge(rules),
        stats,
        include_fake=config.include_fake,
        show_secrets=False,
        regex_timeout=config.regex_timeout,
    )
    result = only_added_lines(result, files)
    baseline_path = baseline_file(root, config)
    if baseline_path is not None:
        from scanner.baseline import apply_baseline, baseline_key, load_baseline

        key = baseline_key(config.baseline_key)
        result = apply_baseline(result, load_baseline(baseline_path, key), key, today)
    return result


def baseline_file(root: Path, config: ScanConfig) -> Path | None:
    """The configured baseline, else the repository's own
    ``.sprawl-baseline.json`` when it has one."""
    from scanner.baseline import DEFAULT_BASELINE_FILE

    if config.baseline is not None:
        return config.baseline
    default = root / DEFAULT_BASELINE_FILE
    return default if default.is_file() else None


def run_pre_commit(
    repo: Path,
    options: HookOptions,
    *,
    out: TextIO,
    err: TextIO,
    environ: Mapping[str, str] | None = None,
    today: date | None = None,
) -> int:
    """The whole hook: 0 (silent) when the commit adds nothing at or above
    the fail-on severity, 1 with the report when it does, 2 when the check
    cannot run (not a repository, git missing, a broken config)."""
    environ = os.environ if environ is None else environ
    try:
        env = hook_env(environ, Path.cwd())
        root = repo_root(repo, env)
        config = resolve_config(root, options, environ)
        result = _scan(root, env, config, today or date.today())
    except ScannerError as exc:
        print(f"sprawl: error: {exc}", file=err)
        return 2
    for line in result.stats.errors:
        print(f"sprawl: error: {line}", file=err)
    blocking = [f for f in result.findings if config.fail_on is not None and f.severity >= config.fail_on]
    if blocking:
        render_blocked(blocking, out, baseline=baseline_file(root, config), root=root)
        return 1
    if result.findings:
        render_allowed(result.findings, out)
    # Something staged could not be scanned: a clean result cannot be trusted.
    return 2 if result.stats.errors else 0


# ---------------------------------------------------------------- messages


def _printable(text: str) -> str:
    """A path or name safe for the terminal: a control character in a file
    name must not reach it raw."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def _shell_word(text: str) -> str:
    import shlex

    return shlex.quote(text)


def _finding_lines(finding: Finding) -> list[str]:
    from scanner.report.serialize import scrub

    def shown(text: str) -> str:
        return _printable(scrub(text, finding.secret))

    head = f"{finding.rule_id} ({shown(finding.rule_name)}), severity {finding.severity.value}"
    lines = [f"  {head}, {finding.liveness.value}"]
    lines.append(f"    value   {shown(finding.redacted)}")
    lines.extend(f"    at      {shown(occurrence.location)}" for occurrence in finding.occurrences)
    if finding.revoke_url:
        lines.append(f"    revoke  {shown(finding.revoke_url)}")
    return lines


def _paths(findings: Sequence[Finding]) -> list[str]:
    from scanner.report.serialize import scrub

    seen: dict[str, None] = {}
    for finding in findings:
        for occurrence in finding.occurrences:
            seen.setdefault(scrub(occurrence.provenance.path, finding.secret), None)
    return list(seen)


def render_blocked(findings: Sequence[Finding], out: TextIO, *, baseline: Path | None, root: Path) -> None:
    """The report of a blocked commit: each finding (redacted), where it is,
    and the three ways forward."""
    count = len(findings)
    noun = "credential" if count == 1 else "credentials"
    lines = [f"sprawl: commit blocked: the staged changes add {count} {noun}.", ""]
    for finding in findings:
        lines.extend(_finding_lines(finding))
        lines.append("")
    paths = " ".join(_shell_word(_printable(p)) for p in _paths(findings))
    if baseline is None:
        from scanner.baseline import DEFAULT_BASELINE_FILE

        baseline_arg, verb = DEFAULT_BASELINE_FILE, "create"
    else:
        shown = baseline.relative_to(root) if baseline.is_relative_to(root) else baseline
        baseline_arg, verb = str(shown), "update" if baseline.is_file() else "create"
    it = "it" if count == 1 else "them"
    where = "the staged file" if len(_paths(findings)) == 1 else "the staged files"
    real = "it is a real credential" if count == 1 else "they are real credentials"
    see = " (revoke links above)" if any(f.revoke_url for f in findings) else ""
    lines += [
        "Ways forward (pick one):",
        f"  1. Remove {it} from {where} (edit, then git add). Staged is not yet in history,",
        f"     but if {real}, rotate {it} anyway{see}.",
        "  2. A false alarm? Mark the line with a comment holding sprawl:allow, for example:",
        '       example = "..."  # sprawl:allow test fixture',
        f"  3. Accept {it} knowingly: record {it} in the baseline, then stage that file too:",
        f"       sprawl baseline {verb} {paths} --baseline {_shell_word(baseline_arg)} --reason '<why>'",
        "",
        "git commit --no-verify would skip this check, but it is not the way: the credential would",
        "then be in history, and taking it out again means rewriting history.",
    ]
    out.write("\n".join(lines) + "\n")


def render_allowed(findings: Sequence[Finding], out: TextIO) -> None:
    """Findings below the fail-on severity: shown, the commit goes ahead."""
    lines = [f"sprawl: {len(findings)} finding(s) below the fail-on severity; the commit goes ahead.", ""]
    for finding in findings:
        lines.extend(_finding_lines(finding))
    out.write("\n".join(lines) + "\n")

