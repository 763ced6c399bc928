"""Tests for scanner.sources.archives: every archive is built in memory here."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import random
import struct
import tarfile
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from scanner.sources.archives import ArchiveLimits, iter_leaves, sniff_archive
from scanner.sources.base import SourceStats

MARK = b"SECRET-MARKER-1"
MARK2 = b"SECRET-MARKER-2"
MIB = 1 << 20


# --------------------------------------------------------------------------
# Builders


def make_zip(files: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buf.getvalue()


COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "": bytes,
    "gz": gzip.compress,
    "bz2": bz2.compress,
    "xz": lzma.compress,
}


def make_tar(files: dict[str, bytes], compression: str = "", fmt: int = tarfile.PAX_FORMAT) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return COMPRESSORS[compression](buf.getvalue())


def make_v7_tar(name: bytes, data: bytes) -> bytes:
    """A pre-POSIX tar header: no magic, only a checksum."""
    header = bytearray(512)
    header[0 : len(name)] = name
    header[100:108] = b"0000644\0"
    header[108:116] = b"0000000\0"
    header[116:124] = b"0000000\0"
    header[124:136] = b"%011o\0" % len(data)
    header[136:148] = b"00000000000\0"
    header[156:157] = b"0"
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header)
    padding = b"\0" * (-len(data) % 512)
    return bytes(header) + data + padding + b"\0" * 1024


class _Unseekable(io.RawIOBase):
    """Makes zipfile write data descriptors, as streaming zip writers do."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        self.data += b
        return len(b)


def make_streamed_zip(files: dict[str, bytes]) -> bytes:
    sink = _Unseekable()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return bytes(sink.data)


def _headers(data: bytes) -> list[tuple[int, int, int, int, int]]:
    """(offset, flags offset, usize offset, name offset, name length) of every
    local and central header, walked structurally."""
    found = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            off = info.header_offset
            (name_len,) = struct.unpack_from("<H", data, off + 26)
            found.append((off, off + 6, off + 22, off + 30, name_len))
    end = data.rfind(b"PK\x05\x06")
    (count, _size, cd_off) = struct.unpack_from("<HII", data, end + 10)
    pos = cd_off
    for _ in range(count):
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, pos + 28)
        found.append((pos, pos + 8, pos + 24, pos + 46, name_len))
        pos += 46 + name_len + extra_len + comment_len
    return found


def patch_zip(data: bytes, member: str, *, flag: int = 0, usize: int | None = None) -> bytes:
    """Edit the local and central headers of one member."""
    out = bytearray(data)
    for _off, flag_at, usize_at, name_at, name_len in _headers(data):
        if bytes(out[name_at : name_at + name_len]) != member.encode():
            continue
        (flags,) = struct.unpack_from("<H", out, flag_at)
        struct.pack_into("<H", out, flag_at, flags | flag)
        if usize is not None:
            struct.pack_into("<I", out, usize_at, usize)
    return bytes(out)


def scan(data: bytes, display: str, **limits: float) -> tuple[list[tuple[str, bytes]], SourceStats]:
    stats = SourceStats()
    leaves = list(iter_leaves(data, display, ArchiveLimits(**limits), stats))  # type: ignore[arg-type]
    return leaves, stats


def noise(size: int, seed: int = 0) -> bytes:
    """Incompressible filler, so a cut in the compressed stream lands where intended."""
    return random.Random(seed).randbytes(size)


# --------------------------------------------------------------------------
# Formats and display paths


def test_zip_members_in_order_with_bytes() -> None:
    data = make_zip({"a.txt": MARK, "dir/b.cfg": MARK2, "dir/": b""})
    leaves, stats = scan(data, "a.zip")
    assert leaves == [("a.zip!a.txt", MARK), ("a.zip!dir/b.cfg", MARK2)]
    assert not stats.errors and not stats.skipped


def test_stored_zip() -> None:
    leaves, _ = scan(make_zip({"x": MARK}, zipfile.ZIP_STORED), "s.zip")
    assert leaves == [("s.zip!x", MARK)]


@pytest.mark.parametrize(
    ("compression", "display"),
    [("", "x.tar"), ("gz", "x.tar.gz"), ("bz2", "x.tar.bz2"), ("xz", "x.tar.xz")],
)
@pytest.mark.parametrize("fmt", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_tar_family(compression: str, display: str, fmt: int) -> None:
    data = make_tar({"p/a.txt": MARK, "p/b.txt": MARK2}, compression, fmt)
    leaves, stats = scan(data, display)
    assert leaves == [(f"{display}!p/a.txt", MARK), (f"{display}!p/b.txt", MARK2)]
    assert not stats.errors


def test_pax_long_names_survive() -> None:
    name = "package/" + "d" * 150 + "/.npmrc"
    leaves, _ = scan(make_tar({name: MARK}, "gz"), "x.tgz")
    assert leaves == [(f"x.tgz!{name}", MARK)]


def test_npm_tgz_has_no_extra_level_for_the_inner_tar() -> None:
    data = make_tar({"package/.npmrc": MARK, "package/package.json": b"{}"}, "gz")
    leaves, _ = scan(data, "pkg-1.0.0.tgz")
    assert [d for d, _ in leaves] == ["pkg-1.0.0.tgz!package/.npmrc", "pkg-1.0.0.tgz!package/package.json"]
    assert leaves[0][1] == MARK


def test_crate_is_a_tgz() -> None:
    leaves, _ = scan(make_tar({"x-0.1.0/.cargo/config.toml": MARK}, "gz"), "x-0.1.0.crate")
    assert leaves == [("x-0.1.0.crate!x-0.1.0/.cargo/config.toml", MARK)]


@pytest.mark.parametrize("name", ["pkg-1.0-py3-none-any.whl", "lib.jar", "Pkg.1.0.0.nupkg", "ext.vsix"])
def test_zip_aliases(name: str) -> None:
    leaves, _ = scan(make_zip({"pkg/config.py": MARK}), name)
    assert leaves == [(f"{name}!pkg/config.py", MARK)]


def test_gem_layout_reaches_inside_data_tar_gz() -> None:
    gem = make_tar(
        {
            "metadata.gz": gzip.compress(b"name: x\n"),
            "data.tar.gz": make_tar({"lib/x.rb": MARK, "README.md": b"readme"}, "gz"),
            "checksums.yaml.gz": gzip.compress(b"sha256: {}\n"),
        },
        fmt=tarfile.USTAR_FORMAT,
    )
    leaves, stats = scan(gem, "x.gem")
    assert leaves == [
        ("x.gem!metadata.gz", b"name: x\n"),
        ("x.gem!data.tar.gz!lib/x.rb", MARK),
        ("x.gem!data.tar.gz!README.md", b"readme"),
        ("x.gem!checksums.yaml.gz", b"sha256: {}\n"),
    ]
    assert not stats.errors


def test_zip_in_tgz_in_zip() -> None:
    inner_jar = make_zip({"META-INF/x.properties": MARK})
    middle = make_tar({"lib/inner.jar": inner_jar}, "gz")
    outer = make_zip({"dist/middle.tgz": middle, "top.txt": MARK2})
    leaves, stats = scan(outer, "outer.zip")
    assert leaves == [
        ("outer.zip!dist/middle.tgz!lib/inner.jar!META-INF/x.properties", MARK),
        ("outer.zip!top.txt", MARK2),
    ]
    assert not stats.errors and not stats.skipped


def test_nested_jar_display() -> None:
    outer = make_zip({"inner.jar": make_zip({"META-INF/x.properties": MARK})})
    leaves, _ = scan(outer, "outer.zip")
    assert leaves == [("outer.zip!inner.jar!META-INF/x.properties", MARK)]


# --------------------------------------------------------------------------
# Recognition by content


def test_zip_named_notes_txt_is_expanded() -> None:
    leaves, _ = scan(make_zip({"inside.txt": MARK}), "notes.txt")
    assert leaves == [("notes.txt!inside.txt", MARK)]


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (make_zip({"a": b"x"}), "zip"),
        (make_zip({}), "zip"),
        (make_tar({"a": b"x"}, fmt=tarfile.USTAR_FORMAT), "tar"),
        (make_tar({"a": b"x"}, fmt=tarfile.GNU_FORMAT), "tar"),
        (make_tar({"a": b"x"}, fmt=tarfile.PAX_FORMAT), "tar"),
        (make_v7_tar(b"a", b"x"), "tar"),
        (gzip.compress(b"x"), "gzip"),
        (bz2.compress(b"x"), "bzip2"),
        (bz2.compress(b""), "bzip2"),
        (lzma.compress(b"x"), "xz"),
        (b'#!/bin/sh\nexec java -jar "$0"\n' + make_zip({"a": b"x"}), "zip"),
        (b"plain text\n" * 100, None),
        (b"", None),
        (b"BZh9 is how a bzip2 file starts", None),
        (b"x" * 257 + b"ustar is mentioned here" + b"y" * 300, None),
        (b"\0" * 2048, None),
    ],
)
def test_sniff_archive(data: bytes, kind: str | None) -> None:
    assert sniff_archive(data) == kind


def test_old_v7_tar_is_walked() -> None:
    leaves, stats = scan(make_v7_tar(b"old.txt", MARK), "old.tar")
    assert leaves == [("old.tar!old.txt", MARK)]
    assert not stats.errors


def test_zip_with_launcher_prefix() -> None:
    data = b'#!/bin/sh\nexec java -jar "$0"\n' + make_zip({"app.properties": MARK})
    leaves, _ = scan(data, "app.jar")
    assert leaves == [("app.jar!app.properties", MARK)]


def test_non_archive_is_its_own_leaf() -> None:
    leaves, stats = scan(MARK + b"\n", "plain.txt")
    assert leaves == [("plain.txt", MARK + b"\n")]
    assert not stats.errors and not stats.skipped


@pytest.mark.parametrize(
    ("compress", "display"),
    [(gzip.compress, "build.log.gz"), (bz2.compress, "build.log.bz2"), (lzma.compress, "build.log.xz")],
)
def test_compressed_text_is_one_leaf_with_its_own_path(compress: Callable[[bytes], bytes], display: str) -> None:
    text = b"line one\n" + MARK + b"\nline three\n"
    leaves, stats = scan(compress(text), display)
    assert leaves == [(display, text)]
    assert not stats.errors


def test_compressed_zip_is_walked_under_the_stream_path() -> None:
    leaves, _ = scan(gzip.compress(make_zip({"a.txt": MARK})), "bundle.zip.gz")
    assert leaves == [("bundle.zip.gz!a.txt", MARK)]


def test_empty_zip_yields_nothing() -> None:
    leaves, stats = scan(make_zip({}), "empty.zip")
    assert leaves == []
    assert not stats.errors and not stats.skipped


# --------------------------------------------------------------------------
# Depth


def _nest(levels: int) -> bytes:
    data = make_zip({"leaf.txt": MARK})
    for level in range(levels):
        data = make_zip({f"l{level}.zip": data})
    return data


def test_depth_limit_stops_expansion_and_counts() -> None:
    data = _nest(3)  # top (depth 0) > l2 (1) > l1 (2) > l0 (3) > leaf.txt
    leaves, _ = scan(data, "t.zip")
    assert leaves == [("t.zip!l2.zip!l1.zip!l0.zip!leaf.txt", MARK)]

    leaves, stats = scan(data, "t.zip", max_depth=3)
    assert leaves == []
    assert stats.skipped["archive depth limit"] == 1

    leaves, stats = scan(data, "t.zip", max_depth=4)
    assert leaves == [("t.zip!l2.zip!l1.zip!l0.zip!leaf.txt", MARK)]
    assert not stats.skipped


def test_depth_limited_member_is_not_a_leaf_but_siblings_are() -> None:
    data = make_zip({"a.txt": MARK, "inner.zip": make_zip({"b.txt": MARK2})})
    leaves, stats = scan(data, "t.zip", max_depth=1)
    assert leaves == [("t.zip!a.txt", MARK)]
    assert stats.skipped["archive depth limit"] == 1


def test_gzip_onion_is_bounded_by_depth() -> None:
    data = MARK
    for _ in range(10):
        data = gzip.compress(data)
    leaves, stats = scan(data, "onion.gz")
    assert leaves == []
    assert stats.skipped["archive depth limit"] == 1


# --------------------------------------------------------------------------
# Bombs


def test_zip_ratio_bomb_member_is_refused_others_kept() -> None:
    data = make_zip({"a.txt": MARK, "zeros.bin": b"\0" * (50 * MIB), "z.txt": MARK2})
    leaves, stats = scan(data, "bomb.zip")
    assert leaves == [("bomb.zip!a.txt", MARK), ("bomb.zip!z.txt", MARK2)]
    assert len(stats.errors) == 1
    assert stats.errors[0].startswith("bomb.zip!zeros.bin: archive bomb limit:")


def test_small_very_compressible_member_is_not_a_bomb() -> None:
    leaves, stats = scan(make_zip({"spaces.txt": b" " * (MIB // 2)}), "ok.zip")
    assert len(leaves) == 1 and not stats.errors


@pytest.mark.parametrize("compression", ["gz", "bz2", "xz"])
def test_compressed_stream_ratio_bomb(compression: str) -> None:
    data = make_tar({"a.txt": MARK, "zeros": b"\0" * (50 * MIB)}, compression)
    leaves, stats = scan(data, f"bomb.tar.{compression}")
    assert leaves == [(f"bomb.tar.{compression}!a.txt", MARK)]
    assert len(stats.errors) == 1
    assert stats.errors[0].startswith(f"bomb.tar.{compression}: archive bomb limit:")


def test_gzip_text_bomb() -> None:
    leaves, stats = scan(gzip.compress(b"\0" * (50 * MIB)), "zeros.gz")
    assert leaves == []
    assert stats.errors == [stats.errors[0]] and "archive bomb limit" in stats.errors[0]


def test_total_budget_stops_the_archive_with_one_error() -> None:
    files = {f"f{i}.bin": noise(100_000, seed=i) for i in range(10)}
    leaves, stats = scan(make_zip(files), "big.zip", max_total_bytes=350_000)
    assert [d for d, _ in leaves] == ["big.zip!f0.bin", "big.zip!f1.bin", "big.zip!f2.bin"]
    assert len(stats.errors) == 1
    assert stats.errors[0].startswith("big.zip: archive bomb limit:")


def test_total_budget_is_shared_across_nesting_levels() -> None:
    inner = make_zip({f"i{i}.bin": noise(100_000, seed=i) for i in range(3)})
    outer = make_zip({"a.zip": inner, "b.zip": inner})
    # each inner zip alone fits; together with the inner zips' own bytes they do not
    leaves, stats = scan(outer, "outer.zip", max_total_bytes=700_000)
    assert [d for d, _ in leaves] == [f"outer.zip!a.zip!i{i}.bin" for i in range(3)]
    assert len(stats.errors) == 1 and "archive bomb limit" in stats.errors[0]
    assert stats.errors[0].startswith("outer.zip: ")


def test_member_too_large_is_skipped_and_counted() -> None:
    data = make_zip({"big.txt": noise(3000), "small.txt": MARK})
    leaves, stats = scan(data, "m.zip", max_member_bytes=1000)
    assert leaves == [("m.zip!small.txt", MARK)]
    assert stats.skipped["archive member too large"] == 1
    assert not stats.errors


@pytest.mark.parametrize("compression", ["", "gz"])
def test_tar_member_too_large(compression: str) -> None:
    data = make_tar({"big.txt": noise(3000), "small.txt": MARK}, compression)
    leaves, stats = scan(data, "m.tar", max_member_bytes=1000)
    assert leaves == [("m.tar!small.txt", MARK)]
    assert stats.skipped["archive member too large"] == 1


def test_compressed_leaf_too_large() -> None:
    leaves, stats = scan(gzip.compress(noise(3000)), "big.gz", max_member_bytes=1000)
    assert leaves == []
    assert stats.skipped["archive member too large"] == 1


def test_lying_zip_header_small_size_is_not_trusted() -> None:
    data = make_zip({"a.txt": MARK, "zeros.bin": b"\0" * (50 * MIB), "z.txt": MARK2})
    lying = patch_zip(data, "zeros.bin", usize=10)
    leaves, stats = scan(lying, "lie.zip")
    assert leaves == [("lie.zip!a.txt", MARK), ("lie.zip!z.txt", MARK2)]
    assert len(stats.errors) == 1 and stats.errors[0].startswith("lie.zip")


def test_lying_zip_header_huge_size_does_not_allocate() -> None:
    data = make_zip({"a.txt": MARK, "zeros.bin": b"\0" * (50 * MIB)})
    lying = patch_zip(data, "zeros.bin", usize=0xFFFFFFF0)
    tracemalloc.start()
    try:
        leaves, stats = scan(lying, "lie.zip")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert leaves == [("lie.zip!a.txt", MARK)]
    assert "archive bomb limit" in stats.errors[0]
    assert peak < 32 * MIB


def test_member_count_limit() -> None:
    files = {f"f{i}": b"x" for i in range(20)}
    for data, display in ((make_zip(files), "n.zip"), (make_tar(files), "n.tar")):
        leaves, stats = scan(data, display, max_members=5)
        assert len(leaves) == 5
        assert stats.errors == [f"{display}: archive bomb limit: more than 5 members"]


# --------------------------------------------------------------------------
# Names, links, encryption


TRAVERSAL = ["../../etc/passwd", "/etc/x", "C:\\x", "a/../../b"]


def test_traversal_names_are_plain_display_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    files = {name: MARK for name in TRAVERSAL}
    for data, display in ((make_zip(files), "t.zip"), (make_tar(files), "t.tar")):
        leaves, _ = scan(data, display)
        assert leaves == [(f"{display}!{name}", MARK) for name in TRAVERSAL]
    assert list(tmp_path.iterdir()) == []


def test_tar_links_and_special_members_are_skipped() -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as archive:
        for name, kind, target in (
            ("sym", tarfile.SYMTYPE, "/etc/shadow"),
            ("hard", tarfile.LNKTYPE, "real.txt"),
            ("dir", tarfile.DIRTYPE, ""),
            ("dev", tarfile.CHRTYPE, ""),
            ("fifo", tarfile.FIFOTYPE, ""),
        ):
            info = tarfile.TarInfo(name)
            info.type = kind
            info.linkname = target
            archive.addfile(info)
        info = tarfile.TarInfo("real.txt")
        info.size = len(MARK)
        archive.addfile(info, io.BytesIO(MARK))
    leaves, stats = scan(buf.getvalue(), "l.tar")
    assert leaves == [("l.tar!real.txt", MARK)]
    assert stats.skipped == {"archive link member": 2}
    assert not stats.errors


def test_zip_symlink_member_is_skipped() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        link = zipfile.ZipInfo("link")
        link.create_system = 3
        link.external_attr = 0o120777 << 16
        archive.writestr(link, "/etc/shadow")
        archive.writestr("real.txt", MARK)
    leaves, stats = scan(buf.getvalue(), "l.zip")
    assert leaves == [("l.zip!real.txt", MARK)]
    assert stats.skipped == {"archive link member": 1}


def test_encrypted_zip_member_is_skipped() -> None:
    data = make_zip({"plain.txt": MARK, "secret.txt": MARK2}, zipfile.ZIP_STORED)
    encrypted = patch_zip(data, "secret.txt", flag=0x1)
    leaves, stats = scan(encrypted, "e.zip")
    assert leaves == [("e.zip!plain.txt", MARK)]
    assert stats.skipped == {"encrypted archive member": 1}
    assert not stats.errors


# --------------------------------------------------------------------------
# Damage


def test_truncated_zip_keeps_members_before_the_damage() -> None:
    data = make_zip({"a.txt": MARK, "b.txt": noise(5000, 1), "c.txt": MARK2})
    cut = data[: data.index(b"c.txt") + 20]  # inside c.txt's data
    leaves, stats = scan(cut, "cut.zip")
    assert leaves == [("cut.zip!a.txt", MARK), ("cut.zip!b.txt", noise(5000, 1))]
    assert len(stats.errors) == 1
    assert stats.errors[0].startswith("cut.zip: corrupt archive: ")


def test_zip_without_central_directory_keeps_all_members() -> None:
    data = make_zip({"a.txt": MARK, "b.txt": MARK2})
    cut = data[: data.index(b"PK\x01\x02")]
    leaves, stats = scan(cut, "cut.zip")
    assert leaves == [("cut.zip!a.txt", MARK), ("cut.zip!b.txt", MARK2)]
    assert len(stats.errors) == 1 and "corrupt archive" in stats.errors[0]


def test_truncated_streamed_zip_with_data_descriptors() -> None:
    data = make_streamed_zip({"a.txt": MARK * 50, "b.txt": MARK2 * 50, "c.txt": noise(4000)})
    cut = data[: data.index(b"c.txt") + 100]
    leaves, stats = scan(cut, "s.zip")
    assert leaves == [("s.zip!a.txt", MARK * 50), ("s.zip!b.txt", MARK2 * 50)]
    assert len(stats.errors) == 1 and stats.errors[0].startswith("s.zip: corrupt archive:")


def test_streamed_zip_intact() -> None:
    data = make_streamed_zip({"a.txt": MARK, "b.txt": MARK2})
    leaves, stats = scan(data, "s.zip")
    assert leaves == [("s.zip!a.txt", MARK), ("s.zip!b.txt", MARK2)]
    assert not stats.errors


def test_zip_member_with_bad_crc_others_kept() -> None:
    data = bytearray(make_zip({"a.txt": MARK, "b.txt": b"B" * 100, "c.txt": MARK2}, zipfile.ZIP_STORED))
    at = data.index(b"B" * 100)
    data[at] = ord("C")
    leaves, stats = scan(bytes(data), "crc.zip")
    assert leaves == [("crc.zip!a.txt", MARK), ("crc.zip!c.txt", MARK2)]
    assert len(stats.errors) == 1
    assert stats.errors[0].startswith("crc.zip: corrupt archive: member b.txt")


@pytest.mark.parametrize("compression", ["gz", "xz"])
@pytest.mark.parametrize("filler", [5_000, 40_000])
def test_truncated_compressed_tar_keeps_members_before_the_damage(compression: str, filler: int) -> None:
    # With 5000 bytes the damage falls inside tarfile's first 10 KiB read-ahead.
    files = {"a.txt": MARK, "b.bin": noise(filler, 2), "c.txt": MARK2}
    data = make_tar(files, compression, fmt=tarfile.USTAR_FORMAT)
    cut = data[: len(data) * 3 // 4]  # somewhere inside b.bin
    leaves, stats = scan(cut, f"cut.tar.{compression}")
    assert leaves == [(f"cut.tar.{compression}!a.txt", MARK)]
    assert len(stats.errors) == 1
    assert stats.errors[0].startswith(f"cut.tar.{compression}: corrupt archive: ")


def test_truncated_gzip_text_yields_what_decompressed() -> None:
    text = MARK + b"\n" + noise(50_000, 3)
    cut = gzip.compress(text)[:20_000]
    leaves, stats = scan(cut, "log.gz")
    assert len(leaves) == 1
    assert leaves[0][0] == "log.gz" and leaves[0][1].startswith(MARK)
    assert len(stats.errors) == 1 and stats.errors[0].startswith("log.gz: corrupt archive: ")


@pytest.mark.parametrize("cut_into", ["header", "data"])
def test_truncated_plain_tar(cut_into: str) -> None:
    data = make_tar({"a.txt": MARK, "b.bin": noise(3000)}, fmt=tarfile.USTAR_FORMAT)
    second_header = 512 + 512  # a.txt's header and its one data block
    cut = data[: second_header + (100 if cut_into == "header" else 512 + 1000)]
    leaves, stats = scan(cut, "cut.tar")
    assert leaves == [("cut.tar!a.txt", MARK)]
    assert len(stats.errors) == 1
    assert stats.errors[0].startswith("cut.tar: corrupt archive: ")


def test_damage_in_nested_archive_is_named_and_siblings_survive() -> None:
    inner = make_zip({"x.txt": MARK, "y.bin": noise(5000)})
    outer = make_zip({"inner.zip": inner[: len(inner) // 2], "z.txt": MARK2}, zipfile.ZIP_STORED)
    leaves, stats = scan(outer, "o.zip")
    assert ("o.zip!z.txt", MARK2) in leaves
    assert ("o.zip!inner.zip!x.txt", MARK) in leaves
    assert len(stats.errors) == 1 and stats.errors[0].startswith("o.zip!inner.zip: corrupt archive:")


@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04",
        b"PK\x05\x06garbage",
        b"\x1f\x8b\x08" + b"junk" * 10,
        b"BZh91AY&SY" + b"junk" * 10,
        b"\xfd7zXZ\x00" + b"junk" * 10,
        b"x" * 257 + b"ustar\x0000" + b"\xff" * 300,
    ],
)
def test_garbage_with_magic_is_an_error_not_an_exception(data: bytes) -> None:
    leaves, stats = scan(data, "bad.bin")
    assert leaves == []
    assert len(stats.errors) == 1 and stats.errors[0].startswith("bad.bin: corrupt archive:")


def test_random_damage_never_raises() -> None:
    rng = random.Random(1234)
    payload = noise(2000, 4)
    seeds = [
        make_zip({"a": MARK + payload, "n.zip": make_zip({"x": payload})}),
        make_tar({"a": payload, "n.tgz": make_tar({"x": payload}, "gz")}, "gz"),
        make_tar({"a": payload}, "xz"),
        make_tar({"a": payload}, "bz2"),
        gzip.compress(payload),
    ]
    limits = ArchiveLimits(max_member_bytes=MIB, max_total_bytes=8 * MIB)
    for _ in range(300):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 6)):
            at = rng.randrange(len(data))
            if rng.random() < 0.7:
                data[at] = rng.randrange(256)
            else:
                del data[at : at + rng.randint(1, 64)]
        list(iter_leaves(bytes(data), "fuzz", limits, SourceStats()))


# --------------------------------------------------------------------------
# Streaming behaviour


def test_compressed_tar_is_streamed_not_materialised() -> None:
    files = {f"f{i}.bin": noise(2 * MIB, seed=i) for i in range(8)}
    data = make_tar(files, "gz")
    del files
    stats = SourceStats()
    tracemalloc.start()
    try:
        count = 0
        for _display, member in iter_leaves(data, "big.tgz", ArchiveLimits(), stats):
            count += len(member) == 2 * MIB
            del member
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 8 and not stats.errors
    assert peak < 10 * MIB  # about one member at a time, never the 16 MiB tar


def test_leaves_are_produced_lazily() -> None:
    files = {f"f{i}.txt": MARK for i in range(5)}
    stats = SourceStats()
    seen = []
    for leaf in iter_leaves(make_tar(files, "gz"), "lazy.tgz", ArchiveLimits(), stats):
        seen.append(leaf)
        break  # stopping early is clean
    assert seen == [("lazy.tgz!f0.txt", MARK)]
    assert not stats.errors
