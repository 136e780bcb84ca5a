"""HTTP access to official sources: polite (User-Agent, rate limit) and resilient (retries).

Public APIs throttle (429 + Retry-After) and fail transiently (5xx, dropped connections); every
loader goes through `fetch` so that behaviour is the same everywhere and testable with an
injected `sleep`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import requests
from urllib3.exceptions import NameResolutionError

from loaders.config import USER_AGENT

BACKOFF_BASE_S = 1.0  # first wait after a 5xx or a connection error; doubles each time
MAX_RETRY_AFTER_S = 600.0  # never wait longer than this on a server's say-so


class FetchError(Exception):
    """A source could not be fetched; the message (French) names the URL and the problem."""

    def __init__(self, message: str, url: str, status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date; None if absent."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


def _backoff(attempt: int) -> float:
    return BACKOFF_BASE_S * (2**attempt)


def fetch(
    url: str,
    *,
    method: str = "GET",
    params: dict | None = None,
    data=None,
    files=None,
    timeout: float = 30,
    retries: int = 3,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> requests.Response:
    """Request `url`, retrying up to `retries` times on 429, 5xx, timeouts and connection errors.

    A 4xx other than 429 fails at once (retrying would not help). Raises FetchError.
    """
    own_session = session is None
    session = session or requests.Session()
    headers = {"User-Agent": USER_AGENT}
    last_problem = ""
    try:
        for attempt in range(retries + 1):
            wait: float | None = None
            try:
                response = session.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    files=files,
                    timeout=timeout,
                    headers=headers,
                )
            except requests.Timeout:
                last_problem = f"délai dépassé ({timeout:g} s sans réponse)"
            except requests.ConnectionError as exc:
                if _no_such_host(exc):
                    # No DNS answer: no Internet access here, retrying would only add minutes.
                    raise FetchError(
                        f"Échec du téléchargement de {url} : nom d'hôte introuvable "
                        "(pas d'accès à Internet ?)",
                        url,
                    ) from exc
                last_problem = f"connexion impossible ou interrompue ({_short(exc)})"
            except requests.RequestException as exc:
                raise FetchError(f"Requête impossible vers {url} : {_short(exc)}", url) from exc
            else:
                status = response.status_code
                if status < 400:
                    return response
                if status == 429:
                    last_problem = "trop de requêtes (HTTP 429)"
                    wait = retry_after_seconds(response.headers.get("Retry-After"))
                    if wait is not None:
                        wait = min(wait, MAX_RETRY_AFTER_S)
                elif status >= 500:
                    last_problem = f"erreur du serveur (HTTP {status})"
                else:
                    raise FetchError(
                        f"Le serveur a refusé la requête {url} (HTTP {status}) : "
                        f"{_body_excerpt(response)}",
                        url,
                        status,
                    )
            if attempt < retries:
                sleep(wait if wait is not None else _backoff(attempt))
        raise FetchError(
            f"Échec du téléchargement de {url} après {retries + 1} tentative(s) : {last_problem}",
            url,
        )
    finally:
        if own_session:
            session.close()


def _no_such_host(exc: BaseException) -> bool:
    """True when the failure comes from a host name that could not be resolved."""
    seen: BaseException | None = exc
    for _ in range(6):  # requests wraps urllib3's MaxRetryError, which holds the reason
        if isinstance(seen, NameResolutionError):
            return True
        if seen is None:
            return False
        nested = getattr(seen, "reason", None)
        if nested is None and seen.args and isinstance(seen.args[0], BaseException):
            nested = seen.args[0]
        seen = nested
    return False


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) <= 200 else text[:200] + "…"


def _body_excerpt(response: requests.Response) -> str:
    text = (response.text or "").strip().replace("\n", " ")
    return text[:200] if text else "réponse vide"


class RateLimiter:
    """At most `per_second` calls per second across threads (e.g. 7/s for recherche-entreprises)."""

    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_second <= 0:
            raise ValueError("per_second must be positive")
        self.interval = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._next = None
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Block until the next call is allowed."""
        with self._lock:
            now = self._clock()
            if self._next is not None and now < self._next:
                self._sleep(self._next - now)
                now = self._next
            self._next = now + self.interval
