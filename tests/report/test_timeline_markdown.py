"""``--format timeline-md``: summary by registry and severity, one section per
credential with every occurrence in time order; untrusted names are inert."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from scanner.model import Finding, Liveness, ScanResult, Severity
from scanner.report.timeline_markdown import TimelineMarkdownReporter, code, link, md, render_markdown
from scanner.timeline import build_timeline
from tests.report.test_serialize import FAKE_SECRET, make_finding, make_occurrence, make_result

T1 = datetime(2026, 1, 2, 9, 0, 0, tzinfo=UTC)
T2 = datetime(2026, 1, 3, 14, 30, 0, tzinfo=UTC)
T3 = datetime(2026, 1, 5, 8, 0, 0, tzinfo=UTC)
HOSTILE = '<script>alert("x")</script>|`*_[a](b)'


def _render(result: ScanResult) -> str:
    out = io.StringIO()
    TimelineMarkdownReporter().render(result, out)
    return out.getvalue()


def _incident() -> ScanResult:
    npm = make_finding(
        occurrences=(
            make_occurrence("releases/2026-01-03.json", 1, 10, source="slack", when=T2, author="Bob",
                            url="https://acme.slack.com/archives/C1/p1767450600000000",
                            extra=(("channel", "#releases"), ("visibility", "public"))),
            make_occurrence(".npmrc", 2, 34, source="git", commit="0123456789abcdef0123456789abcdef01234567",
                            author="Ada", when=T1, extra=(("repository", "app"), ("state", "history-only"))),
            make_occurrence("notes.txt", 4, 1),
            make_occurrence("ops/2026-01-05.json", 1, 1, source="slack", when=T3,
                            extra=(("channel", "#ops"), ("visibility", "private"))),
        ),
    )  # fmt: skip
    pypi = make_finding(
        rule_id="pypi-upload-token",
        rule_name="PyPI API token",
        registry="pypi",
        finding_id="b" * 24,
        secret="FAKE-SECRET-VALUE-0002",
        severity=Severity.HIGH,
        occurrences=(make_occurrence("build.log", 7, 3, source="ci-log", when=T1, extra=(("ci", "jenkins"),)),),
    )
    return make_result((pypi, npm), inputs_scanned=12, bytes_scanned=3 << 20)


def test_summary_table_by_registry_and_severity() -> None:
    text = _render(_incident())
    assert "| Registry | critical | high | medium | low | info | Total | Reached a public place | Still present |" in text
    assert "| npm | 1 | 0 | 0 | 0 | 0 | 1 | 1 | 1 |" in text
    assert "| pypi | 0 | 1 | 0 | 0 | 0 | 1 | 0 | 0 |" in text
    assert "| **all registries** | 1 | 1 | 0 | 0 | 0 | 2 | 1 | 1 |" in text
    assert "2 credentials (1 critical, 1 high) in 12 inputs (3.0 MB scanned). **1 reached a public place**." in text


def test_one_section_per_credential_most_severe_first() -> None:
    text = _render(_incident())
    npm = text.index("### 1. npm access token `FAKE-…0001`: critical")
    pypi = text.index("### 2. PyPI API token `FAKE-…0001`: high")
    assert text.index("## Summary by registry and severity") < text.index("## Credentials") < npm < pypi


def test_occurrences_in_time_order_untimed_last_with_facts() -> None:
    text = _render(_incident())
    section = text[text.index("### 1.") : text.index("### 2.")]
    rows = [line for line in section.splitlines() if line.startswith("| ") and line[2:3].isdigit()]
    assert rows == [
        (
            "| 1 | 2026-01-02 09:00:00 UTC | git history | git history of app | .npmrc:2:34 | unknown"
            " | commit 0123456789ab, history only, by Ada |"
        ),
        (
            "| 2 | 2026-01-03 14:30:00 UTC | chat | Slack #releases"
            " | [releases/2026-01-03.json:1:10](<https://acme.slack.com/archives/C1/p1767450600000000>) | **public** | by Bob |"
        ),
        "| 3 | 2026-01-05 08:00:00 UTC | chat | Slack #ops | ops/2026-01-05.json:1:1 | private |   |",
        "| 4 | *time unknown* | file | notes.txt | notes.txt:4:1 | unknown |   |",
    ]
    assert "| First exposure | 2026-01-02 09:00:00 UTC: git history of app, `.npmrc:2:34` |" in section
    assert "| Last exposure | 2026-01-05 08:00:00 UTC: Slack #ops, `ops/2026-01-05.json:1:1` |" in section
    assert "| Reached a public place | **yes**: Slack #releases, first on 2026-01-03 14:30:00 UTC |" in section
    assert "| Still present | yes: in the scanned files (notes.txt) |" in section
    assert "| Audit window | releases published since 2026-01-02 09:00:00 UTC, until the credential is revoked |" in section
    assert "| Revoke | [https://registry.example.test/settings/tokens](<https://registry.example.test/settings/tokens>) |" in section
    assert "**Remediation.** Revoke the token and publish from CI with a scoped token." in section
    assert "1 occurrence without a time (listed last)." in section
    other = text[text.index("### 2.") :]
    assert "| Reached a public place | no public place recorded (widest audience: internal) |" in other
    assert "| 1 | 2026-01-02 09:00:00 UTC | CI log | jenkins log build.log | build.log:7:3 | internal |   |" in other


def test_secrets_redacted_unless_asked_and_scrubbed_from_reasons() -> None:
    finding = make_finding(liveness_reason=f"decoded {FAKE_SECRET} fine")
    text = _render(make_result((finding,)))
    assert FAKE_SECRET not in text
    assert "live-looking: decoded \\[REDACTED\\] fine" in text
    assert "Secrets are redacted." in text
    shown = _render(make_result((finding,), show_secrets=True))
    assert f"| Secret | `{FAKE_SECRET}` |" in shown
    assert "Secrets are redacted" not in shown


def test_hostile_names_are_inert() -> None:
    finding = make_finding(
        rule_name=HOSTILE,
        occurrences=(
            make_occurrence(f"dir/{HOSTILE}.env", 1, 1, source="slack", author=HOSTILE, when=T1,
                            url="javascript:alert(1)", extra=(("channel", f"#{HOSTILE}"),)),
            make_occurrence("a.env", 1, 1, source="jsonl", url="https://x.test/a|b)<c>"),
        ),
    )  # fmt: skip
    text = _render(make_result((finding,)))
    assert "<script" not in text and "<" not in text.replace("](<https://", "")
    assert "&lt;script&gt;alert(\"x\")&lt;/script&gt;\\|\\`\\*\\_\\[a\\](b)" in text
    assert "javascript:" not in text  # a URL that is not http(s) is never linked
    assert "(<https://x.test/a%7Cb)%3Cc%3E>)" in text
    # Every table row still has its 7 cells: no '|' leaked from a name.
    rows = [line for line in text.splitlines() if line.startswith(("| 1 |", "| 2 |"))]
    assert len(rows) == 2
    assert all(line.replace("\\|", "").count("|") == 8 for line in rows)


def test_helpers() -> None:
    assert md("a|b <i>") == "a\\|b &lt;i&gt;"
    # Control characters are shown as escapes, whose backslash is then escaped.
    assert md("tab\there\x1b[31m") == "tab\\\\there\\\\x1b\\[31m"
    assert code("deploy/.npmrc:2:34") == "`deploy/.npmrc:2:34`"
    assert code("a`b") == "a\\`b"
    assert link("x", "file:///etc/passwd") == "x"
    assert link("x", "https://h.test/p") == "[x](<https://h.test/p>)"


def test_incomplete_scan_and_no_findings() -> None:
    result = make_result((), errors=("broken.zip: truncated",), gaps=("repo: missing object abc",))
    text = "\n".join(render_markdown(build_timeline(result)))
    assert "> **Scan incomplete.** What could not be read may hold more copies:" in text
    assert "> - error: broken.zip: truncated" in text
    assert "> - not scanned: repo: missing object abc" in text
    assert "No publication credentials found." in text
    assert "## Credentials" not in text


def test_expired_and_unknown_times_are_said_plainly() -> None:
    finding: Finding = make_finding(
        liveness=Liveness.EXPIRED, severity=Severity.INFO, expires_at=T1, occurrences=(make_occurrence("x.env", 1, 1),)
    )
    text = _render(make_result((finding,)))
    assert "| Expires | 2026-01-02 09:00:00 UTC |" in text
    assert "| First exposure | time unknown (no occurrence has a time) |" in text
    assert "Audit window" not in text
