"""The HTTPS client behind ``--verify``: GET only, https only, to the one host
named in the request; redirects to any other host are refused, timeouts and
server trouble are retried with backoff, every request start is rate-limited."""

from __future__ import annotations

import email.utils
import http.client
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urljoin, urlsplit

import scanner
from scanner.verify.limits import Clock, HostRateLimiter, SystemClock

DEFAULT_TIMEOUT = 10.0
DEFAULT_RETRIES = 2
# Identity endpoints answer with a few hundred bytes; anything past this is
# not an answer we can use and is not read.
MAX_BODY = 256 * 1024
USER_AGENT = f"sprawl/{scanner.__version__} (secret scanner; read-only credential check)"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_OWN_HEADERS = frozenset({"host", "user-agent", "connection", "content-length", "transfer-encoding"})


class Transport(Protocol):
    """Opens the connection for a host. Production: TLS to that host on 443.
    Tests pass their own (in tests/, never here) to reach a loopback server."""

    def connect(self, host: str, timeout: float) -> http.client.HTTPConnection: ...


class HttpsTransport:
    """TLS on port 443 with certificate and host name verification."""

    def __init__(self) -> None:
        self._context = ssl.create_default_context()

    def connect(self, host: str, timeout: float) -> http.client.HTTPConnection:
        return http.client.HTTPSConnection(host, 443, timeout=timeout, context=self._context)


class FetchFailed(Exception):
    """No usable answer; ``str()`` says why and never holds the secret."""


@dataclass(frozen=True)
class Response:
    status: int
    host: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = field(default=b"", repr=False)
    attempts: int = 1

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers if k.lower() == lowered), None)


class HttpClient:
    """GET with retries, backoff, Retry-After, per-host rate limit and no cross-host redirects."""

    def __init__(
        self,
        transport: Transport | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        backoff: float = 0.5,
        max_retry_after: float = 30.0,
        clock: Clock | None = None,
        limiter: HostRateLimiter | None = None,
    ) -> None:
        self._transport: Transport = transport if transport is not None else HttpsTransport()
        self._timeout = timeout
        self._retries = retries
        self._backoff = backoff
        self._max_retry_after = max_retry_after
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._limiter = limiter if limiter is not None else HostRateLimiter(clock=self._clock)

    def get(self, url: str, headers: Mapping[str, str]) -> Response:
        """The answer to ``GET url``; a redirect is followed once, and only
        within the same host. Raises FetchFailed when there is no answer."""
        host, target = _split_https(url)
        response = self._get_with_retries(host, target, headers)
        if response.status not in _REDIRECTS:
            return response
        location = response.header("Location")
        if not location:
            raise FetchFailed(f"HTTP {response.status} from {host} without a Location")
        try:
            next_host, next_target = _split_https(urljoin(url, location))
        except FetchFailed:
            next_host, next_target = "", ""
        if next_host != host:
            # Following could hand the secret (in the Authorization header) to
            # whoever the registry points at; the answer stays unknown instead.
            raise FetchFailed(
                f"HTTP {response.status} from {host} redirects to {_origin(urljoin(url, location))}; not followed"
            )
        followed = self._get_with_retries(host, next_target, headers)
        if followed.status in _REDIRECTS:
            raise FetchFailed(f"HTTP {followed.status} from {host} after a redirect; not followed again")
        return followed

    def _get_with_retries(self, host: str, target: str, headers: Mapping[str, str]) -> Response:
        attempts = self._retries + 1
        attempt = 0
        while True:
            attempt += 1
            self._limiter.acquire(host)
            wait = self._backoff * 2 ** (attempt - 1)
            cause: Exception | None = None
            try:
                response = self._once(host, target, headers)
            except ssl.SSLError as exc:
                # A certificate or TLS failure does not get better by retrying.
                raise FetchFailed(f"TLS error talking to {host} ({type(exc).__name__})") from exc
            except TimeoutError as exc:
                problem, cause = f"no answer from {host} within {self._timeout:g} s", exc
            except (OSError, http.client.HTTPException) as exc:
                problem, cause = f"connection to {host} failed ({type(exc).__name__})", exc
            else:
                if response.status != 429 and response.status < 500:
                    return Response(response.status, host, response.headers, response.body, attempt)
                problem = f"HTTP {response.status} from {host}"
                retry_after = _retry_after(response.header("Retry-After"), self._clock)
                if retry_after is not None:
                    if retry_after > self._max_retry_after:
                        raise FetchFailed(f"{problem}, Retry-After {retry_after:g} s is too long to wait")
                    wait = max(wait, retry_after)
            if attempt >= attempts:
                raise FetchFailed(f"{problem} ({attempts} attempts)") from cause
            self._clock.sleep(wait)

    def _once(self, host: str, target: str, headers: Mapping[str, str]) -> Response:
        connection = self._transport.connect(host, self._timeout)
        try:
            sent = {"Host": host, "User-Agent": USER_AGENT, "Accept": "application/json", "Connection": "close"}
            for name, value in headers.items():
                if name.lower() in _OWN_HEADERS:
                    continue  # the request goes to ``host``, and says so
                # One header per name: the rule's Accept replaces the default.
                for existing in [k for k in sent if k.lower() == name.lower()]:
                    del sent[existing]
                sent[name] = value
            connection.request("GET", target, headers=sent)
            answer = connection.getresponse()
            body = answer.read(MAX_BODY)
            return Response(answer.status, host, tuple(answer.getheaders()), body)
        finally:
            connection.close()


def _split_https(url: str) -> tuple[str, str]:
    """(host, path?query) of an https URL on the default port."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or parts.port not in (None, 443) or parts.username:
        raise FetchFailed("not an https URL on port 443")
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return parts.hostname, target


def _origin(url: str) -> str:
    """scheme://host[:port] of a URL: where it points, without a path or query
    that might carry something sensitive."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    host = parts.hostname or "another host"
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def _retry_after(value: str | None, clock: Clock) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - clock.now()).total_seconds())
