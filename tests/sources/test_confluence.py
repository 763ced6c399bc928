"""Confluence space exports, XML and HTML (scanner/sources/confluence.py)."""

from __future__ import annotations

import io
import random
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from scanner.config import ScanConfig
from scanner.model import Occurrence, ScanResult
from scanner.pipeline import scan
from scanner.sources.base import SourceStats
from scanner.sources.confluence import CONFLUENCE
from scanner.sources.formats import ExportOptions
from tests.tokenfactory import github_style, npm_token

USER_KEY = "8aa0a0e05f0c1a2b015f0c1a2b3c0001"
PAGE_ID, OLD_VERSION_ID, COMMENT_ID, BLOG_ID = "65538", "65541", "65550", "65570"


def cdata(text: str) -> str:
    """CDATA as Confluence writes it: a "]]>" inside is split in two sections."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def ref(name: str, cls: str, package: str, identity: str, id_name: str = "id") -> str:
    value = cdata(identity) if id_name == "key" else identity
    return f'<property name="{name}" class="{cls}" package="{package}"><id name="{id_name}">{value}</id></property>'


def content_object(cls: str, identity: str, title: str, extra: str = "", version: int = 1) -> str:
    return (
        f'<object class="{cls}" package="com.atlassian.confluence.pages">\n'
        f'<id name="id">{identity}</id>\n'
        f'<property name="title">{cdata(title)}</property>\n'
        f'<property name="lowerTitle">{cdata(title.lower())}</property>\n'
        + ref("space", "Space", "com.atlassian.confluence.spaces", "98305")
        + "\n"
        + f'<property name="version">{version}</property>\n'
        + ref("creator", "ConfluenceUserImpl", "com.atlassian.confluence.user", USER_KEY, "key")
        + "\n"
        + '<property name="creationDate">2026-01-20 08:00:00.000</property>\n'
        + ref("lastModifier", "ConfluenceUserImpl", "com.atlassian.confluence.user", USER_KEY, "key")
        + "\n"
        + '<property name="lastModificationDate">2026-02-02 09:15:00.000</property>\n'
        + f'<property name="contentStatus">{cdata("current")}</property>\n'
        + extra
        + "</object>\n"
    )


def body_object(identity: str, content_id: str, cls: str, body: str) -> str:
    return (
        '<object class="BodyContent" package="com.atlassian.confluence.core">\n'
        f'<id name="id">{identity}</id>\n'
        f'<property name="body">{cdata(body)}</property>\n'
        + ref("content", cls, "com.atlassian.confluence.pages", content_id)
        + "\n"
        + '<property name="bodyType">2</property>\n</object>\n'
    )


def storage_page(split_token: str, code_token: str) -> str:
    """A runbook in storage format: a token split by spans, one in a code macro."""
    return (
        "<h1>Publishing</h1>"
        f'<p>Current token: <span style="color: rgb(0,0,0);">{split_token[:9]}</span><strong>{split_token[9:]}</strong></p>'
        '<ac:structured-macro ac:name="code" ac:schema-version="1" ac:macro-id="7c1e2f">'
        '<ac:parameter ac:name="language">bash</ac:parameter>'
        "<ac:plain-text-body><![CDATA[npm whoami\nnpm config set "
        f"//registry.npmjs.org/:_authToken={code_token}\nnpm publish]]></ac:plain-text-body>"
        "</ac:structured-macro><p>Ask #releases if it fails.</p>"
    )


def entities_xml(tokens: dict[str, str]) -> str:
    original = ref("originalVersion", "Page", "com.atlassian.confluence.pages", PAGE_ID)
    on_page = ref("containerContent", "Page", "com.atlassian.confluence.pages", PAGE_ID)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<hibernate-generic datetime="2026-02-02 10:00:00">\n'
        '<object class="Space" package="com.atlassian.confluence.spaces">\n<id name="id">98305</id>\n'
        f'<property name="name">{cdata("Release Engineering")}</property>\n'
        f'<property name="key">{cdata("REL")}</property>\n</object>\n'
        '<object class="ConfluenceUserImpl" package="com.atlassian.confluence.user">\n'
        f'<id name="key">{cdata(USER_KEY)}</id>\n<property name="name">{cdata("dana")}</property>\n'
        f'<property name="lowerName">{cdata("dana")}</property>\n</object>\n'
        # Bodies may come before the objects they belong to.
        + body_object("65540", PAGE_ID, "Page", storage_page(tokens["split"], tokens["code"]))
        + content_object("Page", PAGE_ID, "Publishing runbook", version=3)
        + content_object("Page", OLD_VERSION_ID, "Publishing runbook", original, version=2)
        + body_object("65542", OLD_VERSION_ID, "Page", f"<p>old: {tokens['old']}</p>")
        + content_object("Comment", COMMENT_ID, "", on_page)
        + body_object("65551", COMMENT_ID, "Comment", f"<p>works with</p><p><code>{tokens['comment']}</code></p>")
        + content_object("BlogPost", BLOG_ID, "Release notes February")
        + body_object("65571", BLOG_ID, "BlogPost", "<p>Nothing secret, masked: npm_" + "*" * 36 + "</p>")
        + '<object class="Attachment" package="com.atlassian.confluence.pages">\n<id name="id">65560</id>\n'
        f'<property name="title">{cdata("deploy.env")}</property>\n'
        + on_page
        + "\n</object>\n"
        + '<object class="Attachment" package="com.atlassian.confluence.pages">\n<id name="id">65561</id>\n'
        f'<property name="title">{cdata("diagram.png")}</property>\n'
        + on_page
        + "\n</object>\n"
        + "</hibernate-generic>\n"
    )


def xml_export_files(tokens: dict[str, str]) -> dict[str, bytes]:
    return {
        "entities.xml": entities_xml(tokens).encode(),
        "exportDescriptor.properties": b"#Mon Feb 02 10:00:00 UTC 2026\nexportType=space\nspaceKey=REL\n"
        b"backupAttachments=true\nversionNumber=8.5.4\n",
        f"attachments/{PAGE_ID}/65560/1": f"# deploy settings\nNPM_TOKEN={tokens['attachment']}\n".encode(),
        f"attachments/{PAGE_ID}/65561/1": b"\x89PNG\r\n\x1a\n" + bytes(40),
    }


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def make_tokens(rng: random.Random) -> dict[str, str]:
    return {
        "split": github_style("ghp", rng),
        "code": npm_token(rng),
        "old": npm_token(rng),
        "comment": github_style("ghp", rng),
        "attachment": npm_token(rng),
    }


def where(result: ScanResult) -> dict[str, Occurrence]:
    """Each planted token's single occurrence, by token value."""
    found = {}
    for finding in result.findings:
        (occurrence,) = finding.occurrences
        found[finding.secret] = occurrence
    return found


def test_xml_export_zip_pages_versions_comments_and_attachments(tmp_path: Path, rng: random.Random) -> None:
    tokens = make_tokens(rng)
    export = tmp_path / "Confluence-space-export-REL.zip"
    export.write_bytes(zipped(xml_export_files(tokens)))
    assert CONFLUENCE.recognize(str(export))
    result = scan(ScanConfig(paths=(str(export),)))
    found = where(result)
    assert set(found) == set(tokens.values())
    page = [("space", "REL"), ("page_title", "Publishing runbook"), ("page_id", PAGE_ID)]
    entities = f"{export}!entities.xml"

    def summary(token: str) -> tuple[str, tuple[tuple[str, str], ...], int, int]:
        o = found[token]
        return o.provenance.path, o.provenance.extra, o.line, o.column

    # Page text lines: "Publishing", "Current token: <token>", "bash", "npm whoami", "npm config set ...".
    assert summary(tokens["split"]) == (entities, tuple(page), 2, 16)
    assert summary(tokens["code"]) == (entities, tuple(page), 5, 49)
    assert summary(tokens["old"]) == (entities, (*page, ("version", "2")), 1, 6)
    assert summary(tokens["comment"]) == (entities, (*page, ("comment_id", COMMENT_ID)), 2, 1)
    assert summary(tokens["attachment"]) == (
        f"{export}!attachments/{PAGE_ID}/65560/1",
        (*page, ("attachment", "deploy.env")),
        2,
        11,
    )
    provenance = found[tokens["split"]].provenance
    assert provenance.source == "confluence"
    assert provenance.author == "dana"
    assert provenance.when == datetime(2026, 2, 2, 9, 15, tzinfo=UTC)
    rules = {f.secret: f.rule_id for f in result.findings}
    assert rules[tokens["split"]] == "github-classic-token" and rules[tokens["code"]] == "npm-access-token"
    assert dict(result.stats.skipped)["binary attachment"] == 1
    assert result.stats.errors == ()


def test_xml_export_as_a_folder(tmp_path: Path, rng: random.Random) -> None:
    tokens = make_tokens(rng)
    root = tmp_path / "export"
    for name, data in xml_export_files(tokens).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    assert CONFLUENCE.recognize(str(root))
    result = scan(ScanConfig(paths=(str(root),)))
    assert set(where(result)) == set(tokens.values())
    assert where(result)[tokens["code"]].provenance.path == str(root / "entities.xml")


def test_truncated_entities_xml_keeps_what_came_before(tmp_path: Path, rng: random.Random) -> None:
    tokens = make_tokens(rng)
    files = xml_export_files(tokens)
    whole = files["entities.xml"].decode()
    files["entities.xml"] = whole[: whole.index('<object class="Comment"') + 40].encode()
    export = tmp_path / "cut.zip"
    export.write_bytes(zipped(files))
    result = scan(ScanConfig(paths=(str(export),)))
    found = where(result)
    assert set(found) == {tokens["split"], tokens["code"], tokens["old"], tokens["attachment"]}
    assert dict(found[tokens["code"]].provenance.extra)["page_title"] == "Publishing runbook"
    (error,) = result.stats.errors
    assert error.startswith(f"{export}!entities.xml: XML breaks off or is malformed (")
    assert error.endswith(
        "expected a complete Confluence XML export (the 2 page bodies before that point were scanned)"
    )


def html_page(space: str, title: str, body: str) -> str:
    """A page as Confluence's HTML export writes it."""
    return (
        "<!DOCTYPE html>\n<html>\n    <head>\n"
        f"        <title>{space} : {title}</title>\n"
        '        <link rel="stylesheet" href="styles/site.css" type="text/css" />\n'
        '        <META http-equiv="Content-Type" content="text/html; charset=UTF-8">\n    </head>\n'
        '    <body class="theme-default aui-theme-default">\n        <div id="page">\n'
        '            <div id="main" class="aui-page-panel">\n                <div id="main-header">\n'
        '                    <div id="breadcrumb-section">\n                        <ol id="breadcrumbs">\n'
        f'                            <li class="first"><span><a href="index.html">{space}</a></span></li>\n'
        "                        </ol>\n                    </div>\n"
        '                    <h1 id="title-heading" class="pagetitle">\n'
        f'                        <span id="title-text">\n                            {space} : {title}\n'
        "                        </span>\n                    </h1>\n                </div>\n\n"
        '                <div id="content" class="view">\n                    <div class="page-metadata">\n'
        "                        Created by <span class='author'> Dana Reyes</span>, last modified on Feb 02, 2026\n"
        "                    </div>\n"
        f'                    <div id="main-content" class="wiki-content group">\n{body}\n                    </div>\n'
        "                </div>\n            </div>\n"
        '            <div id="footer" role="contentinfo">\n                <section class="footer-body">\n'
        "                    <p>Document generated by Confluence on Feb 02, 2026 10:00</p>\n"
        "                </section>\n            </div>\n        </div>\n    </body>\n</html>\n"
    )


def html_export_files(tokens: dict[str, str]) -> dict[str, bytes]:
    body = (
        f'<p>Current token: <span style="color: rgb(23,43,77);">{tokens["split"][:14]}</span>'
        f"<span>{tokens['split'][14:]}</span></p>\n"
        '<div class="code panel pdl" style="border-width: 1px;"><div class="codeContent panelContent pdl">\n'
        '<pre class="syntaxhighlighter-pre" data-syntaxhighlighter-params="brush: bash; gutter: false; '
        'theme: Confluence" data-theme="Confluence">npm whoami\nnpm config set '
        f"//registry.npmjs.org/:_authToken={tokens['code']}\n</pre>\n</div></div>\n"
        '<div class="pageSection group"><div class="pageSectionHeader">'
        '<h2 id="attachments" class="pageSectionTitle">Attachments:</h2></div>'
        '<div class="greybox" align="left">'
        '<img src="images/icons/bullet_blue.gif" height="8" width="8" alt=""/>'
        f'<a href="attachments/{PAGE_ID}/65560.env">deploy.env</a> (application/octet-stream)<br/>'
        '<img src="images/icons/bullet_blue.gif" height="8" width="8" alt=""/>'
        f'<a href="attachments/{PAGE_ID}/65561.png">diagram.png</a> (image/png)<br/></div></div>\n'
    )
    return {
        "REL/index.html": html_page("Release Engineering", "Release Engineering Home", "<p>Space home</p>").encode(),
        f"REL/Publishing-runbook_{PAGE_ID}.html": html_page("Release Engineering", "Publishing runbook", body).encode(),
        f"REL/attachments/{PAGE_ID}/65560.env": f"NPM_TOKEN={tokens['attachment']}\n".encode(),
        f"REL/attachments/{PAGE_ID}/65561.png": b"\x89PNG\r\n\x1a\n" + bytes(40),
        "REL/styles/site.css": b"body { color: #172B4D; }",
        "REL/images/icons/bullet_blue.gif": b"GIF89a" + bytes(20),
    }


def test_html_export_zip(tmp_path: Path, rng: random.Random) -> None:
    tokens = make_tokens(rng)
    export = tmp_path / "REL-html.zip"
    export.write_bytes(zipped(html_export_files(tokens)))
    assert CONFLUENCE.recognize(str(export))
    result = scan(ScanConfig(paths=(str(export),)))
    found = where(result)
    assert set(found) == {tokens["split"], tokens["code"], tokens["attachment"]}
    page_path = f"{export}!REL/Publishing-runbook_{PAGE_ID}.html"
    page = (("space", "REL"), ("page_title", "Publishing runbook"), ("page_id", PAGE_ID))
    split = found[tokens["split"]]
    # Page text: breadcrumb, title, metadata, then the body.
    text_lines = [
        "Release Engineering",
        "Release Engineering : Publishing runbook",
        "Created by Dana Reyes, last modified on Feb 02, 2026",
    ]
    assert (split.provenance.path, split.provenance.extra, split.line, split.column) == (
        page_path,
        page,
        len(text_lines) + 1,
        16,
    )
    assert split.provenance.author == "Dana Reyes"
    code = found[tokens["code"]]
    assert (code.provenance.path, code.line, code.column) == (page_path, len(text_lines) + 3, 49)
    attachment = found[tokens["attachment"]]
    assert (attachment.provenance.path, attachment.provenance.extra, attachment.line) == (
        f"{export}!REL/attachments/{PAGE_ID}/65560.env",
        (*page, ("attachment", "deploy.env")),
        1,
    )
    skipped = dict(result.stats.skipped)
    assert skipped["confluence export asset"] == 2 and skipped["binary attachment"] == 1
    assert result.stats.errors == ()


def test_html_export_folder_named_by_space_key(tmp_path: Path, rng: random.Random) -> None:
    tokens = make_tokens(rng)
    for name, data in html_export_files(tokens).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    folder = tmp_path / "REL"
    assert CONFLUENCE.recognize(str(folder))
    result = scan(ScanConfig(paths=(str(folder),)))
    split = where(result)[tokens["split"]]
    assert split.provenance.path == str(folder / f"Publishing-runbook_{PAGE_ID}.html")
    assert dict(split.provenance.extra)["space"] == "REL"


def test_masked_values_give_no_findings(tmp_path: Path) -> None:
    files = {
        "REL/index.html": html_page("R", "Home", "<p>x</p>").encode(),
        "REL/Tokens_1.html": html_page(
            "R",
            "Tokens",
            "<p>NPM_TOKEN=npm_<span>" + "*" * 36 + "</span></p>"
            "<pre>GH_TOKEN=ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX</pre>",
        ).encode(),
    }
    export = tmp_path / "masked.zip"
    export.write_bytes(zipped(files))
    result = scan(ScanConfig(paths=(str(export),)))
    assert result.findings == ()
    assert result.stats.inputs_scanned == 2


def test_unknown_layout_and_bad_zip_are_one_line_each(tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.txt").write_text("x")
    bad = tmp_path / "space.zip"
    bad.write_bytes(b"PK\x03\x04 cut short")
    assert not CONFLUENCE.recognize(str(folder))
    assert not CONFLUENCE.recognize(str(bad))
    result = scan(ScanConfig(paths=(f"confluence:{folder}", f"confluence:{bad}")))
    first, second = result.stats.errors
    assert first == (
        f"{folder}: not a Confluence space export (expected entities.xml from an XML export, or index.html with "
        "<Title>_<id>.html pages from an HTML export); nothing read"
    )
    assert second.startswith(f"{bad}: not a readable zip archive or folder")
    assert second.endswith("; expected a Confluence space export (folder or zip)")


def test_a_website_with_index_html_is_not_confluence(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<html><body>My site</body></html>")
    (tmp_path / "post_1.html").write_text("<html><body>post</body></html>")
    assert not CONFLUENCE.recognize(str(tmp_path))


def test_entities_are_streamed_in_large_exports(rng: random.Random, tmp_path: Path) -> None:
    """Many pages go into few chunks, each match still placed at its page."""
    token = npm_token(rng)
    objects = []
    for number in range(2000):
        identity = str(100000 + number)
        text = f"<p>page {number}</p>" + (f"<p>NPM_TOKEN={token}</p>" if number == 1500 else "<p>filler text</p>" * 50)
        objects.append(
            content_object("Page", identity, f"Page {number}")
            + body_object(str(900000 + number), identity, "Page", text)
        )
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<hibernate-generic datetime="2026-02-02 10:00:00">\n'
        + "".join(objects)
        + "</hibernate-generic>\n"
    )
    root = tmp_path / "big"
    root.mkdir()
    (root / "entities.xml").write_text(xml)
    source = CONFLUENCE.open(str(root), ExportOptions(max_file_size=100 << 20))
    stats = SourceStats()
    chunks = list(source.chunks(stats))
    assert len(chunks) == 1
    chunk = chunks[0]
    assert chunk.locator is not None
    provenance, line, column = chunk.locator.place(chunk.content, chunk.content.index(token))
    assert dict(provenance.extra)["page_title"] == "Page 1500"
    assert (line, column) == (2, 11)
