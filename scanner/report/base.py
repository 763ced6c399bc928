"""The Reporter interface and the by-name registry the CLI uses.

Reporter modules are imported only when asked for, so ``sprawl --format json``
never pays for importing ``rich``.
"""

from __future__ import annotations

import abc
import importlib
from typing import TextIO

from scanner.errors import ReportError
from scanner.model import ScanResult


class Reporter(abc.ABC):
    """Renders one finished scan to a text stream."""

    @abc.abstractmethod
    def render(self, result: ScanResult, out: TextIO) -> None:
        """Write the whole report for ``result`` to ``out`` (which it must not close)."""


# name -> (module, class); the order is the order shown in error messages.
_LOCATIONS: dict[str, tuple[str, str]] = {
    "table": ("scanner.report.table", "TableReporter"),
    "json": ("scanner.report.json_report", "JsonReporter"),
    "jsonl": ("scanner.report.json_report", "JsonlReporter"),
    "sarif": ("scanner.report.sarif", "SarifReporter"),
    "timeline-md": ("scanner.report.timeline_markdown", "TimelineMarkdownReporter"),
    "timeline-html": ("scanner.report.timeline_html", "TimelineHtmlReporter"),
}

#: Every valid ``--format`` name.
REPORTER_NAMES: tuple[str, ...] = tuple(_LOCATIONS)

#: Reporter classes loaded so far, filled in by get_reporter.
REPORTERS: dict[str, type[Reporter]] = {}


def get_reporter(name: str) -> Reporter:
    """A new reporter for the format ``name``; ReportError if there is none."""
    cls = REPORTERS.get(name)
    if cls is None:
        location = _LOCATIONS.get(name)
        if location is None:
            raise ReportError(f"unknown report format {name!r}; valid formats: {', '.join(REPORTER_NAMES)}")
        module_name, class_name = location
        cls = getattr(importlib.import_module(module_name), class_name)
        REPORTERS[name] = cls
    return cls()
