"""Files source: walking, skipping, symlinks, stdin, archives, bad input."""

from __future__ import annotations

import gzip
import io
import os
import random
import tarfile
import zipfile
from pathlib import Path

import pytest

from scanner.model import Chunk
from scanner.sources.archives import ArchiveLimits
from scanner.sources.base import SourceStats
from scanner.sources.files import FileSource
from tests.tokenfactory import npm_token

MiB = 1 << 20


def collect(paths: list[str], **kwargs: object) -> tuple[list[Chunk], SourceStats]:
    stats = SourceStats()
    source = FileSource(paths, max_file_size=kwargs.pop("max_file_size", 10 * MiB), **kwargs)  # type: ignore[arg-type]
    return list(source.chunks(stats)), stats


def test_walks_directories_recursively_skipping_git(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "deep.txt").write_text("deep")
    (tmp_path / "top.txt").write_text("top")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("[core]")
    chunks, stats = collect([str(tmp_path)])
    assert sorted(c.provenance.path for c in chunks) == [
        str(tmp_path / "a" / "b" / "deep.txt"),
        str(tmp_path / "top.txt"),
    ]
    assert stats.errors == []


def test_missing_path_is_an_error_and_the_rest_is_scanned(tmp_path: Path) -> None:
    (tmp_path / "ok.txt").write_text("fine")
    chunks, stats = collect([str(tmp_path / "missing.txt"), str(tmp_path / "ok.txt")])
    assert [c.provenance.path for c in chunks] == [str(tmp_path / "ok.txt")]
    assert stats.errors == [f"{tmp_path / 'missing.txt'}: no such file or directory"]


def test_unreadable_file_is_reported_and_the_rest_scanned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "locked.txt"
    target.write_text("x")
    (tmp_path / "ok.txt").write_text("y")
    real_open = open

    def deny(path: object, *args: object, **kwargs: object) -> object:
        if str(path) == str(target):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr("builtins.open", deny)
    chunks, stats = collect([str(tmp_path)])
    assert [c.provenance.path for c in chunks] == [str(tmp_path / "ok.txt")]
    assert stats.errors == [f"{target}: cannot read: Permission denied"]


def test_symlink_out_of_tree_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("outside")
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "inside.txt").write_text("inside")
    (tree / "link-out.txt").symlink_to(outside / "secret.txt")
    (tree / "link-in.txt").symlink_to(tree / "inside.txt")
    (tree / "dirlink").symlink_to(outside, target_is_directory=True)
    chunks, stats = collect([str(tree)])
    assert sorted(c.provenance.path for c in chunks) == [str(tree / "inside.txt"), str(tree / "link-in.txt")]
    assert stats.skipped["symlink pointing out of the tree"] == 1
    assert stats.skipped["symlinked directory not followed"] == 1


def test_fifo_is_never_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "a.txt").write_text("a")
    chunks, stats = collect([str(tmp_path)])
    assert [c.provenance.path for c in chunks] == [str(tmp_path / "a.txt")]
    assert stats.skipped["not a regular file"] == 1


def test_size_cap_and_binary_are_counted(tmp_path: Path) -> None:
    (tmp_path / "big.log").write_bytes(b"x" * (2 * MiB))
    (tmp_path / "image.bin").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (tmp_path / "small.txt").write_text("small")
    chunks, stats = collect([str(tmp_path)], max_file_size=MiB)
    assert [c.provenance.path for c in chunks] == [str(tmp_path / "small.txt")]
    assert stats.skipped == {"larger than 1 MiB": 1, "binary": 1}


def test_utf16_with_bom_is_decoded(tmp_path: Path) -> None:
    (tmp_path / "win.txt").write_bytes("line1\nkey=value\n".encode("utf-16"))
    (chunk,), _ = collect([str(tmp_path / "win.txt")])
    assert chunk.content == "line1\nkey=value\n"


def test_stdin(tmp_path: Path) -> None:
    chunks, _ = collect(["-"], stdin=io.BytesIO(b"from stdin\n"))
    assert [(c.provenance.source, c.provenance.path, c.content) for c in chunks] == [
        ("stdin", "<stdin>", "from stdin\n")
    ]


def test_stdin_over_the_cap_is_an_error() -> None:
    chunks, stats = collect(["-"], stdin=io.BytesIO(b"x" * 2048), max_file_size=1024)
    assert chunks == []
    assert stats.errors == ["<stdin>: larger than the size cap of 1024 bytes; not scanned"]


def _tgz(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_archive_members_are_chunks_with_bang_paths(tmp_path: Path, rng: random.Random) -> None:
    npmrc = f"registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken={npm_token(rng)}\n".encode()
    (tmp_path / "pkg-1.0.0.tgz").write_bytes(_tgz({"package/.npmrc": npmrc, "package/index.js": b"1"}))
    chunks, _ = collect([str(tmp_path / "pkg-1.0.0.tgz")])
    paths = [c.provenance.path for c in chunks]
    assert paths == [f"{tmp_path / 'pkg-1.0.0.tgz'}!package/.npmrc", f"{tmp_path / 'pkg-1.0.0.tgz'}!package/index.js"]
    assert chunks[0].content == npmrc.decode()
    assert {c.provenance.source for c in chunks} == {"file"}


def test_archive_recognised_by_content_not_name(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("inner.txt", "hello")
    (tmp_path / "notes.txt").write_bytes(buffer.getvalue())
    (chunk,), _ = collect([str(tmp_path / "notes.txt")])
    assert chunk.provenance.path == f"{tmp_path / 'notes.txt'}!inner.txt"


def test_gzipped_log_keeps_its_own_name(tmp_path: Path) -> None:
    (tmp_path / "build.log.gz").write_bytes(gzip.compress(b"line1\nline2\n"))
    (chunk,), _ = collect([str(tmp_path / "build.log.gz")])
    assert (chunk.provenance.path, chunk.content) == (str(tmp_path / "build.log.gz"), "line1\nline2\n")


def test_archive_depth_limit_from_config(tmp_path: Path) -> None:
    inner = _tgz({"deep.txt": b"deep"})
    outer = _tgz({"inner.tgz": inner})
    (tmp_path / "outer.tgz").write_bytes(outer)
    chunks, stats = collect([str(tmp_path / "outer.tgz")], archive_limits=ArchiveLimits(max_depth=1))
    assert chunks == []
    assert stats.skipped["archive depth limit"] == 1
    chunks, _ = collect([str(tmp_path / "outer.tgz")])
    assert [c.provenance.path for c in chunks] == [f"{tmp_path / 'outer.tgz'}!inner.tgz!deep.txt"]


def test_corrupt_archive_reports_and_continues(tmp_path: Path) -> None:
    data = _tgz({"a.txt": b"a" * 1000, "b.txt": os.urandom(200_000).hex().encode()})
    (tmp_path / "broken.tgz").write_bytes(data[: len(data) // 2])
    (tmp_path / "fine.txt").write_text("fine")
    chunks, stats = collect([str(tmp_path)])
    paths = [c.provenance.path for c in chunks]
    assert f"{tmp_path / 'broken.tgz'}!a.txt" in paths
    assert str(tmp_path / "fine.txt") in paths
    assert len(stats.errors) == 1 and stats.errors[0].startswith(f"{tmp_path / 'broken.tgz'}: corrupt archive")


def _tree(root: Path) -> None:
    for relative in (
        "app.py",
        "static/app.min.js",
        "static/app.js",
        "web/node_modules/pkg/index.js",
        "web/node_modules/pkg/deep/x.js",
        "tests/fixtures/tokens.txt",
        "tests/test_app.py",
        "src/tests/fixtures/kept.txt",
    ):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(relative)


def test_excluded_paths_are_skipped_and_counted(tmp_path: Path) -> None:
    _tree(tmp_path)
    chunks, stats = collect(
        [str(tmp_path)], path_excludes=("*.min.js", "node_modules", "tests/fixtures/**")
    )
    assert sorted(os.path.relpath(c.provenance.path, tmp_path) for c in chunks) == [
        "app.py",
        "src/tests/fixtures/kept.txt",  # anchored at the scanned root: only tests/fixtures
        "static/app.js",
        "tests/test_app.py",
    ]
    # one per excluded file, one per excluded folder (nothing below it is listed)
    assert stats.skipped["excluded"] == 3


def test_excludes_are_relative_to_the_scanned_folder(tmp_path: Path) -> None:
    _tree(tmp_path)
    chunks, stats = collect([str(tmp_path / "src")], path_excludes=("tests/fixtures/**",))
    assert chunks == [] and stats.skipped["excluded"] == 1
    chunks, _ = collect([str(tmp_path / "tests")], path_excludes=("tests/fixtures/**",))
    assert sorted(os.path.basename(c.provenance.path) for c in chunks) == ["test_app.py", "tokens.txt"]


def test_folder_only_pattern_keeps_a_file_of_that_name(tmp_path: Path) -> None:
    (tmp_path / "dist").write_text("a file named dist")
    (tmp_path / "pkg" / "dist").mkdir(parents=True)
    (tmp_path / "pkg" / "dist" / "bundle.js").write_text("bundle")
    chunks, stats = collect([str(tmp_path)], path_excludes=("dist/",))
    assert [c.provenance.path for c in chunks] == [str(tmp_path / "dist")]
    assert stats.skipped["excluded"] == 1


def test_a_named_file_is_matched_by_the_path_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    chunks, stats = collect(
        ["tests/fixtures/tokens.txt", "./static/app.min.js", "app.py"],
        path_excludes=("tests/fixtures/**", "*.min.js"),
    )
    assert [c.provenance.path for c in chunks] == ["app.py"]
    assert stats.skipped["excluded"] == 2
