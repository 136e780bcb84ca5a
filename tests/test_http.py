"""loaders.http against a real local server: retries, Retry-After, backoff, timeouts, 4xx."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from loaders.config import USER_AGENT
from loaders.http import BACKOFF_BASE_S, FetchError, RateLimiter, fetch, retry_after_seconds
from tests.httpserver import LocalServer, Reply, refused_url


@pytest.fixture
def server():
    with LocalServer() as srv:
        yield srv


def test_success_sends_user_agent(server):
    url = server.script("/ok", Reply(200, b"bonjour"))
    response = fetch(url, sleep=pytest.fail)
    assert response.content == b"bonjour"
    assert server.hits("/ok")[0].headers["User-Agent"] == USER_AGENT


def test_429_waits_retry_after_seconds(server):
    url = server.script("/busy", Reply(429, headers={"Retry-After": "7"}), Reply(200, b"ok"))
    waits: list[float] = []
    assert fetch(url, sleep=waits.append).content == b"ok"
    assert waits == [7.0]
    assert len(server.hits("/busy")) == 2


def test_429_retry_after_http_date():
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert retry_after_seconds(header, now=now) == 90.0
    assert retry_after_seconds("12", now=now) == 12.0
    assert retry_after_seconds("n'importe quoi", now=now) is None


def test_5xx_then_success_backs_off(server):
    url = server.script("/flaky", Reply(500), Reply(503), Reply(200, b"ok"))
    waits: list[float] = []
    assert fetch(url, sleep=waits.append).content == b"ok"
    assert waits == [BACKOFF_BASE_S, 2 * BACKOFF_BASE_S]


def test_timeout_is_an_error_after_retries(server):
    url = server.script("/slow", Reply(200, b"trop tard", delay=1.5))
    waits: list[float] = []
    with pytest.raises(FetchError) as info:
        fetch(url, timeout=0.2, retries=1, sleep=waits.append)
    assert "délai dépassé" in str(info.value) and url in str(info.value)
    assert waits == [BACKOFF_BASE_S]
    assert len(server.hits("/slow")) == 2


def test_4xx_fails_at_once(server):
    url = server.script("/absent", Reply(404, b'{"erreur": "introuvable"}'))
    with pytest.raises(FetchError) as info:
        fetch(url, sleep=pytest.fail)
    assert info.value.status == 404
    assert "HTTP 404" in str(info.value)
    assert len(server.hits("/absent")) == 1


def test_connection_refused_retries_then_fails():
    url = refused_url("/rien")
    waits: list[float] = []
    with pytest.raises(FetchError) as info:
        fetch(url, retries=2, sleep=waits.append)
    assert "connexion impossible" in str(info.value)
    assert waits == [BACKOFF_BASE_S, 2 * BACKOFF_BASE_S]


def test_rate_limiter_spaces_calls():
    clock = [100.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock[0] += seconds

    limiter = RateLimiter(4, clock=lambda: clock[0], sleep=sleep)
    limiter.wait()  # first call is free
    clock[0] += 0.05
    limiter.wait()  # 0.25 s interval, 0.05 s elapsed
    clock[0] += 1.0
    limiter.wait()  # well past the interval
    assert waits == [pytest.approx(0.20)]


def test_an_unknown_host_is_not_retried():
    """DNS failures (an offline machine) stop at once instead of backing off for minutes."""
    import requests
    from urllib3.exceptions import MaxRetryError, NameResolutionError

    from loaders.http import _no_such_host

    dns = NameResolutionError("example.org", None, "Name or service not known")
    wrapped = requests.ConnectionError(MaxRetryError(None, "/", reason=dns))
    assert _no_such_host(wrapped)
    refused = requests.ConnectionError(MaxRetryError(None, "/", reason=ConnectionRefusedError()))
    assert not _no_such_host(refused)
