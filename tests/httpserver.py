"""A real local HTTP server for loader tests: static files plus scripted answers.

Tests go through requests, sockets and the loaders' parsing for real; only the remote host is
replaced. Scripted routes answer in order (429 with Retry-After, 500, delays, truncated bodies),
then repeat their last answer; every request is recorded.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit


@dataclass
class Reply:
    """One scripted answer."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (to trigger client timeouts)
    truncate_to: int | None = None  # send only this many bytes of body, Content-Length unchanged


@dataclass
class Request:
    """What the server received."""

    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


class LocalServer:
    """Threaded HTTP server on 127.0.0.1 with a free port; use as a context manager."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root else None
        self.routes: dict[str, list[Reply] | Callable[[Request], Reply]] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- scripting -----------------------------------------------------------------------------
    def script(self, path: str, *replies: Reply) -> str:
        """Answer `path` with these replies in turn (the last one repeats); returns its URL."""
        self.routes[path] = list(replies)
        return self.url(path)

    def handle(self, path: str, handler: Callable[[Request], Reply]) -> str:
        """Answer `path` by calling `handler(request)`; returns its URL."""
        self.routes[path] = handler
        return self.url(path)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    def hits(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    # -- lifecycle -----------------------------------------------------------------------------
    def __enter__(self) -> LocalServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server naming
                server._answer(self)

            do_POST = do_GET  # noqa: N815

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        assert self._httpd is not None
        self._httpd.shutdown()
        self._httpd.server_close()

    # -- answering -----------------------------------------------------------------------------
    def _next_reply(self, request: Request) -> Reply:
        route = self.routes.get(request.path)
        if callable(route):
            return route(request)
        if route:
            with self._lock:
                return route.pop(0) if len(route) > 1 else route[0]
        return self._static(request.path)

    def _static(self, path: str) -> Reply:
        if self.root is None:
            return Reply(404, b"not found")
        target = (self.root / path.lstrip("/")).resolve()
        if not target.is_file() or self.root.resolve() not in target.parents:
            return Reply(404, b"not found")
        modified = formatdate(target.stat().st_mtime, usegmt=True)
        return Reply(
            200,
            target.read_bytes(),
            {"Last-Modified": modified, "Content-Type": "application/geo+json"},
        )

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        request = Request(parts.path, parse_qs(parts.query), dict(handler.headers.items()))
        with self._lock:
            self.requests.append(request)
        reply = self._next_reply(request)
        if reply.delay:
            time.sleep(reply.delay)
        try:
            handler.send_response(reply.status)
            for key, value in reply.headers.items():
                handler.send_header(key, value)
            handler.send_header("Content-Length", str(len(reply.body)))
            handler.send_header("Connection", "close")
            handler.end_headers()
            body = reply.body if reply.truncate_to is None else reply.body[: reply.truncate_to]
            handler.wfile.write(body)
            handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout test)
        handler.close_connection = True


def refused_url(path: str = "/") -> str:
    """A URL on 127.0.0.1 where nothing listens: connections are refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"
