"""Which repositories a sweep covers: folders of clones and --list files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scanner.errors import ConfigError
from scanner.sweep.targets import collect_targets, local_targets, read_list, redact_url, remote_url
from tests.gitbuild import Repo


def _folder_of_clones(root: Path) -> Path:
    Repo(root / "b-app")
    Repo(root / "a-lib.git", bare=True)
    (root / "notes").mkdir()
    (root / "notes" / "todo.txt").write_text("not a repository\n")
    (root / "loose.txt").write_text("a file\n")
    return root


def test_folder_of_clones_yields_each_child_repository_bare_or_not(tmp_path: Path) -> None:
    root = _folder_of_clones(tmp_path / "clones")
    targets = local_targets(str(root))
    assert [t.display for t in targets] == [str(root / "a-lib.git"), str(root / "b-app")]
    assert [t.key for t in targets] == [os.path.realpath(root / "a-lib.git"), os.path.realpath(root / "b-app")]
    assert not any(t.remote for t in targets)


def test_a_folder_that_is_a_repository_is_one_target(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "single")
    Repo(repo.path / "vendored")  # a nested repository is not a separate target
    [target] = local_targets(str(repo.path))
    assert target.key == os.path.realpath(repo.path)


def test_folder_without_repositories_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="empty: neither a git repository nor a folder holding any"):
        local_targets(str(tmp_path / "empty"))
    with pytest.raises(ConfigError, match="missing: not a folder"):
        local_targets(str(tmp_path / "missing"))


def test_list_file_mixes_paths_urls_and_comments(tmp_path: Path) -> None:
    _folder_of_clones(tmp_path / "clones")
    Repo(tmp_path / "solo")
    listing = tmp_path / "targets.txt"
    listing.write_text(
        "# nightly sweep\n"
        "\n"
        "clones\n"
        "  solo  \n"
        "file:///srv/git/app.git\n"
        "ssh://git@git.example.test:2222/team/app.git\n"
        "git@git.example.test:team/lib.git\n"
        "https://ci-bot:s3cr3t-value@git.example.test/team/tool.git/\n"
        "ext::sh -c touch% /tmp/pwned\n"
        "git://git.example.test/plain.git\n"
        "nowhere\n",
        encoding="utf-8",
    )
    targets, errors = read_list(listing)
    local = [t.display for t in targets if not t.remote]
    remote = [(t.key, t.remote) for t in targets if t.remote]
    assert local == ["clones/a-lib.git", "clones/b-app", "solo"]  # relative to the list file
    assert remote == [
        ("file:///srv/git/app.git", True),
        ("ssh://git@git.example.test:2222/team/app.git", True),
        ("git@git.example.test:team/lib.git", True),
        ("https://git.example.test/team/tool.git", True),
    ]
    # The credential stays in the location git is given, never in the key.
    https = next(t for t in targets if t.key.startswith("https://"))
    assert "s3cr3t-value" in https.location and "s3cr3t-value" not in repr(https)
    assert len(errors) == 3
    # ext:: has no '://': read as a local path (none such), never handed to git.
    assert errors[0] == f"{listing}:9: ext::sh -c touch% /tmp/pwned: not a folder"
    assert errors[1] == (
        f"{listing}:10: git://git.example.test/plain.git: only file://, https://, ssh:// "
        "and user@host:path URLs are mirrored"
    )
    assert errors[2] == f"{listing}:11: nowhere: not a folder"


def test_unreadable_list_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the target list"):
        read_list(tmp_path / "absent.txt")


def test_remote_url_recognition() -> None:
    assert remote_url("file:///srv/a.git") == "file:///srv/a.git"
    assert remote_url("HTTPS://host/a.git") == "HTTPS://host/a.git"
    assert remote_url("deploy@host:org/a.git") == "deploy@host:org/a.git"
    assert remote_url("relative/path") is None
    assert remote_url("odd:name") is None  # no user@: a local path with a colon
    with pytest.raises(ConfigError):
        remote_url("http://host/a.git")


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        ("https://user:tok@host.test/org/repo.git", "https://host.test/org/repo.git"),
        ("https://tokenonly@host.test/org/repo.git/", "https://host.test/org/repo.git"),
        ("ssh://git:pw@host.test:22/org/repo.git", "ssh://git@host.test:22/org/repo.git"),
        ("file:///srv/repo.git/", "file:///srv/repo.git"),
        ("git@host.test:org/repo.git", "git@host.test:org/repo.git"),
    ],
)
def test_redact_url_drops_credentials(url: str, redacted: str) -> None:
    assert redact_url(url) == redacted


def test_collect_targets_deduplicates_and_keeps_going(tmp_path: Path) -> None:
    root = _folder_of_clones(tmp_path / "clones")
    listing = tmp_path / "list.txt"
    listing.write_text(f"{root / 'b-app'}\nfile:///srv/x.git\nfile:///srv/x.git/\n", encoding="utf-8")
    targets, errors = collect_targets([str(root), str(tmp_path / "nope")], listing)
    assert [t.key for t in targets] == [
        os.path.realpath(root / "a-lib.git"),
        os.path.realpath(root / "b-app"),
        "file:///srv/x.git",
    ]
    assert errors == [f"{tmp_path / 'nope'}: not a folder"]
