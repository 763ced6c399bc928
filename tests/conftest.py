"""Shared fixtures: rules loaded once, a helper to scan text through the real
pipeline, and seeded random generators for token factories."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from scanner.engine import Detector
from scanner.model import Chunk, Match, Provenance, Rule
from scanner.ruleset import load_rules

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def bundled_rules() -> list[Rule]:
    return load_rules()


@pytest.fixture(scope="session")
def detector(bundled_rules: list[Rule]) -> Detector:
    return Detector(bundled_rules)


@pytest.fixture()
def rng(request: pytest.FixtureRequest) -> random.Random:
    """A generator seeded from the test's name: failures reproduce."""
    return random.Random(request.node.nodeid)


def detect_text(detector: Detector, text: str, path: str = "input.txt", first_line: int = 1) -> list[Match]:
    chunk = Chunk(content=text, provenance=Provenance(source="file", path=path), digest=path, first_line=first_line)
    return detector.detect(chunk)
