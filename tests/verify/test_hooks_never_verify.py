"""Live checks never run from the commit hooks: no hook module imports
scanner.verify, a real pre-commit run loads none of it and opens no socket,
and the hook commands have no --verify."""

from __future__ import annotations

import ast
import random
import subprocess
import sys
import textwrap
from pathlib import Path

from typer.testing import CliRunner

import scanner
from scanner.cli import app
from tests.gitbuild import Repo, git_env
from tests.tokenfactory import npm_token

PACKAGE = Path(scanner.__file__).parent
HOOK_MODULES = sorted((PACKAGE / "hooks").glob("*.py")) + [PACKAGE / "cli_hooks.py"]


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_hook_module_imports_the_live_checks() -> None:
    assert len(HOOK_MODULES) >= 5
    for path in HOOK_MODULES:
        assert not {m for m in imported_modules(path) if m.startswith("scanner.verify")}, path.name
        assert "scanner.verify" not in path.read_text(encoding="utf-8"), path.name


PRE_COMMIT = textwrap.dedent(
    """
    import socket, sys

    def refuse(*args, **kwargs):
        raise AssertionError("the pre-commit hook opened a network connection")

    socket.socket.connect = refuse
    socket.create_connection = refuse
    from scanner.hooks.entry import dispatch
    code = dispatch(["hook", "pre-commit"])
    loaded = sorted(m for m in sys.modules if m.startswith("scanner.verify"))
    print(f"exit={code} verify_modules={loaded}", file=sys.stderr)
    """
)


def test_a_blocking_pre_commit_run_loads_no_live_check(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path / "project")
    repo.write("README.md", "# project\n")
    repo.commit("first")
    repo.write(".npmrc", f"//registry.npmjs.org/:_authToken={npm_token(rng)}\n")
    repo.git("add", ".npmrc")
    script = tmp_path / "hook.py"
    script.write_text(PRE_COMMIT)
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=repo.path,
        capture_output=True,
        text=True,
        env=git_env(),
        timeout=120,
        check=False,
    )
    assert done.stderr.strip().splitlines()[-1] == "exit=1 verify_modules=[]", done.stderr
    assert "npm-access-token" in done.stdout


def test_the_pre_commit_command_has_no_verify_option() -> None:
    result = CliRunner().invoke(app, ["hook", "pre-commit", "--verify"])
    assert result.exit_code == 2
    assert "No such option: --verify" in result.output
