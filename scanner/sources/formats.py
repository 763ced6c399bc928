"""The formats sprawl reads beyond plain text, and how each is recognised.

Two kinds:

- **Export formats** are whole inputs named on the command line: a Slack
  workspace export (folder or zip), a Confluence space export, a Notion
  export, a Jira XML/CSV export, a Mattermost or Discord dump, a JSONL
  stream. Each is recognised from its layout (``recognize(path)``), or
  forced with a ``name:PATH`` prefix, and read by its own Source.
- **Content formats** apply to any single file, wherever it is met (in a
  folder walk, inside an archive, on stdin): a CI log, an HTML page, a DOCX
  or ODT document. Each is recognised from its name and first bytes
  (``sniff(display, head)``) and turns the bytes into chunks (with locators
  back to the original lines).

Both registries name ``module:attribute`` so nothing is imported until a
scan needs it; third parties add their own through the entry points
``sprawl.export_formats`` / ``sprawl.content_formats``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache

from scanner.model import Chunk
from scanner.sources.base import Source, SourceStats

# How many leading bytes a content format's sniff sees.
SNIFF_BYTES = 8192


@dataclass(frozen=True)
class ExportOptions:
    """What an export source may need from the scan configuration."""

    max_file_size: int
    path_excludes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExportFormat:
    """A whole-input format. ``recognize`` must be cheap (a few stats and a
    small read) and never raise; ``open`` builds the Source."""

    name: str
    recognize: Callable[[str], bool]
    open: Callable[[str, ExportOptions], Source]


@dataclass(frozen=True)
class ContentFormat:
    """A single-file format. ``sniff(display, head)`` decides from the display
    path and the first SNIFF_BYTES bytes; ``read(data, display, stats)``
    yields the chunks (recording skips and errors on ``stats``)."""

    name: str
    sniff: Callable[[str, bytes], bool]
    read: Callable[[bytes, str, SourceStats], Iterator[Chunk]]


# Order matters: the first that recognises an input reads it.
EXPORT_FORMATS: tuple[str, ...] = (
    "scanner.sources.slack:SLACK",
    "scanner.sources.discord:DISCORD",
    "scanner.sources.mattermost:MATTERMOST",
    "scanner.sources.googlechat:GOOGLE_CHAT",
    "scanner.sources.teams:TEAMS",
    "scanner.sources.jsonlines:JSONL",
    "scanner.sources.jira:JIRA",
    "scanner.sources.notion:NOTION",
    "scanner.sources.confluence:CONFLUENCE",
    "scanner.sources.cilogs:LOGS_EXPORT",
    "scanner.sources.ci_github:ACTIONS_EXPORT",
)
CONTENT_FORMATS: tuple[str, ...] = (
    "scanner.sources.slack:SLACK_DAY",
    "scanner.sources.discord:DISCORD_JSON",
    "scanner.sources.mattermost:MATTERMOST_JSONL",
    "scanner.sources.googlechat:GOOGLE_CHAT_JSON",
    "scanner.sources.teams:TEAMS_JSON",
    "scanner.sources.documents:DOCX_FORMAT",
    "scanner.sources.documents:ODT_FORMAT",
    "scanner.sources.documents:HTML_FORMAT",
    "scanner.sources.ci_github:ACTIONS_ARCHIVE",
    "scanner.sources.cilogs:CI_LOG",
)


def _load(spec: str) -> object:
    module, _, attribute = spec.partition(":")
    return getattr(importlib.import_module(module), attribute)


@cache
def export_formats() -> tuple[ExportFormat, ...]:
    found = [_load(spec) for spec in EXPORT_FORMATS] + _plugins("sprawl.export_formats")
    return tuple(f for f in found if isinstance(f, ExportFormat))


@cache
def content_formats() -> tuple[ContentFormat, ...]:
    found = [_load(spec) for spec in CONTENT_FORMATS] + _plugins("sprawl.content_formats")
    return tuple(f for f in found if isinstance(f, ContentFormat))


def _plugins(group: str) -> list[object]:
    from importlib.metadata import entry_points

    return [entry.load() for entry in entry_points(group=group)]


def export_named(name: str) -> ExportFormat | None:
    return next((f for f in export_formats() if f.name == name), None)


def split_prefix(target: str) -> tuple[ExportFormat | None, str]:
    """``slack:PATH`` -> (the slack format, PATH); anything else -> (None, target).
    A Windows drive letter (``C:\\...``) is not a prefix."""
    name, sep, rest = target.partition(":")
    if not sep or len(name) < 2 or not name.isidentifier():
        return None, target
    found = export_named(name)
    return (found, rest) if found is not None else (None, target)


def recognize_export(path: str, names: frozenset[str] | None = None) -> ExportFormat | None:
    """The export format that recognises ``path``, if any (only the formats
    called ``names``, when given)."""
    for candidate in export_formats():
        if (names is None or candidate.name in names) and candidate.recognize(path):
            return candidate
    return None


def content_format_for(display: str, head: bytes) -> ContentFormat | None:
    for candidate in content_formats():
        if candidate.sniff(display, head):
            return candidate
    return None
