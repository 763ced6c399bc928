"""Full-history scan benchmark: unique-blob MB/s and total seconds.

Builds a large repository (or takes one with --repo): real source files from
this machine's Python installation, edited over thousands of commits on a few
branches, with merges, tags and a handful of planted tokens, written through
one ``git fast-import``. Then times, on the same repository:

- reading every object once (``git cat-file --batch-all-objects --batch``), the floor;
- ``sprawl scan`` (the installed command) over the whole history;
- betterleaks and Kingfisher when they are on PATH (--peers), Kingfisher with
  --no-validate --no-update-check so nothing leaves the machine.

Peak memory (max RSS) of each run comes from GNU time when present.

    python benchmarks/git_history.py --mb 860 --keep /tmp/bigrepo
    python benchmarks/git_history.py --repo /tmp/bigrepo --peers
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.tokenfactory import github_style, npm_token

_TEXT_SUFFIXES = {".py", ".txt", ".rst", ".md", ".cfg", ".toml", ".json", ".html", ".css", ".js", ".c", ".h", ".pyi"}
_ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def _source_files(limit_bytes: int) -> list[tuple[str, bytes]]:
    """Text files from the Python installation, as (relative path, content)."""
    roots = [Path(sysconfig.get_paths()["stdlib"]), Path(sysconfig.get_paths()["purelib"])]
    files: list[tuple[str, bytes]] = []
    total = 0
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.suffix not in _TEXT_SUFFIXES or not path.is_file() or "__pycache__" in path.parts:
                continue
            try:
                data = path.read_bytes()
            except OSError:
                continue
            if not data or len(data) > 400_000 or b"\0" in data[:4096]:
                continue
            files.append((f"{root.name}/{path.relative_to(root).as_posix()}", data))
            total += len(data)
            if total >= limit_bytes:
                return files
    return files


def _data(payload: bytes) -> bytes:
    return b"data %d\n" % len(payload) + payload + b"\n"


def _fast_import_stream(target_mb: int, seed: int, planted: list[tuple[str, str]]) -> Iterator[bytes]:
    """Commits that each edit a few files until the unique blob bytes reach
    ``target_mb``; every tenth commit on a side branch merged back, tags
    every 500 commits, a few tokens planted along the way (some later removed)."""
    rng = random.Random(seed)
    pool = _source_files(max(target_mb // 8, 2) << 20)
    if not pool:
        raise SystemExit("no source files found to build the repository from")
    target = target_mb << 20
    written = 0
    clock = 1_600_000_000
    mark = 0
    tokens_due = {int(i * target / 12): i for i in range(1, 12)}
    versions: dict[str, int] = {}
    main_head: int | None = None
    # The first commit holds the whole pool, so later edits have a tree.
    mark += 1
    clock += 60
    yield b"commit refs/heads/main\nmark :%d\n" % mark
    yield b"author Bench <bench@example.test> %d +0000\ncommitter Bench <bench@example.test> %d +0000\n" % (clock, clock)
    yield _data(b"initial import")
    for path, content in pool:
        yield b"M 100644 inline " + path.encode() + b"\n" + _data(content)
        written += len(content)
    main_head = mark
    commit_index = 0
    while written < target:
        commit_index += 1
        side = commit_index % 10 == 5
        branch = b"refs/heads/side" if side else b"refs/heads/main"
        mark += 1
        clock += 60
        yield b"commit " + branch + b"\nmark :%d\n" % mark
        yield b"author Dev%d <dev@example.test> %d +0000\ncommitter Dev <dev@example.test> %d +0000\n" % (
            commit_index % 17,
            clock,
            clock,
        )
        yield _data(b"change %d: refactor and fix" % commit_index)
        yield b"from :%d\n" % main_head
        for _ in range(rng.randint(1, 4)):
            path, content = rng.choice(pool)
            version = versions.get(path, 0) + 1
            versions[path] = version
            lines = content.split(b"\n")
            where = rng.randrange(len(lines))
            lines.insert(where, b"# revision %d of this file, commit %d" % (version, commit_index))
            edited = b"\n".join(lines)
            yield b"M 100644 inline " + path.encode() + b"\n" + _data(edited)
            written += len(edited)
        due = [key for key in tokens_due if written >= key]
        for key in due:
            index = tokens_due.pop(key)
            token = npm_token(rng) if index % 2 else github_style("ghp", rng)
            secret_path = f"deploy/env{index}.sh"
            planted.append((secret_path, token))
            variable = "NPM_TOKEN" if token.startswith("npm_") else "GITHUB_TOKEN"
            yield b"M 100644 inline " + secret_path.encode() + b"\n" + _data(f"export {variable}={token}\n".encode())
        if not side:
            main_head = mark
        if commit_index % 10 == 6:  # merge the side commit back
            mark += 1
            clock += 60
            yield b"commit refs/heads/main\nmark :%d\n" % mark
            yield b"author Bench <bench@example.test> %d +0000\ncommitter Bench <bench@example.test> %d +0000\n" % (
                clock,
                clock,
            )
            yield _data(b"merge side")
            yield b"from :%d\nmerge :%d\n" % (main_head, mark - 2)
            main_head = mark
        if commit_index % 500 == 0:
            yield b"reset refs/tags/v%d\nfrom :%d\n\n" % (commit_index // 500, main_head)
    yield b"done\n"


def build(path: Path, target_mb: int, seed: int) -> list[tuple[str, str]]:
    subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True, env=_ENV)
    planted: list[tuple[str, str]] = []
    proc = subprocess.Popen(
        ["git", "-C", str(path), "fast-import", "--quiet", "--done"], stdin=subprocess.PIPE, env=_ENV
    )
    assert proc.stdin is not None
    for piece in _fast_import_stream(target_mb, seed, planted):
        proc.stdin.write(piece)
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit("git fast-import failed")
    subprocess.run(["git", "-C", str(path), "symbolic-ref", "HEAD", "refs/heads/main"], check=True, env=_ENV)
    subprocess.run(["git", "-C", str(path), "repack", "-adq"], check=True, env=_ENV)
    return planted


def unique_blob_bytes(repo: Path) -> tuple[int, int]:
    out = subprocess.run(
        ["git", "-C", str(repo), "cat-file", "--batch-all-objects", "--batch-check=%(objecttype) %(objectsize)"],
        capture_output=True,
        check=True,
        env=_ENV,
    ).stdout
    blobs = [int(size) for kind, size in (line.split() for line in out.splitlines()) if kind == b"blob"]
    commits = subprocess.run(
        ["git", "-C", str(repo), "rev-list", "--all", "--count"], capture_output=True, check=True, env=_ENV
    ).stdout
    return sum(blobs), int(commits)


def timed(name: str, argv: list[str]) -> tuple[float, int | None]:
    """Wall seconds and peak RSS (KiB) of one run; output discarded."""
    gnu_time = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").exists() else None)
    with tempfile.NamedTemporaryFile("r") as rss_file:
        full = [gnu_time, "-f", "%M", "-o", rss_file.name, *argv] if gnu_time else argv
        started = time.monotonic()
        done = subprocess.run(full, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_ENV, check=False)
        seconds = time.monotonic() - started
        text = Path(rss_file.name).read_text().strip().splitlines()
    if done.returncode not in (0, 1, 200, 205):  # kingfisher: 200 = findings
        print(f"  {name}: exit {done.returncode}: {done.stderr.decode(errors='replace')[-300:]}")
    rss = int(text[-1]) if text and text[-1].isdigit() else None
    return seconds, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=200, help="unique blob MB to build (default 200)")
    parser.add_argument("--repo", type=Path, help="scan this repository instead of building one")
    parser.add_argument("--keep", type=Path, help="build the repository here and keep it")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--peers", action="store_true", help="also time betterleaks and kingfisher if installed")
    parser.add_argument("--sprawl", default=shutil.which("sprawl") or "sprawl", help="sprawl command to time")
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool; the best is reported")
    args = parser.parse_args()

    workdir = None
    planted: list[tuple[str, str]] = []
    if args.repo:
        repo = args.repo
    else:
        repo = args.keep or Path(workdir := tempfile.mkdtemp(prefix="sprawl-git-bench-")) / "repo.git"
        if repo.exists():
            raise SystemExit(f"{repo} exists; pass it with --repo to reuse it")
        started = time.monotonic()
        planted = build(repo, args.mb, args.seed)
        print(f"built {repo} in {time.monotonic() - started:.1f} s with {len(planted)} planted tokens")
    try:
        blob_bytes, commits = unique_blob_bytes(repo)
        mb = blob_bytes / 1e6
        print(f"repository: {commits} commits, {mb:.0f} MB of unique blobs")
        runs = [
            (
                "git cat-file --batch-all-objects",
                ["git", "-C", str(repo), "cat-file", "--batch-all-objects", "--batch", "--unordered"],
            )
        ]
        runs.append(("sprawl", [args.sprawl, "scan", str(repo), "-q", "--format", "json", "--fail-on", "never"]))
        if args.peers:
            if shutil.which("betterleaks"):
                runs.append(("betterleaks", ["betterleaks", "git", str(repo), "--no-banner", "--silent", "--exit-code=0"]))
            if shutil.which("kingfisher"):
                runs.append(
                    (
                        "kingfisher",
                        ["kingfisher", "scan", str(repo), "--git-history=full", "--no-validate", "--no-update-check"],
                    )
                )
        print(f"{'tool':<34} {'seconds':>8} {'MB/s':>8} {'peak RSS':>10}")
        for name, argv in runs:
            best: tuple[float, int | None] | None = None
            for _ in range(args.repeat):
                result = timed(name, argv)
                if best is None or result[0] < best[0]:
                    best = result
            assert best is not None
            seconds, rss = best
            rss_text = f"{rss / 1024:.0f} MiB" if rss else "n/a"
            print(f"{name:<34} {seconds:8.2f} {mb / seconds:8.1f} {rss_text:>10}")
        if planted:
            found = subprocess.run(
                [args.sprawl, "scan", str(repo), "-q", "--format", "json", "--fail-on", "never", "--show-secrets"],
                capture_output=True,
                env=_ENV,
                check=False,
            ).stdout.decode()
            hits = sum(token in found for _, token in planted)
            print(f"sprawl found {hits}/{len(planted)} planted tokens")
    finally:
        if workdir and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
