"""Capacity: N concurrent sessions of the funded map page against one real Streamlit server.

Each session is a websocket client speaking Streamlit's own browser protocol (the protobuf
`BackMsg` / `ForwardMsg` classes shipped in the installed `streamlit` package, over
`/_stcore/stream`): it connects, asks for the page (`rerun_script` with the page name, as the
browser does on opening `/carte`), reads every message, and counts as served when the page's
script run finished successfully (`script_finished`). No browser runs, so the two cores measure
the server alone: its Python work (filters, map build, serialisation) and its sending. What a
browser then does with the messages (drawing the Leaflet map) is not included; the real-browser
figures are benchmarks/interactive.py's. This is a benchmark, not the product: the protobuf
classes are Streamlit internals, acceptable here and never imported by the dashboard.

The dataset: 10 000 synthetic grants imported in a throw-away ESS_HOME with the real geo layers
(benchmarks/synthetic_grants.py). One server (`streamlit run app.py`) is started and warmed by
one session (data and map caches filled, as on a server that has been up for a while); then
10, 25 and 50 sessions open the page at the same time. In the same run the same sessions are
sent to a bare Streamlit app (one `st.title` line) for the baseline, printed as ratios.

Figures: served per second per core = sessions served / (first connection to last page
finished) / cores available to the server; p95 = 95th percentile of each session's page time
(connection to script finished); server CPU per session = the server process's user + system
time during the wave / sessions served (what a busy machine does not change much); server
memory = the server's resident set after the wave.

    python benchmarks/load.py [--grants 10000] [--sessions 10 25 50] [--page carte]
    python -m benchmarks.load [...]

Prints readable lines, then one JSON line per number of sessions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

MODE = "websocket"
SESSIONS = (10, 25, 50)
SESSION_TIMEOUT_S = 600.0  # a session not served by then counts as failed
START_TIMEOUT_S = 120.0
BARE_APP = 'import streamlit as st\n\nst.title("Bonjour")\n'


def cores() -> int:
    """Cores this process (and the server it starts) may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB (Linux /proc; NaN elsewhere)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return math.nan


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def serve(script: Path, ess_home: Path) -> Iterator[subprocess.Popen]:
    """`streamlit run script` on a free loopback port; yields the process (port in .port)."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "ESS_STORE"}
    env |= {"ESS_HOME": str(ess_home), "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(script),
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    proc.port = port
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)  # noqa: S310
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"le serveur Streamlit n'a pas démarré ({script})") from None
                time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def one_session(port: int, page: str, query: str = "") -> dict:
    """Open `page` as a new browser session would; {"s": page time, "bytes": bytes received}."""
    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    start = time.perf_counter()
    received = 0
    async with websockets.connect(
        f"ws://127.0.0.1:{port}/_stcore/stream",
        subprotocols=["streamlit"],
        max_size=None,
        ping_interval=None,  # a busy server answers late; the timeout below bounds the wait
        open_timeout=SESSION_TIMEOUT_S,
    ) as ws:
        request = BackMsg()
        request.rerun_script.page_name = page
        request.rerun_script.query_string = query
        request.rerun_script.context_info.url = f"http://127.0.0.1:{port}/{page}"
        await ws.send(request.SerializeToString())
        errors = []
        async for data in ws:
            received += len(data)
            msg = ForwardMsg()
            msg.ParseFromString(data)
            kind = msg.WhichOneof("type")
            if kind == "page_not_found":
                raise RuntimeError(f"page introuvable : {page}")
            if kind == "delta" and msg.delta.new_element.WhichOneof("type") == "exception":
                errors.append(msg.delta.new_element.exception.message)
            if kind == "script_finished":
                if msg.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    raise RuntimeError("erreur de compilation du script")
                if msg.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
                    if errors:
                        raise RuntimeError(f"exception dans la page : {errors[0]}")
                    return {"s": time.perf_counter() - start, "bytes": received}
                # FINISHED_EARLY_FOR_RERUN: the page asked for a rerun; wait for its end.
    raise RuntimeError("connexion fermée avant la fin de la page")


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), linear between closest ranks; NaN for no value."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


async def _wave(port: int, sessions: int, page: str) -> tuple[list, float]:
    async def bounded() -> dict:
        return await asyncio.wait_for(one_session(port, page), SESSION_TIMEOUT_S)

    start = time.perf_counter()
    results = await asyncio.gather(*(bounded() for _ in range(sessions)), return_exceptions=True)
    return results, time.perf_counter() - start


def wave(server: subprocess.Popen, sessions: int, page: str) -> dict:
    """`sessions` sessions opening `page` at once on a running server; the wave's figures."""
    cpu_before = _cpu_s(server.pid)
    results, wall = asyncio.run(_wave(server.port, sessions, page))
    cpu = _cpu_s(server.pid) - cpu_before
    served = [r for r in results if isinstance(r, dict)]
    failures = [repr(r) for r in results if not isinstance(r, dict)]
    times = [r["s"] for r in served]
    return {
        "sessions": sessions,
        "mode": MODE,
        "served": len(served),
        "failed": len(failures),
        "served_per_s_per_core": len(served) / wall / cores() if served else 0.0,
        "p95_s": percentile(times, 95),
        "median_s": percentile(times, 50),
        "wall_s": wall,
        "bytes_per_session": percentile([r["bytes"] for r in served], 50),
        "server_cpu_s_per_session": cpu / len(served) if served else math.nan,
        "server_rss_mb": _rss_mb(server.pid),
        "errors": sorted(set(failures))[:3],
    }


def warm_up(server: subprocess.Popen, page: str) -> float:
    """One session first, so the server's caches are filled as on a server already in use."""
    return asyncio.run(one_session(server.port, page))["s"]


def measure_load(sessions: int, *, ess_home: Path, page: str = "carte") -> dict:
    """`sessions` concurrent sessions of `page` on a new, warmed dashboard server on `ess_home`.

    Returns {"sessions", "mode", "served_per_s_per_core", "p95_s", ...} (see `wave`).
    """
    with serve(REPO / "app.py", Path(ess_home)) as server:
        warm_up(server, page)
        return wave(server, sessions, page)


def _rounded(value: object) -> object:
    """Floats to 3 decimals for the JSON line; NaN (nothing served) as null."""
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 3)
    return value


def _ratio(a: float, b: float) -> float:
    return a / b if b else math.nan


def main() -> None:
    from benchmarks.synthetic_grants import build_store

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grants", type=int, default=10_000)
    parser.add_argument("--sessions", type=int, nargs="+", default=list(SESSIONS))
    parser.add_argument("--page", default="carte", help="page name in the URL (default: carte)")
    args = parser.parse_args()
    if args.grants < 1 or min(args.sessions) < 1:
        parser.error("--grants et --sessions doivent valoir au moins 1")

    with tempfile.TemporaryDirectory(prefix="ess_load_") as tmp:
        work = Path(tmp)
        start = time.perf_counter()
        build_store(work / "home", args.grants)
        print(f"{args.grants} synthetic grants imported in {time.perf_counter() - start:.1f} s")
        bare = work / "bare" / "bare_app.py"
        bare.parent.mkdir()
        bare.write_text(BARE_APP, encoding="utf-8")
        figures = {}
        for name, script, page in (("dashboard", REPO / "app.py", args.page), ("bare", bare, "")):
            with serve(script, work / "home") as server:
                print(f"{name}: warm-up session {warm_up(server, page):.2f} s")
                for n in args.sessions:
                    figures[name, n] = wave(server, n, page)
                    f = figures[name, n]
                    print(
                        f"{name:9} {n:3} sessions: served {f['served']}/{n}, "
                        f"{f['served_per_s_per_core']:.2f} /s/core, p95 {f['p95_s']:.2f} s, "
                        f"median {f['median_s']:.2f} s, {f['bytes_per_session'] / 1e6:.2f} MB "
                        f"and {f['server_cpu_s_per_session']:.2f} server CPU s per session, "
                        f"server {f['server_rss_mb']:.0f} MB"
                        + (f", errors {f['errors']}" if f["errors"] else "")
                    )
    for n in args.sessions:
        dash, bare_f = figures["dashboard", n], figures["bare", n]
        line = {
            "sessions": n,
            "mode": MODE,
            "page": args.page,
            "grants": args.grants,
            "cores": cores(),
            **{k: v for k, v in dash.items() if k not in ("sessions", "mode", "errors")},
            "bare_served_per_s_per_core": bare_f["served_per_s_per_core"],
            "bare_p95_s": bare_f["p95_s"],
            "served_ratio": _ratio(dash["served_per_s_per_core"], bare_f["served_per_s_per_core"]),
            "p95_ratio": _ratio(dash["p95_s"], bare_f["p95_s"]),
            "bare_server_cpu_s_per_session": bare_f["server_cpu_s_per_session"],
            "cpu_ratio": _ratio(
                dash["server_cpu_s_per_session"], bare_f["server_cpu_s_per_session"]
            ),
        }
        print(json.dumps({k: _rounded(v) for k, v in line.items()}))


if __name__ == "__main__":
    main()
