"""The staff gate fails closed: unreadable or incomplete secrets never open writing."""

from __future__ import annotations

import pytest

from loaders.staff import AttemptLimiter, gate_config, read_secrets

AUTH_OK = {
    "redirect_uri": "https://ess.example/oauth2callback",
    "cookie_secret": "s" * 32,
    "client_id": "dashboard",
    "client_secret": "x",
    "server_metadata_url": "https://idp.example/.well-known/openid-configuration",
}


@pytest.fixture(autouse=True)
def _not_public(monkeypatch):
    monkeypatch.delenv("ESS_PUBLIC", raising=False)


def test_no_secrets_file_is_local_mode(tmp_path):
    secrets, error = read_secrets([tmp_path / "secrets.toml"])
    assert (secrets, error) == ({}, None)
    assert gate_config(secrets, error).mode == "open"


def test_no_secrets_file_on_a_public_deployment_is_closed(tmp_path, monkeypatch):
    monkeypatch.setenv("ESS_PUBLIC", "1")
    gate = gate_config(*read_secrets([tmp_path / "secrets.toml"]))
    assert gate.mode == "closed"
    assert "aucune authentification n'est configurée" in gate.reason


def test_an_unclosed_quote_closes_the_gate_and_names_the_file(tmp_path):
    path = tmp_path / "secrets.toml"
    path.write_text('staff_password = "correct horse\n', encoding="utf-8")
    secrets, error = read_secrets([path])
    gate = gate_config(secrets, error)
    assert gate.mode == "closed"
    assert "« secrets.toml » est illisible" in gate.reason
    assert str(tmp_path) not in gate.reason  # no server path in the page


def test_a_second_unreadable_file_closes_it_too(tmp_path):
    good = tmp_path / "a.toml"
    good.write_text('staff_password = "correct horse"\n', encoding="utf-8")
    bad = tmp_path / "b.toml"
    bad.write_bytes(b"\xff\xfe not utf-8")
    assert gate_config(*read_secrets([good, bad])).mode == "closed"


def test_password_mode_and_weak_passwords(tmp_path):
    assert gate_config({"staff_password": "correct horse"}).mode == "password"
    for weak in ("", "short", 12345678, None):
        gate = gate_config({"staff_password": weak})
        assert gate.mode == "closed", weak
        assert "au moins 8 caractères" in gate.reason


def test_auth_section_complete_single_and_named_provider():
    assert gate_config({"auth": AUTH_OK}).mode == "auth"
    shared = {k: AUTH_OK[k] for k in ("redirect_uri", "cookie_secret")}
    provider = {k: AUTH_OK[k] for k in ("client_id", "client_secret", "server_metadata_url")}
    gate = gate_config({"auth": {**shared, "lille": provider}})
    assert (gate.mode, gate.provider) == ("auth", "lille")


def test_auth_section_incomplete_is_closed_with_the_missing_keys():
    gate = gate_config({"auth": {**AUTH_OK, "cookie_secret": "", "client_secret": None}})
    assert gate.mode == "closed"
    assert "cookie_secret" in gate.reason and "client_secret" in gate.reason
    # an [auth] section wins over a password: a broken identity provider is not bypassed
    assert gate_config({"auth": "oops", "staff_password": "correct horse"}).mode == "closed"


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_wrong_passwords_wait_twice_as_long_each_time_then_lock():
    clock = _Clock()
    limiter = AttemptLimiter(max_delay_s=30, lock_after=10, window_s=900, clock=clock)
    assert limiter.wait_s("1.2.3.4") == 0
    waits = []
    for _ in range(6):
        limiter.failed("1.2.3.4")
        waits.append(limiter.wait_s("1.2.3.4"))
        clock.now += waits[-1]
    assert waits == [1, 2, 4, 8, 16, 30]
    assert limiter.wait_s("5.6.7.8") == 0  # another client is not slowed
    for _ in range(4):
        limiter.failed("1.2.3.4")
    assert limiter.wait_s("1.2.3.4") == pytest.approx(900 - (1 + 2 + 4 + 8 + 16 + 30))
    limiter.succeeded("1.2.3.4")
    assert limiter.wait_s("1.2.3.4") == 0
