"""``--verify``: run each finding's live check (once per distinct secret and
endpoint), fold the answers into liveness and severity, and sum them up."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from scanner.model import Finding, Liveness, Rule, ScanResult, VerifySpec
from scanner.scoring import EXPOSED_SOURCES, Exposure, severity
from scanner.verify.cache import CacheKey, VerdictCache
from scanner.verify.http import FetchFailed, HttpClient
from scanner.verify.limits import Clock, SystemClock
from scanner.verify.spec import Outcome, Verdict, interpret, request_headers, select_spec, sendable, spec_fingerprint

# Offline verdicts a registry cannot overturn: a placeholder or an expired
# token is not worth a request.
_NOT_CHECKED = frozenset({Liveness.FAKE, Liveness.EXPIRED, Liveness.REVOKED})
# Hosts checked at the same time; each host's own checks run one after another.
DEFAULT_WORKERS = 4


@dataclass(frozen=True)
class HostTally:
    """Distinct secrets checked at one host, by outcome."""

    host: str
    live: int = 0
    revoked: int = 0
    unknown: int = 0

    @property
    def total(self) -> int:
        return self.live + self.revoked + self.unknown


@dataclass(frozen=True)
class VerifySummary:
    """What ``--verify`` did, for the one-line note on stderr."""

    hosts: tuple[HostTally, ...] = ()
    from_cache: int = 0  # checks answered by the on-disk cache
    without_check: tuple[str, ...] = ()  # rule ids of findings no endpoint can check
    not_checked: int = 0  # findings already fake, expired or revoked offline

    @property
    def checked(self) -> int:
        return sum(tally.total for tally in self.hosts)

    def line(self) -> str:
        parts = []
        for tally in self.hosts:
            counts = ", ".join(
                f"{n} {name}"
                for name, n in (("live", tally.live), ("revoked", tally.revoked), ("unknown", tally.unknown))
                if n
            )
            parts.append(f"{tally.host}: {counts}")
        text = f"live checks: {self.checked} distinct secret{'s' if self.checked != 1 else ''} checked"
        if parts:
            text += f" ({'; '.join(parts)})"
        if self.from_cache:
            text += f", {self.from_cache} from the cache"
        if self.without_check:
            ids = sorted(set(self.without_check))
            shown = ", ".join(ids[:4]) + (", ..." if len(ids) > 4 else "")
            n = len(self.without_check)
            text += f"; {n} finding{'s' if n != 1 else ''} without a read-only check ({shown})"
        if self.not_checked:
            text += f"; {self.not_checked} already fake, expired or revoked"
        return text


@dataclass(frozen=True)
class _Check:
    key: CacheKey
    spec: VerifySpec
    secret: str


def verify_result(
    result: ScanResult,
    *,
    client: HttpClient | None = None,
    cache: VerdictCache | None = None,
    clock: Clock | None = None,
    workers: int = DEFAULT_WORKERS,
) -> tuple[ScanResult, VerifySummary]:
    """``result`` with every checkable finding live-checked, and what was done."""
    clock = clock if clock is not None else SystemClock()
    client = client if client is not None else HttpClient(clock=clock)
    cache = cache if cache is not None else VerdictCache(clock=clock)
    rules = {rule.id: rule for rule in result.rules}

    planned: dict[str, CacheKey] = {}  # finding id -> its check
    pending: dict[CacheKey, _Check] = {}
    verdicts: dict[CacheKey, Verdict] = {}
    without_check: list[str] = []
    not_checked = 0
    from_cache = 0
    for finding in result.findings:
        rule = rules.get(finding.rule_id)
        spec = select_spec(rule, finding.secret) if rule is not None else None
        if spec is None:
            without_check.append(finding.rule_id)
            continue
        if finding.liveness in _NOT_CHECKED:
            not_checked += 1
            continue
        key = CacheKey(spec_fingerprint(spec), finding.secret_sha256)
        planned[finding.id] = key
        if key in verdicts or key in pending:
            continue
        known = cache.get(key)
        if known is not None:
            verdicts[key] = known
            from_cache += int(known.cached)
        elif not sendable(finding.secret):
            verdicts[key] = Verdict(
                Outcome.UNKNOWN, spec.host, clock.now(), detail="the value cannot be sent in an HTTP header"
            )
        else:
            pending[key] = _Check(key, spec, finding.secret)

    for key, verdict in _run_checks(list(pending.values()), client, clock, workers).items():
        cache.put(key, verdict)
        verdicts[key] = verdict
    cache.save()

    findings = [
        apply_verdict(finding, rules[finding.rule_id], verdicts[planned[finding.id]])
        if finding.id in planned
        else finding
        for finding in result.findings
    ]
    findings.sort(key=_sort_key)
    summary = VerifySummary(
        hosts=_tally(verdicts.values()),
        from_cache=from_cache,
        without_check=tuple(without_check),
        not_checked=not_checked,
    )
    return replace(result, findings=tuple(findings)), summary


def _run_checks(checks: Sequence[_Check], client: HttpClient, clock: Clock, workers: int) -> dict[CacheKey, Verdict]:
    """Every check's verdict: hosts side by side, each host's checks in turn
    (the client's rate limit spaces them)."""
    by_host: dict[str, list[_Check]] = defaultdict(list)
    for check in checks:
        by_host[check.spec.host].append(check)

    def run_host(host_checks: list[_Check]) -> list[tuple[CacheKey, Verdict]]:
        return [(check.key, _check_one(check, client, clock)) for check in host_checks]

    verdicts: dict[CacheKey, Verdict] = {}
    if not by_host:
        return verdicts
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(by_host))), thread_name_prefix="sprawl-verify") as pool:
        for done in pool.map(run_host, by_host.values()):
            verdicts.update(done)
    return verdicts


def _check_one(check: _Check, client: HttpClient, clock: Clock) -> Verdict:
    spec = check.spec
    try:
        response = client.get(spec.url, request_headers(spec, check.secret))
    except FetchFailed as exc:
        return Verdict(Outcome.UNKNOWN, spec.host, clock.now(), detail=str(exc))
    return interpret(spec, response, clock.now())


def apply_verdict(finding: Finding, rule: Rule, verdict: Verdict) -> Finding:
    """``finding`` with a live check's verdict: liveness, reason and severity.
    An unknown verdict keeps the offline liveness and adds why to the reason."""
    if verdict.outcome is Outcome.LIVE:
        liveness, reason = Liveness.LIVE, verdict.reason
    elif verdict.outcome is Outcome.REVOKED:
        liveness, reason = Liveness.REVOKED, verdict.reason
    else:
        liveness = finding.liveness
        reason = f"{finding.liveness_reason}; {verdict.reason}" if finding.liveness_reason else verdict.reason
    exposure = Exposure(
        shared_channel=any(o.provenance.source in EXPOSED_SOURCES for o in finding.occurrences),
        still_present=bool(finding.still_present),
    )
    return replace(
        finding,
        liveness=liveness,
        liveness_reason=reason,
        severity=severity(rule.severity, liveness, finding.breadth, exposure),
    )


def _tally(verdicts: Iterable[Verdict]) -> tuple[HostTally, ...]:
    counts: dict[str, Counter[Outcome]] = defaultdict(Counter)
    for verdict in verdicts:
        counts[verdict.host][verdict.outcome] += 1
    return tuple(
        HostTally(host, c[Outcome.LIVE], c[Outcome.REVOKED], c[Outcome.UNKNOWN]) for host, c in sorted(counts.items())
    )


def _sort_key(finding: Finding) -> tuple[int, str, str, int]:
    # The order findings.py gives a scan's findings: most severe first.
    first = finding.occurrences[0]
    return (-finding.severity.rank, finding.rule_id, first.provenance.path, first.line)
