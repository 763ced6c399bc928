"""Sweep benchmark: repositories per minute and MB/s over a folder of clones.

Builds ``--repos`` bare repositories with ``git fast-import`` (source files
from this machine's Python installation, salted per repository so their
blobs differ, edited over a few hundred commits, a token planted in each);
``--forks`` of them are forks (clones of another one plus a commit of their
own, sharing its history). Then times, with the installed ``sprawl``:

1. a first sweep (every object read once; forks' shared history skipped);
2. a second sweep with nothing changed (refs compared, nothing read);
3. a third after one new commit in ``--touch`` repositories.

    python benchmarks/sweep.py                      # 24 repositories, 6 of them forks
    python benchmarks/sweep.py --repos 40 --mb 20 --jobs 2 --keep /tmp/sweep-bench
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# The fast-import helpers of the git history benchmark.
from git_history import _data, _source_files

from tests.tokenfactory import github_style, npm_token

_ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def _stream(index: int, pool: list[tuple[str, bytes]], target: int, rng: random.Random) -> Iterator[bytes]:
    """One repository: the pool salted with the repository's name, then
    commits editing a few files until ``target`` bytes of blobs are written,
    a token planted halfway."""
    clock = 1_600_000_000 + index * 100_000
    salt = f"# repository {index}\n".encode()
    yield b"commit refs/heads/main\nmark :1\n"
    yield b"author Bench <bench@example.test> %d +0000\ncommitter Bench <bench@example.test> %d +0000\n" % (clock, clock)
    yield _data(b"initial import")
    written = 0
    planted = False
    for path, content in pool:
        yield b"M 100644 inline " + path.encode() + b"\n" + _data(salt + content)
        written += len(content)
    mark = 1
    while written < target:
        mark += 1
        clock += 60
        yield b"commit refs/heads/main\nmark :%d\n" % mark
        yield b"author Dev <dev@example.test> %d +0000\ncommitter Dev <dev@example.test> %d +0000\n" % (clock, clock)
        yield _data(b"change %d" % mark)
        yield b"from :%d\n" % (mark - 1)
        for _ in range(rng.randint(1, 3)):
            path, content = rng.choice(pool)
            lines = content.split(b"\n")
            lines.insert(rng.randrange(len(lines)), b"# edit %d in repository %d" % (mark, index))
            edited = salt + b"\n".join(lines)
            yield b"M 100644 inline " + path.encode() + b"\n" + _data(edited)
            written += len(edited)
        if not planted and written >= target // 2:
            planted = True
            token = npm_token(rng) if index % 2 else github_style("ghp", rng)
            yield b"M 100644 inline deploy/env.sh\n" + _data(f"export TOKEN={token}\n".encode())
    yield b"done\n"


def _fast_import(repo: Path, stream: Iterator[bytes]) -> None:
    proc = subprocess.Popen(["git", "-C", str(repo), "fast-import", "--quiet", "--done"], stdin=subprocess.PIPE, env=_ENV)
    assert proc.stdin is not None
    for piece in stream:
        proc.stdin.write(piece)
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit(f"git fast-import failed in {repo}")


def _commit_on_top(repo: Path, message: str, path: str, text: str, clock: int) -> None:
    stream = [
        b"commit refs/heads/main\n",
        b"author Dev <dev@example.test> %d +0000\ncommitter Dev <dev@example.test> %d +0000\n" % (clock, clock),
        _data(message.encode()),
        b"from refs/heads/main^0\n",
        b"M 100644 inline " + path.encode() + b"\n" + _data(text.encode()),
        b"done\n",
    ]
    _fast_import(repo, iter(stream))


def build(root: Path, repos: int, forks: int, mb: int, seed: int) -> int:
    """The folder of clones; returns the bytes of unique blobs written."""
    rng = random.Random(seed)
    # A quarter of the size as the first import; edits over many commits make the rest.
    pool = _source_files(max(mb, 1) << 18)
    if not pool:
        raise SystemExit("no source files found to build repositories from")
    originals = repos - forks
    for index in range(originals):
        repo = root / f"repo{index:03d}.git"
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(repo)], check=True, env=_ENV)
        _fast_import(repo, _stream(index, pool, mb << 20, rng))
        subprocess.run(["git", "-C", str(repo), "repack", "-adq"], check=True, env=_ENV)
    for index in range(forks):
        source = root / f"repo{index % originals:03d}.git"
        fork = root / f"fork{index:03d}.git"
        subprocess.run(["git", "clone", "-q", "--bare", str(source), str(fork)], check=True, env=_ENV)
        _commit_on_top(fork, "fork work", f"fork/{index}.txt", f"fork {index}\n", 1_700_000_000 + index)
    listing = subprocess.run(
        "for r in *.git; do git -C $r cat-file --batch-all-objects --batch-check='%(objectname) %(objecttype) %(objectsize)'; done",
        shell=True,
        cwd=root,
        capture_output=True,
        check=True,
        env=_ENV,
    ).stdout
    unique = {fields[0]: int(fields[2]) for fields in (line.split() for line in listing.splitlines()) if fields[1] == b"blob"}
    return sum(unique.values())


def sweep(sprawl: str, root: Path, state: Path, jobs: int) -> tuple[float, dict[str, object]]:
    argv = [sprawl, "sweep", str(root), "--state", str(state), "--format", "json", "-q", "--fail-on", "never"]
    started = time.monotonic()
    done = subprocess.run([*argv, "--jobs", str(jobs)], capture_output=True, text=True, check=False, env=_ENV)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"sprawl sweep failed ({done.returncode}): {done.stderr[-500:]}")
    return seconds, json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repos", type=int, default=24, help="repositories in all (default 24)")
    parser.add_argument("--forks", type=int, default=6, help="how many of them are forks (default 6)")
    parser.add_argument("--mb", type=int, default=8, help="MB of blobs per original repository (default 8)")
    parser.add_argument("--touch", type=int, default=3, help="repositories given a new commit before the third sweep")
    parser.add_argument("--jobs", type=int, default=0, help="sprawl sweep --jobs (default 0: every core)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="build the repositories here and keep them")
    parser.add_argument("--sprawl", default=shutil.which("sprawl") or "sprawl", help="sprawl command to time")
    args = parser.parse_args()
    if not 0 <= args.forks < args.repos:
        raise SystemExit("--forks must be smaller than --repos")

    workdir = Path(tempfile.mkdtemp(prefix="sprawl-sweep-bench-"))
    root = args.keep or workdir / "clones"
    try:
        root.mkdir(parents=True, exist_ok=False)
        started = time.monotonic()
        blob_bytes = build(root, args.repos, args.forks, args.mb, args.seed)
        print(
            f"built {args.repos} repositories ({args.forks} forks) in {time.monotonic() - started:.1f} s: "
            f"{blob_bytes / 1e6:.0f} MB of unique blobs"
        )
        state = workdir / "state.db"
        print(f"{'run':<28} {'seconds':>8} {'repos/min':>10} {'MB/s':>8} {'scanned':>8} {'unchanged':>9} {'objects':>8}")
        for label in ("first sweep", "second sweep (no change)", "third sweep (new commits)"):
            if label.startswith("third"):
                for index in range(min(args.touch, args.repos - args.forks)):
                    _commit_on_top(root / f"repo{index:03d}.git", "later", "later.txt", f"later {index}\n", 1_800_000_000)
            seconds, report = sweep(args.sprawl, root, state, args.jobs)
            info = report["sweep"]
            assert isinstance(info, dict)
            repos = info["repositories"]
            print(
                f"{label:<28} {seconds:8.2f} {args.repos * 60 / seconds:10.1f} {info['bytes_scanned'] / 1e6 / seconds:8.1f} "
                f"{repos['scanned']:>8} {repos['unchanged']:>9} {info['objects_scanned']:>8}"
            )
            if label.startswith("first"):
                findings = report["findings"]
                assert isinstance(findings, list)
                print(f"  findings: {len(findings)} (one planted per original repository: {args.repos - args.forks})")
        print("(seconds: whole command incl. start-up; repos/min and MB/s from those seconds)")
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
