"""The live-check HTTP client against the loopback server: what it sends,
retries with backoff, Retry-After, redirects, timeouts and refusals."""

from __future__ import annotations

import http.client
import ssl
import threading
from datetime import timedelta
from email.utils import format_datetime

import pytest

from scanner.verify.http import USER_AGENT, FetchFailed, HttpClient, HttpsTransport
from scanner.verify.limits import HostRateLimiter
from tests.verify.fakeregistry import FakeClock, FakeRegistries, LoopbackTransport, Reply, Seen

HOST = "registry.npmjs.org"
URL = f"https://{HOST}/-/whoami"
AUTH = {"Authorization": "Bearer generated-test-value"}


def replies(*answers: Reply) -> object:
    """A host override that gives ``answers`` in turn (the last one repeats)."""
    queue = list(answers)

    def answer(_: Seen) -> Reply:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return answer


def test_a_get_carries_the_host_user_agent_and_the_rules_headers(
    registries: FakeRegistries, client: HttpClient
) -> None:
    registries.live.add("generated-test-value")
    response = client.get(URL, {**AUTH, "accept": "application/vnd.test+json", "host": "collector.example.net"})
    assert (response.status, response.host, response.attempts) == (200, HOST, 1)
    (seen,) = registries.seen
    assert (seen.method, seen.host, seen.target) == ("GET", HOST, "/-/whoami")
    assert seen.header("User-Agent") == USER_AGENT
    assert seen.header("Authorization") == "Bearer generated-test-value"
    # The rule's Accept replaces the default instead of adding a second one.
    assert [k for k in seen.headers if k.lower() == "accept"] == ["accept"]
    assert seen.header("Accept") == "application/vnd.test+json"
    # A caller cannot rename the host the request is for.
    assert [v for k, v in seen.headers.items() if k.lower() == "host"] == [HOST]


def test_server_errors_are_retried_with_backoff_then_given_up(
    registries: FakeRegistries, client: HttpClient, clock: FakeClock
) -> None:
    registries.overrides[HOST] = replies(Reply(500, {"error": "boom"}))
    with pytest.raises(FetchFailed, match=r"^HTTP 500 from registry\.npmjs\.org \(3 attempts\)$"):
        client.get(URL, AUTH)
    assert len(registries.seen) == 3
    # Backoff doubles; the rate limit's own waits (0.5 s per host) fall inside them.
    assert clock.sleeps == [0.5, 1.0]


def test_a_503_then_a_200_succeeds_on_the_second_attempt(registries: FakeRegistries, client: HttpClient) -> None:
    registries.overrides[HOST] = replies(Reply(503), Reply(200, {"username": "someone"}))
    response = client.get(URL, AUTH)
    assert (response.status, response.attempts) == (200, 2)


def test_429_waits_as_long_as_retry_after_says(
    registries: FakeRegistries, client: HttpClient, clock: FakeClock, transport: LoopbackTransport
) -> None:
    registries.overrides[HOST] = replies(Reply(429, headers=(("Retry-After", "7"),)), Reply(200, {}))
    assert client.get(URL, AUTH).status == 200
    assert clock.sleeps == [7.0]
    assert [c.at for c in transport.connections] == [0.0, 7.0]


def test_retry_after_as_an_http_date(registries: FakeRegistries, client: HttpClient, clock: FakeClock) -> None:
    when = format_datetime(clock.now() + timedelta(seconds=12), usegmt=True)
    registries.overrides[HOST] = replies(Reply(429, headers=(("Retry-After", when),)), Reply(200, {}))
    assert client.get(URL, AUTH).status == 200
    assert clock.sleeps == [12.0]


def test_a_retry_after_beyond_the_cap_is_not_waited_for(
    registries: FakeRegistries, client: HttpClient, clock: FakeClock
) -> None:
    registries.overrides[HOST] = replies(Reply(429, headers=(("Retry-After", "3600"),)))
    with pytest.raises(FetchFailed, match="HTTP 429 from registry.npmjs.org, Retry-After 3600 s is too long to wait"):
        client.get(URL, AUTH)
    assert len(registries.seen) == 1
    assert clock.sleeps == []


def test_a_redirect_within_the_host_is_followed_once(registries: FakeRegistries, client: HttpClient) -> None:
    def answer(request: Seen) -> Reply:
        if request.target == "/-/whoami":
            return Reply(302, headers=(("Location", "/-/v1/whoami"),))
        return Reply(200, {"username": "someone"})

    registries.overrides[HOST] = answer
    assert client.get(URL, AUTH).status == 200
    assert [s.target for s in registries.seen] == ["/-/whoami", "/-/v1/whoami"]
    assert registries.seen[1].header("Authorization") == AUTH["Authorization"]


def test_a_second_redirect_is_not_followed(registries: FakeRegistries, client: HttpClient) -> None:
    registries.overrides[HOST] = replies(Reply(301, headers=(("Location", f"https://{HOST}/elsewhere"),)))
    with pytest.raises(FetchFailed, match="HTTP 301 from registry.npmjs.org after a redirect; not followed again"):
        client.get(URL, AUTH)
    assert len(registries.seen) == 2


@pytest.mark.parametrize(
    ("location", "shown"),
    [
        ("https://collector.example.net/steal?t=1", "https://collector.example.net"),  # another host
        ("https://api.github.com/user", "https://api.github.com"),  # a host the transport could reach
        (f"http://{HOST}/-/whoami", f"http://{HOST}"),  # same host, not https
        (f"https://{HOST}:8443/-/whoami", f"https://{HOST}:8443"),  # same host, another port
    ],
)
def test_a_redirect_off_the_host_is_refused(
    location: str, shown: str, registries: FakeRegistries, client: HttpClient, transport: LoopbackTransport
) -> None:
    registries.overrides[HOST] = replies(Reply(307, headers=(("Location", location),)))
    with pytest.raises(FetchFailed) as caught:
        client.get(URL, AUTH)
    assert str(caught.value) == f"HTTP 307 from {HOST} redirects to {shown}; not followed"
    assert [c.host for c in transport.connections] == [HOST]
    assert len(registries.seen) == 1


def test_a_timeout_is_retried_then_reported(port: int, registries: FakeRegistries, clock: FakeClock) -> None:
    held = threading.Event()
    registries.overrides[HOST] = replies(Reply(200, {}, delay_event=held))
    client = HttpClient(
        LoopbackTransport(port, clock), timeout=0.2, retries=1, clock=clock, limiter=HostRateLimiter(clock=clock)
    )
    try:
        with pytest.raises(FetchFailed, match=r"no answer from registry\.npmjs\.org within 0\.2 s \(2 attempts\)"):
            client.get(URL, AUTH)
    finally:
        held.set()
    assert len(registries.requests_to(HOST)) == 2


def test_a_refused_connection_is_retried_then_reported(port: int, clock: FakeClock) -> None:
    transport = LoopbackTransport(port, clock, hosts=frozenset())
    client = HttpClient(transport, clock=clock, limiter=HostRateLimiter(clock=clock))
    with pytest.raises(
        FetchFailed, match=r"connection to registry\.npmjs\.org failed \(ConnectionRefusedError\) \(3 attempts\)"
    ):
        client.get(URL, AUTH)
    assert len(transport.connections) == 3


class _TlsFailure:
    """A transport whose connections fail certificate verification."""

    def __init__(self) -> None:
        self.connects = 0

    def connect(self, host: str, timeout: float) -> http.client.HTTPConnection:
        self.connects += 1

        class Failing(http.client.HTTPConnection):
            def connect(self) -> None:
                raise ssl.SSLCertVerificationError("certificate verify failed")

        return Failing(host, 443, timeout=timeout)


def test_a_tls_failure_is_not_retried(clock: FakeClock) -> None:
    transport = _TlsFailure()
    client = HttpClient(transport, clock=clock, limiter=HostRateLimiter(clock=clock))
    with pytest.raises(FetchFailed, match=r"TLS error talking to registry\.npmjs\.org \(SSLCertVerificationError\)"):
        client.get(URL, AUTH)
    assert transport.connects == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://registry.npmjs.org/-/whoami",
        "https://registry.npmjs.org:8443/-/whoami",
        "ftp://x/y",
        "https://u@registry.npmjs.org/",
    ],
)
def test_only_https_urls_on_443_are_fetched(url: str, client: HttpClient, transport: LoopbackTransport) -> None:
    with pytest.raises(FetchFailed, match="not an https URL on port 443"):
        client.get(url, AUTH)
    assert transport.connections == []


def test_the_production_transport_is_verified_tls_to_the_named_host() -> None:
    connection = HttpsTransport().connect("registry.npmjs.org", 3.0)
    assert isinstance(connection, http.client.HTTPSConnection)
    assert (connection.host, connection.port, connection.timeout) == ("registry.npmjs.org", 443, 3.0)
    context = connection._context  # type: ignore[attr-defined]
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
