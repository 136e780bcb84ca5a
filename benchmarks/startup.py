"""Install time, cold start to first page, first page's server time — against a bare Streamlit.

Everything is measured twice in the same run, for the dashboard and for a baseline that any
Streamlit app pays (the locked `streamlit` alone; a one-line `st.title` app), and printed as
ratios, so a slow or busy machine shows in both figures and not in the ratio:

- install: a fresh venv, then the README's install (`pip install --no-deps -r
  requirements.lock -e .`) against `pip install streamlit==<locked>` (with its dependencies);
- cold start: `streamlit run`, from the process start to the first page's title drawn in
  headless Chromium (needs /usr/bin/chromium and Playwright, as the browser tests);
- first page server time: AppTest running app.py once in a fresh process (data loaded from an
  empty ESS_HOME: the embedded communes and the demo data), against the one-line app.

With `--grants N`, both the cold start and the first page server time start from an ESS_HOME
where N synthetic grants and the real layers were imported as the City would
(benchmarks/synthetic_grants.py), a fresh copy of it for each measurement: the first page view
after an import, which reads the enrichment built by the import.

    python benchmarks/startup.py [--skip-install] [--grants N]

Prints readable lines, then one JSON line. Needs the package registry for the install part.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
BARE_APP = 'import streamlit as st\nst.title("Bonjour")\n'


def _locked(name: str) -> str:
    text = (REPO / "requirements.lock").read_text(encoding="utf-8")
    return re.search(rf"^{re.escape(name)}==([^\s;]+)", text, re.M).group(1)


def _timed(cmd: list[str], **kwargs) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, **kwargs)
    return time.perf_counter() - start


def install_seconds(work: Path) -> tuple[float, float]:
    """(dashboard install, bare streamlit install), each in a fresh venv, pip's cache disabled."""
    figures = []
    for name, args in (
        ("dashboard", ["--no-deps", "-r", str(REPO / "requirements.lock"), "-e", str(REPO)]),
        ("bare", [f"streamlit=={_locked('streamlit')}"]),
    ):
        venv = work / f"venv_{name}"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "pip"), "install", "-q", "--no-cache-dir", *args]
        figures.append(_timed(pip))
    return figures[0], figures[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cold_start_seconds(script: Path, env: dict[str, str]) -> float:
    """From `streamlit run` to the first h1 drawn in Chromium."""
    from playwright.sync_api import sync_playwright

    port = _free_port()
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port)],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)  # noqa: S310
                break
            except OSError:
                time.sleep(0.05)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/")
            page.locator("h1").first.wait_for(timeout=180_000)
            elapsed = time.perf_counter() - start
            browser.close()
        return elapsed
    finally:
        proc.terminate()
        proc.wait(timeout=10)


SERVER_TIME = """
import sys, time
from streamlit.testing.v1 import AppTest
start = time.perf_counter()
at = AppTest.from_file(sys.argv[1], default_timeout=300).run()
assert not at.exception, at.exception
print(time.perf_counter() - start)
"""


def server_seconds(script: Path, env: dict[str, str]) -> float:
    out = subprocess.run(
        [sys.executable, "-c", SERVER_TIME, str(script)],
        cwd=REPO,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        text=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-install", action="store_true", help="do not time the installs")
    parser.add_argument(
        "--grants", type=int, default=0, help="start from N synthetic grants imported (default: 0)"
    )
    args = parser.parse_args()
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="ess_startup_") as tmp:
        work = Path(tmp)
        bare = work / "bare_app.py"
        bare.write_text(BARE_APP, encoding="utf-8")
        source = work / "imported"
        if args.grants:
            from benchmarks.synthetic_grants import build_store

            build_store(source, args.grants)
            figures["grants"] = args.grants

        def fresh_home() -> dict[str, str]:
            """A new ESS_HOME for each measurement: empty, or a copy of the imported one."""
            home = Path(tempfile.mkdtemp(prefix="home_", dir=work))
            if args.grants:
                shutil.copytree(source, home, dirs_exist_ok=True)
            return {"ESS_HOME": str(home), "PYTHONPATH": str(REPO)}

        if not args.skip_install:
            figures["install_s"], figures["install_bare_streamlit_s"] = install_seconds(work)
        figures["cold_start_first_page_s"] = cold_start_seconds(REPO / "app.py", fresh_home())
        figures["cold_start_bare_app_s"] = cold_start_seconds(bare, fresh_home())
        figures["first_page_server_s"] = server_seconds(REPO / "app.py", fresh_home())
        figures["first_page_server_bare_s"] = server_seconds(bare, fresh_home())
    ratios = {
        "install_ratio": ("install_s", "install_bare_streamlit_s"),
        "cold_start_ratio": ("cold_start_first_page_s", "cold_start_bare_app_s"),
        "first_page_server_ratio": ("first_page_server_s", "first_page_server_bare_s"),
    }
    for name, (a, b) in ratios.items():
        if a in figures:
            figures[name] = figures[a] / figures[b]
    for key, value in figures.items():
        print(f"{key:32} {value:8.2f}")
    print(json.dumps({k: round(v, 3) for k, v in figures.items()}))


if __name__ == "__main__":
    main()
