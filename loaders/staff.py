"""Who may write (import, undo, upload or refresh a layer): the staff gate's rules, no Streamlit.

The gate fails closed: a secrets file that cannot be read, an `[auth]` section without the keys
st.login needs, or an empty password close it with a French message saying what to fix. Only a
machine with no secrets file at all and without ESS_PUBLIC=1 (a workstation, an intranet) is
open without sign-in.
"""

from __future__ import annotations

import os
import threading
import time
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Mode = Literal["open", "auth", "password", "closed"]

# Keys st.login needs, at the top of [auth] (one provider) or in each [auth.<provider>] table
# next to the shared redirect_uri and cookie_secret.
AUTH_SHARED_KEYS = ("redirect_uri", "cookie_secret")
AUTH_PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")
MIN_PASSWORD_LENGTH = 8


@dataclass(frozen=True)
class GateConfig:
    """How staff sign in, or why writing is closed (`reason`, French, shown to the user)."""

    mode: Mode
    reason: str | None = None
    provider: str | None = None  # the st.login provider name when [auth] has named providers


def _public() -> bool:
    return os.environ.get("ESS_PUBLIC") == "1"


def read_secrets(paths: Iterable[str | Path]) -> tuple[dict, str | None]:
    """Secrets merged from the files that exist, or the French reason a file is unreadable.

    Streamlit treats a malformed secrets.toml like a missing one; the gate must not, so the
    files are parsed here first.
    """
    merged: dict = {}
    for raw in paths:
        path = Path(raw)
        if not path.is_file():
            continue
        try:
            merged.update(tomllib.loads(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            return {}, (
                f"Le fichier de secrets « {path.name} » est illisible ({exc}) : import et mises "
                "à jour fermés jusqu'à sa correction."
            )
    return merged, None


def _auth_problem(auth: object) -> tuple[str | None, str | None]:
    """(French reason the [auth] section cannot work, provider name) — reason None when fine."""
    if not isinstance(auth, Mapping):
        return "la section [auth] doit être une table TOML", None
    missing = [k for k in AUTH_SHARED_KEYS if not str(auth.get(k) or "").strip()]
    providers = {k: v for k, v in auth.items() if isinstance(v, Mapping)}
    if providers:
        name, table = next(iter(providers.items()))
        missing += [f"{name}.{k}" for k in AUTH_PROVIDER_KEYS if not str(table.get(k) or "")]
        provider = name
    else:
        missing += [k for k in AUTH_PROVIDER_KEYS if not str(auth.get(k) or "").strip()]
        provider = None
    if missing:
        return f"la section [auth] n'a pas {', '.join(missing)}", provider
    return None, provider


def gate_config(secrets: Mapping, read_error: str | None = None) -> GateConfig:
    """The gate for these secrets (see the module docstring); pure but for ESS_PUBLIC."""
    if read_error:
        return GateConfig("closed", read_error)
    if "auth" in secrets:
        problem, provider = _auth_problem(secrets["auth"])
        if problem:
            return GateConfig(
                "closed",
                f"Connexion des agents mal configurée : {problem} (.streamlit/secrets.toml). "
                "Import et mises à jour fermés.",
            )
        return GateConfig("auth", provider=provider)
    if "staff_password" in secrets:
        password = secrets["staff_password"]
        if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
            return GateConfig(
                "closed",
                "Mot de passe des agents mal configuré : staff_password doit être un texte d'au "
                f"moins {MIN_PASSWORD_LENGTH} caractères (.streamlit/secrets.toml). Import et "
                "mises à jour fermés.",
            )
        return GateConfig("password")
    if _public():
        return GateConfig(
            "closed",
            "Import et mises à jour désactivés : le tableau de bord est public et aucune "
            "authentification n'est configurée (section [auth] ou staff_password dans "
            ".streamlit/secrets.toml).",
        )
    return GateConfig("open")


@dataclass
class AttemptLimiter:
    """Slows down password guessing: after each failure a client waits twice as long.

    The first failure costs 1 s, then 2, 4 ... up to `max_delay_s`; `lock_after` failures within
    `window_s` lock the client out for `window_s`. Keyed by client (IP address when known).
    """

    max_delay_s: float = 30.0
    lock_after: int = 10
    window_s: float = 900.0
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, list[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _recent(self, key: str, now: float) -> list[float]:
        recent = [t for t in self._failures.get(key, []) if now - t < self.window_s]
        if recent:
            self._failures[key] = recent
        else:
            self._failures.pop(key, None)  # forgotten clients take no memory
        return recent

    def wait_s(self, key: str) -> float:
        """Seconds before `key` may try again (0 when it may try now)."""
        with self._lock:
            now = self.clock()
            recent = self._recent(key, now)
            if not recent:
                return 0.0
            if len(recent) >= self.lock_after:
                return max(0.0, recent[0] + self.window_s - now)
            delay = min(self.max_delay_s, 2.0 ** (len(recent) - 1))
            return max(0.0, recent[-1] + delay - now)

    def failed(self, key: str) -> None:
        with self._lock:
            now = self.clock()
            self._failures[key] = [*self._recent(key, now), now]

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)
