"""A real HTTP server on 127.0.0.1 that plays the package registries, the
test-only transport that reaches it, and a clock that never sleeps.

Production code cannot reach this server: the only way in is a ``transport``
object handed to ``HttpClient`` by a test. Each registry's behaviour is written
here from registry-credentials.md, not from the rules' verify blocks, so a
wrong URL, header or status list in a rule file makes a test fail.
"""

from __future__ import annotations

import base64
import http.client
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class FakeClock:
    """Monotonic time that moves only when someone sleeps (or the test says so)."""

    def __init__(self, start: datetime = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)) -> None:
        self._start = start
        self._elapsed = 0.0
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        with self._lock:
            return self._elapsed

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self._elapsed += seconds

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._elapsed += seconds

    def now(self) -> datetime:
        with self._lock:
            return self._start + timedelta(seconds=self._elapsed)


@dataclass(frozen=True)
class Seen:
    """One request as the fake registry received it."""

    host: str
    method: str
    target: str
    headers: dict[str, str]

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


@dataclass(frozen=True)
class Reply:
    status: int
    body: object = None
    headers: tuple[tuple[str, str], ...] = ()
    delay_event: threading.Event | None = None  # hold the answer until set (timeouts)


Handler = Callable[[Seen], Reply]


@dataclass
class FakeRegistries:
    """Plays registries by the Host header; ``live`` lists the secrets each host accepts."""

    live: set[str] = field(default_factory=set)
    # Secrets RubyGems knows but without the index scope (answers 403).
    unscoped: set[str] = field(default_factory=set)
    # Terraform team/organization tokens (answers 404 on account/details).
    team_tokens: set[str] = field(default_factory=set)
    # Per-host overrides, tried before the registry's own behaviour.
    overrides: dict[str, Handler] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, request: Seen) -> Reply:
        with self._lock:
            self.seen.append(request)
        if request.method != "GET":
            return Reply(405, {"error": "method not allowed"})
        override = self.overrides.get(request.host)
        if override is not None:
            return override(request)
        play = _PLAYS.get(request.host)
        if play is None:
            return Reply(421, {"error": f"this server does not play {request.host}"})
        return play(self, request)

    def requests_to(self, host: str) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.host == host]


def _bearer(request: Seen) -> str | None:
    value = request.header("Authorization") or ""
    return value[len("Bearer ") :] if value.startswith("Bearer ") else None


def _simple(
    path: str, secret_of: Callable[[Seen], str | None], *, bad: int = 401
) -> Callable[[FakeRegistries, Seen], Reply]:
    def play(registry: FakeRegistries, request: Seen) -> Reply:
        if request.target != path:
            return Reply(404, {"error": "not found"})
        secret = secret_of(request)
        if secret is not None and secret in registry.live:
            return Reply(200, {"username": "someone"})
        return Reply(bad, {"error": "unauthorized"})

    return play


def _github(registry: FakeRegistries, request: Seen) -> Reply:
    token = _bearer(request)
    path = urlsplit(request.target).path
    if request.header("Accept") != "application/vnd.github+json":
        return Reply(415, {"message": "expected the GitHub media type"})
    if path == "/user":
        if token is not None and token.startswith("ghs_"):
            return Reply(403, {"message": "Resource not accessible by integration"})
        return (
            Reply(200, {"login": "someone"}) if token in registry.live else Reply(401, {"message": "Bad credentials"})
        )
    if path == "/installation/repositories":
        if token is not None and token.startswith("ghs_") and token in registry.live:
            return Reply(200, {"total_count": 1, "repositories": []})
        return Reply(401, {"message": "Bad credentials"})
    return Reply(404, {"message": "Not Found"})


def _rubygems(registry: FakeRegistries, request: Seen) -> Reply:
    if request.target != "/api/v1/gems.json":
        return Reply(404, {"error": "not found"})
    key = request.header("Authorization")
    if key in registry.live:
        return Reply(200, [])
    if key in registry.unscoped:
        return Reply(403, {"error": "This API key cannot perform the specified action on this gem."})
    return Reply(401, {"error": "Access Denied."})


def _crates(registry: FakeRegistries, request: Seen) -> Reply:
    if not request.header("User-Agent"):
        return Reply(403, {"errors": [{"detail": "We require that all requests include a User-Agent header."}]})
    if urlsplit(request.target).path == "/api/v1/me":
        return Reply(403, {"errors": [{"detail": "this action can only be performed on the crates.io website"}]})
    if request.target != "/api/v1/crates?following=1":
        return Reply(404, {"errors": [{"detail": "Not Found"}]})
    token = request.header("Authorization") or ""
    token = token.removeprefix("Bearer ")
    if token in registry.live:
        return Reply(200, {"crates": [], "meta": {"total": 0}})
    return Reply(403, {"errors": [{"detail": "authentication failed"}]})


def _terraform(registry: FakeRegistries, request: Seen) -> Reply:
    if request.target != "/api/v2/account/details":
        return Reply(404, {"errors": [{"status": "404", "title": "not found"}]})
    token = _bearer(request)
    if token in registry.live:
        return Reply(200, {"data": {"type": "users"}})
    if token in registry.team_tokens:
        return Reply(404, {"errors": [{"status": "404", "title": "not found"}]})
    return Reply(401, {"errors": [{"status": "401", "title": "unauthorized"}]})


def _cloudsmith(registry: FakeRegistries, request: Seen) -> Reply:
    if request.target != "/v1/user/self/":
        return Reply(404, {"detail": "Not found."})
    # Cloudsmith answers 200 either way; the body says whether the key worked.
    return Reply(200, {"authenticated": request.header("X-Api-Key") in registry.live, "slug": "someone"})


def _basic_user(request: Seen) -> str | None:
    value = request.header("Authorization") or ""
    if not value.startswith("Basic "):
        return None
    user, sep, password = base64.b64decode(value[6:]).decode().partition(":")
    return user if sep and password == "" else None


def _exact(header: str, prefix: str = "") -> Callable[[Seen], str | None]:
    def secret_of(request: Seen) -> str | None:
        value = request.header(header)
        return value[len(prefix) :] if value is not None and value.startswith(prefix) else None

    return secret_of


_PLAYS: dict[str, Callable[[FakeRegistries, Seen], Reply]] = {
    "registry.npmjs.org": _simple("/-/whoami", _bearer),
    "api.github.com": _github,
    "gitlab.com": _simple("/api/v4/personal_access_tokens/self", _exact("PRIVATE-TOKEN")),
    "rubygems.org": _rubygems,
    "crates.io": _crates,
    "huggingface.co": _simple("/api/whoami-v2", _bearer),
    "app.terraform.io": _terraform,
    "api.jsr.io": _simple("/user", _bearer),
    "api.cloudsmith.io": _cloudsmith,
    "hex.pm": _simple("/api/users/me", _exact("Authorization")),
    "trunk.cocoapods.org": _simple("/api/v1/sessions", _exact("Authorization", "Token ")),
    "packagecloud.io": _simple("/api/v1/repos", _basic_user),
    "api.buildkite.com": _simple("/v2/access-token", _bearer),
}
PLAYED_HOSTS = frozenset(_PLAYS)


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server

    def _handle(self) -> None:
        host = self.headers.get("Host", "")
        request = Seen(host, self.command, self.path, {k: v for k, v in self.headers.items()})
        reply = self.server.registries.answer(request)
        if reply.delay_event is not None:
            reply.delay_event.wait(5)
        payload = b"" if reply.body is None else json.dumps(reply.body).encode()
        try:
            self.send_response(reply.status)
            for name, value in reply.headers:
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (timeout tests)

    do_GET = _handle
    do_POST = _handle
    do_PUT = _handle
    do_DELETE = _handle

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, registries: FakeRegistries) -> None:
        super().__init__(("127.0.0.1", 0), _RequestHandler)
        self.registries = registries


@dataclass
class Connection:
    host: str
    at: float


class LoopbackTransport:
    """Maps registry host names to the loopback server (plain HTTP on its port).
    Hosts it does not play are refused, as a dead network would."""

    def __init__(self, port: int, clock: FakeClock | None = None, hosts: frozenset[str] = PLAYED_HOSTS) -> None:
        self.port = port
        self.clock = clock
        self.hosts = hosts
        self.connections: list[Connection] = []
        self._lock = threading.Lock()

    def connect(self, host: str, timeout: float) -> http.client.HTTPConnection:
        with self._lock:
            self.connections.append(Connection(host, self.clock.monotonic() if self.clock else 0.0))
        if host not in self.hosts:
            raise ConnectionRefusedError(f"{host} is not played by the fake registry")
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)


def serve(registries: FakeRegistries) -> Iterator[int]:
    """Run the server for a fixture; yields its port."""
    server = _Server(registries)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
