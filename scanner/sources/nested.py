"""Repositories and exports inside a scanned folder.

``sprawl scan corpus/`` on a folder that holds clones, bare repositories and
exports (a Slack export folder, a zipped Confluence space, a Jira XML file)
reads each of them the way ``sprawl scan`` reads one named on the command
line: a repository's whole history instead of its working tree, an export
with its channels, pages and permalinks. The walk asks a NestedFinder about
every folder and every file that may be an export.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scanner.sources.formats import ExportOptions, recognize_export

if TYPE_CHECKING:
    from scanner.sources.base import Source
    from scanner.sources.git import GitScanOptions

# Names that only some export layouts have at their top: the recognisers,
# which read file heads, run only where one of them is present (a tree of
# thousands of folders must not pay for them at every level).
_SLACK_NAMES = frozenset({"users.json", "org_users.json", "channels.json", "groups.json", "dms.json", "mpims.json"})
_CONFLUENCE_NAMES = frozenset({"entities.xml", "index.html"})
# Which formats may be a single file of each kind (a zip may be any export).
# A walk meets many .xml and .csv files: only Jira's recogniser looks at them.
_FILE_EXPORTS: dict[str, frozenset[str] | None] = {
    "zip": None,
    "jsonl": frozenset({"mattermost", "jsonl"}),
    "ndjson": frozenset({"mattermost", "jsonl"}),
    "xml": frozenset({"jira"}),
    "csv": frozenset({"jira"}),
}
_NOTION_PAGE = re.compile(r" [0-9a-f]{32}\.(?:md|csv)$")


@dataclass(frozen=True)
class NestedFinder:
    """Decides what a folder or file met in a walk is. ``git`` makes the
    history scan's options (called only once a repository is met: most walks
    meet none); None when history scanning is off (``--no-git``), and
    repositories are then read as files."""

    exports: ExportOptions
    git: Callable[[], GitScanOptions] | None = None

    def __call__(self, path: str, subdirs: frozenset[str] | None, files: frozenset[str] | None) -> Source | None:
        if subdirs is None or files is None:  # a file: a zipped or single-file export?
            suffix = path.rsplit(".", 1)[-1].lower()
            found = recognize_export(path, _FILE_EXPORTS.get(suffix))
            return found.open(path, self.exports) if found is not None else None
        if self.git is not None and is_repository(subdirs, files):
            from scanner.sources.git import GitHistorySource

            return GitHistorySource(path, self.git())
        if _export_signals(path, subdirs, files):
            found = recognize_export(path)
            return found.open(path, self.exports) if found is not None else None
        return None


def is_repository(subdirs: frozenset[str], files: frozenset[str]) -> bool:
    """A working tree (``.git`` folder, or the ``.git`` file of a submodule or
    worktree) or a bare repository (HEAD, objects/ and refs/), from a listing."""
    if ".git" in subdirs or ".git" in files:
        return True
    return "HEAD" in files and "objects" in subdirs and "refs" in subdirs


def _export_signals(path: str, subdirs: frozenset[str], files: frozenset[str]) -> bool:
    if files & _SLACK_NAMES or files & _CONFLUENCE_NAMES:
        return True
    if "Google Chat" in subdirs or (path.rstrip("/").endswith("Google Chat") and "Groups" in subdirs):
        return True
    return any(_NOTION_PAGE.search(name) for name in files)


def holds_parts(path: str, *, history: bool) -> bool:
    """True when a folder named on the command line holds repositories or
    exports among its children: it is then walked and each part read as
    such, rather than the whole folder taken for one export (a recogniser
    that looks one folder down would claim a whole corpus for the one
    Confluence space inside it). A folder that is itself an export's top
    (users.json, entities.xml, ...) is never split."""
    try:
        own = _listing(path)
        if _export_signals(path, *own):
            return False
        for entry in os.scandir(path):
            if entry.is_dir(follow_symlinks=False):
                subdirs, files = _listing(entry.path)
                if (history and is_repository(subdirs, files)) or _export_signals(entry.path, subdirs, files):
                    return True
    except OSError:
        return False
    return False


def _listing(path: str) -> tuple[frozenset[str], frozenset[str]]:
    subdirs: set[str] = set()
    files: set[str] = set()
    for entry in os.scandir(path):
        (subdirs if entry.is_dir(follow_symlinks=False) else files).add(entry.name)
    return frozenset(subdirs), frozenset(files)
