"""Deciding, after a full-history scan, which matched objects a ref reaches.

A full-history scan reads every object in the database (cheaper than
walking every tree of every commit), so the few objects that matched must
then be sorted into reachable and unreachable. Each question here streams
one git listing and keeps only the answers about the candidates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from scanner.sources.gitobjects import OnFailure, annotated_tags, split_revisions, unreachable_objects


def reachable_commits(repo: str, revisions: Sequence[str], candidates: set[str], on_failure: OnFailure) -> set[str]:
    """The commits among ``candidates`` that ``revisions`` reach."""
    import tempfile

    from scanner.gitcmd import popen_git

    if not candidates:
        return set()
    options, plain = split_revisions(revisions)
    found: set[str] = set()
    with tempfile.TemporaryFile() as revs:
        revs.write("".join(f"{rev}\n" for rev in plain).encode("utf-8", "surrogateescape"))
        revs.seek(0)
        proc = popen_git(repo, ["rev-list", *options, "--stdin"], stdin=revs.fileno())
        try:
            for line in proc.stdout:
                oid = line.strip().decode("ascii", "replace")
                if oid in candidates:
                    found.add(oid)
            if proc.wait() != 0:
                on_failure(f"{repo}: git rev-list stopped early: {proc.error_line()}")
        finally:
            proc.close()
    return found


def reachable_tags(repo: str, candidates: set[str], on_failure: OnFailure) -> set[str]:
    """The annotated tag objects among ``candidates`` that refs/tags names."""
    if not candidates:
        return set()
    return {ref.oid for ref in annotated_tags(repo, on_failure) if ref.oid in candidates}


@dataclass
class Unreachable:
    """What ``git fsck --unreachable`` says about the candidates."""

    objects: set[str] = field(default_factory=set)  # candidates no ref reaches
    commits: list[str] = field(default_factory=list)  # every unreachable commit


def unreachable_among(repo: str, candidates: set[str], on_failure: OnFailure) -> Unreachable:
    """Which candidates no ref reaches (reflogs do not count), and every
    unreachable commit (to attribute unreachable blobs to)."""
    answer = Unreachable()
    for ref in unreachable_objects(repo, on_failure):
        if ref.oid in candidates:
            answer.objects.add(ref.oid)
        if ref.kind == "commit":
            answer.commits.append(ref.oid)
    return answer
