"""The built wheel carries the bundled rules: install it into a fresh
virtualenv and scan from outside the checkout. Offline: the wheel is built
without build isolation and installed with --no-index."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import venv
from pathlib import Path

from tests.conftest import REPO_ROOT
from tests.tokenfactory import npm_token


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, check=False)


def test_wheel_installs_and_scans_with_bundled_rules(tmp_path: Path, rng: random.Random) -> None:
    dist = tmp_path / "dist"
    built = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", dist, REPO_ROOT, cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    (wheel,) = dist.glob("sprawl-*.whl")

    env_dir = tmp_path / "venv"
    # The test environment already has the dependencies; the fresh venv sees
    # them through system site-packages, while sprawl itself comes from the wheel.
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    installed = run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", wheel, cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr

    work = tmp_path / "elsewhere"
    work.mkdir()
    (work / ".npmrc").write_text(f"//registry.npmjs.org/:_authToken={npm_token(rng)}\n")
    listed = run(env_dir / "bin" / "sprawl", "rules", "list", "--format", "json", cwd=work)
    assert listed.returncode == 0, listed.stderr
    sources = {Path(r["source_file"]).parent for r in json.loads(listed.stdout)}
    assert sources == {env_dir / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages" / "scanner" / "_rules"}

    scanned = run(env_dir / "bin" / "sprawl", "scan", ".", "--format", "json", cwd=work)
    assert scanned.returncode == 1, scanned.stderr
    (finding,) = json.loads(scanned.stdout)["findings"]
    assert (finding["rule_id"], finding["occurrences"][0]["path"], finding["occurrences"][0]["line"]) == (
        "npm-access-token", ".npmrc", 1,
    )
    module = run(python, "-m", "scanner", "--version", cwd=work)
    assert module.stdout.startswith("sprawl ")
