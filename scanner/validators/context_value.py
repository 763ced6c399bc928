"""Offline checks for credentials found by where they stand (context rules).

Such a value has no shape of its own, so these checks mostly rule out what is
not a secret (variable references, paths, words, names); what survives is
unverifiable. The base64 forms registries store (``user:password`` pairs, bare
passwords) are decoded first.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from urllib.parse import unquote

from scanner.model import Breadth, Liveness, StructureResult
from scanner.validators.base import Validator
from scanner.validators.placeholders import placeholder_reason

MIN_LENGTH = 8

# --- what a plain value can be instead of a secret -------------------------------------

# References to a value held elsewhere, in the syntaxes of shells, CI systems,
# build tools and template engines (placeholders.py already knows ${X}, $(X),
# %X%, {{ X }}, <x>).
_REFERENCE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^\$"), "a variable reference"),  # $X, $env:X, "$ossrhPassword", ${...}
    (re.compile(r"#\{[^}]*\}"), "a template reference"),  # Azure/Octopus #{X}#, Ruby "#{x}"
    (re.compile(r"^@[\w.-]+@$"), "a build-time substitution (@name@)"),
    (re.compile(r"^__[A-Za-z0-9_]+__$"), "a replace-token placeholder (__NAME__)"),
    (re.compile(r"\{%|<%|%\([\w.-]+\)[sd]"), "a template expression"),
    (re.compile(r"\{[A-Za-z_][^{}\s]*\}"), "a format placeholder or interpolation ({name})"),
    (re.compile(r"^ENC\(.*\)$"), "an encrypted property (ENC(...))"),
    (re.compile(r"^[\w$.]+\(.*\)$"), "an expression, not a literal value"),
    (
        re.compile(r"^(?:env|file|secrets?|vault|keyring|keychain|cmd|exec|op|ssm|awssm|gcpsm)[:.]", re.IGNORECASE),
        "a reference to a secret store or variable",
    ),
    (re.compile(r"://"), "a URL or secret-store reference, not a secret"),
)
_MAVEN_ENCRYPTED = re.compile(r"^\{(?:\[[^\]]*\])?[A-Za-z0-9+/]{8,}={0,2}\}$")
_BRACKETED = re.compile(r"^(?:<.*>|\[.*\]|\(.*\)|\{.*\})$", re.DOTALL)
_DOTTED_NAME = re.compile(r"^[A-Za-z_$][A-Za-z_$]*(?:\.[A-Za-z_$][A-Za-z_$]*)+$")
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
_SNAKE_OR_KEBAB_WORDS = re.compile(r"^[a-z]+(?:[_-][a-z]+)+$")
_CAMEL_NAME = re.compile(r"^[a-z]+(?:[A-Z][a-z]+)+$")
_CREDENTIAL_WORD = re.compile(r"pass|pwd|token|secret|key|auth|cred|login|user", re.IGNORECASE)
_LITERAL = re.compile(r"^(?:true|false|yes|no|on|off|null|nil|none|undefined|empty|n/?a|tbd|todo)$", re.IGNORECASE)
_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)*$")
_VERSION = re.compile(r"^v?\d+(?:\.\d+)+(?:[-+][\w.]+)?$")
_EMAIL = re.compile(r"^[^@\s:/]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_PATH_START = re.compile(r"^(?:[A-Za-z]:[\\/]|~[\\/]|\.{1,2}[\\/]|/|\\\\)")
_PATH_BODY = re.compile(r"^[\w.@ ~:$%{}\\/-]+$")
_FILE_EXTENSION = re.compile(
    r"\.(?:txt|json|ya?ml|xml|toml|ini|cfg|conf|properties|env|pem|key|crt|p12|pfx|jks|gpg|asc|enc|secret|token)$",
    re.IGNORECASE,
)

# Words that fill documentation values ("yourpassword", "my-secret-token",
# "changeme123"). A value made only of these (plus separators and a few digits)
# is illustrative.
_FILLER_WORDS = frozenset(
    ["password", "passwd", "passwort", "pass", "pwd", "passw0rd", "p4ssw0rd", "pa55word", "p455w0rd", "s3cr3t", "secret", "secrets", "token", "tokens", "apikey", "api", "key", "keys", "auth", "authtoken", "access", "accesstoken", "credential", "credentials", "cred", "creds", "changeme", "changeit", "change", "me", "it", "here", "there", "your", "yours", "my", "mine", "our", "the", "a", "an", "some", "this", "that", "super", "secure", "strong", "default", "dev", "local", "prod", "admin", "administrator", "root", "user", "username", "usr", "login", "value", "values", "goes", "go", "replace", "insert", "put", "enter", "fill", "set", "example", "examples", "foo", "bar", "baz", "qux", "quux", "dummy", "fake", "sample", "test", "tests", "testing", "demo", "placeholder", "redacted", "hidden", "masked", "removed", "omitted", "todo", "fixme", "none", "null", "empty", "blank", "npm", "pypi", "nuget", "docker", "maven", "gradle", "nexus", "artifactory", "jfrog", "github", "gitlab", "registry", "repo", "repository", "deploy", "deployer", "publish", "publisher", "release", "ci", "bot", "service", "account", "letmein", "welcome", "qwerty", "asdf", "hunter", "abc", "xyz", "sonatype", "ossrh", "central", "signing", "private", "public", "personal", "new", "old", "real", "actual", "ci", "cd", "mysecret", "mytoken", "mypassword"]
)
_MAX_WORD = max(len(word) for word in _FILLER_WORDS)


def _reference(value: str) -> str | None:
    for pattern, reason in _REFERENCE_PATTERNS:
        if pattern.search(value):
            return reason
    return None


def _bracketed(value: str) -> str | None:
    if _MAVEN_ENCRYPTED.match(value):
        return "Maven-encrypted ({...}): decryptable only with the master password in settings-security.xml"
    if _BRACKETED.match(value):
        return "a placeholder in brackets"
    return None


def _path(value: str) -> str | None:
    """File paths; a random base64 value may start with '/', so a path must
    also read like one (few capitals and digits, no '+' or '=')."""
    if not _PATH_START.match(value) or not _PATH_BODY.match(value):
        return None
    letters = [c for c in value if c.isalnum()]
    shouty = sum(1 for c in letters if c.isupper() or c.isdigit())
    if _FILE_EXTENSION.search(value) or (letters and shouty <= len(letters) // 4):
        return "a file path, not a secret"
    return None


def _literal(value: str) -> str | None:
    if _LITERAL.match(value):
        return "a boolean or empty marker"
    if _NUMBER.match(value) or _VERSION.match(value):
        return "a number or version"
    if _EMAIL.match(value):
        return "an e-mail address"
    return None


def _name(value: str) -> str | None:
    if _ENV_NAME.match(value):
        return "an environment variable name"
    if _DOTTED_NAME.match(value):
        return "a property or variable name"
    if _SNAKE_OR_KEBAB_WORDS.match(value):
        return "a name made of words"
    if _CAMEL_NAME.match(value) and _CREDENTIAL_WORD.search(value):
        return "a property name"
    return None


def made_of_filler_words(value: str) -> bool:
    """True when ``value`` splits entirely into filler words, separators and
    short digit runs, with at least one word (dynamic programming, linear)."""
    text = value.lower()
    size = len(text)
    # reachable[i] = (prefix of length i splits, and holds a word)
    reachable: list[tuple[bool, bool]] = [(False, False)] * (size + 1)
    reachable[0] = (True, False)
    for start in range(size):
        ok, has_word = reachable[start]
        if not ok:
            continue
        for end in _steps(text, start):
            _, prev_word = reachable[end]
            is_word = text[start:end] in _FILLER_WORDS
            reachable[end] = (True, prev_word or has_word or is_word)
    return reachable[size] == (True, True)


def _steps(text: str, start: int) -> Iterator[int]:
    char = text[start]
    if not char.isalnum():
        yield start + 1
        return
    if char.isdigit():
        end = start
        while end < len(text) and end - start < 4 and text[end].isdigit():
            end += 1
            yield end
        return
    for end in range(start + 1, min(len(text), start + _MAX_WORD) + 1):
        if text[start:end] in _FILLER_WORDS:
            yield end


def _words(value: str) -> str | None:
    if len(value) <= 64 and made_of_filler_words(value):
        return "made of placeholder words"
    return None


# Prefixes of token formats that have their own rules, with each format's full
# shape. A context value with such a prefix but not the shape was not matched by
# the token rule: it is truncated or altered (e.g. the Docker API docs'
# "dckr_pat_124509ugsdjga93"). One with the shape belongs to its own rule (which
# normally wins the overlap): reporting it again under a context rule would
# bring back what --exclude left out.
_KNOWN_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("npm_", re.compile(r"npm_[A-Za-z0-9]{36}")),
    ("ghp_", re.compile(r"ghp_[A-Za-z0-9]{36}")),
    ("gho_", re.compile(r"gho_[A-Za-z0-9]{36}")),
    ("ghu_", re.compile(r"ghu_[A-Za-z0-9]{36}")),
    ("ghr_", re.compile(r"ghr_[A-Za-z0-9]{36,76}")),
    ("ghs_", re.compile(r"ghs_(?:[A-Za-z0-9]{36}|[0-9]+_eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)")),
    ("github_pat_", re.compile(r"github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}")),
    ("glpat-", re.compile(r"glpat-(?:[A-Za-z0-9_-]{20}|[A-Za-z0-9_-]{27,300}\.(?:[0-9a-z]{2}\.)?[0-9a-z]{9})")),
    ("pypi-", re.compile(r"pypi-[A-Za-z0-9_-]{85,}")),
    ("dckr_pat_", re.compile(r"dckr_pat_[A-Za-z0-9_-]{27}")),
    ("dckr_oat_", re.compile(r"dckr_oat_[A-Za-z0-9_-]{32}")),
    ("rubygems_", re.compile(r"rubygems_[0-9a-f]{48}")),
    ("cio_tp_", re.compile(r"cio_tp_[A-Za-z0-9]{32}")),
    ("oy2", re.compile(r"oy2[a-z2-7]{43}")),
    ("hf_", re.compile(r"hf_[A-Za-z]{34}")),
    ("api_org_", re.compile(r"api_org_[A-Za-z]{34}")),
    ("jsrp_", re.compile(r"jsrp_[A-Za-z0-9]{35}")),
    ("jsrw_", re.compile(r"jsrw_[A-Za-z0-9]{35}")),
    ("jsrd_", re.compile(r"jsrd_[A-Za-z0-9]{35}")),
    ("AKCp", re.compile(r"AKCp[A-Za-z0-9]{69}")),
    ("cmVmdGtuOjAx", re.compile(r"cmVmdGtuOjAx[A-Za-z0-9]{52}")),
    ("CLOJARS_", re.compile(r"CLOJARS_[A-Za-z0-9]{60}")),
    (
        "packagist_",
        re.compile(r"packagist_(?:(?:ort|out|uut|cut)_[0-9a-f]{60}(?:[0-9a-f]{8})?|ac[ks]_[0-9a-f]{28,96})"),
    ),
    ("csa_", re.compile(r"csa_[0-9a-f]{30}[A-Za-z0-9]{6}")),
    ("bkua_", re.compile(r"bkua_[0-9a-f]{40}")),
    ("GOCSPX-", re.compile(r"GOCSPX-[A-Za-z0-9_-]{28}")),
    ("eyJ2ZXIiOjEsImlzdSI6", re.compile(r"eyJ2ZXIiOjEsImlzdSI6[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*){4}")),
)
# HCP Terraform tokens carry their marker in the middle.
_ATLAS = re.compile(r"[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_-]{60,70}")


def _known_token(value: str) -> str | None:
    for prefix, shape in _KNOWN_SHAPES:
        if value.startswith(prefix):
            if shape.fullmatch(value):
                return f"a {prefix} token: its own rule judges and reports it"
            return f"starts like a {prefix} token but does not have its shape (truncated or altered)"
    if ".atlasv1." in value:
        if _ATLAS.fullmatch(value):
            return "an HCP Terraform token: its own rule judges and reports it"
        return "looks like an HCP Terraform token but does not have its shape (truncated or altered)"
    return None


def _quality(value: str) -> str | None:
    if len(value) < MIN_LENGTH:
        return f"shorter than {MIN_LENGTH} characters"
    if len(set(value)) < 4:
        return "too few distinct characters"
    if value.startswith("-"):
        return "a command-line option, not a value"
    return None


# A credential word spelled out inside a value made only of letters (and a
# few trailing digits): "fredpassword", "mytoken2024" are what documentation
# writes, never what a registry or a password generator issues.
_CREDENTIAL_WORD_INSIDE = re.compile(r"(?i)pass(?:word|wd)|secret|token")


def _spelled_out(value: str) -> str | None:
    core = value.rstrip("0123456789")
    if core.isalpha() and len(value) - len(core) <= 4 and _CREDENTIAL_WORD_INSIDE.search(core):
        return "letters spelling out a credential word, not a generated value"
    return None


def _decoded_length(value: str) -> str | None:
    # A URL holds its password percent-encoded ("he%2F%2Fo" is "he//o").
    if "%" in value and len(unquote(value)) < MIN_LENGTH:
        return f"shorter than {MIN_LENGTH} characters once percent-decoded"
    return None


_CHECKS: tuple[Callable[[str], str | None], ...] = (
    _known_token,
    _bracketed,  # before _reference: a Maven-encrypted {...} value gets its own note
    _reference,
    _path,
    _literal,
    _name,
    _words,
    _spelled_out,
    _quality,
    _decoded_length,
)


def not_a_secret(value: str) -> str | None:
    """Why the plain ``value`` is not a credential, or None when it may be one."""
    value = value.strip()
    if not value:
        return "empty value"
    reason = placeholder_reason(value)
    if reason is not None:
        return reason
    for check in _CHECKS:
        reason = check(value)
        if reason is not None:
            return reason
    return None


_UNVERIFIABLE = "found by where it stands; nothing in the value itself can be checked offline"


class ContextSecret(Validator):
    """A plain value found by its key (``password =``, ``_authToken=``)."""

    name = "context-secret"

    def check(self, secret: str) -> StructureResult:
        reason = not_a_secret(secret)
        if reason is not None:
            return StructureResult(Liveness.FAKE, reason=reason)
        return StructureResult(Liveness.UNVERIFIABLE, reason=_UNVERIFIABLE)


# --- npm --------------------------------------------------------------------------------

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


class NpmjsAuthToken(Validator):
    """A token stored for registry.npmjs.org that is not an ``npm_`` token.

    Pre-2021 (classic) tokens were UUIDs; npm revoked every classic token on
    2025-12-09, so a UUID for registry.npmjs.org is dead."""

    name = "npmjs-auth-token"

    def check(self, secret: str) -> StructureResult:
        if _UUID.match(secret):
            return StructureResult(
                Liveness.EXPIRED,
                reason="legacy (classic) npm token: npm revoked every classic token on 2025-12-09",
                expires_at=datetime(2025, 12, 9, tzinfo=UTC),
            )
        return ContextSecret().check(secret)


# --- base64 forms -----------------------------------------------------------------------

_BASE64 = re.compile(r"^[A-Za-z0-9+/_-]+={0,2}$")


def decode_base64_text(value: str) -> str | None:
    """``value`` decoded from base64 (standard or URL-safe, padding optional)
    as printable UTF-8, or None."""
    value = value.strip()
    if not _BASE64.match(value) or len(value.rstrip("=")) % 4 == 1:
        return None
    body = value.rstrip("=")
    try:
        if "-" in body or "_" in body:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        else:
            raw = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
        text = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    # Whitespace is allowed: a password may be a pretty-printed JSON key file.
    printable = text.replace("\n", "").replace("\r", "").replace("\t", "")
    return text if printable and printable.isprintable() else None


# Well-known user names that say what the password is.
_KNOWN_USERS: dict[str, tuple[str, Breadth]] = {
    "_json_key": ("Google Cloud service account key (Artifact Registry / GCR)", Breadth.UNKNOWN),
    "_json_key_base64": ("Google Cloud service account key (Artifact Registry / GCR)", Breadth.UNKNOWN),
    "oauth2accesstoken": ("Google OAuth access token (expires within 1 h)", Breadth.UNKNOWN),
    "gitlab-ci-token": ("GitLab CI job token (works only while its job runs)", Breadth.PROJECT),
    "__token__": ("PyPI API token", Breadth.UNKNOWN),
    "x-access-token": ("GitHub App installation token (1 h)", Breadth.PROJECT),
    "00000000-0000-0000-0000-000000000000": ("Azure Container Registry refresh token", Breadth.UNKNOWN),
}


def _ecr_expiry(password: str) -> datetime | None:
    """Amazon ECR's docker password is base64 JSON with an ``expiration`` (12 h)."""
    text = decode_base64_text(password)
    if text is None:
        return None
    try:
        document = json.loads(text)
    except ValueError:
        return None
    if not isinstance(document, dict) or not isinstance(document.get("expiration"), int):
        return None
    return datetime.fromtimestamp(document["expiration"], tz=UTC)


def _service_account_key(password: str) -> StructureResult:
    """Docker logins to Google registries as ``_json_key`` carry a whole
    service-account key file as the password (``_json_key_base64``: in base64)."""
    text = password if password.lstrip().startswith("{") else decode_base64_text(password)
    try:
        document = json.loads(text) if text else None
    except ValueError:
        document = None
    key = document.get("private_key") if isinstance(document, dict) else None
    if not isinstance(key, str) or "PRIVATE KEY" not in key or placeholder_reason(key.replace("\n", "")):
        return StructureResult(Liveness.FAKE, reason="password is not a service account key file")
    return StructureResult(
        Liveness.UNVERIFIABLE,
        reason="user:password pair holding a Google service account key",
        scope=_KNOWN_USERS["_json_key"][0],
    )


def judge_pair(user: str, password: str) -> StructureResult:
    """Verdict on a decoded ``user:password`` pair."""
    if not password:
        return StructureResult(Liveness.FAKE, reason="empty password")
    if user in ("_json_key", "_json_key_base64"):
        return _service_account_key(password)
    reason = not_a_secret(password)
    if reason is not None:
        return StructureResult(Liveness.FAKE, reason=f"password: {reason}")
    if user == "AWS":
        expires = _ecr_expiry(password)
        if expires is not None:
            if expires.timestamp() < time.time():
                return StructureResult(
                    Liveness.EXPIRED,
                    reason="Amazon ECR authorization token past its expiry",
                    scope="Amazon ECR registry login (12 h token)",
                    expires_at=expires,
                )
            return StructureResult(
                Liveness.LIVE_LOOKING,
                reason="Amazon ECR authorization token, not yet expired",
                scope="Amazon ECR registry login (12 h token)",
                expires_at=expires,
            )
    if "+" in user and not user.startswith("+") and "@" not in user:  # quay: namespace+robot
        return StructureResult(Liveness.UNVERIFIABLE, reason="user:password pair", scope="Quay robot account")
    known = _KNOWN_USERS.get(user)
    if known is not None:
        return StructureResult(Liveness.UNVERIFIABLE, reason="user:password pair", scope=known[0], breadth=known[1])
    return StructureResult(Liveness.UNVERIFIABLE, reason="user:password pair; the password cannot be checked offline")


class BasicAuth(Validator):
    """base64 of ``user:password`` (docker ``auth``, npm ``_auth``, HTTP Basic),
    or the literal ``user:password`` where a tool accepts both (Yarn ``npmAuthIdent``)."""

    name = "basic-auth"

    def check(self, secret: str) -> StructureResult:
        text = secret.strip()
        if ":" not in text:
            decoded = decode_base64_text(text)
            if decoded is None:
                reason = placeholder_reason(text) or "not base64 of printable text"
                return StructureResult(Liveness.FAKE, reason=reason)
            text = decoded
        user, separator, password = text.partition(":")
        if not separator:
            return StructureResult(Liveness.FAKE, reason="decodes to text without a user:password separator")
        return judge_pair(user, password)


class Base64Password(Validator):
    """base64 of a password alone (npm ``//host/:_password=``)."""

    name = "base64-password"

    def check(self, secret: str) -> StructureResult:
        decoded = decode_base64_text(secret)
        if decoded is None:
            # npm would send garbage, but the owner's password is still exposed.
            reason = not_a_secret(secret)
            if reason is not None:
                return StructureResult(Liveness.FAKE, reason=reason)
            return StructureResult(
                Liveness.UNVERIFIABLE, reason="not base64 of text: probably the password written in clear"
            )
        reason = not_a_secret(decoded)
        if reason is not None:
            return StructureResult(Liveness.FAKE, reason=f"password: {reason}")
        return StructureResult(Liveness.UNVERIFIABLE, reason="base64 of a password; it cannot be checked offline")
