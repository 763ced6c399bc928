"""gitignore-like path globs for ``exclude-paths``: which files and folders a
scan leaves out. Paths are relative to the scanned root, with ``/`` separators.
"""

from __future__ import annotations

import re
from collections.abc import Sequence


def _segment(glob: str) -> str:
    """One path segment's glob as a regex: ``*`` and ``?`` never cross ``/``."""
    out: list[str] = []
    i, n = 0, len(glob)
    while i < n:
        char = glob[i]
        if char == "*":
            while i + 1 < n and glob[i + 1] == "*":  # "a**b" is "a*b" inside a segment
                i += 1
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(glob[i]))
        elif char == "[":
            end = glob.find("]", i + 2 if glob[i + 1 : i + 2] in ("!", "^") else i + 1)
            if end < 0:
                out.append(re.escape(char))
            else:
                body = glob[i + 1 : end]
                negate = body[:1] in ("!", "^")
                if negate:
                    body = body[1:]
                # A class never matches "/" (gitignore: "/" is never matched by a wildcard).
                body = body.replace("\\", "\\\\").replace("[", "\\[")
                out.append(f"[^/{body}]" if negate else f"(?!/)[{body}]")
                i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


def glob_to_regex(pattern: str) -> str:
    """The regex (unanchored source, to be full-matched) for one pattern.

    - no ``/`` (other than a trailing one): matches a file or folder name at any depth;
    - with a ``/``: matches the path from the root (a leading ``/`` only anchors);
    - ``**`` as a whole segment spans any number of folders (``a/**/b``, ``**/x``, ``x/**``);
    - a match on a folder covers everything below it;
    - a trailing ``/`` matches folders only (a path ending in ``/`` is a folder).
    """
    directory_only = pattern.endswith("/")
    body = pattern.rstrip("/")
    anchored = "/" in body
    while body.startswith("./"):  # "./build" is "/build"
        body = body[2:]
    body = body.lstrip("/")
    segments = body.split("/")
    parts: list[str] = []
    separate = False  # whether the next segment needs a "/" before it
    for index, segment in enumerate(segments):
        if segment == "**":
            if index == len(segments) - 1:
                # "x/**": the folder itself and everything in it.
                parts.append("(?:/.*)?" if parts else ".*")
            else:
                parts.append("/(?:.*/)?" if parts else "(?:.*/)?")
            separate = False
            continue
        if separate:
            parts.append("/")
        parts.append(_segment(segment))
        separate = True
    core = "".join(parts)
    prefix = "" if anchored else "(?:.*/)?"
    suffix = "/.*" if directory_only else "(?:/.*)?"
    return f"{prefix}{core}{suffix}"


class PathFilter:
    """A set of exclude patterns compiled once into one regex."""

    __slots__ = ("_regex", "patterns")

    def __init__(self, patterns: Sequence[str]) -> None:
        self.patterns = tuple(p for p in patterns if p and p.strip("/"))
        self._regex = (
            re.compile("|".join(f"(?:{glob_to_regex(p)})" for p in self.patterns), re.DOTALL)
            if self.patterns
            else None
        )

    def __bool__(self) -> bool:
        return self._regex is not None

    def excluded(self, relpath: str) -> bool:
        """True when ``relpath`` (``/``-separated; a folder may end in ``/``)
        or a folder above it matches one of the patterns."""
        if self._regex is None:
            return False
        path = relpath.replace("\\", "/")
        while path.startswith("./"):
            path = path[2:]
        path = path.lstrip("/")
        return self._regex.fullmatch(path) is not None


def path_excluded(relpath: str, patterns: Sequence[str]) -> bool:
    """True when ``relpath`` is left out by ``patterns`` (see ``glob_to_regex``).
    Compiles the patterns on every call: loops should build a PathFilter once."""
    return PathFilter(patterns).excluded(relpath)
