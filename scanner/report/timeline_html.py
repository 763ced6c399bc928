"""``--format timeline-html``: the incident report as ONE self-contained HTML
file (inline CSS and SVG; no scripts, fonts, images or other fetches), with
a per-credential exposure timeline drawn as SVG."""

from __future__ import annotations

import html
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TextIO

import scanner
from scanner.exposure import Audience, PlaceKind
from scanner.model import ScanResult
from scanner.report.base import Reporter
from scanner.timeline import (
    SEVERITIES_DESCENDING,
    CredentialTimeline,
    Event,
    SummaryRow,
    Timeline,
    build_timeline,
    clean,
    format_time,
    masked,
    web_url,
)

KIND_COLOURS: dict[PlaceKind, str] = {
    PlaceKind.GIT: "#7c3aed",
    PlaceKind.CI_LOG: "#d97706",
    PlaceKind.CHAT: "#2563eb",
    PlaceKind.DOCS: "#059669",
    PlaceKind.FILE: "#64748b",
}
PUBLIC_COLOUR = "#dc2626"

# Nothing may be fetched or run even if some text slipped through escaping.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

_CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: #1f2937; background: #f8fafc; }
header.report { background: #0f172a; color: #f8fafc; padding: 24px 32px; }
header.report h1 { margin: 0 0 4px; font-size: 26px; }
header.report .meta { margin: 0 0 16px; color: #cbd5e1; }
header.report dl { display: flex; flex-wrap: wrap; gap: 10px 28px; margin: 0; }
header.report dl div { min-width: 120px; }
header.report dt { font-size: 12px; text-transform: uppercase; letter-spacing: .05em; color: #94a3b8; }
header.report dd { margin: 0; font-size: 20px; font-weight: 600; }
header.report dd.alert { color: #fca5a5; }
main { padding: 8px 32px 40px; max-width: 1280px; }
h2 { margin: 28px 0 12px; font-size: 20px; }
table { border-collapse: collapse; background: #fff; margin: 8px 0 16px; }
th, td { border: 1px solid #e2e8f0; padding: 5px 9px; text-align: left; vertical-align: top; }
th { background: #f1f5f9; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: 700; background: #f8fafc; }
td.zero { color: #cbd5e1; }
code { font: 13px/1.3 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; overflow-wrap: anywhere; }
.incomplete { background: #fef3c7; border: 1px solid #f59e0b; color: #78350f; padding: 10px 14px; margin: 16px 0;
  border-radius: 6px; }
.incomplete ul { margin: 6px 0 0; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 18px; margin: 8px 0 16px; font-size: 13px; }
.legend span { display: inline-flex; align-items: center; gap: 6px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 50%; border: 1px solid #fff;
  outline: 1px solid #cbd5e1; }
.swatch.ring { background: #fff; border: 3px solid #dc2626; outline: none; width: 14px; height: 14px; }
nav.index ol { columns: 2; margin: 0 0 8px; }
article.credential { background: #fff; border: 1px solid #e2e8f0; border-left: 6px solid #64748b; border-radius: 8px;
  padding: 14px 20px 10px; margin: 0 0 28px; }
article.sev-critical { border-left-color: #991b1b; }
article.sev-high { border-left-color: #dc2626; }
article.sev-medium { border-left-color: #d97706; }
article.sev-low { border-left-color: #0891b2; }
article.sev-info { border-left-color: #94a3b8; }
article h3 { margin: 0 0 10px; font-size: 18px; overflow-wrap: anywhere; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 700;
  text-transform: uppercase; letter-spacing: .04em; color: #fff; background: #64748b; vertical-align: 2px; }
.badge.sev-critical { background: #991b1b; }
.badge.sev-high { background: #dc2626; }
.badge.sev-medium { background: #d97706; }
.badge.sev-low { background: #0891b2; }
.badge.sev-info { background: #94a3b8; }
.badge.aud-public { background: #dc2626; }
.badge.aud-internal { background: #d97706; }
.badge.aud-private { background: #059669; }
.badge.aud-unknown { background: #94a3b8; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 3px 16px; margin: 0 0 12px; }
dl.facts dt { font-weight: 600; color: #475569; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
dd.public { color: #b91c1c; font-weight: 600; }
figure.timeline { margin: 6px 0 10px; }
figure.timeline svg { width: 100%; height: auto; display: block; background: #fff; }
figure.timeline figcaption { font-size: 12px; color: #64748b; }
table.locations { width: 100%; font-size: 13px; }
table.locations td.loc { overflow-wrap: anywhere; }
tr.public-row td { background: #fef2f2; }
tr.untimed-row td.when { color: #92400e; font-style: italic; }
.remediation { background: #f0fdf4; border: 1px solid #bbf7d0; border-radius: 6px; padding: 8px 14px; margin: 6px 0 8px; }
.remediation h4 { margin: 0 0 4px; }
.remediation p { margin: 4px 0; }
a { color: #1d4ed8; }
footer { color: #64748b; font-size: 12px; padding: 0 32px 24px; }
@media print { body { background: #fff; } article.credential { break-inside: avoid; } }
"""


def esc(text: str) -> str:
    """Untrusted ``text`` for HTML element content and quoted attributes."""
    return html.escape(clean(text), quote=True)


def anchor(text: str, url: str | None, css_class: str = "") -> str:
    """A link to an http(s) ``url``, else the escaped text alone."""
    target = web_url(url)
    if target is None:
        return esc(text)
    attributes = f' class="{css_class}"' if css_class else ""
    return f'<a{attributes} href="{html.escape(target, quote=True)}" rel="noopener noreferrer">{esc(text)}</a>'


def _class(css: str) -> str:
    """A ` class="..."` attribute, or nothing."""
    return f' class="{css}"' if css else ""


class TimelineHtmlReporter(Reporter):
    """Credential exposure timelines as a self-contained HTML incident report."""

    def render(self, result: ScanResult, out: TextIO) -> None:
        out.write(render_html(build_timeline(result), generated=datetime.now(UTC)))


def render_html(timeline: Timeline, *, generated: datetime | None = None) -> str:
    """The whole HTML document."""
    result = timeline.result
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>sprawl: credential exposure timeline</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        _header(timeline, generated),
        "<main>",
    ]
    parts.append(_incomplete(result))
    parts.append('<section id="summary">')
    parts.append("<h2>Summary by registry and severity</h2>")
    parts.append(_summary(timeline))
    parts.append("</section>")
    parts.append('<section id="credentials">')
    parts.append("<h2>Credentials</h2>")
    if not timeline.credentials:
        parts.append('<p class="none">No publication credentials found.</p>')
    else:
        parts.append(_legend())
        parts.append(_index(timeline.credentials))
        for number, credential in enumerate(timeline.credentials, start=1):
            parts.append(_credential(number, credential, result.show_secrets))
    parts.append("</section>")
    parts.append("</main>")
    parts.append(
        "<footer>Times are UTC, each occurrence at its own time (commit author date, log line timestamp,"
        " message time); occurrences without a time are listed last. "
        + ("Raw secret values are included: handle this file as a secret." if result.show_secrets
           else "Secrets are redacted (prefix and last characters) and identified by sha256.")
        + "</footer>"
    )
    parts.append("</body>")
    parts.append("</html>")
    return "\n".join(part for part in parts if part) + "\n"


def _header(timeline: Timeline, generated: datetime | None) -> str:
    result = timeline.result
    stats = result.stats
    totals = timeline.totals
    meta = f"Generated by sprawl {esc(scanner.__version__)}"
    if generated is not None:
        meta += f" on {esc(format_time(generated))}"
    window = "no times known"
    if timeline.start is not None:
        window = f"{format_time(timeline.start)} to {format_time(timeline.end)}"
    items = [
        ("Credentials", str(totals.total), ""),
        ("Reached a public place", str(totals.public), "alert" if totals.public else ""),
        ("Still present", str(totals.still_present), "alert" if totals.still_present else ""),
        ("Inputs scanned", str(stats.inputs_scanned), ""),
        ("Scanned", f"{stats.bytes_scanned / (1 << 20):.1f} MB", ""),
        ("Exposure window", window, ""),
    ]
    cells = "".join(
        f"<div><dt>{esc(name)}</dt><dd{_class(css)}>{esc(value)}</dd></div>"
        for name, value, css in items
    )
    return (
        '<header class="report" id="scan-summary">'
        "<h1>Credential exposure timeline</h1>"
        f'<p class="meta">{meta}</p>'
        f"<dl>{cells}</dl>"
        "</header>"
    )


def _incomplete(result: ScanResult) -> str:
    if not result.incomplete:
        return ""
    items = [f"<li>error: {esc(e)}</li>" for e in result.stats.errors]
    items += [f"<li>not scanned: {esc(g)}</li>" for g in result.stats.gaps]
    return (
        '<div class="incomplete" id="incomplete"><strong>Scan incomplete.</strong> What could not be read may hold'
        f" more copies:<ul>{''.join(items)}</ul></div>"
    )


def _summary_row(row: SummaryRow, css: str = "") -> str:
    cells = [f"<td>{esc(row.registry)}</td>"]
    for _, count in row.by_severity:
        cells.append(f'<td class="num{" zero" if not count else ""}">{count}</td>')
    cells.append(f'<td class="num">{row.total}</td>')
    cells.append(f'<td class="num">{row.public}</td>')
    cells.append(f'<td class="num">{row.still_present}</td>')
    attribute = f' class="{css}"' if css else ""
    return f"<tr{attribute}>{''.join(cells)}</tr>"


def _summary(timeline: Timeline) -> str:
    head = "".join(f'<th class="num">{s.value}</th>' for s in SEVERITIES_DESCENDING)
    rows = "".join(_summary_row(row) for row in timeline.summary)
    return (
        '<table class="summary"><thead><tr><th>Registry</th>'
        f'{head}<th class="num">Total</th><th class="num">Reached a public place</th>'
        '<th class="num">Still present</th></tr></thead>'
        f"<tbody>{rows}{_summary_row(timeline.totals, 'total')}</tbody></table>"
    )


def _legend() -> str:
    kinds = "".join(
        f'<span><i class="swatch" style="background:{colour}"></i>{esc(kind.label)}</span>'
        for kind, colour in KIND_COLOURS.items()
    )
    return (
        f'<div class="legend" id="legend">{kinds}'
        '<span><i class="swatch ring"></i>public place</span>'
        "<span>&#9474; dashed lines: first and last exposure</span></div>"
    )


def _index(credentials: Sequence[CredentialTimeline]) -> str:
    items = []
    for number, credential in enumerate(credentials, start=1):
        finding = credential.finding
        public = " (public)" if credential.reached_public else ""
        items.append(
            f'<li><a href="#credential-{number}">{esc(finding.rule_name)}</a> {esc(finding.severity.value)}{public}</li>'
        )
    return f'<nav class="index"><ol>{"".join(items)}</ol></nav>'


def _event_text(event: Event) -> str:
    return f"{format_time(event.when)}, {event.exposure.place}, {event.location}"


def _credential(number: int, credential: CredentialTimeline, show_secrets: bool) -> str:
    finding = credential.finding
    severity = finding.severity.value
    redacted = masked(finding.redacted, finding, show_secrets)
    parts = [
        f'<article class="credential sev-{severity}" id="credential-{number}">',
        (
            f'<h3><span class="badge sev-{severity}">{severity}</span> {number}. {esc(finding.rule_name)}'
            f" <code>{esc(redacted)}</code></h3>"
        ),
        _facts(credential, show_secrets),
        _figure(number, credential),
        _locations(credential),
        _remediation(credential),
        "</article>",
    ]
    return "\n".join(p for p in parts if p)


def _facts(credential: CredentialTimeline, show_secrets: bool) -> str:
    finding = credential.finding
    liveness = finding.liveness.value
    if finding.liveness_reason:
        liveness += f": {masked(finding.liveness_reason, finding, show_secrets)}"
    rows: list[tuple[str, str, str]] = [
        ("Rule", f"<code>{esc(finding.rule_id)}</code> ({esc(finding.registry)}, {esc(finding.kind)})", ""),
        ("Liveness", esc(liveness), ""),
        ("Scope", esc(masked(finding.scope or finding.breadth.value, finding, show_secrets)), ""),
    ]
    if finding.expires_at is not None:
        rows.append(("Expires", esc(format_time(finding.expires_at)), ""))
    rows.append(("sha256", f"<code>{esc(finding.secret_sha256)}</code>", ""))
    if show_secrets and finding.secret:
        rows.append(("Secret", f'<code class="secret">{esc(finding.secret)}</code>', ""))
    rows.append(("First exposure", esc(_event_text(credential.first)) if credential.first else "time unknown", "first"))
    rows.append(("Last exposure", esc(_event_text(credential.last)) if credential.last else "time unknown", "last"))
    if credential.reached_public:
        first = credential.first_public
        when = f", first on {format_time(first.when)}" if first is not None and first.when is not None else ""
        rows.append(("Reached a public place", "yes: " + esc(", ".join(credential.public_places) + when), "public"))
    else:
        rows.append(("Reached a public place", esc(f"no (widest audience: {credential.audience.value})"), "not-public"))
    rows.append(("Still present", esc(credential.presence), "presence"))
    if credential.first is not None and credential.first.when is not None:
        rows.append(
            ("Audit window", esc(f"releases published since {format_time(credential.first.when)}, until revoked"), "")
        )
    body = "".join(
        f"<dt>{esc(name)}</dt><dd{_class(css)}>{value}</dd>" for name, value, css in rows
    )
    return f'<dl class="facts">{body}</dl>'


# ------------------------------------------------------------------ SVG

_WIDTH = 1000
_LEFT = 118  # lane labels
_RIGHT_PAD = 16
_UNTIMED_WIDTH = 150
_TOP = 58  # room for the public-from and first/last labels
_LANE = 44
_AXIS = 50
_RADIUS = 7
_SPREAD = (0, -12, 12)  # vertical offsets for markers that would overlap
_LABEL_ROOM = 84  # pixels a tick label needs
_LABEL_CHAR = 7  # rough width of one character of a bold 11px label

# Maps a time to an x coordinate of the plot.
_XOf = Callable[[datetime], float]


@dataclass(frozen=True)
class _Placed:
    index: int
    event: Event
    x: float
    y: float


def _lanes(credential: CredentialTimeline) -> list[PlaceKind]:
    present = {e.kind for e in credential.events}
    return [kind for kind in PlaceKind if kind in present]


def _spread(points: list[tuple[int, Event, float]], lane_y: float) -> list[_Placed]:
    """Markers of one lane, nudged up or down where they would overlap."""
    placed: list[_Placed] = []
    last_x: list[float] = [float("-inf")] * len(_SPREAD)
    for index, event, x in sorted(points, key=lambda p: p[2]):
        row = next((r for r in range(len(_SPREAD)) if x - last_x[r] >= 2 * _RADIUS + 2), 0)
        last_x[row] = x
        placed.append(_Placed(index, event, x, lane_y + _SPREAD[row]))
    return placed


def _tick_format(span_seconds: float) -> str:
    if span_seconds >= 2 * 86400:
        return "%Y-%m-%d"
    if span_seconds >= 3600:
        return "%m-%d %H:%M"
    return "%H:%M:%S"


def _duration(seconds: float) -> str:
    """A gap's length, roughly: ``+2 y``, ``+45 d``, ``+3 h``, ``+12 min``."""
    if seconds >= 2 * 365 * 86400:
        return f"+{seconds / (365 * 86400):.0f} y"
    if seconds >= 2 * 86400:
        return f"+{seconds / 86400:.0f} d"
    if seconds >= 2 * 3600:
        return f"+{seconds / 3600:.0f} h"
    return f"+{max(seconds / 60, 1):.0f} min"


@dataclass(frozen=True)
class _Scale:
    """Where each distinct time sits on the axis.

    Exposures cluster (a leak, then its copies within hours) after long quiet
    spells, so each gap gets room by the logarithm of its length: order and
    rough proportion are kept, and a burst of copies stays readable.
    """

    positions: tuple[tuple[datetime, float], ...]
    lookup: dict[datetime, float] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(cls, times: Sequence[datetime], left: float, right: float) -> _Scale:
        distinct = sorted(set(times))
        if len(distinct) == 1:
            only = ((distinct[0], (left + right) / 2),)
            return cls(only, dict(only))
        weights = [math.log1p((b - a).total_seconds() / 60) for a, b in itertools.pairwise(distinct)]
        total = sum(weights) or 1.0
        positions = [(distinct[0], left)]
        x = left
        for when, weight in zip(distinct[1:], weights, strict=True):
            x += weight / total * (right - left)
            positions.append((when, x))
        return cls(tuple(positions), dict(positions))

    def x(self, when: datetime) -> float:
        """The position of ``when``, one of the times the scale was built from."""
        return self.lookup[when]


def _figure(number: int, credential: CredentialTimeline) -> str:
    lanes = _lanes(credential)
    height = _TOP + _LANE * len(lanes) + _AXIS
    timed = [(i, e) for i, e in enumerate(credential.events, start=1) if e.when is not None]
    untimed = [(i, e) for i, e in enumerate(credential.events, start=1) if e.when is None]
    plot_left = _LEFT + 10
    if untimed and timed:
        plot_right = _WIDTH - _RIGHT_PAD - _UNTIMED_WIDTH - 20
        box_left = _WIDTH - _RIGHT_PAD - _UNTIMED_WIDTH
    elif untimed:
        plot_right = plot_left
        box_left = plot_left
    else:
        plot_right = _WIDTH - _RIGHT_PAD
        box_left = _WIDTH
    lanes_bottom = _TOP + _LANE * len(lanes)
    label = f"Exposure timeline of credential {number}: {len(credential.events)} occurrences"
    svg: list[str] = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline-svg" viewBox="0 0 {_WIDTH} {height}"'
            f' width="{_WIDTH}" height="{height}" role="img" aria-label="{esc(label)}"'
            ' font-family="system-ui, sans-serif" font-size="12">'
        ),
        f"<title>{esc(label)}</title>",
    ]
    # Lanes, one per kind of place.
    for row, kind in enumerate(lanes):
        y = _TOP + _LANE * row
        fill = "#f8fafc" if row % 2 == 0 else "#ffffff"
        svg.append(f'<rect class="lane" x="0" y="{y}" width="{_WIDTH}" height="{_LANE}" fill="{fill}"/>')
        svg.append(
            f'<text class="lane-label" x="{_LEFT - 8}" y="{y + _LANE / 2 + 4}" text-anchor="end"'
            f' fill="{KIND_COLOURS[kind]}" font-weight="600">{esc(kind.label)}</text>'
        )
    placed: list[_Placed] = []
    if timed:
        scale = _Scale.build([e.when for _, e in timed if e.when is not None], plot_left + 14, plot_right - 14)
        svg.extend(_public_band(credential, scale.x, plot_right, lanes_bottom))
        svg.extend(_axis(scale, plot_left, plot_right, lanes_bottom))
        svg.extend(_first_last(credential, scale.x, lanes_bottom))
        for row, kind in enumerate(lanes):
            lane_y = _TOP + _LANE * row + _LANE / 2
            points = [(i, e, scale.x(e.when)) for i, e in timed if e.kind is kind and e.when is not None]
            placed.extend(_spread(points, lane_y))
    else:
        svg.append(
            f'<text class="no-times" x="{_LEFT + 10}" y="{_TOP - 14}" fill="#92400e">'
            "No occurrence of this credential has a known time.</text>"
        )
    if untimed:
        box_width = _WIDTH - _RIGHT_PAD - box_left
        svg.append(
            f'<g class="untimed-box"><rect x="{box_left}" y="{_TOP - 4}" width="{box_width}"'
            f' height="{lanes_bottom - _TOP + 8}" fill="#fffbeb" stroke="#d97706" stroke-dasharray="4 3" rx="4"/>'
            f'<text x="{box_left + box_width / 2}" y="{lanes_bottom + 20}" text-anchor="middle" fill="#92400e"'
            ' font-style="italic">time unknown</text></g>'
        )
        for row, kind in enumerate(lanes):
            lane_y = _TOP + _LANE * row + _LANE / 2
            members = [(i, e) for i, e in untimed if e.kind is kind]
            if not members:
                continue
            step = min(20.0, (box_width - 24) / max(len(members) - 1, 1))
            points = [(i, e, box_left + 12 + step * n) for n, (i, e) in enumerate(members)]
            placed.extend(_spread(points, lane_y))
    numbered = len(credential.events) <= 40
    for mark in sorted(placed, key=lambda m: m.index):
        svg.append(_marker(mark, numbered))
    svg.append("</svg>")
    caption = "Each marker is one occurrence, coloured by kind of place; a red ring marks a public place."
    return f'<figure class="timeline" id="timeline-{number}">{"".join(svg)}<figcaption>{caption}</figcaption></figure>'


def _axis(scale: _Scale, left: float, right: float, bottom: float) -> list[str]:
    """The time line: a tick at every exposure time, labels where they fit,
    and the length of each long gap between exposures."""
    y = bottom + 6
    out = [
        f'<g class="axis"><line x1="{left}" y1="{y}" x2="{right}" y2="{y}" stroke="#475569" stroke-width="1.5"/>',
        f'<text x="{_LEFT - 8}" y="{y + 34}" text-anchor="end" fill="#64748b" font-size="11">UTC</text>',
    ]
    positions = scale.positions
    first, last = positions[0][0], positions[-1][0]
    fmt = _tick_format((last - first).total_seconds())
    labelled: list[int] = []
    for index, (_, x) in enumerate(positions):
        if not labelled or x - positions[labelled[-1]][1] >= _LABEL_ROOM:
            labelled.append(index)
        elif index == len(positions) - 1:
            labelled[-1] = index  # the last exposure's label wins over its neighbour's
    for index, (when, x) in enumerate(positions):
        out.append(f'<line class="tick" x1="{x:.1f}" y1="{y}" x2="{x:.1f}" y2="{y + 5}" stroke="#475569"/>')
        if index in labelled:
            text = when.strftime(fmt)
            # A label centred on a tick near the edge would be cut off.
            half = _LABEL_CHAR * len(text) / 2
            side = "end" if x + half > _WIDTH - 2 else "start" if x - half < 2 else "middle"
            out.append(
                f'<text class="tick-label" x="{x:.1f}" y="{y + 18}" text-anchor="{side}"'
                f' fill="#334155">{esc(text)}</text>'
            )
    for (a, xa), (b, xb) in itertools.pairwise(positions):
        gap = (b - a).total_seconds()
        if gap >= 3600 and xb - xa >= _LABEL_ROOM:
            middle = (xa + xb) / 2
            out.append(
                f'<g class="gap"><path d="M{middle - 5:.1f},{y + 5} l4,-10 M{middle + 1:.1f},{y + 5} l4,-10"'
                f' stroke="#475569" stroke-width="1.5"/><text x="{middle:.1f}" y="{y + 34}" text-anchor="middle"'
                f' fill="#64748b" font-size="11">{esc(_duration(gap))}</text></g>'
            )
    out.append("</g>")
    return out


def _first_last(credential: CredentialTimeline, x_of: _XOf, bottom: float) -> list[str]:
    first, last = credential.first, credential.last
    if first is None or last is None or first.when is None or last.when is None:
        return []
    out: list[str] = []
    same = first.when == last.when
    marks = [("first-exposure", first.when, "first and last exposure" if same else "first exposure", "start")]
    if not same:
        marks.append(("last-exposure", last.when, "last exposure", "end"))
    for css, when, text, side in marks:
        x = x_of(when)
        anchor_side = "middle" if same else side
        out.append(
            f'<g class="{css}"><line x1="{x:.1f}" y1="{_TOP - 16}" x2="{x:.1f}" y2="{bottom}" stroke="#0f172a"'
            f' stroke-width="1.2" stroke-dasharray="5 4"/><text x="{x:.1f}" y="{_TOP - 20}"'
            f' text-anchor="{anchor_side}" fill="#0f172a" font-weight="600">{esc(text)}</text></g>'
        )
    return out


def _public_band(credential: CredentialTimeline, x_of: _XOf, right: float, bottom: float) -> list[str]:
    """From the first public exposure on, the secret is public: shade it."""
    timed_public = [e for e in credential.public_events if e.when is not None]
    if not timed_public or timed_public[0].when is None:
        return []
    x = x_of(timed_public[0].when) - _RADIUS - 5
    label = f"public from {format_time(timed_public[0].when)}"
    # Start the label inside the band; near the right edge, end it there.
    if x + 4 + _LABEL_CHAR * len(label) <= right:
        text_x, side = x + 4, "start"
    else:
        text_x, side = right - 4, "end"
    band = (
        f'<g class="public-exposure"><rect x="{x:.1f}" y="4" width="{max(right - x, 2):.1f}"'
        f' height="{bottom - 4}" fill="{PUBLIC_COLOUR}" fill-opacity="0.08"/>'
        f'<text x="{text_x:.1f}" y="18" text-anchor="{side}" fill="{PUBLIC_COLOUR}" font-size="11"'
        f' font-weight="700">{esc(label)}</text></g>'
    )
    return [band]


def _marker(mark: _Placed, numbered: bool) -> str:
    event = mark.event
    kind = event.kind
    classes = f"event kind-{kind.value}" + (" public" if event.public else "") + (" untimed" if event.when is None else "")
    title = f"#{mark.index} {_event_text(event)} ({event.exposure.audience.value})"
    parts = [
        f'<g class="{classes}" data-index="{mark.index}"><title>{esc(title)}</title>',
    ]
    if event.public:
        parts.append(
            f'<circle class="public-ring" cx="{mark.x:.1f}" cy="{mark.y:.1f}" r="{_RADIUS + 4}" fill="none"'
            f' stroke="{PUBLIC_COLOUR}" stroke-width="3"/>'
        )
    parts.append(
        f'<circle class="marker" cx="{mark.x:.1f}" cy="{mark.y:.1f}" r="{_RADIUS}" fill="{KIND_COLOURS[kind]}"'
        ' stroke="#ffffff" stroke-width="1.5"/>'
    )
    if numbered:
        parts.append(
            f'<text x="{mark.x + _RADIUS + 3:.1f}" y="{mark.y - _RADIUS + 1:.1f}" font-size="10"'
            f' fill="#334155">{mark.index}</text>'
        )
    parts.append("</g>")
    return "".join(parts)


def _audience_badge(audience: Audience) -> str:
    return f'<span class="badge aud-{audience.value}">{audience.value}</span>'


def _locations(credential: CredentialTimeline) -> str:
    rows = []
    for index, event in enumerate(credential.events, start=1):
        provenance = event.occurrence.provenance
        css = []
        if event.public:
            css.append("public-row")
        if event.when is None:
            css.append("untimed-row")
        attribute = f' class="{" ".join(css)}"' if css else ""
        swatch = f'<i class="swatch" style="background:{KIND_COLOURS[event.kind]}"></i> '
        rows.append(
            f"<tr{attribute}><td class=\"num\">{index}</td>"
            f'<td class="when">{esc(format_time(event.when))}</td>'
            f"<td>{swatch}{esc(event.kind.label)}</td>"
            f"<td>{esc(event.exposure.place)}</td>"
            f'<td class="loc"><code>{anchor(event.location, provenance.url)}</code></td>'
            f'<td title="{esc(event.exposure.reason)}">{_audience_badge(event.exposure.audience)}</td>'
            f"<td>{esc(', '.join(event.details))}</td></tr>"
        )
    reasons = dict.fromkeys((e.exposure.audience, e.exposure.reason) for e in credential.events)
    notes = "".join(f"<li>{_audience_badge(a)} {esc(reason)}</li>" for a, reason in reasons)
    return (
        '<table class="locations"><thead><tr><th class="num">#</th><th>When</th><th>Kind</th><th>Place</th>'
        "<th>Location</th><th>Who could read it</th><th>Details</th></tr></thead>"
        f'<tbody>{"".join(rows)}</tbody></table><ul class="audiences">{notes}</ul>'
    )


def _remediation(credential: CredentialTimeline) -> str:
    finding = credential.finding
    parts = ['<div class="remediation"><h4>Remediation</h4>']
    if credential.reached_public:
        parts.append(
            "<p><strong>It reached a public place: treat it as compromised.</strong> Revoke it now, then audit"
            " what was published with it.</p>"
        )
    if finding.remediation:
        parts.append(f"<p>{esc(finding.remediation)}</p>")
    parts.append(f"<p>{esc('Still present: ' + credential.presence)}</p>")
    if finding.revoke_url:
        parts.append(f"<p>Revoke: {anchor(finding.revoke_url, finding.revoke_url, 'revoke')}</p>")
    for reference in finding.references:
        if web_url(reference):
            parts.append(f'<p class="reference">See also: {anchor(reference, reference)}</p>')
    parts.append("</div>")
    return "".join(parts)

