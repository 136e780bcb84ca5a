"""The staff gate: who may write (import, undo, upload or refresh a layer), and its sign-in."""

from __future__ import annotations

import hmac
import logging
import math

import streamlit as st

from geo.formatting import fmt_int
from loaders.staff import AttemptLimiter, GateConfig, gate_config, read_secrets

_log = logging.getLogger("ess.pages")


def _secrets() -> tuple[dict, str | None]:
    """The secrets, or the French reason a secrets file is unreadable (then no secret at all).

    Streamlit treats a malformed secrets.toml like a missing one; the files are parsed here
    first so that the gate can tell them apart, then values come from st.secrets.
    """
    _, error = read_secrets(st.get_option("secrets.files") or [])
    if error:
        _log.error("staff gate closed: %s", error)
        return {}, error
    try:
        return st.secrets.to_dict(), None
    except FileNotFoundError:  # StreamlitSecretNotFoundError: no secrets file at all
        return {}, None


def _gate() -> GateConfig:
    """The staff gate for the current secrets (read on every call: edits apply at once)."""
    return gate_config(*_secrets())


@st.cache_resource(show_spinner=False)
def _limiter() -> AttemptLimiter:
    """One password-attempt limiter for the whole server (all sessions)."""
    return AttemptLimiter()


def _client_key() -> str:
    """Who is guessing: the client's address when Streamlit knows it, else one shared key."""
    address = getattr(st.context, "ip_address", None)
    return address if isinstance(address, str) and address else "session"


def staff_can_write() -> bool:
    """True when this session may write (import, undo, upload or refresh a layer); no widget."""
    gate = _gate()
    if gate.mode == "open":
        return True
    if gate.mode == "auth":
        return bool(getattr(st.user, "is_logged_in", False))
    if gate.mode == "password":
        return bool(st.session_state.get("staff_ok"))
    return False


def require_staff() -> bool:
    """Gate for everything that writes; shows the sign-in (or why writing is closed).

    With `[auth]` in the secrets, staff sign in with the City's identity provider (st.login);
    else with `staff_password`. Without either, the dashboard is in local mode (a workstation or
    an intranet) unless ESS_PUBLIC=1. Anything unreadable or incomplete closes the gate
    (loaders/staff.py). Wrong passwords are slowed down per client address.
    """
    gate = _gate()
    if gate.mode == "open" or staff_can_write():
        return True
    if gate.mode == "closed":
        st.error(gate.reason or "Import fermé.", icon=":material/lock:")
        return False
    if gate.mode == "auth":
        st.info("L'import et la mise à jour des données sont réservés aux agents de la Ville.")
        if st.button("Se connecter", key="staff_login"):
            st.login(gate.provider) if gate.provider else st.login()
        return False
    return _password_form()


def _password_form() -> bool:
    limiter, client = _limiter(), _client_key()
    with st.form("staff_form", clear_on_submit=True, border=False):
        typed = st.text_input("Mot de passe des agents", type="password", key="staff_password")
        sent = st.form_submit_button("Se connecter")
    if not sent or not typed:
        st.info("L'import et la mise à jour des données sont réservés aux agents de la Ville.")
        return False
    wait = limiter.wait_s(client)
    if wait > 0:
        st.error(f"Trop d'essais : réessayez dans {fmt_int(math.ceil(wait))} s.")
        return False
    secrets, _ = _secrets()
    if hmac.compare_digest(typed.encode(), str(secrets.get("staff_password", "")).encode()):
        limiter.succeeded(client)
        st.session_state["staff_ok"] = True
        st.rerun()
    limiter.failed(client)
    _log.warning("wrong staff password from %s", client)
    st.error("Mot de passe incorrect.")
    return False
