"""GitHub Actions run-log archives: every line read once, reported at the
archive member (job or step file) with job and step names."""

from __future__ import annotations

import io
import random
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from scanner.config import ScanConfig
from scanner.model import ScanResult
from scanner.pipeline import scan
from scanner.sources.ci_github import looks_like_actions_archive
from tests.tokenfactory import github_style, npm_token

BOM = "\ufeff"


def _stamp(second: int) -> str:
    return f"2026-03-02T09:00:{second:02d}.5000000Z"


def _steps(token: str) -> list[tuple[str, str]]:
    return [
        (
            "1_Set up job.txt",
            f"{BOM}{_stamp(1)} Current runner version: '2.322.0'\n{_stamp(1)} Secret source: Actions\n",
        ),
        (
            "2_Run actions_checkout@v4.txt",
            f"{BOM}{_stamp(2)} ##[group]Run actions/checkout@v4\n{_stamp(2)}   token: ***\n",
        ),
        (
            "3_Publish.txt",
            (
                f"{BOM}{_stamp(3)} ##[group]Run npm publish\n"
                f"{_stamp(4)} npm notice Publishing to https://registry.npmjs.org/\n"
                f"{_stamp(5)} + echo //registry.npmjs.org/:_authToken=\x1b[33m{token}\x1b[0m\n"
            ),
        ),
    ]


def _archive(members: list[tuple[str, str]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in members:
            archive.writestr(name, text.encode("utf-8"))
    return buffer.getvalue()


def _job_log(steps: list[tuple[str, str]], extra: str = "") -> str:
    return BOM + "".join(text.removeprefix(BOM) for _, text in steps) + extra


def _occurrences(result: ScanResult, secret: str) -> list[tuple[str, str, int, int, dict[str, str], datetime | None]]:
    return [
        (f.rule_id, o.provenance.path, o.line, o.column, dict(o.provenance.extra), o.provenance.when)
        for f in result.findings
        if f.secret == secret
        for o in f.occurrences
    ]


def test_step_files_that_add_up_to_the_job_log_are_read_instead_of_it(tmp_path: Path, rng: random.Random) -> None:
    token = npm_token(rng)
    steps = _steps(token)
    members = [("2_release.txt", _job_log(steps))] + [(f"release/{name}", text) for name, text in steps]
    zip_path = tmp_path / "logs_2211.zip"
    zip_path.write_bytes(_archive(members))
    result = scan(ScanConfig(paths=(str(zip_path),)))
    column = len(f"{_stamp(5)} + echo //registry.npmjs.org/:_authToken=\x1b[33m") + 1
    assert _occurrences(result, token) == [
        (
            "npm-access-token",
            f"{zip_path}!release/3_Publish.txt",
            3,
            column,
            {"ci": "github-actions", "job": "release", "step": "Publish", "step_number": "3"},
            datetime(2026, 3, 2, 9, 0, 5, 500000, tzinfo=UTC),
        )
    ]


def test_a_job_log_with_lines_of_its_own_is_read_whole(tmp_path: Path, rng: random.Random) -> None:
    token, late = npm_token(rng), github_style("ghp", rng)
    steps = _steps(token)
    job = _job_log(steps, f"{_stamp(9)} Post job cleanup.\n{_stamp(9)} GH_TOKEN={late}\n")
    members = [("2_release.txt", job)] + [(f"release/{name}", text) for name, text in steps]
    zip_path = tmp_path / "logs.zip"
    zip_path.write_bytes(_archive(members))
    result = scan(ScanConfig(paths=(str(zip_path),)))
    [(rule, path, line, _, extra, _)] = _occurrences(result, token)
    assert (rule, path, line, extra) == (
        "npm-access-token",
        f"{zip_path}!2_release.txt",
        7,
        {"ci": "github-actions", "job": "release"},
    )
    [(rule, path, line, _, _, when)] = _occurrences(result, late)
    assert (rule, path, line, when) == (
        "github-classic-token",
        f"{zip_path}!2_release.txt",
        9,
        datetime(2026, 3, 2, 9, 0, 9, 500000, tzinfo=UTC),
    )


def test_archive_without_step_files(tmp_path: Path, rng: random.Random) -> None:
    token = npm_token(rng)
    zip_path = tmp_path / "logs.zip"
    zip_path.write_bytes(_archive([("1_build (ubuntu-latest, 3.12).txt", _job_log(_steps(token)))]))
    result = scan(ScanConfig(paths=(str(zip_path),)))
    [(_, path, line, _, extra, _)] = _occurrences(result, token)
    assert (path, line, extra["job"]) == (
        f"{zip_path}!1_build (ubuntu-latest, 3.12).txt",
        7,
        "build (ubuntu-latest, 3.12)",
    )


def test_truncated_archive_is_one_error_and_the_rest_is_scanned(tmp_path: Path, rng: random.Random) -> None:
    token, other = npm_token(rng), github_style("ghp", rng)
    whole = _archive([(f"release/{name}", text) for name, text in _steps(token)])
    (tmp_path / "logs.zip").write_bytes(whole[: len(whole) // 3])
    (tmp_path / "other.log").write_text(f"{_stamp(1)} GH_TOKEN={other}\n")
    result = scan(ScanConfig(paths=(str(tmp_path),)))
    assert [
        (f.rule_id, Path(o.provenance.path).name) for f in result.findings for o in f.occurrences if f.secret == other
    ] == [("github-classic-token", "other.log")]
    assert len(result.stats.errors) == 1 and "logs.zip" in result.stats.errors[0]


def test_forced_archive_whose_first_member_is_not_a_log(tmp_path: Path, rng: random.Random) -> None:
    token = npm_token(rng)
    steps = _steps(token)
    data = _archive([("README", "re-packed by hand\n")] + [(f"release/{name}", text) for name, text in steps])
    assert not looks_like_actions_archive(data[:8192])
    zip_path = tmp_path / "repacked.zip"
    zip_path.write_bytes(data)
    result = scan(ScanConfig(paths=(f"actions:{zip_path}",)))
    [(_, path, line, _, extra, _)] = _occurrences(result, token)
    assert (path, line, extra["step"]) == (f"{zip_path}!release/3_Publish.txt", 3, "Publish")


def test_forced_archive_that_is_not_a_zip_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "logs.zip"
    path.write_text("not a zip\n")
    result = scan(ScanConfig(paths=(f"actions:{path}",)))
    assert len(result.stats.errors) == 1 and "expected a GitHub Actions run-log archive" in result.stats.errors[0]


def test_archive_inside_a_folder_walk(tmp_path: Path, rng: random.Random) -> None:
    token = npm_token(rng)
    (tmp_path / "downloads").mkdir()
    (tmp_path / "downloads" / "run.zip").write_bytes(_archive([(f"release/{n}", t) for n, t in _steps(token)]))
    result = scan(ScanConfig(paths=(str(tmp_path),)))
    [(_, path, line, _, extra, _)] = _occurrences(result, token)
    assert path.endswith("run.zip!release/3_Publish.txt") and line == 3 and extra["job"] == "release"


def test_archive_sniff() -> None:
    assert looks_like_actions_archive(_archive([("3_build.txt", "x\n")]))
    assert looks_like_actions_archive(_archive([("build/1_Set up job.txt", "x\n")]))
    assert not looks_like_actions_archive(_archive([("word/document.xml", "<w/>")]))
    assert not looks_like_actions_archive(b"2026-03-02T09:00:00.1000000Z text\n")


def test_unpacked_archive_folder_names_jobs_and_steps(tmp_path: Path, rng: random.Random) -> None:
    token = npm_token(rng)
    for name, text in _steps(token):
        path = tmp_path / "logs_2211" / "release" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    result = scan(ScanConfig(paths=(f"actions:{tmp_path / 'logs_2211'}",)))
    [(_, path, line, _, extra, _)] = _occurrences(result, token)
    assert path.endswith("logs_2211/release/3_Publish.txt") and line == 3
    assert (extra["job"], extra["step"], extra["step_number"]) == ("release", "Publish", "3")
