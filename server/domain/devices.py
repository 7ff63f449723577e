"""Kiosk devices: one-time pairing codes, pairing, token rolls and revocation.

A pairing code is 8 characters from an alphabet with no look-alikes
(`23456789ABCDEFGHJKLMNPQRSTUVWXYZ`, 5 bits each: 40 bits), shown as
`XXXX-XXXX` so it can be typed at a gate. Only its SHA-256 is stored. It
expires `PAIRING_CODE_TTL` after it is made and works once: `pair` takes it
with a conditional UPDATE (`WHERE used_at IS NULL AND expires_at > now`), so
two kiosks racing with the same code cannot both pair. An unknown, expired
and used code are refused alike (`InvalidPairingCode`), so a guess learns
nothing; the HTTP edge rate-limits failed attempts per client address.

A device token is 256 random bits, shown once (on pairing and on a roll),
stored as SHA-256 in `devices.token_hash`. Rolling replaces the hash, so the
old token stops working at once; revoking sets `revoked_at`, after which the
token is refused on every call. Suspending a promoter revokes every device in
its scopes (its own, its events', its branches') and expires their unused
codes; while it is suspended, codes for its scopes do not pair.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from core import limits
from core.wire import DeviceRole, DeviceScope
from server.db.models import Branch, Device, Event, PairingCode, Promoter
from server.domain import accounts
from server.errors import Conflict, Forbidden, InvalidInput, NotFound, SocaError

PAIRING_CODE_TTL: Final = timedelta(minutes=10)
CODE_ALPHABET: Final = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH: Final = 8
_SCOPE_FIELD: Final = {
    DeviceRole.DOOR: ("event_id",),
    DeviceRole.BRANCH: ("branch_id",),
    DeviceRole.PROMOTER: ("promoter_id",),
    DeviceRole.HUB: ("event_id", "promoter_id"),  # a venue hub: one event, or a promoter's
}
_SCOPE_MODEL: Final = {"event_id": Event, "branch_id": Branch, "promoter_id": Promoter}
_SCOPE_NOUN: Final = {"event_id": "event", "branch_id": "branch", "promoter_id": "promoter"}


class InvalidPairingCode(SocaError):
    """The code is unknown, expired or already used (one answer for all three)."""

    code = "invalid_pairing_code"
    status = 400

    def __init__(self) -> None:
        super().__init__(
            "This pairing code is unknown, expired or already used; ask for a new code."
        )


@dataclass(frozen=True)
class IssuedCode:
    """A new pairing code as shown to a person, and its stored row."""

    code: str
    row: PairingCode

    @property
    def expires_at(self) -> datetime:
        """When the code stops working."""
        return self.row.expires_at


@dataclass(frozen=True)
class DeviceCredentials:
    """A device and its bearer token (shown once)."""

    device: Device
    token: str


def new_code() -> str:
    """A fresh pairing code, `XXXX-XXXX`."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def normalize_code(raw: str) -> str:
    """A typed code in canonical form: upper case, without dashes or spaces."""
    return "".join(char for char in raw.upper() if char not in "- \t")


def hash_code(raw: str) -> str:
    """The stored form of a pairing code (SHA-256 of its canonical form)."""
    return hashlib.sha256(normalize_code(raw).encode()).hexdigest()


def scope_of(device: Device | PairingCode) -> DeviceScope:
    """The id a device (or a code) is bound to, as the wire model."""
    return DeviceScope(
        event_id=device.event_id, branch_id=device.branch_id, promoter_id=device.promoter_id
    )


def _scope_id(role: DeviceRole, scope: DeviceScope) -> tuple[str, uuid.UUID]:
    fields = _SCOPE_FIELD[role]
    given = [name for name in _SCOPE_MODEL if getattr(scope, name) is not None]
    others = [name for name in given if name not in fields]
    if others:
        only = " or ".join(fields)
        raise InvalidInput(f"a {role} device takes only {only}, not {', '.join(others)}")
    if not given:
        raise InvalidInput(f"a {role} device needs {' or '.join(fields)}")
    if len(given) > 1:
        raise InvalidInput(f"a {role} device takes one of {', '.join(given)}, not both")
    field = given[0]
    value: uuid.UUID = getattr(scope, field)
    return field, value


def create_pairing_code(
    session: Session,
    *,
    role: DeviceRole,
    scope: DeviceScope,
    now: datetime,
    created_by_user_id: uuid.UUID | None = None,
) -> IssuedCode:
    """Make a one-time code for a device of `role` bound to the one id in `scope`."""
    field, value = _scope_id(role, scope)
    if session.get(_SCOPE_MODEL[field], value) is None:
        raise NotFound(f"There is no {_SCOPE_NOUN[field]} {value}.")
    code = new_code()
    row = PairingCode(
        code_hash=hash_code(code),
        role=role,
        created_by_user_id=created_by_user_id,
        created_at=now,
        expires_at=now + PAIRING_CODE_TTL,
        **{field: value},
    )
    session.add(row)
    session.flush()
    return IssuedCode(code=code, row=row)


def pair(session: Session, *, code: str, name: str, now: datetime) -> DeviceCredentials:
    """Use a pairing code once: create the device with the code's role and scope, and its token."""
    clean_name = name.strip()
    if not clean_name:
        raise InvalidInput("Please give the device a name.")
    problem = limits.text_problem(clean_name, limits.DEVICE_NAME)
    if problem is not None:
        raise InvalidInput(f"The device name cannot be used: {problem}")
    code_hash = hash_code(code)
    device_id = uuid.uuid4()
    taken = session.execute(
        update(PairingCode)
        .where(
            PairingCode.code_hash == code_hash,
            PairingCode.used_at.is_(None),
            PairingCode.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidPairingCode()
    row = session.scalars(
        select(PairingCode)
        .where(PairingCode.code_hash == code_hash)
        .execution_options(populate_existing=True)
    ).one()
    if _scope_suspended(session, row):
        raise Forbidden(
            "This code's promoter is suspended by Soca Passport HQ; it cannot pair devices.",
            code="promoter_suspended",
        )
    token = accounts.new_token()
    device = Device(
        id=device_id,
        name=clean_name,
        role=row.role,
        event_id=row.event_id,
        branch_id=row.branch_id,
        promoter_id=row.promoter_id,
        token_hash=accounts.hash_token(token),
        created_at=now,
    )
    session.add(device)
    session.flush()
    row.device_id = device.id
    session.flush()
    return DeviceCredentials(device=device, token=token)


def get(session: Session, *, device_id: uuid.UUID) -> Device:
    """The device with this id; NotFound if there is none."""
    device = session.get(Device, device_id)
    if device is None:
        raise NotFound(f"There is no device {device_id}.")
    return device


def get_by_token(session: Session, token: str) -> Device | None:
    """The device a token belongs to, revoked or not (the caller decides), or None."""
    return session.scalar(select(Device).where(Device.token_hash == accounts.hash_token(token)))


def revoke(session: Session, *, device_id: uuid.UUID, now: datetime) -> Device:
    """Revoke a device: its token is refused from now on; revoking again changes nothing."""
    device = session.get(Device, device_id, with_for_update=True, populate_existing=True)
    if device is None:
        raise NotFound(f"There is no device {device_id}.")
    if device.revoked_at is None:
        device.revoked_at = now
        session.flush()
    return device


def roll_token(session: Session, *, device_id: uuid.UUID) -> DeviceCredentials:
    """Give a live device a new token; the old one stops working at once."""
    device = session.get(Device, device_id, with_for_update=True, populate_existing=True)
    if device is None:
        raise NotFound(f"There is no device {device_id}.")
    if device.revoked_at is not None:
        raise Conflict("This device is revoked; pair a new one instead.", code="device_revoked")
    token = accounts.new_token()
    device.token_hash = accounts.hash_token(token)
    session.flush()
    return DeviceCredentials(device=device, token=token)


def _scope_promoter_id(session: Session, row: Device | PairingCode) -> uuid.UUID | None:
    if row.promoter_id is not None:
        return row.promoter_id
    if row.event_id is not None:
        return session.scalar(select(Event.promoter_id).where(Event.id == row.event_id))
    if row.branch_id is not None:
        return session.scalar(select(Branch.promoter_id).where(Branch.id == row.branch_id))
    return None


def _scope_suspended(session: Session, row: Device | PairingCode) -> bool:
    promoter_id = _scope_promoter_id(session, row)
    if promoter_id is None:
        return False
    return (
        session.scalar(select(Promoter.suspended_at).where(Promoter.id == promoter_id)) is not None
    )


def _in_promoter_scope(
    model: type[Device] | type[PairingCode], promoter_id: uuid.UUID
) -> ColumnElement[bool]:
    return or_(
        model.promoter_id == promoter_id,
        model.event_id.in_(select(Event.id).where(Event.promoter_id == promoter_id)),
        model.branch_id.in_(select(Branch.id).where(Branch.promoter_id == promoter_id)),
    )


def count_promoter_devices(session: Session, *, promoter_id: uuid.UUID) -> int:
    """How many live devices a promoter's scopes hold (what suspending it would revoke)."""
    found = session.scalars(
        select(Device.id).where(
            _in_promoter_scope(Device, promoter_id), Device.revoked_at.is_(None)
        )
    ).all()
    return len(found)


def revoke_promoter_devices(session: Session, *, promoter_id: uuid.UUID, now: datetime) -> int:
    """Revoke every live device in a promoter's scopes and expire their unused codes; the count."""
    session.execute(
        update(PairingCode)
        .where(
            _in_promoter_scope(PairingCode, promoter_id),
            PairingCode.used_at.is_(None),
            PairingCode.expires_at > now,
        )
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )
    revoked = session.scalars(
        update(Device)
        .where(_in_promoter_scope(Device, promoter_id), Device.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(Device.id)
    ).all()
    return len(revoked)
