"""A small sync world: one event with tickets, a branch offer, door and branch devices, and
helpers to build ops exactly as a kiosk sends them."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from core.wire import (
    ManualCheckinPayload,
    Op,
    PackageActivatePayload,
    PassClaimPayload,
    PassStampPayload,
    PassUnstampPayload,
    PushRequest,
    ScanRefusedPayload,
    TicketScanPayload,
    build_op,
    code_digest,
)
from server.db.models import Branch, Device, Offer, Ticket, User
from server.domain import accounts, passport, tickets
from tests.server.factories import T0, make_event, make_user


@dataclass
class World:
    """Rows the sync tests share."""

    event_id: uuid.UUID
    users: list[User]
    tickets: list[Ticket]
    offer: Offer
    doors: list[Device]
    branches: list[Device]
    passport_qr: dict[uuid.UUID, str] = field(default_factory=dict)
    seqs: dict[uuid.UUID, int] = field(default_factory=dict)


def make_device(session: Session, role: str, **scope: uuid.UUID) -> Device:
    """A paired device with a random token."""
    device = Device(
        name=f"{role.title()} {secrets.token_hex(2)}",
        role=role,
        token_hash=accounts.hash_token(accounts.new_token()),
        **scope,
    )
    session.add(device)
    session.flush()
    return device


def build_world(
    session: Session, *, users: int = 3, doors: int = 3, branches: int = 2, max_stamps: int = 3
) -> World:
    """An enabled event, one ticket per user, an offer, and devices."""
    event = make_event(session, points=100)
    people = [make_user(session) for _ in range(users)]
    issued = [tickets.issue_ticket(session, event_id=event.id, user_id=p.id) for p in people]
    branch = Branch(name="Rum Shop", country_code="TT")
    session.add(branch)
    session.flush()
    offer = Offer(branch_id=branch.id, name="Fifth drink free", max_stamps=max_stamps)
    session.add(offer)
    session.flush()
    world = World(
        event_id=event.id,
        users=people,
        tickets=issued,
        offer=offer,
        doors=[make_device(session, "DOOR", event_id=event.id) for _ in range(doors)],
        branches=[make_device(session, "BRANCH", branch_id=branch.id) for _ in range(branches)],
    )
    for person in people:
        profile = passport.get_or_create_profile(session, user_id=person.id)
        assert profile.qr_token is not None
        world.passport_qr[person.id] = profile.qr_token
    return world


def _next_seq(world: World, device: Device) -> int:
    world.seqs[device.id] = world.seqs.get(device.id, 0) + 1
    return world.seqs[device.id]


def scan_op(
    world: World,
    device: Device,
    ticket: Ticket,
    minute: float,
    verdict: str | None = None,
    gate: str = "Gate 1",
) -> Op:
    """A `ticket.scan` op at T0 + minute."""
    when = T0 + timedelta(minutes=minute)
    return build_op(
        TicketScanPayload(qr=ticket.qr_token, event_id=world.event_id, gate=gate, verdict=verdict),  # type: ignore[arg-type]
        seq=_next_seq(world, device),
        occurred_at=when,
        device_clock=when,
    )


def checkin_op(world: World, device: Device, ticket: Ticket, minute: float) -> Op:
    """A `ticket.manual_checkin` op."""
    when = T0 + timedelta(minutes=minute)
    return build_op(
        ManualCheckinPayload(
            ticket_id=ticket.id, event_id=world.event_id, gate="Gate 1", note="phone died"
        ),
        seq=_next_seq(world, device),
        occurred_at=when,
        device_clock=when,
    )


def card_op(
    world: World, device: Device, user: User, kind: str, minute: float, verdict: str | None = None
) -> Op:
    """A `pass.stamp` or `pass.claim` op."""
    when = T0 + timedelta(minutes=minute)
    model = PassStampPayload if kind == "stamp" else PassClaimPayload
    return build_op(
        model(qr=world.passport_qr[user.id], offer_id=world.offer.id, verdict=verdict),  # type: ignore[arg-type]
        seq=_next_seq(world, device),
        occurred_at=when,
        device_clock=when,
    )


def unstamp_op(world: World, device: Device, user: User, undoes: uuid.UUID, minute: float) -> Op:
    """A `pass.unstamp` op withdrawing the stamp op `undoes`."""
    when = T0 + timedelta(minutes=minute)
    return build_op(
        PassUnstampPayload(qr=world.passport_qr[user.id], offer_id=world.offer.id, undoes=undoes),
        seq=_next_seq(world, device),
        occurred_at=when,
        device_clock=when,
    )


def refused_op(
    world: World, device: Device, code: str, minute: float, reason: str = "bad_signature"
) -> Op:
    """A `scan.refused` op: the door turned `code` away."""
    when = T0 + timedelta(minutes=minute)
    return build_op(
        ScanRefusedPayload(
            event_id=world.event_id,
            gate="Gate 1",
            reason=reason,  # type: ignore[arg-type]
            code_digest=code_digest(code),
        ),
        seq=_next_seq(world, device),
        occurred_at=when,
        device_clock=when,
    )


def at(op: Op, when: datetime) -> Op:
    """The op with both its times moved to `when`."""
    return op.model_copy(update={"occurred_at": when, "device_clock": when})


def activate_op(world: World, device: Device, qr: str, minute: float) -> Op:
    """A `package.activate` op."""
    when = T0 + timedelta(minutes=minute)
    return build_op(
        PackageActivatePayload(qr=qr),
        seq=_next_seq(world, device),
        occurred_at=when,
        device_clock=when,
    )


def request(ops: list[Op], device_time: datetime | None = None) -> PushRequest:
    """A push request."""
    return PushRequest(device_time=device_time or T0, ops=ops)
