"""Who could read a place where a secret was seen (public, internal, private,
unknown, with the reason) and what kind of place it is, from what a
Provenance records. Pure: used by the timeline reports."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from scanner.model import Provenance

#: The Provenance extra key where chat sources record what their export says
#: about a conversation ("public" or "private").
VISIBILITY_KEY = "visibility"


class PlaceKind(enum.Enum):
    """The families of places sprawl reads; timeline markers are coloured by it."""

    GIT = "git"
    CI_LOG = "ci-log"
    CHAT = "chat"
    DOCS = "docs"
    FILE = "file"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]


_KIND_LABELS = {
    PlaceKind.GIT: "git history",
    PlaceKind.CI_LOG: "CI log",
    PlaceKind.CHAT: "chat",
    PlaceKind.DOCS: "documentation",
    PlaceKind.FILE: "file",
}


class Audience(enum.Enum):
    """How widely a place can be read, widest first."""

    PUBLIC = "public"  # anyone in the workspace (or on the internet) can find and read it
    INTERNAL = "internal"  # shown to others: a CI log, a wiki page, a chat whose visibility is not recorded
    PRIVATE = "private"  # only named members: a private channel, a direct message
    UNKNOWN = "unknown"  # the input does not say (files, git history)

    @property
    def rank(self) -> int:
        """0 for the widest audience; lower is worse."""
        return _AUDIENCE_ORDER.index(self)


_AUDIENCE_ORDER = (Audience.PUBLIC, Audience.INTERNAL, Audience.PRIVATE, Audience.UNKNOWN)

_CHAT_SOURCES = frozenset({"slack", "teams", "discord", "mattermost", "google-chat", "chat"})
_DOC_SOURCES = frozenset({"confluence", "notion", "jira", "doc"})
_SERVICE_NAMES = {
    "slack": "Slack",
    "teams": "Microsoft Teams",
    "discord": "Discord",
    "mattermost": "Mattermost",
    "google-chat": "Google Chat",
    "confluence": "Confluence",
    "notion": "Notion",
    "jira": "Jira",
}
# Extra keys that name the place a person would open, in the order shown.
_PLACE_KEYS = ("space", "page_title", "issue", "team", "guild", "channel", "chat", "job", "step")


@dataclass(frozen=True)
class PlaceExposure:
    """One place, classified: what it is, who could read it and why we think so."""

    kind: PlaceKind
    audience: Audience
    place: str  # "Slack #releases", "git history of repo", "CI log job build", ...
    reason: str

    @property
    def public(self) -> bool:
        return self.audience is Audience.PUBLIC


def place_kind(source: str) -> PlaceKind:
    """The family of a Provenance ``source`` (unknown kinds count as files)."""
    if source == "git":
        return PlaceKind.GIT
    if source == "ci-log":
        return PlaceKind.CI_LOG
    if source in _CHAT_SOURCES:
        return PlaceKind.CHAT
    if source in _DOC_SOURCES:
        return PlaceKind.DOCS
    return PlaceKind.FILE


def place_label(provenance: Provenance) -> str:
    """A short human name for the place: the service and its channel, page or job."""
    extra = dict(provenance.extra)
    kind = place_kind(provenance.source)
    if kind is PlaceKind.GIT:
        repository = extra.get("repository")
        return f"git history of {repository}" if repository else "git history"
    if kind is PlaceKind.CI_LOG:
        system = extra.get("ci")
        head = f"{system} log" if system else "CI log"
    elif kind is PlaceKind.FILE:
        return provenance.path
    else:
        head = _SERVICE_NAMES.get(provenance.source, provenance.source)
    details = [f"{key.replace('_', ' ')} {extra[key]}" if key in ("job", "step") else extra[key]
               for key in _PLACE_KEYS if extra.get(key)]
    return " ".join([head, *details]) if details else f"{head} {provenance.path}"


def classify(provenance: Provenance) -> PlaceExposure:
    """Who could read the place ``provenance`` names, and why we say so.

    A visibility the source read from the export itself (Slack's
    channels.json, a Mattermost channel's type, a direct message) is trusted
    first; otherwise the kind of place decides.
    """
    kind = place_kind(provenance.source)
    label = place_label(provenance)
    visibility = dict(provenance.extra).get(VISIBILITY_KEY)
    if visibility == "public":
        if kind is PlaceKind.CHAT:
            reason = (
                "a public channel: every member of the workspace can find, read and search it,"
                " including people and integrations that join later"
            )
        else:
            reason = "the source marks this place as public"
        return PlaceExposure(kind, Audience.PUBLIC, label, reason)
    if visibility == "private":
        if kind is PlaceKind.CHAT:
            reason = "a private channel or direct message: only its members can read it"
        else:
            reason = "the source marks this place as private"
        return PlaceExposure(kind, Audience.PRIVATE, label, reason)
    if kind is PlaceKind.CHAT:
        return PlaceExposure(
            kind,
            Audience.INTERNAL,
            label,
            "a chat message: shown to the conversation's members; the export does not say whether the channel is public",
        )
    if kind is PlaceKind.CI_LOG:
        return PlaceExposure(
            kind,
            Audience.INTERNAL,
            label,
            "a CI log: readable by everyone who can see the pipeline (by anyone, for a public repository's logs)",
        )
    if kind is PlaceKind.DOCS:
        return PlaceExposure(
            kind,
            Audience.INTERNAL,
            label,
            "a documentation page or ticket: readable by everyone with access to the space or project",
        )
    if kind is PlaceKind.GIT:
        return PlaceExposure(
            kind,
            Audience.UNKNOWN,
            label,
            "git history: a clone does not say whether the repository is public; if it is, so is every commit",
        )
    return PlaceExposure(kind, Audience.UNKNOWN, label, "a file: who can read it is not known")
