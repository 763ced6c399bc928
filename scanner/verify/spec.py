"""A rule's ``verify`` block at work: which block fits a secret, the headers
it sends, and what the registry's answer means (live, revoked or unknown)."""

from __future__ import annotations

import base64
import enum
import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from scanner.model import Rule, VerifySpec
from scanner.verify.http import Response


class Outcome(enum.Enum):
    LIVE = "live"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Verdict:
    """What one live check concluded. Holds no secret."""

    outcome: Outcome
    host: str
    checked_at: datetime
    http_status: int | None = None
    # Why, for an unknown outcome or a live status whose body said otherwise.
    detail: str = ""
    cached: bool = False

    @property
    def reason(self) -> str:
        """The text that goes into a finding's liveness reason."""
        if self.outcome is Outcome.UNKNOWN:
            return f"live check: unknown ({self.detail})"
        text = f"live check: {self.http_status} from {self.host}"
        if self.detail:
            text += f" ({self.detail})"
        if self.cached:
            text += f", cached from {self.checked_at.isoformat(timespec='seconds')}"
        return text


def select_spec(rule: Rule, secret: str) -> VerifySpec | None:
    """The first of the rule's verify blocks whose prefixes fit ``secret``."""
    for spec in rule.verify:
        if not spec.prefixes or secret.startswith(spec.prefixes):
            return spec
    return None


def sendable(secret: str) -> bool:
    """Whether ``secret`` can travel in a header as it is: visible ASCII only.
    (http.client would reject anything else with a message quoting it.)"""
    return bool(secret) and all(0x21 <= ord(c) <= 0x7E for c in secret)


def request_headers(spec: VerifySpec, secret: str) -> dict[str, str]:
    """The headers the check sends, with ``{secret}`` filled in."""
    headers = {name: value.replace("{secret}", secret) for name, value in spec.headers}
    if spec.basic_auth is not None:
        user, password = (part.replace("{secret}", secret) for part in spec.basic_auth)
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        headers["Authorization"] = f"Basic {token}"
    return headers


def spec_fingerprint(spec: VerifySpec) -> str:
    """A stable id of a verify block: same request and same reading, same id."""
    canonical = json.dumps(asdict(spec), sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def interpret(spec: VerifySpec, response: Response, checked_at: datetime) -> Verdict:
    """What ``response`` says about the secret, by the block's status lists."""
    status, host = response.status, response.host
    if status in spec.live:
        if not spec.body:
            return Verdict(Outcome.LIVE, host, checked_at, status)
        try:
            document = json.loads(response.body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return Verdict(Outcome.UNKNOWN, host, checked_at, status, f"HTTP {status} from {host} without a JSON body")
        for path, expected in spec.body:
            found, actual = _lookup(document, path)
            if not found or type(actual) is not type(expected) or actual != expected:
                shown = json.dumps(actual) if found else "missing"
                return Verdict(Outcome.REVOKED, host, checked_at, status, f"'{path}' is {shown}")
        return Verdict(Outcome.LIVE, host, checked_at, status)
    if status in spec.revoked:
        return Verdict(Outcome.REVOKED, host, checked_at, status)
    note = dict(spec.inconclusive).get(status)
    detail = f"HTTP {status} from {host}" + (f": {note}" if note else "")
    return Verdict(Outcome.UNKNOWN, host, checked_at, status, detail)


def _lookup(document: Any, path: str) -> tuple[bool, Any]:
    node = document
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node
