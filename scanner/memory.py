"""Tuning the C allocator for scanning: large short-lived buffers.

A scan makes and drops buffers of a few megabytes all the time (a log chunk
rewritten, a blob read, a file's text). glibc serves each such allocation with
a fresh ``mmap`` and unmaps it on free, so every one costs a page fault per
4 KiB touched: on a 1 GB log folder, about 400,000 faults and half a second of
system time per core. Raising the mmap threshold keeps those buffers in the
heap, where freed memory is reused at once.
"""

from __future__ import annotations

import ctypes
import sys

# mallopt parameters (glibc malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# The largest mmap threshold glibc accepts on 64-bit systems.
_MMAP_THRESHOLD = 32 << 20
# Free heap above this is given back to the system: bounds what the process
# keeps after a burst of large buffers.
_TRIM_THRESHOLD = 128 << 20


def prefer_heap_for_large_buffers() -> bool:
    """Ask glibc to keep buffers up to 32 MiB in the heap (inherited by forked
    workers). Returns False where there is no glibc (musl, macOS, Windows),
    which is harmless: only system time is at stake."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        # The running interpreter's own symbols: libc is linked in.
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD))
