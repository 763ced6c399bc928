"""One exception hierarchy for sprawl.

Every error carries a one-line message that names the input it is about, so the
CLI can print it as-is (``sprawl: error: <message>``) and carry on or exit 2.
"""

from __future__ import annotations


class ScannerError(Exception):
    """Base of every error sprawl raises on purpose."""


class ConfigError(ScannerError):
    """A flag or configuration value is unusable."""


class RuleError(ScannerError):
    """A rule file or rule is broken; the message names the file and rule id."""


class SourceError(ScannerError):
    """An input cannot be read at all (a bad item inside it is only counted)."""


class ReportError(ScannerError):
    """A report cannot be written."""
