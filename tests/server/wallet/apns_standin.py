"""A local stand-in for APNs: HTTP/2 over TLS with client certificates, as Apple serves it.

It accepts `POST /3/device/<token>` from clients whose certificate the test CA
issued, records each push (token, headers, body, the client certificate's
subject), and answers 200 with an `apns-id`, or 410 for tokens marked gone.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import h2.config
import h2.connection
import h2.events


@dataclass
class Push:
    """One push the stand-in received."""

    token: str
    headers: dict[str, str]
    body: bytes
    client_subject: str
    at: float


@dataclass
class ApnsStandIn:
    """Serve APNs on 127.0.0.1 in a thread; `pushes` lists what arrived."""

    ca: Path
    cert: Path
    key: Path
    wwdr: Path | None = None  # Apple knows its own intermediate; clients send only their leaf
    gone: set[str] = field(default_factory=set)
    pushes: list[Push] = field(default_factory=list)
    port: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _listener: socket.socket | None = None
    _arrived: threading.Condition = field(default_factory=threading.Condition)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def start(self) -> ApnsStandIn:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(self.ca))
        if self.wwdr is not None:
            context.load_verify_locations(cafile=str(self.wwdr))
        context.load_cert_chain(str(self.cert), str(self.key))
        context.verify_mode = ssl.CERT_REQUIRED
        context.set_alpn_protocols(["h2"])
        self._context = context
        listener = socket.socket()
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        listener.settimeout(0.2)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._listener is not None:
            self._listener.close()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Push]:
        """Wait until `count` pushes arrived; the pushes."""
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.pushes) >= count, timeout)
        return list(self.pushes)

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                raw, _address = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw: socket.socket) -> None:
        try:
            conn = self._context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            raw.close()
            return
        subject = str(conn.getpeercert().get("subject", ""))
        h2conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
        h2conn.initiate_connection()
        conn.sendall(h2conn.data_to_send())
        streams: dict[int, tuple[dict[str, str], bytearray]] = {}
        conn.settimeout(0.5)
        with conn:
            while not self._stop.is_set():
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not data:
                    return
                for event in h2conn.receive_data(data):
                    self._handle(h2conn, event, streams, subject)
                conn.sendall(h2conn.data_to_send())

    def _handle(
        self,
        h2conn: h2.connection.H2Connection,
        event: h2.events.Event,
        streams: dict[int, tuple[dict[str, str], bytearray]],
        subject: str,
    ) -> None:
        if isinstance(event, h2.events.RequestReceived):
            headers = {_text(k): _text(v) for k, v in event.headers or []}
            streams[event.stream_id] = (headers, bytearray())
        elif isinstance(event, h2.events.DataReceived):
            streams[event.stream_id][1].extend(event.data or b"")
            h2conn.acknowledge_received_data(event.flow_controlled_length or 0, event.stream_id)
        elif isinstance(event, h2.events.StreamEnded):
            headers, body = streams.pop(event.stream_id)
            self._answer(h2conn, event.stream_id, headers, bytes(body), subject)

    def _answer(
        self,
        h2conn: h2.connection.H2Connection,
        stream: int,
        headers: dict[str, str],
        body: bytes,
        subject: str,
    ) -> None:
        path = headers.get(":path", "")
        token = path.removeprefix("/3/device/")
        if headers.get(":method") != "POST" or not path.startswith("/3/device/"):
            status, reply = "404", b'{"reason":"BadPath"}'
        elif token in self.gone:
            status, reply = "410", json.dumps({"reason": "Unregistered", "timestamp": 0}).encode()
        else:
            status, reply = "200", b""
        h2conn.send_headers(
            stream, [(":status", status), ("apns-id", str(uuid.uuid4()))], end_stream=not reply
        )
        if reply:
            h2conn.send_data(stream, reply, end_stream=True)
        with self._arrived:
            self.pushes.append(Push(token, headers, body, subject, time.monotonic()))
            self._arrived.notify_all()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
