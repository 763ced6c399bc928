"""``--format table``: grouping, places, summary, and no raw secret unless asked."""

from __future__ import annotations

import io

from scanner.model import ScanResult, Severity
from scanner.report.table import TableReporter, clean
from tests.report.test_serialize import FAKE_SECRET, make_finding, make_occurrence, make_result


def _table(result: ScanResult) -> str:
    out = io.StringIO()
    TableReporter().render(result, out)
    return out.getvalue()


def _result(**kwargs: object) -> ScanResult:
    many = tuple(make_occurrence(f"pkg/file{i}.env", i + 1, 3) for i in range(7))
    critical = make_finding(rule_id="npm-access-token", finding_id="a" * 24, occurrences=many)
    high = make_finding(
        rule_id="pypi-api-token",
        rule_name="PyPI API token",
        registry="pypi",
        finding_id="b" * 24,
        secret="FAKE-SECRET-VALUE-0002",
        severity=Severity.HIGH,
        occurrences=(
            make_occurrence(
                "deploy/publish.sh", 14, 21, source="git", commit="0123456789abcdef0123456789abcdef01234567"
            ),
        ),
    )
    low = make_finding(
        rule_id="github-pat",
        rule_name="GitHub token",
        registry="github",
        finding_id="c" * 24,
        secret="FAKE-SECRET-VALUE-0003",
        severity=Severity.LOW,
        occurrences=(make_occurrence("ci/log.txt", 88, 1),),
    )
    # Deliberately out of severity order: the reporter groups them.
    return make_result((low, critical, high), **kwargs)  # type: ignore[arg-type]


def test_grouped_by_severity_most_severe_first() -> None:
    text = _table(_result())
    critical = text.index("CRITICAL (1 finding)")
    high = text.index("HIGH (1 finding)")
    low = text.index("LOW (1 finding)")
    assert critical < high < low
    assert "MEDIUM" not in text
    assert critical < text.index("npm access token") < high < text.index("PyPI API token") < low
    assert low < text.index("GitHub token")


def test_columns_and_places() -> None:
    text = _table(_result())
    for header in ("Rule", "Secret", "Liveness", "Scope", "Where"):
        assert header in text
    assert "pkg/file0.env:1:3" in text
    assert "pkg/file4.env:5:3" in text
    assert "pkg/file5.env" not in text  # only the first five places
    assert "… and 2 more" in text
    assert "deploy/publish.sh:14:21 @ 0123456789" in text
    assert "0123456789a" not in text  # commit shortened to 10 characters
    assert "ci/log.txt:88:1" in text
    assert "FAKE-…0001" in text
    assert "live-looking" in text
    assert "publish: all packages" in text
    assert "pypi" in text


def test_no_raw_secret_by_default() -> None:
    result = _result()
    text = _table(result)
    for finding in result.findings:
        assert finding.secret not in text
    leaky = make_finding(liveness_reason=f"registry said {FAKE_SECRET}")
    assert FAKE_SECRET not in _table(make_result((leaky,)))


def test_raw_secret_with_show_secrets() -> None:
    text = _table(_result(show_secrets=True))
    assert FAKE_SECRET in text
    assert "FAKE-SECRET-VALUE-0002" in text
    assert "FAKE-…0001" in text


def test_plain_text_when_not_a_terminal() -> None:
    text = _table(_result())
    assert "\x1b" not in text
    long_path = "very/long/directory/name/" * 4 + "settings.npmrc"
    wide = _table(make_result((make_finding(occurrences=(make_occurrence(long_path, 120, 44),)),)))
    assert f"{long_path}:120:44" in wide  # not wrapped at 80 columns


def test_summary_line() -> None:
    text = _table(
        _result(
            inputs_scanned=42,
            bytes_scanned=3 * (1 << 20),
            seconds=1.25,
            skipped=(("larger than 100M", 1), ("binary", 2)),
            fake_suppressed=2,
        )
    )
    summary = next(line for line in text.splitlines() if line.startswith("3 findings"))
    assert summary.startswith("3 findings (1 critical, 1 high, 1 low)")
    assert "42 inputs scanned" in summary
    assert "3.0 MB scanned" in summary
    assert "1.2 s" in summary
    assert "skipped: 2 binary, 1 larger than 100M" in summary
    assert "2 fake/placeholder candidates hidden (use --include-fake)" in summary


def test_no_fake_note_when_none_hidden() -> None:
    assert "--include-fake" not in _table(_result(fake_suppressed=0))


def test_no_findings() -> None:
    text = _table(make_result(inputs_scanned=1, bytes_scanned=10))
    assert "No publication credentials found." in text
    assert "0 findings; 1 input scanned; 0.0 MB scanned" in text
    assert "CRITICAL" not in text
    assert "Rule" not in text


def test_errors_one_per_line() -> None:
    text = _table(make_result(errors=("broken.zip: not a zip file", "locked.txt: permission denied")))
    lines = text.splitlines()
    assert "Scan incomplete: 2 inputs could not be read:" in lines
    assert "  error: broken.zip: not a zip file" in lines
    assert "  error: locked.txt: permission denied" in lines


def test_hostile_names_are_escaped() -> None:
    finding = make_finding(occurrences=(make_occurrence("evil\x1b[2J[bold]name.txt", 1, 1),))
    text = _table(make_result((finding,)))
    assert "\x1b" not in text
    assert "evil\\x1b[2J[bold]name.txt:1:1" in text  # markup-looking text shown literally


def test_clean() -> None:
    assert clean("plain/path.txt") == "plain/path.txt"
    assert clean("a\x07b") == "a\\x07b"
    assert clean("rtl\u202eoverride") == "rtl\\u202eoverride"
    assert clean("caf\udce9") == "caf\\udce9"


def test_next_steps_name_remediation_and_revoke_url_once_per_rule() -> None:
    import io
    from dataclasses import replace

    from scanner.model import ScanResult, ScanStats
    from scanner.report.table import TableReporter

    base = make_finding()
    findings = (
        replace(base, remediation="Revoke it, then audit releases.", revoke_url="https://example.test/tokens"),
        replace(base, id="other", secret="FAKE-SECRET-VALUE-0002", remediation="Revoke it, then audit releases.", revoke_url="https://example.test/tokens"),
    )
    out = io.StringIO()
    TableReporter().render(ScanResult(findings=findings, stats=ScanStats()), out)
    text = out.getvalue()
    assert text.count("Revoke it, then audit releases. Revoke: https://example.test/tokens") == 1
    assert "Next steps" in text


def test_summary_counts_baselined_and_allowed_inline() -> None:
    text = _table(_result(baselined=4, allowed_inline=1))
    summary = next(line for line in text.splitlines() if line.startswith("3 findings"))
    assert summary.endswith("; 4 findings hidden by the baseline; 1 match allowed inline (sprawl:allow)")
    one = _table(make_result(baselined=1, allowed_inline=2))
    assert "0 findings;" in one
    assert "1 finding hidden by the baseline; 2 matches allowed inline (sprawl:allow)" in one
    assert "baseline" not in _table(_result()) and "sprawl:allow" not in _table(_result())


def test_place_of_a_chat_message_names_channel_time_author_and_link() -> None:
    from datetime import UTC, datetime

    from scanner.model import Occurrence, Provenance
    from scanner.report.table import place

    provenance = Provenance(
        source="slack",
        path="export.zip!releases/2026-03-01.json",
        author="Ada",
        when=datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
        url="https://acme.slack.com/archives/C1/p1772357400000100",
        extra=(("channel", "#releases"), ("ts", "1772357400.000100")),
    )
    text = place(Occurrence(provenance, 2, 7, 2, 47))
    assert text == (
        "export.zip!releases/2026-03-01.json:2:7 (#releases, 2026-03-01T09:30:00+00:00, by Ada)\n"
        "  https://acme.slack.com/archives/C1/p1772357400000100"
    )
