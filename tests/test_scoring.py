"""The severity table in scoring.py, cell by cell."""

from __future__ import annotations

import pytest

from scanner.model import Breadth, Liveness, Severity
from scanner.scoring import Exposure, severity


@pytest.mark.parametrize(
    "breadth,expected",
    [
        (Breadth.ACCOUNT, Severity.CRITICAL),
        (Breadth.PROJECT, Severity.HIGH),
        (Breadth.READ_ONLY, Severity.MEDIUM),
        (Breadth.TEST, Severity.LOW),
        (Breadth.UNKNOWN, Severity.MEDIUM),  # falls back to the rule's base
    ],
)
def test_breadth_sets_level(breadth: Breadth, expected: Severity) -> None:
    assert severity(Severity.MEDIUM, Liveness.LIVE_LOOKING, breadth) is expected


@pytest.mark.parametrize("liveness", [Liveness.FAKE, Liveness.EXPIRED, Liveness.REVOKED])
def test_dead_credentials_are_info(liveness: Liveness) -> None:
    assert severity(Severity.CRITICAL, liveness, Breadth.ACCOUNT, Exposure(True, True)) is Severity.INFO


def test_exposure_raises_one_step_each_and_clamps() -> None:
    assert severity(Severity.LOW, Liveness.LIVE_LOOKING, Breadth.TEST, Exposure(shared_channel=True)) is Severity.MEDIUM
    assert severity(Severity.LOW, Liveness.UNVERIFIABLE, Breadth.PROJECT, Exposure(True, True)) is Severity.CRITICAL
    assert severity(Severity.LOW, Liveness.LIVE, Breadth.ACCOUNT, Exposure(True, True)) is Severity.CRITICAL
