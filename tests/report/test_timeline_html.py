"""``--format timeline-html``: one self-contained page (no scripts, no
fetches), a summary by registry and severity, an SVG timeline per credential,
locations with links, remediation; untrusted names escaped, secrets redacted."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser

from scanner.exposure import PlaceKind
from scanner.model import ScanResult, Severity
from scanner.report.base import get_reporter
from scanner.report.timeline_html import KIND_COLOURS, TimelineHtmlReporter, anchor, esc, render_html
from scanner.timeline import build_timeline
from tests.report.test_serialize import FAKE_SECRET, make_finding, make_occurrence, make_result

T1 = datetime(2026, 1, 2, 9, 0, 0, tzinfo=UTC)
T2 = datetime(2026, 1, 3, 14, 30, 0, tzinfo=UTC)
T3 = datetime(2026, 3, 5, 8, 0, 0, tzinfo=UTC)
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>"\'&'

_VOID = {"meta", "br", "img", "link", "input", "hr", "col", "source", "wbr", "area", "base", "embed", "param", "track"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    parent: Element | None
    children: list[Element] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    def all_text(self) -> str:
        return "".join(self.text) + "".join(child.all_text() for child in self.children)

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def find(self, tag: str | None = None, css: str | None = None) -> list[Element]:
        found = []
        for child in self.children:
            if (tag is None or child.tag == tag) and (css is None or css in child.classes()):
                found.append(child)
            found.extend(child.find(tag, css))
        return found


class TreeBuilder(HTMLParser):
    """A small DOM from the page (the reporter writes well-formed markup)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {}, None)
        self.current = self.root
        self.mismatched: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(element)
        if tag not in _VOID:
            self.current = element

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.current.children.append(Element(tag, {k: v or "" for k, v in attrs}, self.current))

    def handle_endtag(self, tag: str) -> None:
        if tag == self.current.tag and self.current.parent is not None:
            self.current = self.current.parent
        else:
            self.mismatched.append(tag)

    def handle_data(self, data: str) -> None:
        self.current.text.append(data)


def parse(page: str) -> Element:
    builder = TreeBuilder()
    builder.feed(page)
    builder.close()
    assert builder.mismatched == []
    assert builder.current is builder.root
    return builder.root


def _render(result: ScanResult) -> str:
    out = io.StringIO()
    TimelineHtmlReporter().render(result, out)
    return out.getvalue()


def _incident() -> ScanResult:
    npm = make_finding(
        occurrences=(
            make_occurrence("releases/2026-01-03.json", 1, 10, source="slack", when=T2, author="Bob",
                            url="https://acme.slack.com/archives/C1/p1767450600000000",
                            extra=(("channel", "#releases"), ("visibility", "public"))),
            make_occurrence(".npmrc", 2, 34, source="git", commit="0123456789abcdef0123456789abcdef01234567",
                            author="Ada", when=T1, extra=(("repository", "app"), ("state", "still-present"))),
            make_occurrence("notes.txt", 4, 1),
            make_occurrence("build.log", 9, 1, source="ci-log", when=T3, extra=(("ci", "jenkins"),)),
        ),
    )  # fmt: skip
    pypi = make_finding(
        rule_id="pypi-upload-token",
        rule_name="PyPI API token",
        registry="pypi",
        finding_id="b" * 24,
        secret="FAKE-SECRET-VALUE-0002",
        severity=Severity.HIGH,
        occurrences=(make_occurrence("old.env", 7, 3),),
    )
    return make_result((pypi, npm), inputs_scanned=12, bytes_scanned=3 << 20)


def _hostile() -> ScanResult:
    finding = make_finding(
        rule_name=HOSTILE,
        occurrences=(
            make_occurrence(f"dir/{HOSTILE}.env", 1, 1, source="slack", author=HOSTILE, when=T1,
                            url="javascript:alert(1)", extra=(("channel", f"#{HOSTILE}"), ("visibility", "public"))),
            make_occurrence(f"{HOSTILE}.json", 1, 1, source="jsonl", when=T2,
                            url='https://x.test/p?a="onmouseover="alert(1)', extra=(("edited", HOSTILE),)),
            make_occurrence(f"{HOSTILE}.txt", 2, 2, source="git", author=HOSTILE, commit=HOSTILE,
                            extra=(("repository", HOSTILE), ("state", "unreachable"))),
        ),
    )  # fmt: skip
    return make_result((finding,), errors=(f"{HOSTILE}.zip: truncated",))


# ------------------------------------------------------------ structure


def test_page_has_header_summary_and_one_article_per_credential() -> None:
    page = _render(_incident())
    dom = parse(page)
    [header] = dom.find("header")
    assert header.attrs["id"] == "scan-summary"
    facts = dict(zip([dt.all_text() for dt in header.find("dt")], [dd.all_text() for dd in header.find("dd")], strict=True))
    assert facts["Credentials"] == "2"
    assert facts["Reached a public place"] == "1"
    assert facts["Inputs scanned"] == "12"
    assert facts["Scanned"] == "3.0 MB"
    assert facts["Exposure window"] == "2026-01-02 09:00:00 UTC to 2026-03-05 08:00:00 UTC"
    [summary] = dom.find("table", "summary")
    rows = [[cell.all_text() for cell in row.find("td")] for row in summary.find("tr") if row.find("td")]
    assert rows == [
        ["npm", "1", "0", "0", "0", "0", "1", "1", "1"],
        ["pypi", "0", "1", "0", "0", "0", "1", "0", "1"],
        ["all registries", "1", "1", "0", "0", "0", "2", "1", "2"],
    ]
    articles = dom.find("article", "credential")
    assert [a.attrs["id"] for a in articles] == ["credential-1", "credential-2"]
    assert "sev-critical" in articles[0].classes() and "sev-high" in articles[1].classes()


def test_svg_timeline_has_axis_markers_first_last_and_public_highlight() -> None:
    dom = parse(_render(_incident()))
    [svg] = dom.find("article", "credential")[0].find("svg")
    assert svg.attrs["xmlns"] == "http://www.w3.org/2000/svg"
    assert re.fullmatch(r"0 0 1000 \d+", svg.attrs["viewbox"])
    lanes = [t.all_text() for t in svg.find("text", "lane-label")]
    assert lanes == ["git history", "CI log", "chat", "file"]
    events = svg.find("g", "event")
    assert [e.attrs["data-index"] for e in events] == ["1", "2", "3", "4"]
    kinds = [next(c for c in e.classes() if c.startswith("kind-")) for e in events]
    assert kinds == ["kind-git", "kind-chat", "kind-ci-log", "kind-file"]
    # Markers are coloured by kind; only the public one has a ring.
    fills = [e.find("circle", "marker")[0].attrs["fill"] for e in events]
    assert fills == [KIND_COLOURS[k] for k in (PlaceKind.GIT, PlaceKind.CHAT, PlaceKind.CI_LOG, PlaceKind.FILE)]
    assert [bool(e.find("circle", "public-ring")) for e in events] == [False, True, False, False]
    assert "public" in events[1].classes()
    # Time order left to right; the untimed one sits in its own box.
    xs = [float(e.find("circle", "marker")[0].attrs["cx"]) for e in events]
    assert xs[0] < xs[1] < xs[2] < xs[3]
    assert "untimed" in events[3].classes()
    [box] = svg.find("g", "untimed-box")
    assert box.all_text() == "time unknown"
    [first] = svg.find("g", "first-exposure")
    [last] = svg.find("g", "last-exposure")
    assert first.all_text() == "first exposure" and last.all_text() == "last exposure"
    assert float(first.find("line")[0].attrs["x1"]) == xs[0]
    assert float(last.find("line")[0].attrs["x1"]) == xs[2]
    [band] = svg.find("g", "public-exposure")
    assert band.all_text() == "public from 2026-01-03 14:30:00 UTC"
    [axis] = svg.find("g", "axis")
    assert [t.all_text() for t in axis.find("text", "tick-label")] == ["2026-01-02", "2026-01-03", "2026-03-05"]
    assert len(axis.find("line", "tick")) == 3
    # Each marker explains itself on hover, without any script.
    assert events[1].find("title")[0].all_text() == (
        "#2 2026-01-03 14:30:00 UTC, Slack #releases, releases/2026-01-03.json:1:10 (public)"
    )


def test_a_single_time_and_no_time_at_all() -> None:
    once = make_finding(occurrences=(make_occurrence("a.log", 1, 1, source="ci-log", when=T1),))
    never = make_finding(finding_id="c" * 24, occurrences=(make_occurrence("b.env", 1, 1),))
    dom = parse(_render(make_result((once, never))))
    first, second = (a.find("svg")[0] for a in dom.find("article", "credential"))
    [mark] = first.find("g", "first-exposure")
    assert mark.all_text() == "first and last exposure"
    assert not first.find("g", "last-exposure")
    assert not second.find("g", "axis")
    assert [t.all_text() for t in second.find("text", "no-times")] == ["No occurrence of this credential has a known time."]
    assert second.find("g", "untimed-box")


def test_locations_table_links_and_remediation() -> None:
    dom = parse(_render(_incident()))
    article = dom.find("article", "credential")[0]
    [table] = article.find("table", "locations")
    rows = [[cell.all_text().strip() for cell in row.find("td")] for row in table.find("tr") if row.find("td")]
    assert rows == [
        ["1", "2026-01-02 09:00:00 UTC", "git history", "git history of app", ".npmrc:2:34", "unknown",
         "commit 0123456789ab, still present, by Ada"],
        ["2", "2026-01-03 14:30:00 UTC", "chat", "Slack #releases", "releases/2026-01-03.json:1:10", "public", "by Bob"],
        ["3", "2026-03-05 08:00:00 UTC", "CI log", "jenkins log build.log", "build.log:9:1", "internal", ""],
        ["4", "time unknown", "file", "notes.txt", "notes.txt:4:1", "unknown", ""],
    ]  # fmt: skip
    links = {a.all_text(): a.attrs["href"] for a in table.find("a")}
    assert links == {"releases/2026-01-03.json:1:10": "https://acme.slack.com/archives/C1/p1767450600000000"}
    assert "public-row" in table.find("tr")[2].classes()
    [remedy] = article.find("div", "remediation")
    text = remedy.all_text()
    assert "It reached a public place: treat it as compromised." in text
    assert "Revoke the token and publish from CI with a scoped token." in text
    assert "Still present: yes: in the current tree of the default branch (.npmrc)" in text
    [revoke] = remedy.find("a", "revoke")
    assert revoke.attrs["href"] == "https://registry.example.test/settings/tokens"
    # Only http(s) references become links.
    assert [a.attrs["href"] for a in remedy.find("a") if "revoke" not in a.classes()] == ["https://docs.example.test/tokens"]
    facts = article.find("dl", "facts")[0]
    pairs = dict(zip([d.all_text() for d in facts.find("dt")], [d.all_text() for d in facts.find("dd")], strict=True))
    assert pairs["Reached a public place"] == "yes: Slack #releases, first on 2026-01-03 14:30:00 UTC"
    assert pairs["First exposure"] == "2026-01-02 09:00:00 UTC, git history of app, .npmrc:2:34"
    assert pairs["Last exposure"] == "2026-03-05 08:00:00 UTC, jenkins log build.log, build.log:9:1"


# ------------------------------------------------------------ safety


def _assert_self_contained(page: str) -> None:
    lowered = page.lower()
    assert "<script" not in lowered
    assert "<link" not in lowered
    assert 'src="http' not in lowered
    assert "url(" not in lowered and "@import" not in lowered and "@font-face" not in lowered
    assert "<iframe" not in lowered and "<object" not in lowered and "<embed" not in lowered
    dom = parse(page)
    for element in dom.find():
        assert element.tag not in ("script", "img", "link", "iframe", "object", "embed", "image", "use", "foreignobject")
        assert not any(name.startswith("on") for name in element.attrs), element
        if "href" in element.attrs:
            assert element.tag == "a" and element.attrs["href"].startswith(("https://", "http://", "#"))
    [csp] = [m for m in dom.find("meta") if m.attrs.get("http-equiv") == "Content-Security-Policy"]
    assert csp.attrs["content"].startswith("default-src 'none'")


def test_self_contained() -> None:
    _assert_self_contained(_render(_incident()))
    _assert_self_contained(_render(_hostile()))


def test_hostile_names_are_escaped_everywhere() -> None:
    page = _render(_hostile())
    _assert_self_contained(page)
    assert HOSTILE not in page
    assert esc(HOSTILE) in page
    dom = parse(page)
    # What a reader sees is the name as it was, character for character.
    [article] = dom.find("article", "credential")
    assert HOSTILE in article.find("h3")[0].all_text()
    [table] = article.find("table", "locations")
    cells = [[c.all_text() for c in row.find("td")] for row in table.find("tr") if row.find("td")]
    assert cells[0][3] == f"Slack #{HOSTILE}"
    assert cells[0][4] == f"dir/{HOSTILE}.env:1:1"
    assert cells[0][6] == f"by {HOSTILE}"
    assert cells[2][6] == f"commit {HOSTILE[:12]}, unreachable, by {HOSTILE}"
    # javascript: is never a link; a quote cannot leave the href attribute.
    hrefs = [a.attrs["href"] for a in table.find("a")]
    assert hrefs == ['https://x.test/p?a="onmouseover="alert(1)']
    titles = [t.all_text() for t in article.find("title")]
    assert any(f"Slack #{HOSTILE}" in t for t in titles)
    assert dom.find("div", "incomplete")[0].all_text().endswith(f"error: {HOSTILE}.zip: truncated")


def test_secrets_redacted_unless_asked() -> None:
    finding = make_finding(liveness_reason=f"decoded {FAKE_SECRET} fine", scope=f"scope {FAKE_SECRET}")
    page = _render(make_result((finding,)))
    assert FAKE_SECRET not in page
    assert "decoded [REDACTED] fine" in page
    assert "Secrets are redacted" in page
    shown = _render(make_result((finding,), show_secrets=True))
    dom = parse(shown)
    [secret] = dom.find("code", "secret")
    assert secret.all_text() == FAKE_SECRET
    assert "handle this file as a secret" in shown


def test_no_findings_and_registry_name() -> None:
    page = _render(make_result(()))
    dom = parse(page)
    assert dom.find("p", "none")[0].all_text() == "No publication credentials found."
    assert not dom.find("svg")
    assert isinstance(get_reporter("timeline-html"), TimelineHtmlReporter)
    assert render_html(build_timeline(make_result(()))).startswith("<!DOCTYPE html>")


def test_anchor_helper() -> None:
    assert anchor("x", "javascript:alert(1)") == "x"
    assert anchor("<b>", "data:text/html,hi") == "&lt;b&gt;"
    assert anchor("a", "https://h.test/?q=<x>") == '<a href="https://h.test/?q=&lt;x&gt;" rel="noopener noreferrer">a</a>'

