"""Walking archives in memory: zip (and its aliases), tar, gzip, bzip2, xz.

Nothing is ever extracted to disk: member names are display strings only, so
path-traversal names are harmless. Formats are recognised by content, not by
file name. Every byte that comes out of a decompressor is counted as it is
read, so declared sizes (which an attacker controls) never decide how much
memory is used; bomb limits, depth limits and damage are recorded on the
SourceStats and the walk goes on wherever that is safe.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import stat
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Protocol, Self, cast

from scanner.sources.base import SourceStats

# Reads are done in blocks of this size so a cap is never overshot by much.
_BLOCK = 64 * 1024
# Below this inflated size the ratio test is not applied: tiny, very
# compressible files (a page of spaces) are normal, not bombs.
_RATIO_FLOOR = 1 << 20
_TAR_BLOCK = 512
_USTAR_MAGIC = b"ustar\x00"
_GNU_MAGIC = b"ustar  \x00"

_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08PK\x03\x04")
_ZIP_END_SIG = b"PK\x05\x06"
# The end-of-central-directory record sits within this many bytes of the end.
_ZIP_END_SEARCH = 22 + 0xFFFF
_GZIP_MAGIC = b"\x1f\x8b\x08"
_XZ_MAGIC = b"\xfd7zXZ\x00"
_BZIP2_BLOCK_MAGICS = (b"1AY&SY", b"\x17rE8P\x90")  # first block, or empty stream

_LOCAL_HEADER = struct.Struct("<4s5H3I2H")
_LOCAL_SIG = b"PK\x03\x04"
_DESCRIPTOR_SIG = b"PK\x07\x08"
_FLAG_ENCRYPTED = 0x1
_FLAG_DESCRIPTOR = 0x8
_FLAG_UTF8 = 0x800
_STORED = 0
_DEFLATED = 8
_ZIP64_MARKER = 0xFFFFFFFF

# What damaged archive content can raise out of the stdlib readers. Anything
# else (a bug, KeyboardInterrupt, MemoryError) is allowed to propagate.
_DAMAGE_ERRORS: tuple[type[Exception], ...] = (
    zipfile.BadZipFile,
    tarfile.TarError,
    EOFError,
    OSError,
    zlib.error,
    lzma.LZMAError,
    ValueError,
    struct.error,
)
# zipfile also raises NotImplementedError for compression methods it lacks.
_ZIP_OPEN_ERRORS: tuple[type[Exception], ...] = (*_DAMAGE_ERRORS, NotImplementedError)
# How tarfile says "no more members": a zero block (the end marker) or no data
# at all. Public classes of tarfile since 3.2, though typeshed omits them.
_TAR_END_ERRORS: tuple[type[Exception], ...] = (
    tarfile.EOFHeaderError,  # type: ignore[attr-defined]
    tarfile.EmptyHeaderError,  # type: ignore[attr-defined]
)


@dataclass(frozen=True)
class ArchiveLimits:
    """Caps that keep a hostile archive from exhausting memory or time."""

    max_depth: int = 5  # nesting levels of archives inside archives
    max_total_bytes: int = 1 << 30  # total inflated bytes read out of one top-level archive
    max_ratio: float = 200.0  # inflating more than this (and above 1 MiB) is a bomb
    max_members: int = 100_000  # members read from one archive
    max_member_bytes: int = 100 << 20  # one member's inflated size cap (skip larger, counted)


class _Readable(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...


class _BudgetExhausted(Exception):
    """The top-level archive's total budget is spent; already recorded."""


class _RatioExceeded(Exception):
    """One stream or member inflated past the ratio limit; already recorded."""


@dataclass
class _Context:
    """State shared by every level of one top-level archive walk."""

    limits: ArchiveLimits
    stats: SourceStats
    top: str
    inflated: int = 0
    # Members this says are whole documents (a DOCX is a zip) are not expanded.
    keep: Callable[[str, bytes], bool] | None = None

    def charge(self, nbytes: int, where: str) -> None:
        """Count inflated bytes against the shared budget of the top-level archive."""
        self.inflated += nbytes
        if self.inflated > self.limits.max_total_bytes:
            self.stats.error(
                f"{self.top}: archive bomb limit: more than {self.limits.max_total_bytes}"
                f" inflated bytes in total (stopped in {where})"
            )
            raise _BudgetExhausted


class _CountingReader:
    """Wraps a decompressing reader; every byte it yields is charged to the
    budget and checked against the ratio cap before the caller sees it."""

    def __init__(self, raw: _Readable, ctx: _Context, where: str, compressed: int | None) -> None:
        self._raw = raw
        self._ctx = ctx
        self._where = where
        self._compressed = compressed
        self._count = 0
        self._ratio_cap: int | None = None
        if compressed is not None:
            self._ratio_cap = max(_RATIO_FLOOR, int(ctx.limits.max_ratio * compressed))

    def read(self, n: int = -1, /) -> bytes:
        if n is None or n < 0:
            return b"".join(iter(lambda: self.read(_BLOCK), b""))
        block = self._raw.read(n)
        self._count += len(block)
        self._ctx.charge(len(block), self._where)
        if self._ratio_cap is not None and self._count > self._ratio_cap:
            self._ctx.stats.error(
                f"{self._where}: archive bomb limit: inflates more than"
                f" {self._ctx.limits.max_ratio:g}x its {self._compressed} compressed bytes"
            )
            raise _RatioExceeded
        return block


class _SoftEOF:
    """Turns damage in a compressed stream into an early end of data, so the
    readers above (tarfile reads ahead a whole record) still get every byte
    that decompressed cleanly; the reason is kept for one error line."""

    def __init__(self, raw: io.BufferedIOBase) -> None:
        self._raw = raw
        self.damage: str | None = None

    def read(self, n: int = -1, /) -> bytes:
        if self.damage is not None or n == 0:
            return b""
        try:
            # read1: a buffered read() that needs several raw reads drops what
            # it already gathered when a later one fails; read1 does only one.
            return self._raw.read1(n if n > 0 else _BLOCK)
        except _DAMAGE_ERRORS as exc:
            self.damage = _reason(exc)
            return b""


class _Chain:
    """Bytes already peeked at, followed by the rest of a stream."""

    def __init__(self, head: bytes, rest: _Readable) -> None:
        self._head = head
        self._rest = rest

    def read(self, n: int = -1, /) -> bytes:
        if not self._head:
            return self._rest.read(n)
        if n is None or n < 0:
            out, self._head = self._head, b""
            return out + self._rest.read()
        out, self._head = self._head[:n], self._head[n:]
        return out


class _Inflater:
    """Raw-deflate reader over an in-memory slice that can tell where the
    compressed stream ended (needed to walk zips without a central directory)."""

    def __init__(self, compressed: memoryview) -> None:
        self._decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
        self._pending: bytes | memoryview = compressed
        self._size = len(compressed)

    @property
    def consumed(self) -> int:
        """Compressed bytes used, valid once the stream has ended."""
        return self._size - len(self._decompressor.unused_data)

    def read(self, n: int = -1, /) -> bytes:
        if self._decompressor.eof or n == 0:
            return b""
        # max_length 0 would mean "unlimited": never let one call inflate everything.
        out = self._decompressor.decompress(self._pending, n if n > 0 else _BLOCK)
        self._pending = self._decompressor.unconsumed_tail
        if not out and not self._decompressor.eof:
            # With no output and input left over zlib would have said so via
            # unconsumed_tail; so the input ran out mid-stream.
            raise EOFError("deflate stream ended early")
        return out


# --------------------------------------------------------------------------
# Recognition


def sniff_archive(data: bytes) -> str | None:
    """'zip' | 'tar' | 'gzip' | 'bzip2' | 'xz' recognised by CONTENT (magic bytes), not name; else None."""
    if data.startswith(_ZIP_MAGICS):
        return "zip"
    if data.startswith(_GZIP_MAGIC):
        return "gzip"
    if _is_bzip2(data):
        return "bzip2"
    if data.startswith(_XZ_MAGIC):
        return "xz"
    if _is_tar(data):
        return "tar"
    if _is_prefixed_zip(data):
        return "zip"
    return None


def _is_bzip2(data: bytes) -> bool:
    # "BZh" alone is too weak (it is printable text); require the level digit
    # and the block or end-of-stream magic that follows it.
    return data.startswith(b"BZh") and len(data) >= 10 and data[3] in b"123456789" and data[4:10] in _BZIP2_BLOCK_MAGICS


def _is_tar(data: bytes) -> bool:
    # POSIX "ustar\0" or GNU "ustar  \0": both carry a NUL, which text never
    # does, so a document that happens to say "ustar" at 257 is not a tar.
    if data[257:263] == _USTAR_MAGIC or data[257:265] == _GNU_MAGIC:
        return True
    return _is_v7_tar(data[:_TAR_BLOCK])


def _is_v7_tar(block: bytes) -> bool:
    """Pre-POSIX tar has no magic; accept it only when the header parses and
    carries a name and a real octal checksum (an absent checksum reads as 0,
    which arbitrary binary could match by accident)."""
    if len(block) < _TAR_BLOCK or block[0] == 0 or not any(48 <= c <= 55 for c in block[148:156]):
        return False
    try:
        tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
    except (tarfile.TarError, ValueError):
        return False
    return True


def _is_prefixed_zip(data: bytes) -> bool:
    """A zip with something in front (self-extractors, launcher-script jars):
    recognisable only by a central directory that zipfile can open."""
    if data.rfind(_ZIP_END_SIG, max(0, len(data) - _ZIP_END_SEARCH)) < 0:
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)):
            return True
    except _ZIP_OPEN_ERRORS:
        return False


# --------------------------------------------------------------------------
# Walking


def iter_leaves(
    data: bytes,
    display: str,
    limits: ArchiveLimits,
    stats: SourceStats,
    depth: int = 0,
    keep: Callable[[str, bytes], bool] | None = None,
) -> Iterator[tuple[str, bytes]]:
    """Yield (display_path, member_bytes) for every regular-file leaf, recursing into members that are archives.

    Data that is not an archive is its own single leaf. An archive found at
    nesting depth >= ``limits.max_depth`` (the top-level input is ``depth``) is
    not expanded. Damage and limits are recorded on ``stats``; bad archive
    content never raises. A member for which ``keep(display, data)`` is true
    is a leaf even if it is an archive (a document format reads it).
    """
    ctx = _Context(limits=limits, stats=stats, top=display, keep=keep)
    try:
        yield from _expand(data, display, ctx, depth)
    except _BudgetExhausted:
        return  # recorded where it happened; nothing more is read from this input


def _expand(data: bytes, display: str, ctx: _Context, depth: int) -> Iterator[tuple[str, bytes]]:
    kind = sniff_archive(data)
    if kind is None or (ctx.keep is not None and ctx.keep(display, data)):
        yield display, data
        return
    if depth >= ctx.limits.max_depth:
        ctx.stats.skip("archive depth limit")
        return
    if kind == "zip":
        entries = _zip_entries(data, display, ctx)
    elif kind == "tar":
        entries = _tar_entries(io.BytesIO(data), display, ctx)
    else:
        yield from _expand_stream(kind, data, display, ctx, depth)
        return
    for member, content in entries:
        yield from _expand(content, member, ctx, depth + 1)


def _read_capped(stream: _Readable, cap: int) -> bytes | None:
    """Read everything, or return None as soon as more than ``cap`` bytes come out."""
    parts: list[bytes] = []
    total = 0
    while True:
        block = stream.read(min(_BLOCK, cap + 1 - total))
        if not block:
            return b"".join(parts)
        parts.append(block)
        total += len(block)
        if total > cap:
            return None


def _read_head(stream: _Readable, size: int) -> bytes:
    """Read up to ``size`` bytes, tolerating short reads."""
    parts: list[bytes] = []
    total = 0
    while total < size:
        block = stream.read(size - total)
        if not block:
            break
        parts.append(block)
        total += len(block)
    return b"".join(parts)


def _reason(exc: BaseException) -> str:
    """A short one-line reason for an error line."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


def _too_many(ctx: _Context, display: str) -> None:
    ctx.stats.error(f"{display}: archive bomb limit: more than {ctx.limits.max_members} members")


# --------------------------------------------------------------------------
# Single-stream compressors


def _decompressor(kind: str, compressed: bytes) -> io.BufferedIOBase:
    """A reader of the decompressed stream; the caller closes it."""
    raw = io.BytesIO(compressed)
    if kind == "gzip":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if kind == "bzip2":
        return bz2.BZ2File(raw, mode="rb")
    return lzma.LZMAFile(raw, mode="rb")


def _expand_stream(kind: str, data: bytes, display: str, ctx: _Context, depth: int) -> Iterator[tuple[str, bytes]]:
    """A compressed stream. A tar inside is walked in place (``x.tgz!member``,
    streamed so the whole tar is never held); anything else keeps the stream's
    own display path, so line numbers refer to the decompressed text."""
    with _decompressor(kind, data) as raw:
        yield from _walk_stream(_SoftEOF(raw), len(data), display, ctx, depth)


def _walk_stream(
    source: _SoftEOF, compressed: int, display: str, ctx: _Context, depth: int
) -> Iterator[tuple[str, bytes]]:
    """The body of _expand_stream, once the decompressor is open."""
    reader = _CountingReader(source, ctx, display, compressed)
    try:
        head = _read_head(reader, _TAR_BLOCK)
    except _RatioExceeded:
        return
    if sniff_archive(head) == "tar":
        for member, content in _tar_entries(_Chain(head, reader), display, ctx, source):
            yield from _expand(content, member, ctx, depth + 1)
        return
    try:
        inflated = _read_capped(_Chain(head, reader), ctx.limits.max_member_bytes)
    except _RatioExceeded:
        return
    if source.damage is not None:
        ctx.stats.error(f"{display}: corrupt archive: {source.damage}")
        if not inflated:
            return  # nothing decompressed cleanly: there is no leaf to scan
    if inflated is None:
        ctx.stats.skip("archive member too large")
        return
    # A damaged stream still yields the text before the damage. The content
    # counts as one level deeper only when it is itself an archive (gz of zip,
    # gz of gz): that bounds compression quines.
    yield from _expand(inflated, display, ctx, depth + 1)


# --------------------------------------------------------------------------
# Tar


def _damage_probe() -> tuple[type[tarfile.TarInfo], list[str]]:
    """A TarInfo class that remembers header damage: past the first member
    tarfile treats a garbled or cut-off header as a silent end of archive."""
    damage: list[str] = []

    class _Probe(tarfile.TarInfo):
        @classmethod
        def fromtarfile(cls, tar: tarfile.TarFile) -> Self:
            try:
                return super().fromtarfile(tar)
            except _TAR_END_ERRORS:
                raise  # a proper end marker, or data ending on a member boundary
            except tarfile.HeaderError as exc:
                damage.append(_reason(exc))
                raise

    return _Probe, damage


def _tar_entries(
    stream: _Readable, display: str, ctx: _Context, source: _SoftEOF | None = None
) -> Iterator[tuple[str, bytes]]:
    """(member display, bytes) for each regular member of a tar stream, one at
    a time. ``source`` is the decompressor under the stream, if any: its
    damage is the root cause of whatever tarfile then complains about."""
    probe, damage = _damage_probe()
    try:
        # Stream mode ("r|") only ever calls read(), which is all ``stream`` has.
        fileobj = cast("IO[bytes]", stream)
        with tarfile.open(fileobj=fileobj, mode="r|", tarinfo=probe) as tar:
            for index, info in enumerate(tar):
                if index >= ctx.limits.max_members:
                    _too_many(ctx, display)
                    return
                member = f"{display}!{info.name}"
                content = _read_tar_member(tar, info, member, ctx)
                if content is not None:
                    yield member, content
    except _RatioExceeded:
        return
    except _DAMAGE_ERRORS as exc:
        damage.insert(0, _reason(exc))
    if source is not None and source.damage is not None:
        damage.insert(0, source.damage)
    if damage:
        ctx.stats.error(f"{display}: corrupt archive: {damage[0]}")


def _read_tar_member(tar: tarfile.TarFile, info: tarfile.TarInfo, member: str, ctx: _Context) -> bytes | None:
    if info.issym() or info.islnk():
        ctx.stats.skip("archive link member")
        return None
    if not info.isreg():
        return None  # directories, devices, fifos: nothing to scan
    # A tar header's size is structural (the data really occupies that many
    # blocks), so skipping on it cannot be used to allocate anything.
    if info.size > ctx.limits.max_member_bytes:
        ctx.stats.skip("archive member too large")
        return None
    fileobj = tar.extractfile(info)
    if fileobj is None:
        return None
    # Regular members are slices of bytes already counted; sparse ones are
    # inflated (holes become zeros), so they are charged to the budget.
    source: _Readable = _CountingReader(fileobj, ctx, member, None) if info.issparse() else fileobj
    content = _read_capped(source, ctx.limits.max_member_bytes)
    if content is None:
        ctx.stats.skip("archive member too large")
    return content


# --------------------------------------------------------------------------
# Zip


def _zip_entries(data: bytes, display: str, ctx: _Context) -> Iterator[tuple[str, bytes]]:
    """(member display, bytes) for each readable member of a zip."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_OPEN_ERRORS as exc:
        yield from _local_entries(data, display, ctx, _reason(exc))
        return
    with archive:
        for index, info in enumerate(archive.infolist()):
            if index >= ctx.limits.max_members:
                _too_many(ctx, display)
                return
            content = _read_zip_member(archive, info, display, ctx)
            if content is not None:
                yield f"{display}!{info.filename}", content


def _read_zip_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, display: str, ctx: _Context) -> bytes | None:
    member = f"{display}!{info.filename}"
    if info.is_dir():
        return None
    if stat.S_ISLNK(info.external_attr >> 16):
        ctx.stats.skip("archive link member")
        return None
    if info.flag_bits & _FLAG_ENCRYPTED:
        ctx.stats.skip("encrypted archive member")
        return None
    try:
        with archive.open(info) as raw:
            reader = _CountingReader(raw, ctx, member, info.compress_size)
            content = _read_capped(reader, ctx.limits.max_member_bytes)
    except _RatioExceeded:
        return None
    except NotImplementedError as exc:
        ctx.stats.error(f"{member}: unsupported archive member: {_reason(exc)}")
        return None
    except _DAMAGE_ERRORS as exc:
        # The central directory gives random access, so the other members
        # are still safe to read.
        ctx.stats.error(f"{display}: corrupt archive: member {info.filename}: {_reason(exc)}")
        return None
    if content is None:
        ctx.stats.skip("archive member too large")
    return content


@dataclass(frozen=True)
class _LocalEntry:
    """One zip local file header, as found by walking from the front."""

    name: str
    flags: int
    method: int
    crc: int
    compressed: int
    start: int  # offset of the member's data

    @property
    def has_descriptor(self) -> bool:
        return bool(self.flags & _FLAG_DESCRIPTOR)


def _local_entries(data: bytes, display: str, ctx: _Context, reason: str) -> Iterator[tuple[str, bytes]]:
    """Without a usable central directory (a truncated download), recover the
    members whose local headers and data are intact, front to back, and stop
    at the first damage. The archive is recorded as corrupt either way."""
    pos = count = recovered = 0
    view = memoryview(data)
    while data.startswith(_LOCAL_SIG, pos):
        if count >= ctx.limits.max_members:
            _too_many(ctx, display)
            return
        entry = _parse_local_header(data, pos)
        if entry is None:
            break
        count += 1
        member = f"{display}!{entry.name}"
        outcome = _read_local_member(view, entry, member, ctx)
        if outcome is None:
            break
        content, pos = outcome
        if content is not None:
            recovered += 1
            yield member, content
    ctx.stats.error(
        f"{display}: corrupt archive: {reason} (no usable central directory;"
        f" recovered {recovered} members from local headers)"
    )


def _parse_local_header(data: bytes, pos: int) -> _LocalEntry | None:
    end = pos + _LOCAL_HEADER.size
    if len(data) < end:
        return None
    fields = _LOCAL_HEADER.unpack_from(data, pos)
    flags, method, crc, compressed, name_len, extra_len = (
        fields[2],
        fields[3],
        fields[6],
        fields[7],
        fields[9],
        fields[10],
    )
    start = end + name_len + extra_len
    if len(data) < start or compressed == _ZIP64_MARKER:
        return None  # cut off, or zip64 sizes this fallback does not parse
    encoding = "utf-8" if flags & _FLAG_UTF8 else "cp437"
    name = data[end : end + name_len].decode(encoding, errors="replace")
    return _LocalEntry(name, flags, method, crc, compressed, start)


def _read_local_member(
    view: memoryview, entry: _LocalEntry, member: str, ctx: _Context
) -> tuple[bytes | None, int] | None:
    """(content or None if skipped, offset of the next header), or None when
    the walk cannot safely go on past this member."""
    after = entry.start + entry.compressed
    if entry.has_descriptor and entry.method != _DEFLATED:
        return None  # the member's length is only known from the missing directory
    if not entry.has_descriptor and after > len(view):
        return None
    if entry.flags & _FLAG_ENCRYPTED:
        ctx.stats.skip("encrypted archive member")
        return None if entry.has_descriptor else (None, after)
    if entry.method == _STORED:
        return _local_stored(view, entry, member, ctx)
    if entry.method == _DEFLATED:
        return _local_deflated(view, entry, member, ctx)
    ctx.stats.error(f"{member}: unsupported archive member: compression method {entry.method}")
    return (None, after)


def _local_stored(view: memoryview, entry: _LocalEntry, member: str, ctx: _Context) -> tuple[bytes | None, int] | None:
    after = entry.start + entry.compressed
    if entry.compressed > ctx.limits.max_member_bytes:
        ctx.stats.skip("archive member too large")
        return (None, after)
    content = bytes(view[entry.start : after])
    ctx.charge(len(content), member)
    if zlib.crc32(content) != entry.crc:
        return None
    return (content, after)


def _local_deflated(
    view: memoryview, entry: _LocalEntry, member: str, ctx: _Context
) -> tuple[bytes | None, int] | None:
    end = len(view) if entry.has_descriptor else entry.start + entry.compressed
    inflater = _Inflater(view[entry.start : end])
    reader = _CountingReader(inflater, ctx, member, end - entry.start)
    try:
        content = _read_capped(reader, ctx.limits.max_member_bytes)
    except _RatioExceeded:
        return None if entry.has_descriptor else (None, end)
    except (EOFError, zlib.error):
        return None
    if content is None:
        ctx.stats.skip("archive member too large")
        return None if entry.has_descriptor else (None, end)
    after, crc = entry.start + inflater.consumed, entry.crc
    if entry.has_descriptor:
        descriptor = _read_descriptor(view, after)
        if descriptor is None:
            return None
        crc, after = descriptor
    if zlib.crc32(content) != crc:
        return None
    return (content, after)


def _read_descriptor(view: memoryview, pos: int) -> tuple[int, int] | None:
    """(crc, offset after the data descriptor); its signature is optional."""
    if bytes(view[pos : pos + 4]) == _DESCRIPTOR_SIG:
        pos += 4
    if pos + 12 > len(view):
        return None
    (crc,) = struct.unpack_from("<I", view, pos)
    return crc, pos + 12
