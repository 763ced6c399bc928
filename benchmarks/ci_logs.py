"""CI log benchmark: ``sprawl scan`` against betterleaks on generated build logs.

Generates a folder of realistic CI logs (default about 1 GB): GitHub Actions
job logs (runner timestamps, ##[group] blocks, coloured tool output), GitLab
CI traces (section markers with bare \\r, ESC[0K, some with FF_TIMESTAMPS)
and Jenkins console text (Pipeline steps, shell traces, some with Timestamper
prefixes and console notes); a few tokens are planted, glued to or split by
colour codes. Runs the installed ``sprawl scan DIR`` and, when it is on PATH,
``betterleaks dir DIR`` (offline: no validation), and prints seconds and MB/s
per tool and how many planted tokens sprawl found at the planted line.

    python benchmarks/ci_logs.py                      # ~1 GB in a temp dir
    python benchmarks/ci_logs.py --mb 200 --keep /tmp/ci-logs
    PATH=/tmp/peers/bin:$PATH python benchmarks/ci_logs.py
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.tokenfactory import github_style, npm_token, pypi_token

ESC = "\x1b"
CYAN, GREEN, BOLD, DIM, RESET = f"{ESC}[36;1m", f"{ESC}[32m", f"{ESC}[1m", f"{ESC}[2m", f"{ESC}[0m"

# Tool output seen in real jobs, with the colour codes the tools write when
# CI sets FORCE_COLOR / CARGO_TERM_COLOR and the non-ASCII they print, and
# (weight) how often each shows up: most lines hold no rule keyword; a few in
# a hundred hold a URL; masked variables only appear in step headers below.
_TOOL_LINES: list[tuple[int, str]] = [
    (3, "npm warn deprecated inflight@1.0.6: This module is not supported, and leaks memory."),
    (2, "added {n} packages, and audited {m} packages in {s}s"),
    (1, "found 0 vulnerabilities"),
    (
        12,
        f"{ESC}[0m{ESC}[7m{ESC}[1m{ESC}[32m PASS {ESC}[39m{ESC}[22m{ESC}[27m{ESC}[0m {ESC}[2msrc/components/{ESC}[22m{ESC}[1mWidget{{n}}.test.tsx{ESC}[22m ({{s}}.{{m}} s)",
    ),
    (14, "  \u2713 renders the {w} state ({s} ms)"),
    (14, "tests/test_{w}.py::test_{w}_{n} {GREEN}PASSED{RESET}                                  [ {s}%]"),
    (6, "Collecting {w}=={s}.{n} (from -r requirements.txt (line {s}))"),
    (2, "  Downloading https://files.pythonhosted.org/packages/{h2}/{h2}/{h40}/{w}-{s}.{n}-py3-none-any.whl ({m} kB)"),
    (
        2,
        "     \u2501\u2501\u2501\u2501\u2501\u2501\u2501\u2501\u2501\u2501\u2501\u2501\u2501\u2501\u2501\u2501\u2501\u2501\u2501\u2501 {m}.{s}/{m}.{s} kB {s}.1 MB/s eta 0:00:00",
    ),
    (12, f"{ESC}[1m{ESC}[32m   Compiling{ESC}[0m {{w}} v{{s}}.{{n}}.0"),
    (4, "#{s} [{s}/9] RUN pip install --no-cache-dir -r requirements.txt"),
    (8, "#{s} {s}.{n} Collecting {w}>={s}.0"),
    (4, "#{s} DONE {s}.{m}s"),
    (
        1,
        "[command]/usr/bin/git -c protocol.version=2 fetch --no-tags --prune --no-recurse-submodules --depth=1 origin +{h40}:refs/remotes/origin/main",
    ),
    (1, "From https://github.com/acme/{w}"),
    (1, " * [new ref]         {h40} -> origin/main"),
    (1, "Resolving deltas: 100% ({n}/{n}), done."),
    (1, "npm http fetch GET 200 https://registry.npmjs.org/{w} {s}ms (cache revalidated)"),
    (1, "npm verb publish [ '--access', 'public' ]"),
    (6, "{w}.{w}_{n}: Creation complete after {s}s [id={h20}]"),
    (8, "ok  \tgithub.com/acme/{w}/internal/{w}\t0.{m}s\tcoverage: {s}.{n}% of statements"),
    (8, "    at Object.<anonymous> (src/{w}/{w}.ts:{n}:{s})"),
]
_COLOURS = re.compile("\x1b\\[[0-9;]*m")
_WEIGHTS = [weight for weight, _ in _TOOL_LINES]
_TEMPLATES = [template for _, template in _TOOL_LINES]
_WORDS = [
    "alpha",
    "bravo",
    "client",
    "server",
    "parser",
    "cache",
    "router",
    "auth",
    "billing",
    "search",
    "upload",
    "report",
    "widget",
    "queue",
    "sync",
]
_ACTIONS_STEPS = [
    [
        "##[group]Run actions/checkout@v4",
        "with:",
        "  repository: acme/{w}",
        "  token: ***",
        "  ssh-strict: true",
        "  persist-credentials: true",
        "##[endgroup]",
    ],
    [
        "##[group]Run npm ci",
        f"{CYAN}npm ci{RESET}",
        "shell: /usr/bin/bash -e {{0}}",
        "env:",
        "  NODE_AUTH_TOKEN: ***",
        "##[endgroup]",
    ],
    ["##[group]Run pytest -q", f"{CYAN}pytest -q --maxfail=1{RESET}", "shell: /usr/bin/bash -e {{0}}", "##[endgroup]"],
    [
        "##[group]Run docker/login-action@v3",
        "with:",
        "  registry: ghcr.io",
        "  username: acme-bot",
        "  password: ***",
        "##[endgroup]",
        "Login Succeeded!",
    ],
]


def _fill(template: str, rng: random.Random) -> str:
    return template.format(
        n=rng.randrange(1, 999),
        m=rng.randrange(10, 9999),
        s=rng.randrange(1, 99),
        w=rng.choice(_WORDS),
        h2=f"{rng.getrandbits(8):02x}",
        h20=f"{rng.getrandbits(80):020x}",
        h40=f"{rng.getrandbits(160):040x}",
        GREEN=GREEN,
        RESET=RESET,
    )


def _body(rng: random.Random, lines: int) -> list[str]:
    out: list[str] = []
    while len(out) < lines:
        if rng.random() < 0.01:
            out.extend(_fill(line, rng) for line in rng.choice(_ACTIONS_STEPS))
        else:
            out.append(_fill(rng.choices(_TEMPLATES, _WEIGHTS)[0], rng))
    return out


class Style:
    """How one CI system writes its log: a header, line prefixes, markers."""

    suffix = ".log"

    def __init__(self, rng: random.Random, start: datetime) -> None:
        self.rng = rng
        self.clock = start

    def tick(self) -> datetime:
        self.clock += timedelta(microseconds=self.rng.randrange(50, 40000))
        return self.clock

    def header(self) -> list[str]:
        return []

    def render(self, line: str) -> str:
        return line


class Actions(Style):
    suffix = ".txt"

    def header(self) -> list[str]:
        return [
            "Current runner version: '2.322.0'",
            "##[group]Operating System",
            "Ubuntu",
            "24.04.1",
            "LTS",
            "##[endgroup]",
        ]

    def render(self, line: str) -> str:
        return f"{self.tick().strftime('%Y-%m-%dT%H:%M:%S.%f')}{self.rng.randrange(10)}Z {line}"


class GitLab(Style):
    def __init__(self, rng: random.Random, start: datetime, timestamps: bool) -> None:
        super().__init__(rng, start)
        self.timestamps = timestamps
        self.section = 0

    def header(self) -> list[str]:
        return [
            f"{ESC}[0KRunning with gitlab-runner 17.5.0 (8b2c1f3e){ESC}[0;m",
            f"{ESC}[0K  on docker-auto-scale {ESC}[0;m",
        ]

    def render(self, line: str) -> str:
        if line.startswith("##[group]Run "):
            self.section += 1
            stamp = int(self.clock.timestamp())
            line = f"section_start:{stamp}:step_{self.section}\r{ESC}[0K{ESC}[32;1m$ {line[13:]}{ESC}[0;m"
        elif line == "##[endgroup]":
            line = f"section_end:{int(self.clock.timestamp())}:step_{self.section}\r{ESC}[0K"
        elif line.startswith("  ") and line.endswith("***"):
            line = line.replace("***", "[MASKED]")
        elif line.startswith("Resolving deltas"):
            line = f"Downloading artifacts... 10%\r{line}\rDownloading artifacts... 100%"
        if not self.timestamps:
            return line
        return f"{self.tick().strftime('%Y-%m-%dT%H:%M:%S.%f')}Z 01{'OE'[self.rng.random() < 0.1]} {line}"


class Jenkins(Style):
    def __init__(self, rng: random.Random, start: datetime, timestamps: bool) -> None:
        super().__init__(rng, start)
        self.timestamps = timestamps

    def header(self) -> list[str]:
        return [
            "Started by user admin",
            "[Pipeline] Start of Pipeline",
            "[Pipeline] node",
            "Running on agent-3 in /var/jenkins/workspace/app",
        ]

    def render(self, line: str) -> str:
        if line.startswith("##[group]Run "):
            line = f"[Pipeline] sh\n+ {line[13:]}"
        elif line == "##[endgroup]":
            line = "[Pipeline] }"
        elif line.startswith("  ") and line.endswith("***"):
            line = line.replace("***", "****")
        if not self.timestamps:
            return line
        stamp = self.tick().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        return "\n".join(f"[{stamp}Z] {part}" for part in line.split("\n"))


# Planted secrets: (maker, line template). The line shows the token the way
# real leaks do: under set -x, in a verbose npm dump, glued to colour codes.
_PLANTS: list[tuple[Callable[[random.Random], str], str]] = [
    (npm_token, "+ echo //registry.npmjs.org/:_authToken=" + ESC + "[33m{token}" + ESC + "[39m > .npmrc"),
    (lambda rng: github_style("ghp", rng), "+ git clone https://x-access-token:{token}@github.com/acme/app.git"),
    (pypi_token, "+ twine upload --verbose -u __token__ -p {token} dist/*"),
    (npm_token, "npm verb config //registry.npmjs.org/:_authToken={split}"),
]


def generate(root: Path, total_mb: int, seed: int = 7) -> list[tuple[str, int, str]]:
    """Write the logs; return the planted (path, line, token) triples."""
    rng = random.Random(seed)
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    # Reused blocks keep generation fast. Tools colour their output only where
    # the job forces it (FORCE_COLOR, CARGO_TERM_COLOR): about 2 jobs in 5.
    coloured = [_body(rng, 4000) for _ in range(24)]
    plain = [[_COLOURS.sub("", line) for line in block] for block in coloured]
    planted: list[tuple[str, int, str]] = []
    target, written, number = total_mb * 1_000_000, 0, 0
    while written < target:
        kind = number % 3
        if kind == 0:
            style: Style = Actions(rng, start)
            path = root / "github" / f"run-{number:04d}" / f"{number % 7 + 1}_build{style.suffix}"
        elif kind == 1:
            style = GitLab(rng, start, timestamps=number % 2 == 0)
            path = root / "gitlab" / f"job-{number:05d}.log"
        else:
            style = Jenkins(rng, start, timestamps=number % 2 == 0)
            path = root / "jenkins" / f"build-{number:04d}" / "consoleText.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        rendered = [style.render(line) for line in style.header()]
        lines = sum(item.count("\n") + 1 for item in rendered)
        plant_at = rng.randrange(1, 6) if number % 5 == 0 else -1
        pool = coloured if rng.random() < 0.4 else plain
        for index in range(rng.randrange(2, 8)):
            if index == plant_at:
                maker, template = _PLANTS[len(planted) % len(_PLANTS)]
                token = maker(rng)
                cut = len(token) // 2
                line = template.format(token=token, split=f"{token[:cut]}{ESC}[1m{token[cut:]}{ESC}[22m")
                rendered.append(style.render(line))
                planted.append((str(path), lines + 1, token))
                lines += 1
            block = [style.render(line) for line in rng.choice(pool)]
            rendered.extend(block)
            lines += sum(item.count("\n") + 1 for item in block)
        text = "\n".join(rendered) + "\n"
        path.write_text(text, encoding="utf-8")
        written += len(text.encode("utf-8"))
        number += 1
    return planted


def _run(command: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.monotonic()
    proc = subprocess.run(command, capture_output=True, text=True, check=False, env=_offline_env())
    return time.monotonic() - started, proc


def _offline_env() -> dict[str, str]:
    # Peers must never reach the network: no validation, no proxies to leak through.
    env = {k: v for k, v in os.environ.items() if not k.upper().endswith("_VALIDATE")}
    env["NO_PROXY"] = "*"
    env["HTTPS_PROXY"] = env["HTTP_PROXY"] = "http://127.0.0.1:9"
    return env


def _betterleaks_command(binary: str, root: Path) -> list[str]:
    """``betterleaks dir`` where the version has it, else its filesystem command."""
    help_text = subprocess.run([binary, "--help"], capture_output=True, text=True, check=False).stdout
    command = "dir" if "\n  dir " in help_text else "fs"
    return [binary, command, str(root), "--no-banner", "--silent", "--exit-code=0"]


def _betterleaks_hits(report_path: Path, planted: list[tuple[str, int, str]]) -> str:
    """How many planted tokens betterleaks reported at their line ("?" when
    its report cannot be read)."""
    try:
        report = json.loads(report_path.read_text())
    except (OSError, ValueError):
        return "?"
    findings = report.get("findings", []) if isinstance(report, dict) else report
    seen = set()
    for finding in findings:
        location, match = finding.get("location", {}), finding.get("match", {})
        seen.add(
            (location.get("path"), location.get("start_line"), f"{match.get('full', '')} {match.get('value', '')}")
        )
    return str(
        sum(1 for path, line, token in planted if any(p == path and n == line and token in text for p, n, text in seen))
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=1000, help="MB of logs to generate (default 1000)")
    parser.add_argument("--keep", type=Path, help="generate into this folder and keep it (reused if it exists)")
    parser.add_argument("--sprawl", default=shutil.which("sprawl") or "sprawl", help="sprawl executable")
    parser.add_argument("--betterleaks", default=shutil.which("betterleaks"), help="betterleaks executable")
    args = parser.parse_args()

    root = args.keep or Path(tempfile.mkdtemp(prefix="sprawl-ci-bench-"))
    manifest = root / "planted.json"
    started = time.monotonic()
    if manifest.exists():
        planted = [tuple(item) for item in json.loads(manifest.read_text())]
    else:
        root.mkdir(parents=True, exist_ok=True)
        planted = generate(root / "logs", args.mb)
        manifest.write_text(json.dumps(planted))
    logs = root / "logs"
    size = sum(p.stat().st_size for p in logs.rglob("*") if p.is_file())
    print(
        f"logs: {size / 1e6:.0f} MB in {sum(1 for p in logs.rglob('*') if p.is_file())} files "
        f"({time.monotonic() - started:.1f} s to prepare), {len(planted)} planted tokens"
    )

    seconds, proc = _run(
        [args.sprawl, "scan", str(logs), "--format", "json", "--quiet", "--show-secrets", "--max-file-size", "1G"]
    )
    if proc.returncode not in (0, 1):
        print(proc.stderr, file=sys.stderr)
        return 2
    report = json.loads(proc.stdout)
    found = {(o["path"], o["line"], f["secret"]) for f in report["findings"] for o in f["occurrences"]}
    hits = sum(1 for path, line, token in planted if (path, line, token) in found)
    print(
        f"sprawl      {seconds:6.2f} s  {size / 1e6 / seconds:6.1f} MB/s  "
        f"planted tokens found at the planted line: {hits}/{len(planted)}; findings: {len(report['findings'])}"
    )
    if args.betterleaks:
        report_path = root / "betterleaks.json"
        seconds, proc = _run([*_betterleaks_command(args.betterleaks, logs), "-o", str(report_path)])
        status = "" if proc.returncode == 0 else f"  (exit {proc.returncode}: {proc.stderr.strip()[-200:]})"
        print(
            f"betterleaks {seconds:6.2f} s  {size / 1e6 / seconds:6.1f} MB/s  "
            f"planted tokens found at the planted line: {_betterleaks_hits(report_path, planted)}/{len(planted)}{status}"
        )
    else:
        print("betterleaks: not on PATH, skipped")
    if not args.keep:
        shutil.rmtree(root)
    return 0 if hits == len(planted) else 1


if __name__ == "__main__":
    sys.exit(main())
