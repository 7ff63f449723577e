"""HTTP-only errors: the ones that carry response headers (401, 429) or exist only at the edge.

All of them are `SocaError`s, so the app's one handler renders them like every
other error: `{"error": {"code", "message"}}` plus `headers`.
"""

from __future__ import annotations

from core.wire import MAX_OPS_PER_PUSH
from server.errors import SocaError


class HttpError(SocaError):
    """A SocaError that also sets response headers."""

    def __init__(
        self, message: str, *, headers: dict[str, str] | None = None, code: str | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.headers = dict(headers or {})


class Unauthorized(HttpError):
    """No usable credentials: missing, malformed, unknown, revoked."""

    code = "unauthorized"
    status = 401

    def __init__(self, message: str = "Send 'Authorization: Bearer <token>'.") -> None:
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"})


class TooManyRequests(HttpError):
    """Too many failed attempts from one address; `Retry-After` says when to try again."""

    code = "too_many_requests"
    status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after


class BadJson(SocaError):
    """The request body is not JSON (truncated, not UTF-8, or not JSON at all)."""

    code = "bad_json"
    status = 400


class TooManyOps(SocaError):
    """A push with more ops than the contract allows."""

    code = "too_many_ops"
    status = 413

    def __init__(self, count: int) -> None:
        super().__init__(f"a push holds at most {MAX_OPS_PER_PUSH} ops; this one had {count}")


class BodyTooLarge(SocaError):
    """A request body over the route's byte limit."""

    code = "body_too_large"
    status = 413


#: Codes for errors the framework raises itself (unknown path, wrong method, ...).
HTTP_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
}


def code_for_status(status: int) -> str:
    """The machine code for a bare HTTP status."""
    return HTTP_STATUS_CODES.get(status, "internal_error" if status >= 500 else "http_error")
