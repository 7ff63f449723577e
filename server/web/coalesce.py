"""Reloads of one page by one signed-in browser, arriving together, share one answer.

When a page is slow, people reload it: at the end of a fête the same
attendee's /passport arrives several times at once, and each copy used to
cost the whole page again while the crowd waited behind it. Here, while one
GET of a coalesced page runs, the same GET from the same browser (same path
and query, same Cookie header, same Accept-Encoding and Accept-Language)
waits for that answer and is sent a copy instead of running again.

Nothing is cached: a request that arrives after the first one finished runs
on its own, so a copy is never older than the request it answers. Only
requests with a session cookie are joined: two people never share a session,
while signed-out visitors all share an empty Cookie header and a page mints
each of them their own visitor cookie. Answers larger than `MAX_SHARED_BYTES`
are not shared (the followers run on their own); a leader that fails or is
cut off lets its followers run on their own too. Given the worker processes'
shared folder, a leader first joins a twin running in another process
(`server.web.coalesce_shared`), and announces its own run to them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.web.coalesce_shared import SharedFlights

#: The largest answer copied to followers; a /passport page is about 60 KB.
MAX_SHARED_BYTES: Final = 2_000_000
#: Request headers that choose the answer besides the path, query and cookies.
_VARY: Final = (b"cookie", b"accept-encoding", b"accept-language")

_Key = tuple[str, bytes, tuple[bytes, ...]]
_Answer = asyncio.Future["list[Message] | None"]


class Coalesce:
    """ASGI middleware joining concurrent identical GETs of `paths` (and `prefixes`) by one
    signed-in browser.

    The table of requests in flight belongs to the event loop that serves
    them: every read and write happens on that loop, between awaits, so it
    needs no lock. Followers wait on an asyncio future the leader resolves
    with the answer's messages (None: run on your own).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        session_cookie: str,
        paths: Iterable[str],
        prefixes: Iterable[str] = (),
        shared_folder: Path | None = None,
    ) -> None:
        self.app = app
        self.shared = SharedFlights(shared_folder) if shared_folder is not None else None
        self.session_cookie = session_cookie.encode() + b"="
        self.paths = frozenset(paths)
        self.prefixes = tuple(prefixes)
        self._running: dict[tuple[asyncio.AbstractEventLoop, _Key], _Answer] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Join a running twin of this request, or run it (as the leader when others may join)."""
        key = self._key(scope)
        if key is None:
            await self.app(scope, receive, send)
            return
        slot = (asyncio.get_running_loop(), key)
        running = self._running.get(slot)
        if running is not None:
            messages = await asyncio.shield(running)
            if messages is None:
                await self.app(scope, receive, send)
            else:
                await _send_copies(messages, send)
            return
        answer: _Answer = asyncio.get_running_loop().create_future()
        self._running[slot] = answer
        shared: list[Message] | None = None
        try:
            shared = await self._lead(key, scope, receive, send)
        finally:
            del self._running[slot]
            answer.set_result(shared)

    async def _lead(
        self, key: _Key, scope: Scope, receive: Receive, send: Send
    ) -> list[Message] | None:
        """Join the twin another process runs, or run the request; the answer to share."""
        if self.shared is None:
            return await self._run(scope, receive, send)
        digest = self.shared.digest(key)
        try:
            lease = self.shared.lead(digest)
        except OSError:  # the folder is gone (a temp cleaner) or no file can be opened
            return await self._run(scope, receive, send)
        if lease is None:  # a twin runs in another process
            messages = await self.shared.wait(digest, time.monotonic())
            if messages is not None:
                await _send_copies(messages, send)
                return messages
            return await self._run(scope, receive, send)
        messages = None
        try:
            messages = await self._run(scope, receive, send)
        finally:
            lease.publish(messages)
        return messages

    async def _run(self, scope: Scope, receive: Receive, send: Send) -> list[Message] | None:
        """Run the request; its whole answer, when it can be shared."""
        recorder = _Recorder(send)
        await self.app(scope, receive, recorder.send)
        return recorder.complete()

    def _key(self, scope: Scope) -> _Key | None:
        """What makes two requests the same; None for one that is never joined."""
        if scope["type"] != "http" or scope["method"] != "GET":
            return None
        path: str = scope["path"]
        if path not in self.paths and not any(path.startswith(p) for p in self.prefixes):
            return None
        headers = dict(_chosen(scope["headers"]))
        if self.session_cookie not in headers.get(b"cookie", b""):
            return None
        return path, scope["query_string"], tuple(headers.get(name, b"") for name in _VARY)


async def _send_copies(messages: list[Message], send: Send) -> None:
    """Send a shared answer (copies: the edge's own middleware adds to headers)."""
    for message in messages:
        await send(_copy(message))


def _chosen(headers: Iterable[tuple[bytes, bytes]]) -> Iterable[tuple[bytes, bytes]]:
    """The request headers in `_VARY` (several Cookie headers joined, as a browser sends one)."""
    joined: dict[bytes, list[bytes]] = {}
    for name, value in headers:
        if name in _VARY:
            joined.setdefault(name, []).append(value)
    return ((name, b"; ".join(values)) for name, values in joined.items())


class _Recorder:
    """Sends a leader's answer on, keeping a copy for its followers while it stays small."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self._messages: list[Message] | None = []
        self._size = 0
        self._finished = False

    async def send(self, message: Message) -> None:
        """Keep a copy of `message`, then send it to the leader's client."""
        if self._messages is not None:
            self._size += len(message.get("body", b""))
            if self._size > MAX_SHARED_BYTES or message["type"] not in _SHARED:
                self._messages = None
            else:
                self._messages.append(_copy(message))
                if message["type"] == "http.response.body" and not message.get("more_body"):
                    self._finished = True
        await self._send(message)

    def complete(self) -> list[Message] | None:
        """The whole answer, or None when it is not there to share."""
        return self._messages if self._finished else None


_SHARED: Final = frozenset({"http.response.start", "http.response.body"})


def _copy(message: Message) -> Message:
    """A message whose header list may be changed without changing `message`'s."""
    if "headers" not in message:
        return message
    return {**message, "headers": list(message["headers"])}
