"""Apple's PassKit web service, as rules: which phone follows which pass, and what changed.

Each function answers one of Apple's endpoints (the router only translates
HTTP). Registration is an idempotent upsert keyed by (device, pass); a new
push token for a known pair replaces the old one. "What changed since tag T"
lists the device's passes whose update tag is above T: tags are handed out
in commit order (`server.db.wallet_outbox`), so no change is skipped.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.db.models import WalletPass, WalletRegistration


def register(session: Session, *, device_id: str, wallet_pass: WalletPass, push_token: str) -> bool:
    """Follow the pass from this device; True when new (201), False when known (200)."""
    found = session.scalar(
        select(WalletRegistration).where(
            WalletRegistration.device_library_id == device_id,
            WalletRegistration.wallet_pass_id == wallet_pass.id,
        )
    )
    if found is not None:
        found.push_token = push_token
        session.flush()
        return False
    try:
        with session.begin_nested():
            session.add(
                WalletRegistration(
                    device_library_id=device_id,
                    push_token=push_token,
                    wallet_pass_id=wallet_pass.id,
                )
            )
    except IntegrityError:  # the same phone asked twice at once: the other request made it
        return False
    return True


def unregister(session: Session, *, device_id: str, wallet_pass: WalletPass) -> bool:
    """Stop following; True when there was a registration."""
    result = session.execute(
        delete(WalletRegistration).where(
            WalletRegistration.device_library_id == device_id,
            WalletRegistration.wallet_pass_id == wallet_pass.id,
        )
    )
    return bool(getattr(result, "rowcount", 0))


@dataclass(frozen=True)
class Updated:
    """Serial numbers changed since a tag, and the tag to ask from next time."""

    serials: list[str]
    last_updated: int


def updated_since(session: Session, *, device_id: str, since: int | None) -> Updated | None:
    """The device's passes changed after `since` (all of them without it); None when none."""
    query = (
        select(WalletPass.id, WalletPass.tag)
        .join(WalletRegistration, WalletRegistration.wallet_pass_id == WalletPass.id)
        .where(WalletRegistration.device_library_id == device_id)
    )
    if since is not None:
        query = query.where(WalletPass.tag > since)
    rows = session.execute(query.order_by(WalletPass.tag, WalletPass.id)).all()
    if not rows:
        return None
    return Updated([str(row.id) for row in rows], max(row.tag for row in rows))


def push_tokens(session: Session, wallet_pass_id: uuid.UUID) -> list[str]:
    """The push tokens of every phone following this pass (each once)."""
    return list(
        session.scalars(
            select(WalletRegistration.push_token)
            .where(WalletRegistration.wallet_pass_id == wallet_pass_id)
            .distinct()
            .order_by(WalletRegistration.push_token)
        )
    )


def forget_token(session: Session, push_token: str) -> int:
    """APNs said 410 for this token: drop every registration using it; how many."""
    result = session.execute(
        delete(WalletRegistration).where(WalletRegistration.push_token == push_token)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def registration_count(session: Session, wallet_pass_id: uuid.UUID) -> int:
    """How many phones follow this pass."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(WalletRegistration)
            .where(WalletRegistration.wallet_pass_id == wallet_pass_id)
        )
        or 0
    )
