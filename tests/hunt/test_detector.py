"""The hunt detector on single chunks: every form of a known value at its
exact place, values found from their sha256 alone, and the detector running
as itself in worker processes."""

from __future__ import annotations

import base64
import json
import pickle
import random
from urllib.parse import quote

from scanner.engine import Detector
from scanner.hunt.detector import HuntDetector
from scanner.hunt.targets import value_sha256
from scanner.model import Chunk, Provenance, Rule
from scanner.parallel import detect_in_order
from tests.hunt.corpus import password
from tests.tokenfactory import npm_token


def _chunk(text: str, first_line: int = 1, name: str = "input.txt") -> Chunk:
    return Chunk(text, Provenance(source="file", path=name), digest=name + str(first_line), first_line=first_line)


def _found(detector: Detector, text: str, first_line: int = 1) -> list[tuple[str, int, int, str]]:
    """(rule id, line, column, the matched text) of every match."""
    lines = text.split("\n")
    out = []
    for match in detector.detect(_chunk(text, first_line)):
        line = lines[match.line - first_line]
        assert match.end_line == match.line
        out.append((match.rule_id, match.line, match.column, line[match.column - 1 : match.end_column - 1]))
    return out


def _b64(data: str) -> str:
    return base64.b64encode(data.encode()).decode()


def test_every_form_at_its_exact_place(rng: random.Random) -> None:
    value = password(rng)
    url = quote(value, safe="")
    escaped = json.dumps(value).strip('"').replace("/", "\\/").replace("+", "\\u002b")
    entity = value.replace("/", "&#x2f;").replace("+", "&#43;")
    auth = _b64(f"ci-user:{value}")
    urlsafe = base64.urlsafe_b64encode(f"xy{value}".encode()).decode().rstrip("=")
    text = "\n".join(
        [
            f"plain {value} here",
            f"GET /login?pass={url}&next=1",
            f'{{"password": "{escaped}"}}',
            f"<td>{entity}</td>",
            f'"auth": "{auth}"',
            f"token={urlsafe}",
            f"hex: {value.encode().hex().upper()} / {value.encode().hex()}",
        ]
    )
    found = _found(HuntDetector([value]), text, first_line=10)
    shift_2 = (len("ci-user:") * 8) // 6
    assert found == [
        ("hunt:raw", 10, 7, value),
        ("hunt:url-encoded", 11, 17, url),
        ("hunt:json-escaped", 12, 15, escaped),
        ("hunt:html-escaped", 13, 5, entity),
        ("hunt:base64", 14, 10 + shift_2, auth[shift_2 : -(-(len("ci-user:") + len(value)) * 8 // 6)]),
        ("hunt:base64url" if "-" in urlsafe or "_" in urlsafe else "hunt:base64", 15, 7 + 2, urlsafe[2:]),
        ("hunt:hex", 16, 6, value.encode().hex().upper()),
        ("hunt:hex", 16, 6 + 2 * len(value) + 3, value.encode().hex()),
    ]
    assert all(m.secret == value for m in HuntDetector([value]).detect(_chunk(text)))


def test_copies_inside_base64_in_forms_the_direct_search_cannot_see(rng: random.Random) -> None:
    value = password(rng)
    auth = _b64(f"robot:{value}")
    # A k8s .dockerconfigjson: base64 of a JSON document whose "auth" is base64 again.
    inner = json.dumps({"auths": {"registry.example.test": {"auth": auth, "email": "ops@example.test"}}})
    dockerconfig = _b64(inner)
    # JSON as PHP and Slack write it, with "/" escaped as "\/".
    escaped = _b64('{"password": "' + value.replace("/", "\\/") + '", "note": "rotated quarterly by the ops team"}')
    text = f".dockerconfigjson: {dockerconfig}\nsecret: {escaped}\n"
    found = _found(HuntDetector([value]), text)
    assert ("hunt:base64-in-base64", 1, len(".dockerconfigjson: ") + 1, dockerconfig) in found
    # The JSON escape of "/" hides it from the direct base64 search; decoded, it is there.
    assert ("hunt:json-escaped-in-base64", 2, len("secret: ") + 1, escaped) in found
    assert [f for f in found if f[0] == "hunt:raw"] == []


def test_non_ascii_text_whose_lower_case_changes_length(rng: random.Random) -> None:
    value = password(rng)
    text = f"İİİ prefix {value} and {quote(value, safe='')}"
    assert [(rule, column) for rule, _, column, _ in _found(HuntDetector([value]), text)] == [
        ("hunt:raw", 12),
        ("hunt:url-encoded", 12 + len(value) + 5),
    ]


def test_value_without_letters_or_digits_runs_is_still_found() -> None:
    value = "a!b@c#d$e%"
    text = f"x={value};y={quote(value, safe='')}"
    assert [(rule, column) for rule, _, column, _ in _found(HuntDetector([value]), text)] == [
        ("hunt:raw", 3),
        ("hunt:url-encoded", 3 + len(value) + 3),
    ]


def test_several_values_at_once_each_reported_as_itself(rng: random.Random) -> None:
    first, second = password(rng), password(rng)
    matches = HuntDetector([first, second]).detect(_chunk(f"{second} {first}\n{_b64(first)}"))
    assert [(m.rule_id, m.secret, m.line, m.column) for m in matches] == [
        ("hunt:raw", second, 1, 1),
        ("hunt:raw", first, 1, len(second) + 2),
        ("hunt:base64", first, 2, 1),
    ]


def test_sha256_mode_finds_values_from_every_kind_of_candidate(rng: random.Random, bundled_rules: list[Rule]) -> None:
    value, token = password(rng), npm_token(rng)
    text = "\n".join(
        [
            f"db: postgres://app:{value}@db.example.test:5432/app",
            f"curl 'https://x.example.test/?p={quote(value, safe='')}'",
            f'{{"auth": "{_b64("bob:" + value)}"}}',
            f"//registry.npmjs.org/:_authToken={token}",
        ]
    )
    detector = HuntDetector((), [value_sha256(value), value_sha256(token)], bundled_rules)
    found = {(m.rule_id, m.line, m.secret) for m in detector.detect(_chunk(text))}
    assert found == {
        ("hunt:raw", 1, value),
        ("hunt:url-encoded", 2, value),
        ("hunt:base64", 3, value),
        ("hunt:raw", 4, token),
    }
    raw = next(m for m in detector.detect(_chunk(text)) if m.line == 1)
    assert (raw.column, raw.end_column) == (len("db: postgres://app:") + 1, len("db: postgres://app:") + 1 + len(value))


def test_sha256_mode_reports_nothing_for_other_values(rng: random.Random) -> None:
    value = password(rng)
    detector = HuntDetector((), [value_sha256(value + "x")])
    assert detector.detect(_chunk(f"pass={value}\n{_b64(value)}")) == []


def test_worker_factory_rebuilds_the_hunt_detector_in_a_worker(rng: random.Random) -> None:
    value = password(rng)
    factory = pickle.loads(pickle.dumps(HuntDetector([value], [value_sha256("other-value")]).worker_factory))
    errors: list[str] = []
    rebuilt = factory(regex_timeout=1.0, on_error=errors.append)
    assert isinstance(rebuilt, HuntDetector)
    assert [m.column for m in rebuilt.detect(_chunk(f"__{value}"))] == [3]
    chunks = [_chunk(f"line\n{value if i % 3 else 'nothing'}\n", name=f"f{i}") for i in range(40)]
    serial = list(detect_in_order(chunks, HuntDetector([value]), jobs=1, regex_timeout=5, on_error=errors.append))
    parallel = list(detect_in_order(chunks, HuntDetector([value]), jobs=2, regex_timeout=5, on_error=errors.append))
    assert [[(m.rule_id, m.line, m.column) for m in ms] for _, ms, _ in parallel] == [
        [(m.rule_id, m.line, m.column) for m in ms] for _, ms, _ in serial
    ]
    assert sum(1 for _, ms, _ in parallel if ms) == 26 and errors == []


def test_plain_detector_factory_keeps_rules_and_settings(bundled_rules: list[Rule], rng: random.Random) -> None:
    detector = Detector(bundled_rules[:5], decode_depth=0)
    factory = pickle.loads(pickle.dumps(detector.worker_factory))
    rebuilt = factory(regex_timeout=2.0, on_error=None)
    assert type(rebuilt) is Detector
    assert [r.id for r in rebuilt.rules] == [r.id for r in bundled_rules[:5]]
    token = npm_token(rng)
    encoded = f'"auth": "{_b64("u:" + token)}"'
    npm = Detector([r for r in bundled_rules if r.id == "npm-access-token"], decode_depth=0)
    assert pickle.loads(pickle.dumps(npm.worker_factory))(regex_timeout=1.0).detect(_chunk(encoded)) == []
