"""The one exception base for core, each error carrying a machine `code`.

    CoreError                 code "core_error"
    ├── TierConfigError       code "tier_config"    a tier set or tier JSON is unusable
    └── InvalidPayloadError   code "invalid_op"     an op's payload does not match its type

Callers catch `CoreError` at their edge (an HTTP handler, a kiosk operation)
and render `code` and `str(error)`; nothing in core formats errors for people
beyond that one message.
"""

from __future__ import annotations


class CoreError(Exception):
    """Base of every error core raises on purpose; `code` is stable, the message is for people."""

    code: str = "core_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        """The human-readable message."""
        return str(self)


class TierConfigError(CoreError):
    """A tier set (point tiers or stamp-card tiers) or its JSON configuration is unusable.

    `problems` lists each problem with the ids of the tiers at fault (empty ids:
    the set as a whole), so a form can show each message beside its rows.
    """

    code = "tier_config"

    def __init__(
        self, message: str, *, problems: tuple[tuple[tuple[str, ...], str], ...] = ()
    ) -> None:
        super().__init__(message)
        self.problems = problems or (((), message),)


class InvalidPayloadError(CoreError):
    """An op's payload does not match what its type requires; `detail` says what is wrong."""

    code = "invalid_op"

    def __init__(self, detail: str) -> None:
        super().__init__(f"invalid op payload: {detail}")
        self.detail = detail
