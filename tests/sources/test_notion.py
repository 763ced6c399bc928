"""Notion "Markdown & CSV" exports (scanner/sources/notion.py)."""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

from scanner.config import ScanConfig
from scanner.model import ScanResult
from scanner.pipeline import scan
from scanner.sources.notion import NOTION
from tests.tokenfactory import github_style, npm_token


def notion_id(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def export_files(rng: random.Random, tokens: dict[str, str]) -> tuple[dict[str, bytes], dict[str, str]]:
    """A workspace export as Notion lays it out: a page, its folder of sub-pages
    and databases, attachments beside them."""
    ids = {name: notion_id(rng) for name in ("eng", "runbook", "db")}
    eng, runbook, db = f"Engineering {ids['eng']}", f"Release runbook {ids['runbook']}", f"Credentials {ids['db']}"
    files = {
        f"{eng}.md": (
            f"# Engineering\n\nTeam space.\n\n[Release runbook]({eng.replace(' ', '%20')}/"
            f"{runbook.replace(' ', '%20')}.md)\n"
        ).encode(),
        f"{eng}/{runbook}.md": (
            "# Release runbook\n\nOwner: Dana Reyes\nStatus: Draft\n\n"
            "1. Log in to npm\n"
            f"2. `npm config set //registry.npmjs.org/:_authToken={tokens['page']}`\n"
        ).encode(),
        f"{eng}/{db}.csv": (
            f'\ufeffName,Value,Tags\nCI user,see vault,ops\nGitHub bot,"rotated monthly\n{tokens["row"]}",release\n'
        ).encode(),
        f"{eng}/{db}_all.csv": (
            "\ufeffName,Value,Tags,Created\n"
            'CI user,see vault,ops,"February 2, 2026 10:00 AM"\n'
            f'GitHub bot,"rotated monthly\n{tokens["row"]}",release,"February 2, 2026 10:05 AM"\n'
        ).encode(),
        f"{eng}/{runbook}/publish.sh": f"#!/bin/sh\nexport NODE_AUTH_TOKEN={tokens['attachment']}\n".encode(),
        f"{eng}/{runbook}/diagram.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64),
    }
    return files, ids


def write_tree(root: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def located(result: ScanResult) -> list[tuple[str, str, str, str, int, int]]:
    return sorted(
        (
            f.rule_id,
            o.provenance.path,
            dict(o.provenance.extra)["page_title"],
            dict(o.provenance.extra)["page_id"],
            o.line,
            o.column,
        )
        for f in result.findings
        for o in f.occurrences
    )


def tokens(rng: random.Random) -> dict[str, str]:
    return {"page": npm_token(rng), "row": github_style("ghp", rng), "attachment": npm_token(rng)}


def test_folder_export_pages_rows_and_attachments(tmp_path: Path, rng: random.Random) -> None:
    planted = tokens(rng)
    files, ids = export_files(rng, planted)
    root = tmp_path / "Export-2b7f"
    write_tree(root, files)
    assert NOTION.recognize(str(root))
    result = scan(ScanConfig(paths=(str(root),)))
    eng = f"Engineering {ids['eng']}"
    runbook, db = f"Release runbook {ids['runbook']}", f"Credentials {ids['db']}"
    assert located(result) == sorted(
        [
            ("npm-access-token", str(root / eng / f"{runbook}.md"), "Release runbook", ids["runbook"], 7, 53),
            ("github-classic-token", str(root / eng / f"{db}.csv"), "Credentials", ids["db"], 3, 28),
            ("github-classic-token", str(root / eng / f"{db}_all.csv"), "Credentials", ids["db"], 3, 28),
            ("npm-access-token", str(root / eng / runbook / "publish.sh"), "Release runbook", ids["runbook"], 2, 24),
        ]
    )
    page = next(o for f in result.findings for o in f.occurrences if o.provenance.path.endswith(f"{runbook}.md"))
    assert page.provenance.source == "notion"
    assert page.provenance.url == f"https://www.notion.so/{ids['runbook']}"
    assert dict(result.stats.skipped)["binary attachment"] == 1
    assert result.stats.errors == ()


def test_zip_with_nested_part_zip(tmp_path: Path, rng: random.Random) -> None:
    planted = tokens(rng)
    files, ids = export_files(rng, planted)
    part = "Export-9a3c1e57-2f4b-4c8e-9d61-7b2a5e0c4f13-Part-1.zip"
    outer = tmp_path / "notion-export.zip"
    outer.write_bytes(zipped({part: zipped(files)}))
    assert NOTION.recognize(str(outer))
    result = scan(ScanConfig(paths=(str(outer),)))
    paths = {o.provenance.path for f in result.findings for o in f.occurrences}
    runbook = f"Engineering {ids['eng']}/Release runbook {ids['runbook']}.md"
    assert f"{outer}!{part}!{runbook}" in paths
    assert len(paths) == 4
    assert result.stats.errors == ()


def test_plain_zip_export(tmp_path: Path, rng: random.Random) -> None:
    planted = tokens(rng)
    files, ids = export_files(rng, planted)
    target = tmp_path / "export.zip"
    target.write_bytes(zipped(files))
    result = scan(ScanConfig(paths=(str(target),)))
    row = next(r for r in located(result) if r[0] == "github-classic-token")
    assert row == (
        "github-classic-token",
        f"{target}!Engineering {ids['eng']}/Credentials {ids['db']}.csv",
        "Credentials",
        ids["db"],
        3,
        28,
    )


def test_masked_values_are_not_findings(tmp_path: Path, rng: random.Random) -> None:
    page = f"Tokens {notion_id(rng)}.md"
    write_tree(tmp_path / "ex", {page: b"NPM_TOKEN=npm_************************************\nGH=ghp_<redacted>\n"})
    result = scan(ScanConfig(paths=(str(tmp_path / "ex"),)))
    assert result.findings == ()
    assert result.stats.inputs_scanned == 1


def test_unknown_layout_is_one_error(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("x")
    assert not NOTION.recognize(str(tmp_path / "notes"))
    result = scan(ScanConfig(paths=(f"notion:{tmp_path / 'notes'}",)))
    expected = (
        f"{tmp_path / 'notes'}: not a Notion export layout (expected 'Title <32-hex id>.md' pages or "
        "'.csv' databases); nothing read"
    )
    assert result.stats.errors == (expected,)


def test_corrupt_part_and_missing_input(tmp_path: Path, rng: random.Random) -> None:
    planted = tokens(rng)
    files, _ = export_files(rng, planted)
    outer = tmp_path / "export.zip"
    outer.write_bytes(
        zipped({"Export-1-Part-1.zip": b"PK\x03\x04 not really a zip", "Export-1-Part-2.zip": zipped(files)})
    )
    result = scan(ScanConfig(paths=(f"notion:{outer}", f"notion:{tmp_path / 'gone.zip'}")))
    assert len(result.findings) == 3  # the good part is still read
    assert result.stats.errors[0].startswith(f"{outer}!Export-1-Part-1.zip: not a readable zip archive")
    assert result.stats.errors[1] == (
        f"{tmp_path / 'gone.zip'}: no such file or directory; expected a Notion export (folder or zip of "
        "'Title <id>.md' pages)"
    )


def test_a_folder_of_hash_named_notes_is_not_taken_for_notion(tmp_path: Path) -> None:
    (tmp_path / "d41d8cd98f00b204e9800998ecf8427e.md").write_text("x")
    (tmp_path / "README.md").write_text("x")
    (tmp_path / "CHANGES.md").write_text("x")
    assert not NOTION.recognize(str(tmp_path))
