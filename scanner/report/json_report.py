"""``--format json`` (one document with stats) and ``--format jsonl`` (one
finding per line, for streaming into log pipelines)."""

from __future__ import annotations

import json
from typing import TextIO

from scanner.model import ScanResult
from scanner.report.base import Reporter
from scanner.report.serialize import finding_to_dict, result_to_dict


class JsonReporter(Reporter):
    """The whole result as one indented JSON document."""

    def render(self, result: ScanResult, out: TextIO) -> None:
        # ensure_ascii keeps the output writable to any stream encoding and
        # survives undecodable path names (lone surrogates become \\udcXX escapes).
        json.dump(result_to_dict(result), out, indent=2, ensure_ascii=True)
        out.write("\n")


class JsonlReporter(Reporter):
    """Exactly one compact finding object per line; nothing at all without findings."""

    def render(self, result: ScanResult, out: TextIO) -> None:
        for finding in result.findings:
            line = json.dumps(finding_to_dict(finding, result.show_secrets), ensure_ascii=True, separators=(",", ":"))
            out.write(line + "\n")
