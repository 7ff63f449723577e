"""A small HTTP proxy between a kiosk and the real server that injects faults on chosen requests.

Each request whose path contains `target` takes the next fault from `faults`:

    "pass"    forward and answer (also what happens when `faults` is empty)
    "refuse"  close the connection at once, nothing forwarded (the server looks down)
    "500"     answer 500 without forwarding
    "drop"    forward, let the server commit, then close without answering
    "drip"    forward, then send the answer a few bytes at a time, slowly

Every answer closes its connection, so the next request opens a fresh one.
"""

from __future__ import annotations

import http.client
import socketserver
import threading
import time
from urllib.parse import urlsplit

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class FaultProxy:
    """A threaded proxy on a free local port in front of `upstream`."""

    def __init__(self, upstream: str, *, target: str = "/sync/push") -> None:
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.target = target
        self.faults: list[str] = []
        self.seen: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                proxy._serve(self)

        class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> FaultProxy:
        """Start accepting connections."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop and close the listening socket."""
        self._server.shutdown()
        self._server.server_close()

    def _next_fault(self, path: str) -> str:
        with self.lock:
            fault = self.faults.pop(0) if self.target in path and self.faults else "pass"
            self.seen.append((path, fault))
        return fault

    def _serve(self, handler: socketserver.StreamRequestHandler) -> None:
        request_line = handler.rfile.readline(65537).decode("latin-1").strip()
        if not request_line:
            return
        method, path, _ = request_line.split(" ", 2)
        headers: dict[str, str] = {}
        while (line := handler.rfile.readline(65537).decode("latin-1").strip()) != "":
            name, _, value = line.partition(":")
            headers[name.strip()] = value.strip()
        length = int(next((v for k, v in headers.items() if k.lower() == "content-length"), 0))
        body = handler.rfile.read(length) if length else b""
        fault = self._next_fault(path)
        if fault == "refuse":
            return
        if fault == "500":
            handler.wfile.write(_response(500, "Internal Server Error", [], b"boom"))
            return
        upstream = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=60)
        try:
            forward = {k: v for k, v in headers.items() if k.lower() not in _HOP_BY_HOP}
            upstream.request(method, path, body=body or None, headers=forward)
            answer = upstream.getresponse()
            data = answer.read()
            kept = [(k, v) for k, v in answer.getheaders() if k.lower() not in _HOP_BY_HOP]
            raw = _response(answer.status, answer.reason, kept, data)
        finally:
            upstream.close()
        if fault == "drop":
            return
        if fault == "drip":
            for start in range(0, len(raw), 8):
                handler.wfile.write(raw[start : start + 8])
                handler.wfile.flush()
                time.sleep(0.05)
            return
        handler.wfile.write(raw)


def _response(status: int, reason: str, headers: list[tuple[str, str]], body: bytes) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{name}: {value}" for name, value in headers]
    lines += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1") + body
