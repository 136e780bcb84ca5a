"""Browser-test harness: headless Debian Chromium driving the Streamlit app with the network cut.

Every request to a host other than localhost is aborted, so a passing test proves the page works
without public CDNs (city intranets). Console errors and page errors are collected per page.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.conftest import REPO, SHARED_DATA

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}
STARTUP_TIMEOUT_S = 60


def _missing(reason: str) -> None:
    """Fail in CI (a missing browser must not turn the suite green), skip on a dev machine."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def pytest_collection_modifyitems(config, items) -> None:
    """Mark every test of tests/browser as `browser` (select or deselect with -m)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session (Playwright sync API)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright (python) n'est pas installé")
    if not CHROMIUM.exists():
        _missing(f"Chromium introuvable : {CHROMIUM}")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _launcher_for(script: Path, workdir: Path) -> Path:
    """Streamlit serves ./static next to the MAIN script: give scripts outside the repo root one.

    The launcher sits beside a symlink to the repository's static/ and runs the real script, so
    test apps under tests/browser/apps see /app/static/vendor exactly as app.py does.
    """
    if (script.parent / "static").resolve() == (REPO / "static").resolve():
        return script
    workdir.mkdir(parents=True, exist_ok=True)
    link = workdir / "static"
    if not link.exists():
        link.symlink_to(REPO / "static", target_is_directory=True)
    launcher = workdir / f"run_{script.stem}.py"
    launcher.write_text(
        f"import runpy\nrunpy.run_path({str(script)!r}, run_name='__main__')\n",
        encoding="utf-8",
    )
    return launcher


def _wait_healthy(base_url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"Streamlit s'est arrêté au démarrage :\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as resp:  # noqa: S310
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"Streamlit ne répond pas après {STARTUP_TIMEOUT_S} s :\n{log.read_text()}")


def _start_streamlit(script: str | Path, env: dict[str, str] | None, logdir: Path):
    """Start `streamlit run <script>` from the repo root; return (process, log handle, base URL).

    Run from the repository root so .streamlit/config.toml (static serving) applies; `env` is
    added to the current environment (ESS_HOME, ...).
    """
    script_path = Path(script)
    if not script_path.is_absolute():
        script_path = REPO / script_path
    main = _launcher_for(script_path.resolve(), logdir / f"launcher_{script_path.stem}")
    port = _free_port()
    log = logdir / f"streamlit_{port}.log"
    handle = log.open("w")
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(main),
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=REPO,
        env=full_env,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base_url, proc, log)
    except Exception:
        _stop(proc, handle)
        raise
    return proc, handle, base_url


def _stop(proc: subprocess.Popen, handle) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    handle.close()


@pytest.fixture
def streamlit_app(tmp_path) -> Iterator[Callable[..., str]]:
    """Factory: start `streamlit run <script>`, return its base URL; stopped at teardown."""
    started: list[tuple[subprocess.Popen, object]] = []

    def start(script: str | Path, env: dict[str, str] | None = None) -> str:
        proc, handle, base_url = _start_streamlit(script, env, tmp_path)
        started.append((proc, handle))
        return base_url

    yield start
    for proc, handle in started:
        _stop(proc, handle)


@pytest.fixture(scope="module")
def dashboard(ess_home_browser, tmp_path_factory) -> Iterator[str]:
    """The real dashboard (app.py) on the shared data and synthetic QPV, one server per module."""
    logdir = tmp_path_factory.mktemp("dashboard")
    proc, handle, base_url = _start_streamlit("app.py", {"ESS_HOME": str(ess_home_browser)}, logdir)
    yield base_url
    _stop(proc, handle)


def _is_local(url: str) -> bool:
    parsed = urlparse(url)
    if parsed.scheme in ("data", "blob", "about", "chrome-error"):
        return True
    return (parsed.hostname or "") in LOCAL_HOSTS


@pytest.fixture
def page(browser):
    """A fresh page whose non-localhost requests are aborted; errors land in page.errors.

    page.errors: console messages of type "error" and uncaught page errors, as strings.
    page.blocked: URLs that were aborted (a CDN the app still tries to reach shows up here).
    """
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    pg = context.new_page()
    pg.errors = []
    pg.blocked = []

    def route(r):
        if _is_local(r.request.url):
            r.continue_()
        else:
            pg.blocked.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    pg.on(
        "console",
        lambda msg: pg.errors.append(f"console: {msg.text}") if msg.type == "error" else None,
    )
    pg.on("pageerror", lambda exc: pg.errors.append(f"pageerror: {exc}"))
    yield pg
    context.close()


@pytest.fixture(scope="session")
def ess_home_browser(tmp_path_factory) -> Path:
    """An ESS_HOME filled from ../shared/data by the loaders CLI, plus the synthetic QPV layers.

    Pass it to streamlit_app(..., env={"ESS_HOME": str(ess_home_browser)}).
    """
    if not SHARED_DATA.is_dir():
        _missing(f"données partagées absentes : {SHARED_DATA}")
    home = tmp_path_factory.mktemp("ess_home_browser")
    env = {**os.environ, "ESS_HOME": str(home), "PYTHONPATH": str(REPO)}
    env.pop("ESS_STORE", None)
    sync = subprocess.run(
        [
            sys.executable,
            "-m",
            "loaders",
            "sync",
            "--from-dir",
            str(SHARED_DATA / "geo"),
            "--from-dir",
            str(SHARED_DATA / "activity"),
            "--offline",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if sync.returncode != 0:
        raise RuntimeError(f"`python -m loaders sync` a échoué :\n{sync.stdout}\n{sync.stderr}")
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from loaders.layers import import_layer\n"
        "from tests.synthetic import synthetic_qpv\n"
        "out = Path(sys.argv[1])\n"
        "for gen in ('2015', '2024'):\n"
        "    path = out / f'qpv_{gen}.geojson'\n"
        "    synthetic_qpv(gen).to_file(path, driver='GeoJSON')\n"
        "    import_layer(f'qpv_{gen}', path)\n"
    )
    qpv = subprocess.run(
        [sys.executable, "-c", script, str(home)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if qpv.returncode != 0:
        raise RuntimeError(f"Import des QPV synthétiques impossible :\n{qpv.stdout}\n{qpv.stderr}")
    return home
