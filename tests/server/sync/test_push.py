"""Push: every op gets a result with a reason; replays return the first result; late ops
re-decide the ticket or card they touch."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.reasons import Reason
from core.tokens import SigningKey, TokenKind, issue_token
from core.wire import Op, OpStatus, PushResponse
from server.db.models import PassportStamp, SyncOp, TicketScan
from server.db.models.enums import PackageItemType, PackageStatus
from server.domain import cards, keys, packages, passport, payments, purchases, tickets
from server.domain.packages import ItemSpec
from server.settings import ServerSettings
from server.sync.push import push
from tests.server.factories import T0
from tests.server.sync.world import (
    World,
    activate_op,
    build_world,
    card_op,
    checkin_op,
    request,
    scan_op,
)

SETTINGS = ServerSettings(database_url="sqlite://")


def send(session: Session, device: object, ops: list[Op], **kwargs: object) -> PushResponse:
    return push(
        session,
        device=device,
        request=request(ops, **kwargs),  # type: ignore[arg-type]
        now=T0 + timedelta(hours=6),
        settings=SETTINGS,
    )


@pytest.fixture
def world(session: Session) -> World:
    return build_world(session)


def test_first_scan_admits_and_stamps_the_passport(session: Session, world: World) -> None:
    op = scan_op(world, world.doors[0], world.tickets[0], 1)
    result = send(session, world.doors[0], [op]).results[0]
    assert (result.status, result.reason) == (OpStatus.APPLIED, None)
    assert result.effects["stamp_id"]
    profile = passport.get_profile(session, user_id=world.users[0].id)
    assert profile is not None and profile.total_points == 100
    scan = session.scalar(select(TicketScan).where(TicketScan.op_id == op.op_id))
    assert scan is not None and scan.outcome == "ADMITTED" and scan.passport_stamp_id


def test_rescan_on_same_device_is_a_duplicate_saying_when_and_where(
    session: Session, world: World
) -> None:
    door = world.doors[0]
    send(session, door, [scan_op(world, door, world.tickets[0], 1, gate="Gate 2")])
    again = send(session, door, [scan_op(world, door, world.tickets[0], 30)]).results[0]
    assert (again.status, again.reason) == (OpStatus.DUPLICATE, Reason.ALREADY_SCANNED)
    assert again.message == "Already scanned 21:01 UTC on 14 Feb at Gate 2."


def test_offline_devices_that_both_admitted_are_a_conflict(session: Session, world: World) -> None:
    first, second, third = world.doors
    send(session, first, [scan_op(world, first, world.tickets[0], 1)])
    green = send(session, second, [scan_op(world, second, world.tickets[0], 2, "green")])
    amber = send(session, third, [scan_op(world, third, world.tickets[0], 3, "amber")])
    assert green.results[0].status is OpStatus.CONFLICT
    assert amber.results[0].status is OpStatus.DUPLICATE


def test_replay_returns_the_first_result_and_changes_nothing(
    session: Session, world: World
) -> None:
    door = world.doors[0]
    ops = [scan_op(world, door, world.tickets[0], 1), scan_op(world, door, world.tickets[0], 2)]
    first = send(session, door, ops)
    counts = (
        session.scalar(select(func.count()).select_from(SyncOp)),
        session.scalar(select(func.count()).select_from(TicketScan)),
    )
    again = send(session, door, [*ops, ops[0]])
    assert again.results[:2] == first.results and again.results[2] == first.results[0]
    assert counts == (
        session.scalar(select(func.count()).select_from(SyncOp)),
        session.scalar(select(func.count()).select_from(TicketScan)),
    )


def test_late_earlier_scan_takes_the_stamp_over(session: Session, world: World) -> None:
    early, late = world.doors[0], world.doors[1]
    later_op = scan_op(world, late, world.tickets[0], 50)
    send(session, late, [later_op])
    earlier_op = scan_op(world, early, world.tickets[0], 5)
    result = send(session, early, [earlier_op]).results[0]
    assert result.status is OpStatus.APPLIED
    demoted = session.get(SyncOp, later_op.op_id)
    assert demoted is not None and demoted.status == "conflict"
    assert demoted.first_status == "applied"
    assert demoted.blocked_by_op_id == earlier_op.op_id
    stamp = session.scalar(select(PassportStamp).where(PassportStamp.user_id == world.users[0].id))
    assert stamp is not None and stamp.created_at == T0 + timedelta(minutes=5)
    winner = session.scalar(select(TicketScan).where(TicketScan.op_id == earlier_op.op_id))
    loser = session.scalar(select(TicketScan).where(TicketScan.op_id == later_op.op_id))
    assert winner is not None and loser is not None
    assert (winner.outcome, loser.outcome) == ("ADMITTED", "REENTRY")
    assert winner.passport_stamp_id == stamp.id and loser.passport_stamp_id is None
    profile = passport.get_profile(session, user_id=world.users[0].id)
    assert profile is not None and profile.total_points == 100


def test_static_refusals_are_rejected_with_their_reason(session: Session, world: World) -> None:
    door, branch = world.doors[0], world.branches[0]
    forged = issue_token(
        SigningKey.generate(keys.current_signing_key(session).key_id),
        TokenKind.TICKET,
        world.tickets[0].id,
        world.event_id,
    )
    bad_sig = scan_op(world, door, world.tickets[0], 1)
    bad_sig = bad_sig.model_copy(update={"payload": {**bad_sig.payload, "qr": forged}})
    garbage = scan_op(world, door, world.tickets[0], 2)
    garbage = garbage.model_copy(update={"payload": {**garbage.payload, "qr": "HELLO" * 1000}})
    malformed = scan_op(world, door, world.tickets[1], 3)
    malformed = malformed.model_copy(update={"payload": {"qr": 5}})
    tickets.revoke_ticket(session, ticket_id=world.tickets[2].id, now=T0)
    revoked = scan_op(world, door, world.tickets[2], 4)
    wrong_role = card_op(world, door, world.users[0], "stamp", 5)
    results = send(session, door, [bad_sig, garbage, malformed, revoked, wrong_role]).results
    assert [(r.status, r.reason) for r in results] == [
        (OpStatus.REJECTED, Reason.BAD_SIGNATURE),
        (OpStatus.REJECTED, Reason.BAD_FORMAT),
        (OpStatus.REJECTED, Reason.INVALID_OP),
        (OpStatus.REJECTED, Reason.REVOKED),
        (OpStatus.REJECTED, Reason.OUT_OF_SCOPE),
    ]
    assert all(r.message for r in results)
    refused_scans = session.scalar(
        select(func.count()).select_from(TicketScan).where(TicketScan.outcome == "REFUSED")
    )
    assert refused_scans == 4
    assert (
        send(session, branch, [scan_op(world, branch, world.tickets[0], 6)]).results[0].reason
        is Reason.OUT_OF_SCOPE
    )


def test_manual_checkin_admits_like_a_scan(session: Session, world: World) -> None:
    door = world.doors[0]
    result = send(session, door, [checkin_op(world, door, world.tickets[1], 1)]).results[0]
    assert result.status is OpStatus.APPLIED
    scan = session.scalar(select(TicketScan).where(TicketScan.ticket_id == world.tickets[1].id))
    assert scan is not None and scan.method == "MANUAL" and scan.note == "phone died"


def test_card_stamps_and_claim_through_push(session: Session, world: World) -> None:
    branch, user = world.branches[0], world.users[0]
    ops = [card_op(world, branch, user, "stamp", m) for m in (1, 2, 3)]
    ops.append(card_op(world, branch, user, "claim", 4))
    ops.append(card_op(world, branch, user, "stamp", 5))
    results = send(session, branch, ops).results
    assert all(r.status is OpStatus.APPLIED for r in results)
    assert results[3].effects == {"current_stamps": 0, "rewards_claimed": 1}
    card = cards.get_pass(session, offer_id=world.offer.id, user_id=user.id)
    assert card is not None and (card.current_stamps, card.rewards_claimed) == (1, 1)


def test_two_tablets_confirming_one_prize_offline_conflict(session: Session, world: World) -> None:
    one, two = world.branches
    user = world.users[0]
    send(session, one, [card_op(world, one, user, "stamp", m) for m in (1, 2, 3)])
    first = send(session, one, [card_op(world, one, user, "claim", 10)]).results[0]
    second = send(session, two, [card_op(world, two, user, "claim", 11, "green")]).results[0]
    assert first.status is OpStatus.APPLIED
    assert (second.status, second.reason) == (OpStatus.CONFLICT, Reason.NOT_ENOUGH_STAMPS)
    card = cards.get_pass(session, offer_id=world.offer.id, user_id=user.id)
    assert card is not None and card.rewards_claimed == 1


def test_stamp_from_another_branch_is_refused(session: Session, world: World) -> None:
    other_world = build_world(session, users=1, doors=0, branches=1)
    stranger = other_world.branches[0]
    op = card_op(world, stranger, world.users[0], "stamp", 1)
    assert send(session, stranger, [op]).results[0].reason is Reason.WRONG_BRANCH


def test_package_activates_once(session: Session, world: World) -> None:
    package = packages.create(
        session,
        event_id=world.event_id,
        name="VIP",
        price=Decimal("80.00"),
        status=PackageStatus.ACTIVE,
        items=[ItemSpec("Bracelet", PackageItemType.BRACELET, quantity=2)],
    )
    bought = purchases.purchase(
        session,
        package_id=package.id,
        user_id=world.users[0].id,
        now=T0 - timedelta(days=3),
        signing_key=keys.current_signing_key(session),
    )
    assert bought.qr_token is not None
    one, two = world.doors[0], world.doors[1]
    first = send(session, one, [activate_op(world, one, bought.qr_token, 1)]).results[0]
    second = send(session, two, [activate_op(world, two, bought.qr_token, 2)]).results[0]
    assert first.status is OpStatus.APPLIED and len(first.effects["bracelet_ids"]) == 2
    assert second.reason is Reason.ALREADY_ACTIVATED
    assert bought.activated_at == T0 + timedelta(minutes=1)


def test_a_pay_at_the_door_purchase_is_paid_when_the_door_activates_it(
    session: Session, world: World
) -> None:
    package = packages.create(
        session, event_id=world.event_id, name="VIP", price=Decimal("80"), status="ACTIVE"
    )
    bought = purchases.purchase(
        session,
        package_id=package.id,
        user_id=world.users[0].id,
        now=T0 - timedelta(days=3),
        signing_key=keys.current_signing_key(session),
        provider=payments.provider("cash"),
    )
    assert bought.qr_token is not None and bought.status == "PENDING"
    door = world.doors[0]
    result = send(session, door, [activate_op(world, door, bought.qr_token, 1)]).results[0]
    assert result.status is OpStatus.APPLIED
    assert (bought.status, bought.paid_at) == ("PAID", T0 + timedelta(minutes=1))
    assert bought.activated_at == T0 + timedelta(minutes=1)


def test_clock_offset_is_measured_from_device_time(session: Session, world: World) -> None:
    door = world.doors[0]
    send(session, door, [], device_time=T0 + timedelta(hours=6, minutes=-5))
    assert door.clock_offset_ms == 5 * 60 * 1000


def test_unknown_ticket_is_logged_and_rejected(session: Session, world: World) -> None:
    door = world.doors[0]
    ghost = issue_token(
        keys.current_signing_key(session), TokenKind.TICKET, uuid.uuid4(), world.event_id
    )
    op = scan_op(world, door, world.tickets[0], 1)
    op = op.model_copy(update={"payload": {**op.payload, "qr": ghost}})
    result = send(session, door, [op]).results[0]
    assert (result.status, result.reason) == (OpStatus.REJECTED, Reason.UNKNOWN_TICKET)
    assert session.get(SyncOp, op.op_id) is not None


def test_the_issued_token_of_a_retired_key_is_refused(session: Session, world: World) -> None:
    """The stored-token shortcut still requires a trusted key."""
    door = world.doors[0]
    old_key = keys.current_signing_key(session)
    keys.rotate(session)
    keys.retire(session, key_id=old_key.key_id)
    result = send(session, door, [scan_op(world, door, world.tickets[0], 1)]).results[0]
    assert (result.status, result.reason) == (OpStatus.REJECTED, Reason.UNKNOWN_KEY)


def test_a_genuine_token_other_than_the_stored_one_is_verified_by_signature(
    session: Session, world: World
) -> None:
    """A token we signed but no longer store (say, reissued) is checked the full way."""
    door, ticket = world.doors[0], world.tickets[0]
    reissued = issue_token(
        keys.current_signing_key(session), TokenKind.TICKET, ticket.id, world.event_id, T0
    )
    assert reissued != ticket.qr_token
    op = scan_op(world, door, ticket, 1)
    op = op.model_copy(update={"payload": {**op.payload, "qr": reissued}})
    tampered = reissued[:-1] + ("0" if reissued[-1] != "0" else "1")
    other = scan_op(world, door, world.tickets[1], 2)
    other = other.model_copy(update={"payload": {**other.payload, "qr": tampered}})
    results = send(session, door, [op, other]).results
    assert [(r.status, r.reason) for r in results] == [
        (OpStatus.APPLIED, None),
        (OpStatus.REJECTED, Reason.BAD_SIGNATURE),
    ]


def test_a_static_refusal_keeps_the_details_of_its_message(session: Session, world: World) -> None:
    door = world.doors[0]
    tickets.revoke_ticket(session, ticket_id=world.tickets[0].id, now=T0)
    op = scan_op(world, door, world.tickets[0], 1)
    result = send(session, door, [op]).results[0]
    stored = session.get(SyncOp, op.op_id)
    assert result.reason is Reason.REVOKED and result.message
    assert "  " not in result.message and "ticket" in result.message
    assert stored is not None and stored.message == result.message
