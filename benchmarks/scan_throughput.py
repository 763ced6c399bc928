"""Throughput benchmark for ``sprawl scan`` on a large generated tree.

Generates a mixed tree (source code, CI logs, JSON, configs; default 512 MB of
text) with a few planted tokens and many keyword decoys, runs the installed
``sprawl scan`` on it as a user would, and prints MB/s, the wall time and
whether every planted token was found at its planted line.

    python benchmarks/scan_throughput.py               # 512 MB in a temp dir
    python benchmarks/scan_throughput.py --mb 100 --keep /tmp/tree
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.tokenfactory import github_style, npm_token, pypi_token

# Lines typical of each kind of file. Some carry rule keywords (npm_, ghp_,
# pypi-) without a secret, so the prefilter's work is realistic.
_CODE = [
    "def handler(event, context):",
    "    return {'statusCode': 200, 'body': json.dumps(result)}",
    "import os, sys, json  # standard imports",
    "    if (!user) { throw new Error('missing user'); }",
    "  for (let i = 0; i < items.length; i++) { total += items[i].price; }",
    "class RepositoryClient(BaseClient):",
    "export function parse(input: string): Result<Node, ParseError> {",
]
_LOG = [
    "2026-11-20T10:{m:02d}:{s:02d}.456Z \x1b[32mPASS\x1b[0m src/utils/{m}.test.ts ({s} ms)",
    "2026-11-20T10:{m:02d}:{s:02d}.000Z Downloading index for requests",
    "2026-11-20T10:{m:02d}:{s:02d}.321Z ##[group]Run actions/checkout@v4",
]
# Lines that hold rule keywords (and URLs) but no secret: the prefilter lets
# them through, so the regexes run. --keyword-rate sets how often they appear.
_KEYWORD_LINES = [
    "const NPM_TOKEN = process.env.NPM_TOKEN;",
    "    # ghp_ tokens are read from the environment, never hard-coded",
    "2026-11-20T10:{m:02d}:{s:02d}.123Z [INFO] Fetching https://registry.npmjs.org/lodash",
    "2026-11-20T10:{m:02d}:{s:02d}.789Z npm verb publish using _authToken=${{NPM_TOKEN}}",
    "2026-11-20T10:{m:02d}:{s:02d}.000Z Downloading pypi-simple index; password = ${{PYPI_PASSWORD}}",
]
_JSON = [
    '{{"id": {n}, "name": "item-{n}", "tags": ["a", "b"], "price": {s}.99, "sha": "{h}"}}',
    '{{"event": "push", "ref": "refs/heads/main", "commit": "{h}", "size": {n}}}',
]


def _line(rng: random.Random, kind: str, keyword_rate: float) -> str:
    m, s, n = rng.randrange(60), rng.randrange(60), rng.randrange(10**6)
    h = f"{rng.getrandbits(160):040x}"
    if rng.random() < keyword_rate:
        return rng.choice(_KEYWORD_LINES).format(m=m, s=s)
    if kind == "code":
        return rng.choice(_CODE)
    if kind == "log":
        return rng.choice(_LOG).format(m=m, s=s)
    return rng.choice(_JSON).format(n=n, s=s, h=h)


def generate(root: Path, total_mb: int, keyword_rate: float, seed: int = 1) -> list[tuple[str, int, str]]:
    """Write the tree; return the planted (path, line, token) triples."""
    rng = random.Random(seed)
    kinds = [("code", ".py"), ("log", ".log"), ("json", ".jsonl")]
    # A pool of distinct blocks, reused, keeps generation fast while the
    # files stay distinct (each gets its own header line).
    blocks = {kind: ["\n".join(_line(rng, kind, keyword_rate) for _ in range(2000)) + "\n" for _ in range(8)] for kind, _ in kinds}
    planted: list[tuple[str, int, str]] = []
    makers = [lambda: npm_token(rng), lambda: github_style("ghp", rng), lambda: pypi_token(rng)]
    target = total_mb * 1_000_000
    written = file_no = 0
    while written < target:
        kind, suffix = kinds[file_no % len(kinds)]
        path = root / f"dir{file_no % 17:02d}" / f"file{file_no:05d}{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        parts = [f"# generated file {file_no}\n"]
        size = len(parts[0])
        lines = 1
        plant_at = rng.randrange(20) if file_no % 4 == 0 else -1
        for index in range(rng.randrange(6, 14)):
            block = rng.choice(blocks[kind])
            if index == plant_at:
                token = makers[len(planted) % len(makers)]()
                parts.append(f"TOKEN={token}\n")
                planted.append((str(path), lines + 1, token))
                lines += 1
            parts.append(block)
            size += len(block)
            lines += block.count("\n")
        path.write_text("".join(parts))
        written += size
        file_no += 1
    return planted


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=512, help="MB of text to generate (default 512)")
    parser.add_argument(
        "--keyword-rate", type=float, default=0.01,
        help="share of lines holding rule keywords but no secret (default 0.01; 0.2 = a keyword-dense worst case)",
    )
    parser.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    parser.add_argument("--sprawl", default=shutil.which("sprawl") or "sprawl", help="sprawl executable")
    args = parser.parse_args()

    root = args.keep or Path(tempfile.mkdtemp(prefix="sprawl-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    planted = generate(root, args.mb, args.keyword_rate)
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    print(f"keyword-bearing lines: {args.keyword_rate:.0%}")
    print(f"generated {size / 1e6:.0f} MB in {time.monotonic() - started:.1f} s, {len(planted)} planted tokens")

    started = time.monotonic()
    proc = subprocess.run(
        [args.sprawl, "scan", str(root), "--format", "json", "--quiet", "--show-secrets"],
        capture_output=True, text=True, check=False,
    )
    seconds = time.monotonic() - started
    if proc.returncode not in (0, 1):
        print(proc.stderr, file=sys.stderr)
        return 2
    report = json.loads(proc.stdout)
    found = {(o["path"], o["line"], f["secret"]) for f in report["findings"] for o in f["occurrences"]}
    hits = sum(1 for item in planted if item in found)
    print(f"sprawl scan: {size / 1e6:.0f} MB in {seconds:.2f} s = {size / 1e6 / seconds:.1f} MB/s")
    print(f"planted tokens found at the planted line: {hits}/{len(planted)}; findings reported: {len(report['findings'])}")
    if not args.keep:
        shutil.rmtree(root)
    return 0 if hits == len(planted) else 1


if __name__ == "__main__":
    sys.exit(main())
