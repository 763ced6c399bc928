"""Baselines: keyed fingerprints that survive moves, files that do not churn
and never hold a secret, expiry, pruning, strict loading; and the inline
``sprawl:allow`` marker through the real pipeline."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from scanner.baseline import (
    DEFAULT_BASELINE_KEY,
    Baseline,
    BaselineEntry,
    apply_baseline,
    baseline_key,
    create_baseline,
    dumps_baseline,
    fingerprint,
    key_check,
    load_baseline,
    prune_baseline,
    update_baseline,
    write_baseline,
)
from scanner.config import ScanConfig
from scanner.errors import ConfigError
from scanner.model import ScanResult
from scanner.pipeline import scan
from tests.tokenfactory import github_style, npm_token, pypi_token

KEY = baseline_key("team-key-for-tests")
TODAY = date(2030, 6, 15)


def _scan(*paths: Path, jobs: int = 1) -> ScanResult:
    return scan(ScanConfig(paths=tuple(str(p) for p in paths), fail_on=None, jobs=jobs))


def _places(result: ScanResult) -> set[tuple[str, str, int]]:
    return {(f.rule_id, Path(o.provenance.path).name, o.line) for f in result.findings for o in f.occurrences}


@pytest.fixture()
def tree(tmp_path: Path, rng: random.Random) -> tuple[Path, str, str]:
    root = tmp_path / "repo"
    root.mkdir()
    npm = npm_token(rng)
    gh = github_style("ghp", rng)
    (root / ".npmrc").write_text(f"//registry.npmjs.org/:_authToken={npm}\n")
    (root / "deploy.sh").write_text(f"#!/bin/sh\nexport GH_TOKEN='{gh}'\n")
    return root, npm, gh


# ------------------------------------------------------------ fingerprints


def test_fingerprint_is_keyed_hmac_of_rule_and_secret(rng: random.Random) -> None:
    token = npm_token(rng)
    fp = fingerprint(KEY, "npm-access-token", token)
    assert len(fp) == 64 and set(fp) <= set("0123456789abcdef")
    assert fingerprint(KEY, "npm-access-token", token) == fp
    assert fingerprint(baseline_key("another-key"), "npm-access-token", token) != fp
    assert fingerprint(KEY, "npm-context-token", token) != fp
    assert token not in fp


def test_fingerprint_encoding_is_unambiguous() -> None:
    # Plain concatenation would make these two pairs identical.
    assert fingerprint(KEY, "rule-a", "bc") != fingerprint(KEY, "rule-ab", "c")
    assert fingerprint(KEY, "rule", "a\0b") != fingerprint(KEY, "rule\0a", "b")


def test_baseline_key_default_and_configured() -> None:
    assert baseline_key(None) == DEFAULT_BASELINE_KEY.encode()
    assert baseline_key("") == DEFAULT_BASELINE_KEY.encode()  # an empty variable is unset
    assert baseline_key("s3cr3t-key") == b"s3cr3t-key"


# ------------------------------------------------------------ the file


def test_create_twice_gives_identical_bytes(tree: tuple[Path, str, str], tmp_path: Path) -> None:
    root, _, _ = tree
    first, second = tmp_path / "one.json", tmp_path / "two.json"
    write_baseline(first, create_baseline(_scan(root).findings, KEY, reason="legacy", owner="sec"))
    write_baseline(second, create_baseline(_scan(root).findings, KEY, reason="legacy", owner="sec"))
    assert first.read_bytes() == second.read_bytes()
    data = json.loads(first.read_text())
    assert sorted(data) == ["entries", "key_check", "version"]
    fingerprints = [e["fingerprint"] for e in data["entries"]]
    assert fingerprints == sorted(fingerprints)
    assert {(e["rule_id"], Path(e["hint"]).name, e["reason"], e["owner"], e["expires"]) for e in data["entries"]} == {
        ("npm-access-token", ".npmrc", "legacy", "sec", None),
        ("github-classic-token", "deploy.sh", "legacy", "sec", None),
    }
    assert first.read_text().endswith("}\n")
    assert load_baseline(first, KEY) == create_baseline(_scan(root).findings, KEY, reason="legacy", owner="sec")


def test_update_without_new_findings_changes_nothing(tree: tuple[Path, str, str], tmp_path: Path) -> None:
    root, _, _ = tree
    path = tmp_path / "b.json"
    write_baseline(path, create_baseline(_scan(root).findings, KEY, reason="first", expires=date(2031, 1, 1)))
    before = path.read_bytes()
    updated, added = update_baseline(load_baseline(path), _scan(root).findings, KEY, reason="second")
    assert added == []
    write_baseline(path, updated)
    assert path.read_bytes() == before


def test_update_adds_only_new_findings_and_keeps_old_entries(
    tree: tuple[Path, str, str], tmp_path: Path, rng: random.Random
) -> None:
    root, _, _ = tree
    old = create_baseline(_scan(root).findings, KEY, reason="first", owner="alice", expires=date(2031, 1, 1))
    fresh = pypi_token(rng)
    (root / ".pypirc").write_text(f"[pypi]\nusername = __token__\npassword = {fresh}\n")
    updated, added = update_baseline(old, _scan(root).findings, KEY, reason="second", owner="bob")
    assert [(e.rule_id, Path(e.hint).name, e.reason, e.owner, e.expires) for e in added] == [
        ("pypi-api-token", ".pypirc", "second", "bob", None)
    ]
    assert set(old.entries) < set(updated.entries)
    assert len(updated.entries) == 3
    assert [e.fingerprint for e in updated.entries] == sorted(e.fingerprint for e in updated.entries)
    # The old entries' text is unchanged: only the new entry's lines appear in a diff.
    old_text, new_text = dumps_baseline(old), dumps_baseline(updated)
    for entry in old.entries:
        block = json.dumps(json.loads(old_text)["entries"][old.entries.index(entry)], indent=2, sort_keys=True)
        assert block.replace("\n", "\n    ") in new_text


def test_no_part_of_any_secret_is_written(tmp_path: Path, rng: random.Random) -> None:
    secrets = [npm_token(rng), github_style("ghp", rng), pypi_token(rng)]
    password = "".join(rng.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(20))
    (tmp_path / "a.env").write_text(f"NPM_TOKEN={secrets[0]}\nGH_TOKEN={secrets[1]}\n")
    (tmp_path / ".pypirc").write_text(f"[pypi]\nusername = __token__\npassword = {secrets[2]}\n")
    (tmp_path / "release.sh").write_text(f"twine upload -u deploy -p {password} dist/*\n")
    result = _scan(tmp_path)
    found = {f.secret for f in result.findings}
    assert set(secrets) | {password} <= found
    path = tmp_path / "b.json"
    write_baseline(path, create_baseline(result.findings, KEY, reason="r", owner="o"))
    text = path.read_text()
    for secret in found:
        leaked = {secret[i : i + 6] for i in range(len(secret) - 5) if secret[i : i + 6] in text}
        assert not leaked, f"{len(leaked)} six-character pieces of a secret are in the baseline"


def test_hint_never_carries_the_secret(tmp_path: Path, rng: random.Random) -> None:
    token = npm_token(rng)
    named = tmp_path / f"backup-{token}.txt"
    named.write_text(f"{token}\n")
    (entry,) = create_baseline(_scan(named).findings, KEY).entries
    assert token not in entry.hint
    assert entry.hint.endswith("backup-[REDACTED].txt")


# ------------------------------------------------------------ applying it


def test_baselined_finding_survives_moving_to_another_line_and_file(
    tree: tuple[Path, str, str], tmp_path: Path, rng: random.Random
) -> None:
    root, npm, gh = tree
    accepted = create_baseline(_scan(root).findings, KEY, reason="known")
    # Move both secrets: other file names, other lines, other folders.
    (root / ".npmrc").unlink()
    (root / "deploy.sh").unlink()
    (root / "moved").mkdir()
    (root / "moved" / "config.ini").write_text(f"\n\n\n[npm]\ntoken = {npm}\n")
    (root / "notes.md").write_text(f"# notes\nold: `{gh}`\n")
    new = github_style("ghp", rng)
    (root / "new.env").write_text(f"GH_TOKEN={new}\n")
    result = apply_baseline(_scan(root), accepted, KEY, TODAY)
    assert _places(result) == {("github-classic-token", "new.env", 1)}
    assert result.stats.baselined == 2
    (finding,) = result.findings
    assert finding.fingerprint == fingerprint(KEY, "github-classic-token", new)


def test_without_a_baseline_every_finding_gets_its_fingerprint(tree: tuple[Path, str, str]) -> None:
    root, npm, _ = tree
    result = apply_baseline(_scan(root), None, KEY, TODAY)
    assert result.stats.baselined == 0
    by_rule = {f.rule_id: f for f in result.findings}
    assert by_rule["npm-access-token"].fingerprint == fingerprint(KEY, "npm-access-token", npm)
    assert all(f.fingerprint is not None for f in result.findings)


def test_other_key_is_refused_not_silently_ignored(tree: tuple[Path, str, str], tmp_path: Path) -> None:
    root, _, _ = tree
    path = tmp_path / "b.json"
    write_baseline(path, create_baseline(_scan(root).findings, KEY))
    other = baseline_key(None)
    with pytest.raises(
        ConfigError, match=r"b\.json: made with a different baseline key; set the same SPRAWL_BASELINE_KEY"
    ):
        load_baseline(path, other)
    baseline = load_baseline(path)
    with pytest.raises(ConfigError, match="different baseline key"):
        apply_baseline(_scan(root), baseline, other, TODAY)
    with pytest.raises(ConfigError, match="different baseline key"):
        prune_baseline(baseline, [], other)
    with pytest.raises(ConfigError, match="different baseline key"):
        update_baseline(baseline, [], other)


def test_expired_entry_lets_the_finding_return(tree: tuple[Path, str, str]) -> None:
    root, npm, _ = tree
    result = _scan(root)
    npm_only = [f for f in result.findings if f.rule_id == "npm-access-token"]
    accepted = create_baseline(npm_only, KEY, reason="rotating", owner="alice", expires=TODAY)
    on_the_day = apply_baseline(result, accepted, KEY, TODAY)
    assert {f.rule_id for f in on_the_day.findings} == {"github-classic-token"}
    assert on_the_day.stats.baselined == 1
    after = apply_baseline(result, accepted, KEY, TODAY + timedelta(days=1))
    assert after.stats.baselined == 0
    back = next(f for f in after.findings if f.rule_id == "npm-access-token")
    original = next(f for f in result.findings if f.rule_id == "npm-access-token")
    assert back.liveness_reason == f"{original.liveness_reason}; baseline entry expired 2030-06-15, owner alice"
    assert back.occurrences == original.occurrences
    assert back.secret == npm
    other = next(f for f in after.findings if f.rule_id == "github-classic-token")
    assert "baseline" not in other.liveness_reason


def test_prune_drops_and_returns_entries_no_longer_found(tree: tuple[Path, str, str]) -> None:
    root, _, _ = tree
    accepted = create_baseline(_scan(root).findings, KEY, reason="known")
    (root / "deploy.sh").write_text('#!/bin/sh\nexport GH_TOKEN="$(cat /run/secrets/gh)"\n')
    pruned, dropped = prune_baseline(accepted, _scan(root).findings, KEY)
    assert [(e.rule_id, Path(e.hint).name) for e in dropped] == [("github-classic-token", "deploy.sh")]
    assert [e.rule_id for e in pruned.entries] == ["npm-access-token"]
    again, none = prune_baseline(pruned, _scan(root).findings, KEY)
    assert none == [] and again == pruned


# ------------------------------------------------------------ strict loading


def _valid() -> dict[str, object]:
    return {
        "version": 1,
        "key_check": key_check(KEY),
        "entries": [
            {"fingerprint": "a" * 64, "rule_id": "npm-access-token", "reason": "r", "owner": "o",
             "expires": "2031-02-03", "hint": "x/.npmrc"},
            {"fingerprint": "b" * 64, "rule_id": "pypi-api-token", "reason": "", "owner": "",
             "expires": None, "hint": ""},
        ],
    }  # fmt: skip


def test_valid_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text(json.dumps(_valid()))
    baseline = load_baseline(path, KEY)
    assert baseline.entries[0] == BaselineEntry("a" * 64, "npm-access-token", "r", "o", date(2031, 2, 3), "x/.npmrc")
    assert baseline.entries[1].expires is None


def _entry_with(**changes: object) -> dict[str, object]:
    data = _valid()
    entry = dict(data["entries"][0])  # type: ignore[index]
    for name, value in changes.items():
        if value is ...:
            del entry[name]
        else:
            entry[name] = value
    data["entries"] = [entry]
    return data


@pytest.mark.parametrize(
    "content,message",
    [
        ("{not json", r"not valid JSON \(line 1, column 2"),
        ("[]", "a baseline is a JSON object"),
        (json.dumps({**_valid(), "version": 2}), "baseline version 2 is not supported"),
        (json.dumps({k: v for k, v in _valid().items() if k != "entries"}), "missing 'entries'"),
        (json.dumps({**_valid(), "key_check": "nope"}), "'key_check' must be 16 lower-case hex"),
        (json.dumps({**_valid(), "generated_at": "2030-01-01T00:00:00"}), "unknown key 'generated_at'"),
        (json.dumps({**_valid(), "entries": {}}), "'entries' must be a list"),
        (json.dumps(_entry_with(owner=...)), r"entries\[0\]: missing 'owner'"),
        (json.dumps(_entry_with(fingerprint="A" * 64)), r"entries\[0\]: 'fingerprint' must be 64 lower-case hex"),
        (json.dumps(_entry_with(fingerprint="a" * 63)), r"entries\[0\]: 'fingerprint' must be 64"),
        (json.dumps(_entry_with(expires="2031-02-30")), r"entries\[0\]: 'expires' '2031-02-30' is not a valid date"),
        (json.dumps(_entry_with(expires="next year")), r"entries\[0\]: 'expires' must be null or a date YYYY-MM-DD"),
        (json.dumps(_entry_with(reason=3)), r"entries\[0\]: 'reason' must be a string"),
        (json.dumps(_entry_with(rule_id="")), r"entries\[0\]: 'rule_id' must not be empty"),
        (json.dumps(_entry_with(secret="whatever")), r"entries\[0\]: key 'secret' looks like a plaintext value"),
        (json.dumps(_entry_with(redacted="npm_...abcd")), r"entries\[0\]: key 'redacted' looks like a plaintext"),
        (json.dumps({**_valid(), "Token": "x"}), "key 'Token' looks like a plaintext value"),
        (json.dumps({**_valid(), "entries": [_valid()["entries"][0]] * 2}), r"entries\[1\]: fingerprint aaaa"),  # type: ignore[index]
        (json.dumps({**_valid(), "entries": ["x"]}), r"entries\[0\]: an entry must be a JSON object"),
    ],
    ids=lambda v: v[:40] if isinstance(v, str) else v,
)
def test_malformed_file_is_one_line_error_naming_it(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "broken.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message) as info:
        load_baseline(path)
    assert str(info.value).startswith(f"{path}: ")
    assert "\n" not in str(info.value)


def test_missing_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"nope\.json: baseline file not found \(create one with 'sprawl baseline create'\)"
    ):
        load_baseline(tmp_path / "nope.json")


def test_entries_are_sorted_whatever_the_input_order(tmp_path: Path) -> None:
    data = _valid()
    data["entries"] = list(reversed(data["entries"]))  # type: ignore[call-overload]
    path = tmp_path / "b.json"
    path.write_text(json.dumps(data))
    baseline = load_baseline(path)
    assert [e.fingerprint[0] for e in baseline.entries] == ["a", "b"]
    assert baseline == Baseline.of(key_check(KEY), reversed(baseline.entries))
    assert replace(baseline, entries=()) == Baseline(key_check=key_check(KEY))


# ------------------------------------------------------------ sprawl:allow


@pytest.mark.parametrize("jobs", [1, 2])
def test_allowed_lines_are_left_out_and_counted(tmp_path: Path, rng: random.Random, jobs: int) -> None:
    token = npm_token(rng)
    gh = github_style("ghp", rng)
    (tmp_path / "fixture.py").write_text(f'TOKEN = "{token}"  # sprawl:allow test fixture\nOTHER = "{token}"\n')
    (tmp_path / "app.js").write_text(f'const gh = "{gh}"; // sprawl:allow\n')
    result = _scan(tmp_path, jobs=jobs)
    assert _places(result) == {("npm-access-token", "fixture.py", 2)}
    assert result.stats.allowed_inline == 2
