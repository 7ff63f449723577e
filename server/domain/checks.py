"""Field checks every service shares: text and numbers against their declared limits.

Services collect per-field problems in a dict and raise one `FieldErrors`
naming them all, so a form can show each next to its field. The limits
themselves live in `core.limits`, declared once.
"""

from __future__ import annotations

from core import limits


def text(
    errors: dict[str, str],
    field: str,
    raw: str | None,
    limit: limits.Text,
    *,
    required: str | None = None,
) -> str | None:
    """`raw` trimmed, or None when blank; its problem in words goes to `errors[field]`.

    `required` is the message for a blank value (blank is fine without it).
    """
    value = (raw or "").strip()
    if not value:
        if required is not None:
            errors[field] = required
        return None
    problem = limits.text_problem(value, limit)
    if problem is not None:
        errors[field] = problem
    return value


def moment(errors: dict[str, str], field: str, value: object, limit: limits.When) -> None:
    """Note in `errors[field]` when `value` is not an aware date and time within `limit`."""
    if value is not None and not limit.contains(value):
        errors[field] = f"Use {limit.words()}."


def whole(errors: dict[str, str], field: str, value: object, limit: limits.Whole) -> None:
    """Note in `errors[field]` when `value` is not a whole number within `limit`."""
    if not limit.contains(value):
        errors[field] = f"Use {limit.words()}."
