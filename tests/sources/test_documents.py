"""Document files (scanner/sources/documents.py): HTML, DOCX, ODT, Markdown."""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

from scanner.config import ScanConfig
from scanner.model import ScanResult
from scanner.pipeline import scan
from scanner.sources.base import SourceStats
from scanner.sources.documents import DOCX_FORMAT, ODT_FORMAT, docx_parts, looks_like_docx, looks_like_odt
from tests.tokenfactory import github_style, npm_token

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)


def where(result: ScanResult) -> list[tuple[str, str, str, int, int, tuple[tuple[str, str], ...]]]:
    return sorted(
        (f.rule_id, o.provenance.source, o.provenance.path, o.line, o.column, o.provenance.extra)
        for f in result.findings
        for o in f.occurrences
    )


def run(token: str) -> str:
    """A Word run; formatting properties make Word keep runs apart."""
    return f'<w:r><w:rPr><w:b w:val="0"/></w:rPr><w:t xml:space="preserve">{token}</w:t></w:r>'


def paragraph(*runs: str) -> str:
    return '<w:p><w:pPr><w:pStyle w:val="Normal"/></w:pPr>' + "".join(runs) + "</w:p>"


def docx(body: list[str], parts: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr(
            "word/document.xml",
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="{W}"><w:body>'
            + "".join(body)
            + '<w:sectPr><w:pgSz w:w="11906" w:h="16838"/></w:sectPr></w:body></w:document>',
        )
        for name, xml in (parts or {}).items():
            archive.writestr(name, xml)
    return buffer.getvalue()


def odt(paragraphs: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text", compress_type=zipfile.ZIP_STORED
        )
        archive.writestr("META-INF/manifest.xml", "<manifest/>")
        archive.writestr(
            "content.xml",
            '<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content '
            'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
            'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3">'
            "<office:body><office:text>"
            + "".join(paragraphs)
            + "</office:text></office:body></office:document-content>",
        )
    return buffer.getvalue()


def test_docx_token_split_over_runs_is_found_at_its_paragraph(tmp_path: Path, rng: random.Random) -> None:
    token = github_style("ghp", rng)
    body = [
        paragraph(run("Release runbook")),
        paragraph(run("Step 1: log in")),
        paragraph(
            run("GH_TOKEN="), run(token[:7]), run(token[7:19]), '<w:proofErr w:type="spellStart"/>', run(token[19:])
        ),
    ]
    target = tmp_path / "runbook.docx"
    target.write_bytes(docx(body))
    result = scan(ScanConfig(paths=(str(target),)))
    assert where(result) == [("github-classic-token", "doc", str(target), 3, 10, ())]


def test_docx_headers_footers_and_comments_are_read(tmp_path: Path, rng: random.Random) -> None:
    in_header, in_comment = npm_token(rng), github_style("ghp", rng)
    header = f'<w:hdr xmlns:w="{W}">{paragraph(run("draft"))}{paragraph(run(in_header))}</w:hdr>'
    comments = (
        f'<w:comments xmlns:w="{W}"><w:comment w:id="0" w:author="Dana">'
        f"{paragraph(run('use '), run(in_comment[:10]), run(in_comment[10:]))}</w:comment></w:comments>"
    )
    target = tmp_path / "notes.docx"
    target.write_bytes(docx([paragraph(run("body"))], {"word/header1.xml": header, "word/comments.xml": comments}))
    result = scan(ScanConfig(paths=(str(target),)))
    assert where(result) == [
        ("github-classic-token", "doc", str(target), 1, 5, (("part", "comments"),)),
        ("npm-access-token", "doc", str(target), 2, 1, (("part", "header1"),)),
    ]


def test_docx_tabs_breaks_and_tracked_deletions(rng: random.Random) -> None:
    token = npm_token(rng)
    body = [
        paragraph(run("a"), "<w:r><w:tab/></w:r>", run("b"), "<w:r><w:br/></w:r>", run("c")),
        paragraph(f'<w:del w:id="1" w:author="x"><w:r><w:delText>{token}</w:delText></w:r></w:del>', run("***")),
    ]
    stats = SourceStats()
    parts = docx_parts(docx(body), "t.docx", stats)
    assert parts == [("", f"a\tb c\n{token}***")]
    assert stats.errors == []


def test_docx_inside_a_zip_archive_is_read_as_a_document(tmp_path: Path, rng: random.Random) -> None:
    token = github_style("ghp", rng)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("docs/setup.docx", docx([paragraph(run("x")), paragraph(run(token[:5]), run(token[5:]))]))
    target = tmp_path / "bundle.zip"
    target.write_bytes(buffer.getvalue())
    result = scan(ScanConfig(paths=(str(target),)))
    assert where(result) == [("github-classic-token", "doc", f"{target}!docs/setup.docx", 2, 1, ())]


def test_odt_spans_and_spaces(tmp_path: Path, rng: random.Random) -> None:
    token = npm_token(rng)
    paragraphs = [
        '<text:h text:outline-level="1">Deploy</text:h>',
        '<text:p>two<text:s text:c="3"/>spaces and a <text:tab/>tab</text:p>',
        (
            f'<text:p>token: <text:span text:style-name="T1">{token[:8]}</text:span>{token[8:20]}'
            f"<text:span>{token[20:]}</text:span> end</text:p>"
        ),
    ]
    target = tmp_path / "deploy.odt"
    target.write_bytes(odt(paragraphs))
    result = scan(ScanConfig(paths=(str(target),)))
    assert where(result) == [("npm-access-token", "doc", str(target), 3, 8, ())]
    chunk = next(ODT_FORMAT.read(target.read_bytes(), "deploy.odt", SourceStats()))
    assert chunk.content.split("\n")[:2] == ["Deploy", "two   spaces and a \ttab"]


def test_html_file_with_markup_split_token(tmp_path: Path, rng: random.Random) -> None:
    token = github_style("ghp", rng)
    page = (
        "<!DOCTYPE html>\n<html><head><title>Wiki</title></head>\n<body>\n<h1>Publishing</h1>\n"
        f'<p>Use <code><span class="hl">{token[:12]}</span><span class="hl">{token[12:]}</span></code> today</p>\n'
        "</body></html>\n"
    )
    target = tmp_path / "page.html"
    target.write_text(page)
    result = scan(ScanConfig(paths=(str(target),)))
    # Lines of the page's rendered text (the window title is not on the page): "Publishing", "Use <token> today".
    assert where(result) == [("github-classic-token", "file", str(target), 2, 5, (("view", "rendered text"),))]


def test_html_token_in_one_piece_is_reported_at_its_raw_place_once(tmp_path: Path, rng: random.Random) -> None:
    token = npm_token(rng)
    page = f'<html><body>\n<p>docs</p>\n<script>\nconst NPM_TOKEN = "{token}";\n</script>\n</body></html>\n'
    target = tmp_path / "index.html"
    target.write_text(page)
    result = scan(ScanConfig(paths=(str(target),)))
    # <script> is code in a repository: it is read as written, exact line and column.
    assert where(result) == [("npm-access-token", "file", str(target), 4, 20, ())]


def test_markdown_is_read_as_plain_text(tmp_path: Path, rng: random.Random) -> None:
    token = npm_token(rng)
    target = tmp_path / "RELEASING.md"
    target.write_text(f"# Releasing\n\n```\nnpm config set //registry.npmjs.org/:_authToken={token}\n```\n")
    result = scan(ScanConfig(paths=(str(target),)))
    assert where(result) == [("npm-access-token", "file", str(target), 4, 49, ())]


def test_masked_and_placeholder_values_are_not_findings(tmp_path: Path) -> None:
    body = [
        paragraph(run("GH_TOKEN="), run("ghp_"), run("*" * 36)),
        paragraph(run("NPM_TOKEN=npm_"), run("x" * 36)),
        paragraph(run("token: &lt;your token here&gt;")),
    ]
    (tmp_path / "masked.docx").write_bytes(docx(body))
    (tmp_path / "masked.html").write_text("<p>ghp_<b>XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX</b></p>")
    result = scan(ScanConfig(paths=(str(tmp_path),)))
    assert result.findings == ()
    assert result.stats.errors == ()


def test_truncated_docx_is_one_error_and_the_rest_is_scanned(tmp_path: Path, rng: random.Random) -> None:
    token = npm_token(rng)
    data = docx([paragraph(run(token))])
    (tmp_path / "broken.docx").write_bytes(data[: len(data) // 2])
    (tmp_path / "fine.md").write_text(f"NPM_TOKEN={token}\n")
    result = scan(ScanConfig(paths=(str(tmp_path),)))
    assert where(result) == [("npm-access-token", "file", str(tmp_path / "fine.md"), 1, 11, ())]
    (error,) = result.stats.errors
    assert error.startswith(f"{tmp_path / 'broken.docx'}: not a readable DOCX document (expected a zip package")


def test_docx_without_document_part_and_broken_xml(rng: random.Random) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/styles.xml", "<x/>")
    stats = SourceStats()
    assert list(DOCX_FORMAT.read(buffer.getvalue(), "a.docx", stats)) == []
    assert stats.errors == ["a.docx: not a DOCX document (no word/document.xml in the package)"]

    token = npm_token(rng)
    broken = docx([paragraph(run("x"))], {"word/footer1.xml": f'<w:ftr xmlns:w="{W}"><w:p><w:r><w:t>{token}'})
    stats = SourceStats()
    (chunk,) = DOCX_FORMAT.read(broken, "b.docx", stats)
    assert chunk.content == "x"
    (error,) = stats.errors
    assert error.startswith("b.docx!word/footer1.xml: not well-formed XML")


def test_sniffing() -> None:
    data = docx([paragraph(run("x"))])
    assert looks_like_docx("upload.bin", data[:8192])
    assert looks_like_docx("a.DOCX", b"PK\x03\x04")
    assert not looks_like_docx("a.docx", b"plain text")
    assert looks_like_odt("upload", odt([])[:8192])
    assert not looks_like_odt("x.zip", b"PK\x03\x04" + b"\x00" * 100)
