"""sprawl: find leaked package-publication credentials wherever they sprawled."""

from __future__ import annotations

__version__ = "0.1.0"
