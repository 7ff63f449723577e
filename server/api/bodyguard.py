"""Request bodies checked as they are read, before any JSON parser or model sees them.

Every body is capped (`limits.JSON_BODY_BYTES`, 1 MiB; a route may be given
more, as a sync push is: 413 `body_too_large`, from the declared length or
the bytes read). A body that is not a form is also refused when its arrays
and objects nest deeper than
`limits.JSON_DEPTH` (400 `bad_json`; Python's parser would otherwise recurse
until RecursionError), and a JSON text holding a NUL character (`\\u0000`)
is refused with the fields that hold it (422 `invalid_request`), because
PostgreSQL can store NUL in neither text nor jsonb. A sync push is exempt
from the NUL rule only: its ops are judged one by one, so such an op is
rejected alone.

The checks run inside `receive` (the nesting and NUL ones once the last
chunk has arrived), the way Starlette's own size limit works: the route reads
its body when it is ready (a push after its device token), and the refusal is
an `HTTPException` that FastAPI hands on to the app's one error handler.
(FastAPI's own `max_body_size` answers a body it never read with a plain-text
413, outside the project's error shape, so it is not used.)
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core import limits

_FORMS = (b"application/x-www-form-urlencoded", b"multipart/form-data")
_NUL = b"\\u0000"


class BodyRefused(HTTPException):
    """A request body refused while it was read; `code` and `fields` go into the error body."""

    def __init__(
        self, status: int, code: str, message: str, fields: dict[str, str] | None = None
    ) -> None:
        super().__init__(status_code=status, detail=message)
        self.code = code
        self.message = message
        self.fields = fields


def _is_form(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return bool(value.lower().startswith(_FORMS))
    return False


def _nul_fields(data: Any) -> dict[str, str]:
    """Where NUL sits in parsed JSON, as `body.a.0.b` paths (walked without recursion)."""
    found: dict[str, str] = {}
    stack: list[tuple[tuple[str, ...], Any]] = [(("body",), data)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                where = (*path, key)
                if "\x00" in key:
                    found[".".join(where)] = "a key contains the NUL character"
                stack.append((where, value))
        elif isinstance(item, list):
            stack.extend(((*path, str(index)), value) for index, value in enumerate(item))
        elif isinstance(item, str) and "\x00" in item:
            found[".".join(path)] = f"contains the NUL character at position {item.index(chr(0))}"
    return found


def check_body(body: bytes, *, nul_allowed: bool) -> None:
    """Raise `BodyRefused` for a body nested too deep, or (unless allowed) holding NUL."""
    if not body:
        return
    if not limits.json_nesting_ok(body):
        raise BodyRefused(
            400,
            "bad_json",
            f"the body nests arrays and objects more than {limits.JSON_DEPTH} deep",
        )
    if nul_allowed or _NUL not in body:
        return
    try:
        data = json.loads(body)
    except ValueError:
        return  # not JSON: its parser says so
    fields = _nul_fields(data)
    if fields:
        first = next(iter(fields))
        raise BodyRefused(422, "invalid_request", f"{first}: {fields[first]}", fields)


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


def _too_large(cap: int) -> BodyRefused:
    return BodyRefused(413, "body_too_large", f"a request body holds at most {cap:,} bytes here")


class BodyGuard:
    """ASGI middleware: every body capped in size, and `check_body` on those that are not forms.

    `max_bytes` is the cap, `path_max_bytes` raises or lowers it for single paths,
    `nul_allowed` names the paths whose JSON may hold NUL.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int = limits.JSON_BODY_BYTES,
        path_max_bytes: Mapping[str, int] | None = None,
        nul_allowed: Collection[str] = (),
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.path_max_bytes = dict(path_max_bytes or {})
        self.nul_allowed = frozenset(nul_allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request, checking its body as the app reads it."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        cap = self.path_max_bytes.get(path, self.max_bytes)
        declared = _declared_length(scope)
        form = _is_form(scope)
        nul_allowed = path in self.nul_allowed
        chunks: list[bytes] = []
        size = 0

        async def checked_receive() -> Message:
            nonlocal size
            if declared is not None and declared > cap:
                raise _too_large(cap)
            message = await receive()
            if message["type"] != "http.request":
                return message
            body = message.get("body", b"")
            size += len(body)
            if size > cap:
                raise _too_large(cap)
            if not form:
                chunks.append(body)
                if not message.get("more_body", False):
                    whole = b"".join(chunks)
                    chunks.clear()
                    check_body(whole, nul_allowed=nul_allowed)
            return message

        await self.app(scope, checked_receive, send)
