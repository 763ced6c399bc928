"""The allocator tuning is applied on glibc and harmless elsewhere."""

from __future__ import annotations

import platform
import sys

from scanner.memory import prefer_heap_for_large_buffers


def test_applies_on_glibc_linux() -> None:
    on_glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert prefer_heap_for_large_buffers() is on_glibc
    # Calling it again (every scan does) changes nothing.
    assert prefer_heap_for_large_buffers() is on_glibc
