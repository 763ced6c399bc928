"""Fixtures for the live-check tests: the fake registry server, a transport
to it, a clock that never sleeps and a client wired to all three."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scanner.verify.http import HttpClient
from scanner.verify.limits import HostRateLimiter
from tests.verify.fakeregistry import FakeClock, FakeRegistries, LoopbackTransport, serve


@pytest.fixture()
def registries() -> FakeRegistries:
    return FakeRegistries()


@pytest.fixture()
def port(registries: FakeRegistries) -> Iterator[int]:
    yield from serve(registries)


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture()
def transport(port: int, clock: FakeClock) -> LoopbackTransport:
    return LoopbackTransport(port, clock)


@pytest.fixture()
def client(transport: LoopbackTransport, clock: FakeClock) -> HttpClient:
    return HttpClient(transport, timeout=5.0, clock=clock, limiter=HostRateLimiter(clock=clock))
