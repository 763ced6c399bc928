"""End to end through the library API: one finding per secret with every copy,
fakes hidden, identical content scanned once, exit codes."""

from __future__ import annotations

import io
import random
import tarfile
from pathlib import Path

from scanner.config import ScanConfig
from scanner.model import Liveness, Severity
from scanner.pipeline import exit_code, scan
from tests.tokenfactory import break_checksum, github_style, npm_token, pypi_token


def locations(result, rule_id: str) -> list[tuple[str, int, int]]:  # type: ignore[no-untyped-def]
    return [
        (o.provenance.path, o.line, o.column)
        for f in result.findings
        if f.rule_id == rule_id
        for o in f.occurrences
    ]


def test_every_copy_of_a_secret_is_one_finding(tmp_path: Path, rng: random.Random) -> None:
    token = npm_token(rng)
    (tmp_path / ".npmrc").write_text(f"//registry.npmjs.org/:_authToken={token}\n")
    (tmp_path / "notes.md").write_text(f"# notes\n\nold token: `{token}`\n")
    (tmp_path / "copy.npmrc").write_text(f"//registry.npmjs.org/:_authToken={token}\n")
    result = scan(ScanConfig(paths=(str(tmp_path),)))
    (finding,) = result.findings
    assert finding.rule_id == "npm-access-token"
    assert [(o.provenance.path, o.line, o.column) for o in finding.occurrences] == [
        (str(tmp_path / ".npmrc"), 1, 34),
        (str(tmp_path / "copy.npmrc"), 1, 34),
        (str(tmp_path / "notes.md"), 3, 13),
    ]
    # .npmrc and copy.npmrc are identical: scanned once, reported twice
    assert result.stats.duplicates_skipped == 1
    assert finding.liveness is Liveness.LIVE_LOOKING
    assert finding.severity is Severity.CRITICAL
    assert finding.redacted == "npm_…" + token[-4:]


def test_fakes_hidden_unless_asked(tmp_path: Path, rng: random.Random) -> None:
    real = github_style("ghp", rng)
    broken = break_checksum(github_style("ghp", rng))
    (tmp_path / "a.env").write_text(f"GH_TOKEN={real}\nOLD={broken}\n")
    result = scan(ScanConfig(paths=(str(tmp_path),)))
    assert locations(result, "github-classic-token") == [(str(tmp_path / "a.env"), 1, 10)]
    assert result.stats.fake_suppressed == 1
    with_fakes = scan(ScanConfig(paths=(str(tmp_path),), include_fake=True))
    fake = next(f for f in with_fakes.findings if f.liveness is Liveness.FAKE)
    assert fake.severity is Severity.INFO
    assert fake.occurrences[0].line == 2
    assert exit_code(with_fakes, Severity.LOW) == 1
    assert exit_code(scan(ScanConfig(paths=(str(tmp_path / "a.env"),), only=("npm-*",))), Severity.LOW) == 0


def test_scope_feeds_severity(tmp_path: Path, rng: random.Random) -> None:
    (tmp_path / ".pypirc").write_text(
        "[pypi]\nusername = __token__\npassword = " + pypi_token(rng, caveats=[[1, ["demo"]]]) + "\n"
        "[testpypi]\npassword = " + pypi_token(rng, test_pypi=True) + "\n"
    )
    result = scan(ScanConfig(paths=(str(tmp_path),)))
    by_rule = {f.rule_id: f for f in result.findings}
    assert (by_rule["pypi-api-token"].scope, by_rule["pypi-api-token"].severity) == ("PyPI: project demo", Severity.HIGH)
    assert by_rule["pypi-api-token"].occurrences[0].line == 3
    assert (by_rule["testpypi-api-token"].severity, by_rule["testpypi-api-token"].occurrences[0].line) == (Severity.LOW, 5)
    assert exit_code(result, Severity.CRITICAL) == 0
    assert exit_code(result, Severity.HIGH) == 1
    assert exit_code(result, None) == 0


def test_npmrc_inside_published_package(tmp_path: Path, rng: random.Random) -> None:
    token = npm_token(rng)
    npmrc = f"registry=https://registry.npmjs.org/\nalways-auth=true\n//registry.npmjs.org/:_authToken={token}\n"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in {"package/package.json": b"{}", "package/.npmrc": npmrc.encode()}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    (tmp_path / "pkg-1.0.0.tgz").write_bytes(buffer.getvalue())
    result = scan(ScanConfig(paths=(str(tmp_path / "pkg-1.0.0.tgz"),)))
    (finding,) = result.findings
    assert finding.occurrences[0].location == f"{tmp_path / 'pkg-1.0.0.tgz'}!package/.npmrc:3:34"


def test_unreadable_input_makes_exit_code_2_only_without_findings(tmp_path: Path, rng: random.Random) -> None:
    (tmp_path / "a.txt").write_text("nothing here")
    result = scan(ScanConfig(paths=(str(tmp_path / "a.txt"), str(tmp_path / "missing"))))
    assert result.incomplete
    assert exit_code(result, Severity.LOW) == 2
    (tmp_path / "b.txt").write_text(npm_token(rng))
    result = scan(ScanConfig(paths=(str(tmp_path / "b.txt"), str(tmp_path / "missing"))))
    assert exit_code(result, Severity.LOW) == 1
