"""The load phase's HTTP client: one GET per new connection, parsed by httptools.

A phone in a crowd brings its own CPU; the load tool here shares two cores
with the server it measures, so every cycle it spends is taken from the
server and shows up as server latency. aiohttp's client costs about 0.5 ms of
CPU per request on this host (0.49-0.53 s for 1,000 requests to a bare
uvicorn app); this protocol, which only writes a request and feeds the answer
to httptools (the C parser uvicorn itself uses), costs 0.21-0.25 s for the
same 1,000. Sign-ups keep aiohttp (forms, cookie jars, redirects).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import cast

import httptools
from httptools import HttpParserError

__all__ = ["Answer", "HttpParserError", "get"]


@dataclass
class Answer:
    """What came back: the status and the headers, names lower-cased."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)


class _OneGet(asyncio.Protocol):
    """Writes one request on connecting; resolves `answer` when the response is complete."""

    def __init__(self, request: bytes, answer: asyncio.Future[Answer]) -> None:
        self._request = request
        self._answer = answer
        self._headers: dict[str, str] = {}
        self._parser = httptools.HttpResponseParser(self)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports write but are not asyncio.WriteTransport subclasses.
        cast(asyncio.WriteTransport, transport).write(self._request)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_message_complete(self) -> None:
        if not self._answer.done():
            self._answer.set_result(Answer(self._parser.get_status_code(), self._headers))

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except HttpParserError as exc:
            if not self._answer.done():
                self._answer.set_exception(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._answer.done():
            self._answer.set_exception(exc or ConnectionResetError("closed before the answer"))


async def get(host: str, port: int, path: str, headers: dict[str, str]) -> Answer:
    """GET `path` on a new connection to host:port with `headers`; the answer (body read)."""
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[Answer] = loop.create_future()
    transport, _ = await loop.create_connection(lambda: _OneGet(request, answer), host, port)
    try:
        return await answer
    finally:
        transport.close()
