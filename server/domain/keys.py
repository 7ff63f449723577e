"""QR signing keys: the active key signs, every non-retired key verifies."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.tokens import SigningKey as TokenSigningKey
from server.db.models import SigningKey, utcnow


def _newest(session: Session) -> SigningKey | None:
    return session.scalars(
        select(SigningKey)
        .where(SigningKey.retired_at.is_(None))
        .order_by(SigningKey.key_id.desc())
        .limit(1)
    ).first()


def current_signing_key(session: Session) -> TokenSigningKey:
    """The newest active key, created on first use (by whichever of racing requests wins)."""
    row = _newest(session)
    if row is None:
        try:
            with session.begin_nested():
                return rotate(session)
        except IntegrityError:  # a concurrent request made the first key: use that one
            row = _newest(session)
            if row is None:
                raise
    return TokenSigningKey.from_private_bytes(row.key_id, row.private_key)


def rotate(session: Session) -> TokenSigningKey:
    """Create a new key with the next key id; older keys keep verifying until retired."""
    highest = session.scalar(select(func.max(SigningKey.key_id))) or 0
    key = TokenSigningKey.generate(highest + 1)
    session.add(
        SigningKey(
            key_id=key.key_id, private_key=key.private_bytes(), public_key=key.public_bytes()
        )
    )
    session.flush()
    return key


def retire(session: Session, *, key_id: int) -> None:
    """Stop trusting a key: tokens it signed no longer verify anywhere after the next pull."""
    row = session.get(SigningKey, key_id)
    if row is not None and row.retired_at is None:
        row.retired_at = utcnow()
        session.flush()


def public_keys(session: Session) -> dict[int, bytes]:
    """Key id → raw public key for every key still trusted."""
    rows = session.execute(
        select(SigningKey.key_id, SigningKey.public_key).where(SigningKey.retired_at.is_(None))
    ).all()
    return dict(rows)
