"""The server's one exception base: every domain error carries a machine code and a status.

Library errors (SQLAlchemy, psycopg, pydantic) are translated into these at the
boundary where they happen (`raise ... from exc`); each edge (HTTP, CLI, sync
batch) renders them in one place.
"""

from __future__ import annotations

from collections.abc import Mapping

from core.reasons import Reason, explain


class SocaError(Exception):
    """Base of every error the server raises on purpose."""

    code: str = "error"
    status: int = 400

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class NotFound(SocaError):
    """The object does not exist, or the caller may not know it exists."""

    code = "not_found"
    status = 404


class Forbidden(SocaError):
    """The caller is known but may not do this."""

    code = "forbidden"
    status = 403


class InvalidInput(SocaError):
    """The request is well-formed but its values break a rule."""

    code = "invalid_input"
    status = 422


class FieldErrors(InvalidInput):
    """Input that breaks per-field rules; `fields` maps each field name to a friendly message."""

    def __init__(self, fields: Mapping[str, str], *, code: str | None = None) -> None:
        self.fields = dict(fields)
        summary = "; ".join(f"{name}: {problem}" for name, problem in self.fields.items())
        super().__init__(f"Please check these fields — {summary}", code=code)


class Conflict(SocaError):
    """The request clashes with the current state."""

    code = "conflict"
    status = 409


class ConfigError(SocaError):
    """The server's configuration (database URL, files) is unusable."""

    code = "config_error"
    status = 500


class ReasonError(SocaError):
    """A refusal that carries one of the shared reason codes (seed error codes included)."""

    def __init__(
        self,
        reason: Reason,
        context: Mapping[str, object] | None = None,
        *,
        status: int = 409,
    ) -> None:
        super().__init__(explain(reason, context), code=reason.value, status=status)
        self.reason = reason
        self.context = dict(context or {})
