"""CI and build logs: recognised by content, normalised before matching, every
finding placed at the original file, line, column and the log's own time."""

from __future__ import annotations

import base64
import random
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest

from scanner.config import ScanConfig
from scanner.model import Occurrence, ScanResult
from scanner.pipeline import scan
from scanner.sources import cilogs
from scanner.sources.base import SourceStats
from scanner.sources.cilogs import LogKind, log_chunks, normalize, recognise, sniff
from tests.factories.group_b import HEX, URLSAFE, crates_token, pick
from tests.tokenfactory import github_style, npm_token, pypi_token

ESC = "\x1b"


def _scan(tmp_path: Path, files: dict[str, str | bytes], *targets: str) -> ScanResult:
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
    return scan(ScanConfig(paths=targets or (str(tmp_path),)))


def _places(result: ScanResult, secret: str) -> list[tuple[str, str, int, int, int]]:
    """(rule, file name, line, column, end column) of every occurrence of ``secret``."""
    return sorted(
        (f.rule_id, Path(o.provenance.path).name, o.line, o.column, o.end_column)
        for f in result.findings
        if f.secret == secret
        for o in f.occurrences
    )


def _only(result: ScanResult, secret: str) -> tuple[str, Occurrence]:
    [(rule, occurrence)] = [(f.rule_id, o) for f in result.findings if f.secret == secret for o in f.occurrences]
    return rule, occurrence


def _position(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    """1-based line and column of ``needle`` in ``text`` (the nth time it occurs)."""
    index = -1
    for _ in range(nth + 1):
        index = text.index(needle, index + 1)
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


# ---------------------------------------------------------------------------
# GitHub Actions


def test_actions_log_token_split_and_glued_by_colour_codes(tmp_path: Path, rng: random.Random) -> None:
    npm, ghp = npm_token(rng), github_style("ghp", rng)
    split = f"{npm[:11]}{ESC}[1m{npm[11:]}{ESC}[22m"
    text = (
        "\ufeff2026-03-02T09:14:01.1234567Z ##[group]Run npm publish --access public\n"
        f"2026-03-02T09:14:01.2234567Z {ESC}[36;1mnpm publish --access public{ESC}[0m\n"
        "2026-03-02T09:14:01.3234567Z ##[endgroup]\n"
        f"2026-03-02T09:14:05.4871234Z npm verb config //registry.npmjs.org/:_authToken={ESC}[33m{split}\n"
        f"2026-03-02T09:14:06.0000001Z + git push https://x-access-token:{ESC}[32m{ghp}{ESC}[0m@github.com/acme/app.git\n"
    )
    result = _scan(tmp_path, {"1_publish.txt": text})
    rule, occurrence = _only(result, npm)
    line, column = _position(text[1:], npm[:11])  # the BOM is not a column
    assert (rule, occurrence.line, occurrence.column) == ("npm-access-token", 4, column)
    assert line == 4
    # the end is after the last character, counted in the original line (codes included)
    assert occurrence.end_column == column + len(split) - len(f"{ESC}[22m")
    assert occurrence.provenance.when == datetime(2026, 3, 2, 9, 14, 5, 487123, tzinfo=UTC)
    assert occurrence.provenance.source == "ci-log"
    assert ("ci", "github-actions") in occurrence.provenance.extra
    rule, occurrence = _only(result, ghp)
    assert (rule, occurrence.line, occurrence.column) == ("github-classic-token", 5, _position(text[1:], ghp)[1])
    assert occurrence.provenance.when == datetime(2026, 3, 2, 9, 14, 6, 0, tzinfo=UTC)


def test_actions_multiline_dump_matches_once_prefixes_are_gone(tmp_path: Path, rng: random.Random) -> None:
    # .pypirc printed by a debug step: the rule needs [pypi] at a line start
    password = "".join(rng.choice("abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(22))
    text = (
        "2026-03-02T09:00:00.0000000Z ##[group]Run cat ~/.pypirc\n"
        "2026-03-02T09:00:00.1000000Z [distutils]\n"
        "2026-03-02T09:00:00.1000000Z index-servers = pypi\n"
        "2026-03-02T09:00:00.2000000Z [pypi]\n"
        "2026-03-02T09:00:00.3000000Z username = deployer\n"
        f"2026-03-02T09:00:00.4000000Z password = {password}\n"
    )
    result = _scan(tmp_path, {"job.log": text})
    rule, occurrence = _only(result, password)
    assert (rule, occurrence.line, occurrence.column) == ("pypirc-password", 6, _position(text, password)[1])


def test_gh_run_view_log_output_names_job_and_step_per_line(tmp_path: Path, rng: random.Random) -> None:
    token = npm_token(rng)
    text = (
        "release\tSet up job\t2026-03-02T09:00:00.1000000Z Current runner version: '2.322.0'\n"
        "release\tPublish\t2026-03-02T09:00:09.2000000Z ##[group]Run npm publish\n"
        f"release\tPublish\t2026-03-02T09:00:10.3000000Z + echo //registry.npmjs.org/:_authToken={token}\n"
    )
    result = _scan(tmp_path, {"run.log": text})
    rule, occurrence = _only(result, token)
    assert (rule, occurrence.line, occurrence.column) == ("npm-access-token", 3, _position(text, token)[1])
    extra = dict(occurrence.provenance.extra)
    assert (extra["job"], extra["step"]) == ("release", "Publish")
    assert occurrence.provenance.when == datetime(2026, 3, 2, 9, 0, 10, 300000, tzinfo=UTC)


def test_azure_pipelines_log_is_recognised() -> None:
    head = "2026-03-02T09:00:00.1000000Z ##[section]Starting: Initialize job\n2026-03-02T09:00:00.2000000Z Agent name: 'Hosted Agent'\n"
    kind = recognise(head, "log.txt")
    assert kind is not None and kind.system == "azure-pipelines"


# ---------------------------------------------------------------------------
# GitLab CI


def _gitlab_trace(token: str) -> str:
    return (
        f"{ESC}[0KRunning with gitlab-runner 17.5.0 (8b2c1f3e){ESC}[0;m\n"
        f'section_start:1772442000:prepare_executor\r{ESC}[0K{ESC}[0K{ESC}[36;1mPreparing the "docker" executor{ESC}[0;m{ESC}[0;m\n'
        f"section_end:1772442004:prepare_executor\r{ESC}[0K\n"
        f'section_start:1772442005:step_script\r{ESC}[0K{ESC}[0K{ESC}[36;1mExecuting "step_script" stage of the job script{ESC}[0;m{ESC}[0;m\n'
        f'{ESC}[32;1m$ echo "//registry.npmjs.org/:_authToken=${{NPM_TOKEN}}" > .npmrc{ESC}[0;m\n'
        f"{ESC}[32;1m$ npm whoami --registry https://registry.npmjs.org/{ESC}[0;m\n"
        "Downloading artifacts... 10%\rDownloading artifacts... 100%\r"
        f"//registry.npmjs.org/:_authToken={ESC}[33m{token}{ESC}[0m\n"
        "CARGO_REGISTRY_TOKEN=[MASKED]\n"
        f"section_end:1772442010:step_script\r{ESC}[0K\n"
    )


def test_gitlab_trace_markers_progress_bars_and_section_time(tmp_path: Path, rng: random.Random) -> None:
    token = npm_token(rng)
    text = _gitlab_trace(token)
    result = _scan(tmp_path, {"job-812.log": text})
    rule, occurrence = _only(result, token)
    line, column = _position(text, token)
    assert (rule, occurrence.line, occurrence.column) == ("npm-access-token", line, column)
    assert line == 7
    # no per-line time in this trace: the time of the section it is in
    assert occurrence.provenance.when == datetime.fromtimestamp(1772442005, tz=UTC)
    extra = dict(occurrence.provenance.extra)
    assert (extra["ci"], extra["section"]) == ("gitlab-ci", "step_script")
    # [MASKED] is not a secret
    assert [f.rule_id for f in result.findings] == ["npm-access-token"]


def test_gitlab_ff_timestamps_prefix(tmp_path: Path, rng: random.Random) -> None:
    token = github_style("ghp", rng)
    text = (
        f"2026-03-02T10:00:00.000001Z 00O {ESC}[0KRunning with gitlab-runner 18.7.0 (1a2b3c4d){ESC}[0;m\n"
        f"2026-03-02T10:00:01.250000Z 01O section_start:1772445601:step_script\r{ESC}[0K{ESC}[36;1mExecuting{ESC}[0;m\n"
        f"2026-03-02T10:00:02.500000Z 01E+git clone https://oauth2:{token}@gitlab.example.com/acme/app.git\n"
    )
    result = _scan(tmp_path, {"job.log": text})
    rule, occurrence = _only(result, token)
    assert (rule, occurrence.line, occurrence.column) == ("github-classic-token", 3, _position(text, token)[1])
    assert occurrence.provenance.when == datetime(2026, 3, 2, 10, 0, 2, 500000, tzinfo=UTC)


# ---------------------------------------------------------------------------
# Jenkins, Buildkite, Travis, CircleCI


def test_jenkins_console_with_timestamper_and_console_notes(tmp_path: Path, rng: random.Random) -> None:
    token = github_style("ghp", rng)
    note = f"{ESC}[8mha:////4H+H6gi+RzqRXgbuxDkiDNvJYq3pMCu17+YXxGOB+mHbAAAAlx+LCAAAAAAAAP9b85aBtbiIQTGjNKU4P08vOT+vOD8nVc83PyU1x6OyILUoJzMv2y+/JJUBAhiZGBgqihhk0NSjKDWzXb3RdlLBUSYGJk8GtpzUvPSSDB8G5tKinBIGIZ+sxLJE/ZzEvHT94JKizLx0a6BxUmjGOUNodHsLgAzWEgZu/dLi1CL9xJTczDwAj6GcLcAAAAA={ESC}[0m"
    text = (
        f"[2026-03-02T11:00:00.100Z] Started by user {note}admin\n"
        "[2026-03-02T11:00:00.200Z] [Pipeline] Start of Pipeline\n"
        "[2026-03-02T11:00:01.300Z] [Pipeline] sh\n"
        f"[2026-03-02T11:00:02.450Z] + git clone https://x-access-token:{token}@github.com/acme/app.git\n"
        "[2026-03-02T11:00:03.000Z] + curl -u ****:**** https://nexus.example.com/service/rest/v1/status\n"
    )
    result = _scan(tmp_path, {"consoleText": text})
    rule, occurrence = _only(result, token)
    assert (rule, occurrence.line, occurrence.column) == ("github-classic-token", 4, _position(text, token)[1])
    assert occurrence.provenance.when == datetime(2026, 3, 2, 11, 0, 2, 450000, tzinfo=UTC)
    assert ("ci", "jenkins") in occurrence.provenance.extra
    assert len(result.findings) == 1  # **** and the console note are not secrets


def test_jenkins_classic_timestamper_clock_prefix(tmp_path: Path, rng: random.Random) -> None:
    token = pypi_token(rng)
    text = (
        "21:51:15  Started by user anonymous\n"
        "21:51:15  Building on master in workspace /var/lib/jenkins/workspace/release\n"
        f"21:51:17  + twine upload -u __token__ -p {token} dist/*\n"
    )
    result = _scan(tmp_path, {"build.log": text})
    rule, occurrence = _only(result, token)
    assert (rule, occurrence.line, occurrence.column) == ("pypi-api-token", 3, _position(text, token)[1])
    assert occurrence.provenance.when is None  # a clock without a date


def test_buildkite_timestamps(tmp_path: Path, rng: random.Random) -> None:
    token = npm_token(rng)
    text = (
        f"{ESC}_bk;t=1772445600000{ESC}\\~~~ Preparing working directory\n"
        f"{ESC}_bk;t=1772445601250\x07~~~ Running commands\n"
        f"{ESC}_bk;t=1772445602500\x07$ npm publish\n"
        f"{ESC}_bk;t=1772445603750{ESC}\\npm verb token {token}\n"
    )
    result = _scan(tmp_path, {"job.log": text})
    rule, occurrence = _only(result, token)
    assert (rule, occurrence.line, occurrence.column) == ("npm-access-token", 4, _position(text, token)[1])
    assert occurrence.provenance.when == datetime(2026, 3, 2, 10, 0, 3, 750000, tzinfo=UTC)
    assert ("ci", "buildkite") in occurrence.provenance.extra


def test_travis_and_circleci_logs(tmp_path: Path, rng: random.Random) -> None:
    travis_token, circle_token = npm_token(rng), github_style("ghp", rng)
    travis = (
        f"travis_fold:start:worker_info\r{ESC}[0K{ESC}[33;1mWorker information{ESC}[0m\n"
        f"travis_fold:end:worker_info\r{ESC}[0Ktravis_time:start:0a1b2c3d\r{ESC}[0K$ npm publish\n"
        f"npm verb token {travis_token}\n"
        f"travis_time:end:0a1b2c3d:start=1772445600000000000,finish=1772445609000000000,duration=9000000000,event=script\r{ESC}[0K\n"
    )
    circle = (
        f"#!/bin/bash -eo pipefail\ngit push https://github.com/acme/app.git\nremote: Token {circle_token} was used\n"
    )
    result = _scan(tmp_path, {"travis.log": travis, "circleci-step.txt": circle})
    rule, occurrence = _only(result, travis_token)
    assert (rule, occurrence.line, occurrence.column) == ("npm-access-token", 3, 16)
    assert ("ci", "travis-ci") in occurrence.provenance.extra
    rule, occurrence = _only(result, circle_token)
    assert (rule, occurrence.line, occurrence.column) == ("github-classic-token", 3, 15)
    assert ("ci", "circleci") in occurrence.provenance.extra


# ---------------------------------------------------------------------------
# Verbose publish output


def test_verbose_publish_output_leads_to_the_right_rules(tmp_path: Path, rng: random.Random) -> None:
    npm, pypi = npm_token(rng), pypi_token(rng)
    gem, crate, docker = "rubygems_" + pick(rng, HEX, 48), crates_token(rng), "dckr_pat_" + pick(rng, URLSAFE, 27)
    files = {
        "npm-publish.log": (
            "npm verb cli /usr/local/bin/node /usr/local/bin/npm\n"
            "npm info using npm@10.9.2\n"
            "npm verb title npm publish\n"
            'npm verb argv "publish" "--loglevel" "verbose"\n'
            "npm verb logfile logs-max:10 dir:/home/runner/.npm/_logs/2026-03-02T09_00_00_000Z-\n"
            f"npm verb config set //registry.npmjs.org/:_authToken={npm}\n"
            "npm notice \U0001f4e6  @acme/widget@1.4.0\n"
            "npm http fetch PUT 200 https://registry.npmjs.org/@acme%2fwidget 1825ms\n"
        ),
        "twine-upload.log": (
            "Uploading distributions to https://upload.pypi.org/legacy/\n"
            "INFO     dist/acme_widget-1.4.0-py3-none-any.whl (12.3 KB)\n"
            "INFO     username set by command options\n"
            f"+ TWINE_PASSWORD={pypi} twine upload --verbose dist/*\n"
            "INFO     Response from https://upload.pypi.org/legacy/: 200 OK\n"
        ),
        "gem-push.log": (
            f"+ GEM_HOST_API_KEY={gem} gem push acme-widget-1.4.0.gem\n"
            "Pushing gem to https://rubygems.org...\n"
            "Successfully registered gem: acme-widget (1.4.0)\n"
        ),
        "cargo-publish.log": (
            f"+ export CARGO_REGISTRY_TOKEN={crate}\n"
            "    Updating crates.io index\n"
            "   Packaging acme-widget v1.4.0 (/home/runner/work/widget)\n"
            "   Uploading acme-widget v1.4.0 (/home/runner/work/widget)\n"
        ),
        "docker-login.log": (
            f"+ docker login -u acmebot -p {docker} docker.io\n"
            "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n"
            "Login Succeeded\n"
        ),
    }
    result = _scan(tmp_path, files)
    for secret, rule, name, line in (
        (npm, "npm-access-token", "npm-publish.log", 6),
        (pypi, "pypi-api-token", "twine-upload.log", 4),
        (gem, "rubygems-api-key", "gem-push.log", 1),
        (crate, "crates-io-token", "cargo-publish.log", 1),
        (docker, "dockerhub-pat", "docker-login.log", 1),
    ):
        column = _position(files[name], secret)[1]
        assert _places(result, secret) == [(rule, name, line, column, column + len(secret))]
        [occurrence] = [o for f in result.findings if f.secret == secret for o in f.occurrences]
        assert occurrence.provenance.source == "ci-log", name


def test_masked_values_are_not_secrets(tmp_path: Path) -> None:
    files = {
        "actions.log": "2026-03-02T09:00:00.1000000Z NPM_TOKEN=***\n2026-03-02T09:00:00.2000000Z   NODE_AUTH_TOKEN: ***\n",
        "gitlab.log": f"{ESC}[0KRunning with gitlab-runner 17.5.0{ESC}[0;m\n//registry.npmjs.org/:_authToken=[MASKED]\nTWINE_PASSWORD=[MASKED]\n",
        "consoleText": "Started by user admin\n+ docker login -u deployer -p **** registry.example.com\nNEXUS_PASSWORD=****\n",
    }
    result = _scan(tmp_path, files)
    assert result.findings == ()
    assert result.stats.inputs_scanned == 3 and not result.stats.errors


# ---------------------------------------------------------------------------
# Masking leaks


def test_masking_leak_raw_base64_and_url_encoded_copies(tmp_path: Path, rng: random.Random) -> None:
    value = "".join(rng.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(20)) + "/+="
    basic = base64.b64encode(f"deployer:{value}".encode()).decode()
    text = (
        "2026-03-02T09:00:00.1000000Z ##[group]Run ./release.sh\n"
        "2026-03-02T09:00:00.2000000Z ##[endgroup]\n"
        f"2026-03-02T09:00:01.0000000Z + echo '::add-mask::{value}'\n"
        f"2026-03-02T09:00:01.1000000Z ::add-mask::{value}\n"
        "2026-03-02T09:00:02.0000000Z key=***\n"
        f"2026-03-02T09:00:03.0000000Z Authorization: Basic {basic}\n"
        f"2026-03-02T09:00:04.0000000Z GET https://deploy.example.com/hook?key={quote(value, safe='')}\n"
    )
    result = _scan(tmp_path, {"job.log": text})
    [finding] = [f for f in result.findings if f.rule_id == "ci-masking-leak"]
    assert finding.secret == value and value not in finding.redacted
    places = [(o.line, o.column, o.end_column, o.provenance.when) for o in finding.occurrences]
    raw_column = _position(text, value)[1]
    # "deployer:" is 9 bytes, so the value's base64 starts on a group boundary,
    # 12 characters in; its last 2 bytes share a group with what follows: 30 characters are its own
    base64_column = _position(text, basic)[1] + 12
    url = quote(value, safe="")
    url_column = _position(text, url)[1]
    assert places == [
        # shown by set -x before the runner could mask it (the bare command on line 4 is consumed by the runner)
        (3, raw_column, raw_column + len(value), datetime(2026, 3, 2, 9, 0, 1, tzinfo=UTC)),
        (6, base64_column, base64_column + 30, datetime(2026, 3, 2, 9, 0, 3, tzinfo=UTC)),
        (7, url_column, url_column + len(url), datetime(2026, 3, 2, 9, 0, 4, tzinfo=UTC)),
    ]


def test_azure_setsecret_registers_a_masked_value(tmp_path: Path, rng: random.Random) -> None:
    value = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(24))
    text = (
        "2026-03-02T09:00:00.1000000Z ##[section]Starting: Publish\n"
        f"2026-03-02T09:00:00.2000000Z ##vso[task.setvariable variable=FEED_KEY;issecret=true]{value}\n"
        f'2026-03-02T09:00:00.3000000Z curl -H "X-Feed-Key: {value}" https://feeds.example.com/upload\n'
    )
    result = _scan(tmp_path, {"azure.log": text})
    assert _places(result, value) == [
        ("ci-masking-leak", "azure.log", 3, _position(text, value, 1)[1], _position(text, value, 1)[1] + len(value))
    ]


def test_masked_values_registry_skips_references_and_short_values() -> None:
    raw = (
        b"::add-mask::$NPM_TOKEN\n::add-mask::${{ secrets.X }}\n::add-mask::abc\n::add-mask::***\n"
        b"+ echo '::add-mask::Zq8nV2kLpR7w'\n::add-mask::Zq8nV2kLpR7w\n"
    )
    assert cilogs.masked_values(raw) == ["Zq8nV2kLpR7w"]


# ---------------------------------------------------------------------------
# Bad input


def test_utf16_log_from_a_windows_agent(tmp_path: Path, rng: random.Random) -> None:
    token = npm_token(rng)
    text = (
        "2026-03-02T09:00:00.1000000Z ##[group]Run npm publish\r\n"
        f"2026-03-02T09:00:00.2000000Z npm verb token {token}\r\n"
    )
    result = _scan(tmp_path, {"windows.log": b"\xff\xfe" + text.encode("utf-16-le")})
    rule, occurrence = _only(result, token)
    assert (rule, occurrence.line, occurrence.column) == ("npm-access-token", 2, _position(text, token)[1])
    assert occurrence.provenance.when == datetime(2026, 3, 2, 9, 0, 0, 200000, tzinfo=UTC)


def test_binary_garbage_named_like_a_log_is_counted_not_read(tmp_path: Path, rng: random.Random) -> None:
    garbage = b"\x1b[0m" + bytes(rng.getrandbits(8) for _ in range(4000)) + b"\x00\x00\x01"
    token = github_style("ghp", rng)
    result = _scan(tmp_path, {"build.log": garbage, "other.log": f"{ESC}[32mok{ESC}[0m\ntoken {token}\n"})
    assert result.stats.skipped == (("binary", 1),)
    assert not result.stats.errors
    assert _places(result, token) == [("github-classic-token", "other.log", 2, 7, 7 + len(token))]


# ---------------------------------------------------------------------------
# Recognition


@pytest.mark.parametrize(
    ("display", "head", "expected"),
    [
        ("README.txt", "Install with pip.\nThen run the tests.\n", False),
        ("notes.md", "[Pipeline] Start of Pipeline\n[Pipeline] node\n", False),  # a document quoting a log
        ("build.log", f"{ESC}[32mcompiled{ESC}[0m 12 files\n", True),  # log-like name + colour codes
        ("build.log", "compiled 12 files\nall good\n", False),  # a log-like name alone is not enough
        ("ci/deploy/output.txt", "+ ./deploy.sh\nDeploying\n", True),  # CI path + shell trace
        ("anything", "2026-03-02T09:00:00.1000000Z Current runner version: '2.322.0'\n", True),
        ("anything", "Started by user admin\n[Pipeline] Start of Pipeline\n", True),
        ("anything", f"{ESC}[0KRunning with gitlab-runner 17.5.0{ESC}[0;m\n", True),
        ("app.json", '{"message": "##[group]Run npm ci"}\n', False),
    ],
)
def test_sniff(display: str, head: str, expected: bool) -> None:
    assert sniff(display, head.encode()) is expected


def test_sniff_reads_utf16_heads() -> None:
    head = "Started by user admin\r\n[Pipeline] node\r\n".encode("utf-16-le")
    assert sniff("consoleText", b"\xff\xfe" + head)


def test_logs_prefix_forces_log_handling(tmp_path: Path, rng: random.Random) -> None:
    token = npm_token(rng)
    folder = tmp_path / "saved"
    result = _scan(
        tmp_path, {"saved/output.dat": f"plain words\n{ESC}[1m{token[:9]}{ESC}[0m{token[9:]}\n"}, f"logs:{folder}"
    )
    rule, occurrence = _only(result, token)
    assert (rule, occurrence.line, occurrence.column) == ("npm-access-token", 2, 5)
    assert occurrence.provenance.source == "ci-log"


# ---------------------------------------------------------------------------
# Normalisation and placing


def test_normalize_keeps_lines_and_removes_what_a_person_does_not_see() -> None:
    kind = recognise("2026-03-02T09:00:00.1000000Z x\n", "job.log")
    assert kind == LogKind("github-actions", cilogs.PREFIXES[1])
    raw = (
        b"2026-03-02T09:00:00.1000000Z ##[group]Run x\n"
        b"2026-03-02T09:00:00.2000000Z \x1b[36;1mecho hi\x1b[0m\n"
        b"2026-03-02T09:00:00.3000000Z [command]/usr/bin/git version\n"
        b"no prefix here\n"
    )
    assert normalize(raw, kind) == b"Run x\necho hi\n/usr/bin/git version\nno prefix here\n"


def test_chunks_cut_at_line_ends_keep_lines_and_columns(monkeypatch: pytest.MonkeyPatch, rng: random.Random) -> None:
    monkeypatch.setattr(cilogs, "CHUNK_BYTES", 200)
    token = npm_token(rng)
    lines = [f"2026-03-02T09:00:{n:02d}.0000000Z {ESC}[2mstep {n} of the build{ESC}[0m" for n in range(40)]
    lines[33] = f"2026-03-02T09:00:33.0000000Z {ESC}[33mtoken={ESC}[1m{token}{ESC}[0m"
    raw = ("\n".join(lines) + "\n").encode()
    kind = recognise(raw[:8192].decode(), "job.log")
    assert kind is not None
    chunks = list(log_chunks(raw, "job.log", kind, extra=(), digest="d"))
    assert len(chunks) > 5
    [chunk] = [c for c in chunks if token in c.content]
    assert chunk.locator is not None
    provenance, line, column = chunk.locator.place(chunk.content, chunk.content.index(token))
    assert (line, column) == (34, lines[33].index(token) + 1)
    assert provenance.when == datetime(2026, 3, 2, 9, 0, 33, tzinfo=UTC)


def test_one_enormous_line_is_cut_between_words(monkeypatch: pytest.MonkeyPatch, rng: random.Random) -> None:
    monkeypatch.setattr(cilogs, "CHUNK_BYTES", 300)
    token = npm_token(rng)
    words = [f"w{n:04d}" for n in range(200)]
    words[150] = token
    raw = " ".join(words).encode()
    chunks = list(log_chunks(raw, "one.log", LogKind("log"), extra=(), digest="d"))
    assert len(chunks) > 3
    [chunk] = [c for c in chunks if token in c.content]
    assert chunk.locator is not None
    _, line, column = chunk.locator.place(chunk.content, chunk.content.index(token))
    assert (line, column) == (1, raw.index(token.encode()) + 1)


def test_read_counts_what_it_scans() -> None:
    stats = SourceStats()
    data = b"2026-03-02T09:00:00.1000000Z hello\n"
    chunks = list(cilogs.read_log(data, "job.log", stats))
    assert [c.content for c in chunks] == ["hello\n"]
    assert (stats.inputs_scanned, stats.bytes_scanned) == (1, len(data))


@pytest.mark.parametrize("block", [1, 7, 64, 1 << 16])
def test_line_index_agrees_with_counting(monkeypatch: pytest.MonkeyPatch, rng: random.Random, block: int) -> None:
    monkeypatch.setattr(cilogs, "_INDEX_BLOCK", block)
    text = "".join(rng.choice(["a", "bc", "\n", "\u2713", "\n\n"]) for _ in range(600))
    for data, newline in ((text, "\n"), (text.encode(), b"\n")):
        index = cilogs._LineIndex(data, len(data), newline)
        starts = [0] + [i + 1 for i in range(len(data)) if data[i : i + 1] == newline]
        for offset in range(len(data)):
            number = data.count(newline, 0, offset)
            end = data.find(newline, offset)
            assert index.line_of(offset) == (number, starts[number], len(data) if end < 0 else end)
        for number, start in enumerate(starts):
            end = data.find(newline, start)
            assert index.line(number) == (start, len(data) if end < 0 else end)


def test_jenkins_pipeline_timestamps_on_some_lines_and_a_settings_dump(tmp_path: Path, rng: random.Random) -> None:
    password = "".join(rng.choice("abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(20))
    text = (
        "Started by user admin\n"
        "[Pipeline] Start of Pipeline\n"
        "[Pipeline] node\n"
        "18:17:20  Running on agent-1 in /home/jenkins/workspace/app\n"
        "[Pipeline] {\n"
        "[Pipeline] sh\n"
        "18:17:21  + cat /home/jenkins/.m2/settings.xml\n"
        "18:17:21  <settings>\n"
        "18:17:21    <servers>\n"
        "18:17:21      <server>\n"
        "18:17:21        <id>nexus-releases</id>\n"
        "18:17:21        <username>deployer</username>\n"
        f"18:17:21        <password>{password}</password>\n"
        "18:17:21      </server>\n"
    )
    result = _scan(tmp_path, {"consoleText": text})
    rule, occurrence = _only(result, password)
    assert (rule, occurrence.line, occurrence.column) == ("maven-settings-password", 13, _position(text, password)[1])
