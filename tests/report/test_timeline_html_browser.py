"""The HTML incident report in a real browser: headless Chromium loads the
page written by ``sprawl timeline`` (from a repository, a Slack export, a CI
log and a file with hostile names), its DOM has every section and SVG
element, and its screenshot is a real, non-blank picture of the page."""

from __future__ import annotations

import os
import random
import shutil
import struct
import subprocess
import zlib
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scanner.cli import app
from scanner.report.timeline_html import KIND_COLOURS, PUBLIC_COLOUR
from tests.report.test_timeline_html import Element, parse
from tests.test_timeline import Incident, build_incident

HOSTILE = "<script>document.title='owned'</script><img src=x onerror=alert(1)>"
WIDTH, HEIGHT = 1280, 2000
_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


@pytest.fixture(scope="module")
def browser() -> str:
    """The Chromium binary; the tests are skipped, saying so, where there is none."""
    for name in _BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("Chromium is not installed (Debian: apt-get install chromium; .ci/run installs it): browser test skipped")


def _run(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "HOME": str(profile)}
    done = subprocess.run(
        [browser, "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars", "--no-first-run",
         f"--user-data-dir={profile}", *args],
        capture_output=True,
        timeout=180,
        env=env,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-2000:]
    return done


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Incident]:
    root = tmp_path_factory.mktemp("browser")
    incident = build_incident(root / "input", random.Random("timeline-browser"), hostile=HOSTILE)
    page = root / "incident.html"
    result = CliRunner().invoke(app, ["timeline", *incident.targets, "-q", "-o", str(page), "--fail-on", "never"])
    assert result.exit_code == 0, result.output
    return page, incident


def test_dom_in_chromium_has_every_section_and_svg_element(
    browser: str, report: tuple[Path, Incident], tmp_path: Path
) -> None:
    page, incident = report
    dumped = _run(browser, tmp_path / "profile", "--dump-dom", page.as_uri()).stdout.decode("utf-8")
    dom = parse(dumped)
    # The hostile user name stayed text: no element came out of it.
    assert not dom.find("script") and not dom.find("img")
    assert dom.find("title")[0].all_text() == "sprawl: credential exposure timeline"
    assert HOSTILE in dom.all_text()
    assert dom.find("header", None)[0].attrs["id"] == "scan-summary"
    assert [s.attrs["id"] for s in dom.find("section")] == ["summary", "credentials"]
    assert len(dom.find("table", "summary")) == 1
    articles = dom.find("article", "credential")
    assert len(articles) == len(incident.tokens) == 4
    for article in articles:
        [svg] = article.find("svg")
        table = article.find("table", "locations")[0]
        rows = [row for row in table.find("tr") if row.find("td")]
        events = svg.find("g", "event")
        assert len(events) == len(rows) >= 1
        assert all(e.find("circle", "marker") for e in events)
        assert svg.find("g", "axis") and svg.find("g", "first-exposure")
    # The credential first seen in the CI log that then reached #releases:
    # public ring and band, and its links.
    spread = _article_with(articles, "Slack #releases", "github-actions log")
    svg = spread.find("svg")[0]
    assert len(svg.find("circle", "public-ring")) == 1
    assert svg.find("g", "public-exposure")[0].all_text() == "public from 2023-11-15 09:00:00 UTC"
    assert svg.find("g", "last-exposure")
    hrefs = [a.attrs["href"] for a in spread.find("table", "locations")[0].find("a")]
    assert hrefs and all(h.startswith("https://acme.slack.com/archives/") for h in hrefs)
    assert spread.find("a", "revoke")[0].attrs["href"].startswith("https://")
    for secret in incident.tokens.values():
        assert secret not in dumped


def _article_with(articles: list[Element], *texts: str) -> Element:
    [article] = [a for a in articles if all(t in a.find("dl", "facts")[0].all_text() for t in texts)]
    return article


def test_screenshot_is_a_real_non_blank_page(browser: str, report: tuple[Path, Incident], tmp_path: Path) -> None:
    page, _ = report
    shot = tmp_path / "shot.png"
    _run(browser, tmp_path / "profile", f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}", page.as_uri())
    width, height, pixels = decode_png(shot.read_bytes())
    assert (width, height) == (WIDTH, HEIGHT)
    colours = Counter(pixels)
    # A styled page with text, tables and a chart, not a blank or error page.
    assert len(colours) > 200
    assert colours.most_common(1)[0][1] < 0.8 * width * height
    # The dark header band at the top: the inline CSS was applied.
    assert pixels[10 * width + 10] == _rgb("#0f172a")
    # Marker fills of the kinds in the incident, and the public ring.
    for kind_colour in (KIND_COLOURS[k] for k in KIND_COLOURS if k.value in ("git", "ci-log", "chat", "file")):
        assert colours[_rgb(kind_colour)] > 20, kind_colour
    assert colours[_rgb(PUBLIC_COLOUR)] > 20


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def decode_png(data: bytes) -> tuple[int, int, list[tuple[int, int, int]]]:
    """Width, height and RGB pixels (row by row) of an 8-bit RGB or RGBA PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    offset = 8
    idat = bytearray()
    width = height = channels = 0
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r}"
        if kind == b"IHDR":
            width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour_type in (2, 6) and interlace == 0, (depth, colour_type, interlace)
            channels = 3 if colour_type == 2 else 4
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
        offset += 12 + length
    raw = zlib.decompress(bytes(idat))
    stride = width * channels
    assert len(raw) == height * (stride + 1)
    pixels: list[tuple[int, int, int]] = []
    previous = bytearray(stride)
    for row in range(height):
        start = row * (stride + 1)
        line = _unfilter(raw[start], bytearray(raw[start + 1 : start + 1 + stride]), previous, channels)
        pixels.extend(zip(line[0::channels], line[1::channels], line[2::channels], strict=True))
        previous = line
    return width, height, pixels


def _unfilter(method: int, line: bytearray, previous: bytearray, bpp: int) -> bytearray:
    if method == 0:
        return line
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        up = previous[i]
        if method == 1:
            line[i] = (line[i] + left) & 0xFF
        elif method == 2:
            line[i] = (line[i] + up) & 0xFF
        elif method == 3:
            line[i] = (line[i] + ((left + up) >> 1)) & 0xFF
        elif method == 4:
            corner = previous[i - bpp] if i >= bpp else 0
            estimate = left + up - corner
            pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - corner)
            predictor = left if pa <= pb and pa <= pc else up if pb <= pc else corner
            line[i] = (line[i] + predictor) & 0xFF
        else:
            raise AssertionError(f"unknown PNG filter {method}")
    return line
