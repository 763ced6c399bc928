"""Severity of a finding, as one pure function.

    liveness fake/expired/revoked            -> info
    breadth  account-wide publish            -> critical
             project-scoped / one registry   -> high
             read-only / pull-only           -> medium
             test registry                   -> low
             unknown                         -> the rule's base severity
    exposure in CI logs, chat or docs        -> one step up
    still present in the current tree        -> one step up
    confirmed live by a --verify check       -> one step up
"""

from __future__ import annotations

from dataclasses import dataclass

from scanner.model import Breadth, Liveness, Severity

_BY_BREADTH = {
    Breadth.ACCOUNT: Severity.CRITICAL,
    Breadth.PROJECT: Severity.HIGH,
    Breadth.READ_ONLY: Severity.MEDIUM,
    Breadth.TEST: Severity.LOW,
}
_DEAD = (Liveness.FAKE, Liveness.EXPIRED, Liveness.REVOKED)
# Source kinds where a secret has been shown to people or other systems.
EXPOSED_SOURCES = frozenset({"ci-log", "slack", "teams", "discord", "mattermost", "google-chat", "confluence", "notion", "jira", "chat", "doc"})


@dataclass(frozen=True)
class Exposure:
    """Where the secret was found, as far as severity cares."""

    shared_channel: bool = False  # seen in a CI log, chat or documentation export
    still_present: bool = False  # still in the current tree of the default branch


def severity(base: Severity, liveness: Liveness, breadth: Breadth, exposure: Exposure = Exposure()) -> Severity:
    """The severity of a credential; see the module docstring for the table."""
    if liveness in _DEAD:
        return Severity.INFO
    level = _BY_BREADTH.get(breadth, base)
    steps = int(exposure.shared_channel) + int(exposure.still_present) + int(liveness is Liveness.LIVE)
    return level.raised(steps)
