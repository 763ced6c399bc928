"""Latency of ``sprawl hook pre-commit`` for a typical commit.

Builds a repository with a realistic tree (default 400 files, about 5 MB,
30 commits of history), then, run after run, edits a few lines in each of 10
files, stages them and times the hook end to end as git would start it (a
fresh ``python -P -m scanner hook pre-commit`` in the work tree). Prints
p50, p95, min and max in milliseconds; each run's commit is then recorded
(without the hook) so history grows as it would.

    python benchmarks/hook_latency.py                 # 30 runs
    python benchmarks/hook_latency.py --runs 100 --files 10 --token-every 5
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.tokenfactory import npm_token

_CODE = [
    "def handler(event, context):",
    "    return {'statusCode': 200, 'body': json.dumps(result)}",
    "import os, sys, json  # standard imports",
    "    if (!user) { throw new Error('missing user'); }",
    "  for (let i = 0; i < items.length; i++) { total += items[i].price; }",
    "class RepositoryClient(BaseClient):",
    "export function parse(input: string): Result<Node, ParseError> {",
    "const NPM_TOKEN = process.env.NPM_TOKEN;",  # a keyword, no secret
    "    url = 'https://registry.npmjs.org/' + name",
    "    # see https://pypi.org/project/requests/ for the changelog",
]
_SUFFIXES = (".py", ".ts", ".js", ".md", ".yaml", ".json", ".cfg")


def _git(repo: Path, *args: str) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    env.update(
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Bench",
        GIT_AUTHOR_EMAIL="bench@example.test",
        GIT_COMMITTER_NAME="Bench",
        GIT_COMMITTER_EMAIL="bench@example.test",
    )
    subprocess.run(["git", "-C", str(repo), *args], check=True, env=env, stdout=subprocess.DEVNULL)


def _file_text(rng: random.Random, lines: int) -> str:
    return "".join(f"{rng.choice(_CODE)}  # {rng.getrandbits(48):012x}\n" for _ in range(lines))


def build_repo(root: Path, files: int, commits: int, rng: random.Random) -> list[Path]:
    """A repository of ``files`` source-like files (mean about 12 kB) with
    ``commits`` commits of history."""
    _git(root, "init", "-q", "-b", "main")
    paths: list[Path] = []
    for number in range(files):
        path = root / f"pkg{number % 23:02d}" / f"sub{number % 5}" / f"module{number:04d}{_SUFFIXES[number % len(_SUFFIXES)]}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_file_text(rng, rng.randrange(60, 340)))
        paths.append(path)
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "initial import")
    for number in range(commits - 1):
        for path in rng.sample(paths, 8):
            with path.open("a") as handle:
                handle.write(_file_text(rng, 5))
        _git(root, "commit", "-q", "-am", f"change {number}")
    return paths


def edit(paths: list[Path], count: int, rng: random.Random, token: str | None) -> None:
    """Change a few lines in each of ``count`` files (one of them gets
    ``token`` on a new line, when given)."""
    for index, path in enumerate(rng.sample(paths, count)):
        lines = path.read_text().splitlines(keepends=True)
        for _ in range(3):
            lines[rng.randrange(len(lines))] = _file_text(rng, 1)
        lines.insert(rng.randrange(len(lines)), _file_text(rng, 1))
        if token is not None and index == 0:
            lines.insert(rng.randrange(len(lines)), f"NPM_TOKEN = '{token}'\n")
        path.write_text("".join(lines))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30, help="timed hook runs (default 30)")
    parser.add_argument("--files", type=int, default=10, help="files changed per commit (default 10)")
    parser.add_argument("--tree", type=int, default=400, help="files in the repository (default 400)")
    parser.add_argument("--history", type=int, default=30, help="commits of history (default 30)")
    parser.add_argument("--token-every", type=int, default=0,
                        help="plant a token in every Nth commit (default 0: never); those runs must exit 1")
    parser.add_argument("--python", default=sys.executable, help="interpreter that runs sprawl")
    parser.add_argument("--keep", type=Path, help="build the repository here and keep it")
    parser.add_argument("--no-bytecode-cache", action="store_true",
                        help="compile sprawl's modules on every run (as with PYTHONDONTWRITEBYTECODE=1 and no "
                             "installed .pyc files); by default compiled modules are cached in a temporary folder, "
                             "as an installed package has them")
    args = parser.parse_args()

    rng = random.Random(7)
    root = args.keep or Path(tempfile.mkdtemp(prefix="sprawl-hook-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    paths = build_repo(root, args.tree, args.history, rng)
    size = sum(p.stat().st_size for p in paths)
    print(f"repository: {len(paths)} files, {size / 1e6:.1f} MB, {args.history} commits; "
          f"{args.files} files changed per commit")

    hook_env = dict(os.environ)
    pycache = Path(tempfile.mkdtemp(prefix="sprawl-hook-pycache-"))
    if args.no_bytecode_cache:
        hook_env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        hook_env.pop("PYTHONDONTWRITEBYTECODE", None)
        hook_env["PYTHONPYCACHEPREFIX"] = str(pycache)
    hook = [args.python, "-P", "-m", "scanner", "hook", "pre-commit"]
    subprocess.run(hook, cwd=root, env=hook_env, capture_output=True, check=False)  # warm-up, not timed

    timings: list[float] = []
    wrong = 0
    for run in range(args.runs):
        token = npm_token(rng) if args.token_every and run % args.token_every == args.token_every - 1 else None
        edit(paths, args.files, rng, token)
        _git(root, "add", "-A")
        started = time.perf_counter()
        done = subprocess.run(hook, cwd=root, env=hook_env, capture_output=True, text=True, check=False)
        timings.append((time.perf_counter() - started) * 1000)
        expected = 1 if token is not None else 0
        if done.returncode != expected:
            wrong += 1
            print(f"run {run}: exit {done.returncode}, expected {expected}\n{done.stdout}{done.stderr}", file=sys.stderr)
        if token is not None:
            _git(root, "reset", "-q", "--hard")  # drop the planted token
        else:
            _git(root, "commit", "-q", "--no-verify", "-m", f"bench {run}")

    timings.sort()
    p95 = statistics.quantiles(timings, n=20, method="inclusive")[-1] if len(timings) > 1 else timings[0]
    print(f"sprawl hook pre-commit over {len(timings)} runs: p50 {statistics.median(timings):.0f} ms, "
          f"p95 {p95:.0f} ms, min {timings[0]:.0f} ms, max {timings[-1]:.0f} ms")
    shutil.rmtree(pycache)
    if not args.keep:
        shutil.rmtree(root)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
