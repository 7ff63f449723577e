"""Door decisions: verify, decide against the cache and this device's effects, commit, verdict."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.clock import FixedClock
from core.reasons import Reason
from core.tokens import SigningKey, TokenKind, issue_token
from core.wire import OpType, RevokedTokenRow, ScanRow, TicketRow, code_digest
from kiosk.app import Kiosk
from kiosk.errors import SettingsError
from kiosk.services.door import DoorService
from kiosk.services.verdict import Colour
from kiosk.store.outbox import SyncRecord
from tests.kiosk.world import NOW, World


def _ops(kiosk: Kiosk, *, refusals: bool = False) -> list[dict[str, object]]:
    """The outbox's ops in order; `scan.refused` records only when `refusals`."""
    rows = kiosk.outbox.db.execute("SELECT op_id, type, verdict, payload FROM ops ORDER BY seq")
    ops = [dict(zip(("op_id", "type", "verdict", "payload"), row, strict=True)) for row in rows]
    return [op for op in ops if refusals or op["type"] != "scan.refused"]


def _refusals(kiosk: Kiosk) -> list[tuple[str, str]]:
    """(reason, code digest) of every `scan.refused` op, in order."""
    ops = [op for op in _ops(kiosk, refusals=True) if op["type"] == "scan.refused"]
    payloads = [json.loads(str(op["payload"])) for op in ops]
    return [(payload["reason"], payload["code_digest"]) for payload in payloads]


def test_first_scan_admits_green_and_records_the_op_and_the_checkin(
    door: Kiosk, world: World
) -> None:
    attendee = world.attendees[0]
    verdict = door.require_door().scan(attendee.ticket_qr)
    assert verdict.colour is Colour.GREEN and verdict.reason is None
    assert verdict.display_name == attendee.name and verdict.handle == attendee.handle
    assert verdict.op_type is OpType.TICKET_SCAN and verdict.op_id is not None
    ops = _ops(door)
    assert len(ops) == 1 and ops[0]["op_id"] == str(verdict.op_id) and ops[0]["verdict"] == "green"
    checkin = door.outbox.checkin(attendee.ticket_id)
    assert checkin is not None and checkin.op_id == verdict.op_id
    assert verdict.line() == {
        "op_id": str(verdict.op_id),
        "type": "ticket.scan",
        "verdict": "green",
        "reason": None,
    }


def test_second_scan_is_an_amber_reentry_recorded_as_a_fact(
    door: Kiosk, world: World, clock: FixedClock
) -> None:
    service = door.require_door()
    first = service.scan(world.attendees[0].ticket_qr)
    clock.advance(timedelta(minutes=20))
    again = service.scan(world.attendees[0].ticket_qr)
    assert again.colour is Colour.AMBER and again.reason is Reason.ALREADY_SCANNED
    assert again.first_gate == "Main gate" and again.first_scanned_at is not None
    assert again.explanation is not None
    assert "Main gate by this device" in again.explanation
    assert again.op_id is not None and again.op_id != first.op_id
    assert [op["verdict"] for op in _ops(door)] == ["green", "amber"]


def test_a_ticket_admitted_elsewhere_per_the_last_pull_is_amber_naming_the_gate(
    door: Kiosk, world: World
) -> None:
    attendee = world.attendees[1]
    row = world.ticket_rows()[1].model_copy(
        update={
            "checked_in_at": NOW,
            "checked_in_gate": "North gate",
            "checked_in_device": str(uuid.uuid4()),
        }
    )
    door.cache.apply_page(world.page(tickets=[row]), ack_mark=0)
    verdict = door.require_door().scan(attendee.ticket_qr)
    assert verdict.colour is Colour.AMBER and verdict.reason is Reason.ALREADY_SCANNED
    assert verdict.explanation is not None
    assert "North gate by another device" in verdict.explanation


def test_a_pulled_admitting_scan_row_also_makes_a_reentry(door: Kiosk, world: World) -> None:
    attendee = world.attendees[2]
    scan = ScanRow(
        id=uuid.uuid4(),
        event_id=world.event.id,
        ticket_id=attendee.ticket_id,
        gate="VIP gate",
        scanned_at=NOW,
        outcome="ADMITTED",
    )
    door.cache.apply_page(world.page(scans=[scan]), ack_mark=0)
    verdict = door.require_door().scan(attendee.ticket_qr)
    assert verdict.colour is Colour.AMBER and verdict.first_gate == "VIP gate"


def test_ticket_for_another_event_is_red_wrong_event_and_records_only_the_refusal(
    door: Kiosk, world: World
) -> None:
    verdict = door.require_door().scan(world.foreign_ticket_qr)
    assert verdict.colour is Colour.RED and verdict.reason is Reason.WRONG_EVENT
    assert verdict.explanation is not None and "Miami Carnival" in verdict.explanation
    assert verdict.op_type is OpType.SCAN_REFUSED and _ops(door) == []
    assert _refusals(door) == [("wrong_event", code_digest(world.foreign_ticket_qr))]
    assert verdict.line()["type"] == "scan.refused" and verdict.line()["verdict"] == "red"


def test_revoked_ticket_row_is_red(door: Kiosk, world: World) -> None:
    row = world.ticket_rows()[3].model_copy(update={"revoked": True})
    door.cache.apply_page(world.page(tickets=[row]), ack_mark=0)
    verdict = door.require_door().scan(world.attendees[3].ticket_qr)
    assert verdict.colour is Colour.RED and verdict.reason is Reason.REVOKED
    assert verdict.display_name == world.attendees[3].name  # whose ticket it is
    assert world.attendees[3].name in verdict.headline
    assert _ops(door) == [] and [r for r, _ in _refusals(door)] == ["revoked"]


def test_revocation_list_refuses_tokens_issued_before_the_cut(door: Kiosk, world: World) -> None:
    attendee = world.attendees[4]
    revocation = RevokedTokenRow(
        kind=TokenKind.TICKET,
        subject_id=attendee.ticket_id,
        issued_before=NOW + timedelta(seconds=1),
        revoked_at=NOW,
    )
    door.cache.apply_page(world.page(revoked_tokens=[revocation]), ack_mark=0)
    verdict = door.require_door().scan(attendee.ticket_qr)
    assert verdict.colour is Colour.RED and verdict.reason is Reason.REVOKED
    reissued = issue_token(
        world.key, TokenKind.TICKET, attendee.ticket_id, world.event.id, NOW + timedelta(hours=1)
    )
    assert door.require_door().scan(reissued).colour is Colour.GREEN


def test_passport_code_at_the_door_is_red_wrong_kind(door: Kiosk, world: World) -> None:
    verdict = door.require_door().scan(world.attendees[0].passport_qr)
    assert verdict.colour is Colour.RED and verdict.reason is Reason.WRONG_KIND
    assert verdict.explanation == "Show your ticket — search by name instead."
    assert verdict.open_search


def test_forged_and_foreign_key_tokens_are_red_with_their_reason(door: Kiosk, world: World) -> None:
    attendee = world.attendees[0]
    stranger = SigningKey.generate(world.key.key_id)  # same key id, other key: forged
    forged = issue_token(stranger, TokenKind.TICKET, attendee.ticket_id, world.event.id, NOW)
    unknown = issue_token(SigningKey.generate(999), TokenKind.TICKET, attendee.ticket_id)
    service = door.require_door()
    assert service.scan(forged).reason is Reason.BAD_SIGNATURE
    assert service.scan(unknown).reason is Reason.UNKNOWN_KEY
    flipped = attendee.ticket_qr[:-1] + ("1" if attendee.ticket_qr[-1] != "1" else "2")
    assert service.scan(flipped).colour is Colour.RED
    assert _ops(door) == []
    assert [r for r, _ in _refusals(door)][:2] == ["bad_signature", "unknown_key"]
    assert len(_refusals(door)) == 3


def test_garbage_and_huge_codes_are_red_bad_format(door: Kiosk) -> None:
    service = door.require_door()
    for code in ("", "hello", "1" * 250, "9" * 5000, "x" * 5000, None, 12345, b"\xff\xfe", "🎉"):
        verdict = service.scan(code)
        assert verdict.colour is Colour.RED
        assert verdict.reason in (Reason.BAD_FORMAT, Reason.BAD_SIGNATURE, Reason.UNKNOWN_KEY)
    assert _ops(door) == []
    # Each refusal is recorded by its digest (an empty scan and a non-text value are not codes).
    refusals = _refusals(door)
    assert len(refusals) == 6
    assert ("bad_format", code_digest("hello")) in refusals


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(code=st.one_of(st.text(max_size=6000), st.binary(max_size=400), st.integers()))
def test_hostile_input_gives_a_red_verdict_never_an_exception(door: Kiosk, code: object) -> None:
    verdict = door.require_door().scan(code)
    assert verdict.colour is Colour.RED and verdict.reason is not None
    assert verdict.explanation


def test_signed_ticket_missing_from_the_cache_is_admitted_with_a_note(
    door: Kiosk, world: World
) -> None:
    late = issue_token(world.key, TokenKind.TICKET, uuid.uuid4(), world.event.id, NOW)
    verdict = door.require_door().scan(late)
    assert verdict.colour is Colour.GREEN and verdict.note is not None
    assert "not yet on this device's list" in verdict.note
    assert door.require_door().scan(late).colour is Colour.AMBER


def test_first_admission_to_a_passport_event_earns_its_points_and_shows_the_tier(
    door: Kiosk, world: World
) -> None:
    attendee = world.attendees[5]
    row = world.passport_rows()[5].model_copy(update={"total_points": 280})
    door.cache.apply_page(world.page(passports=[row]), ack_mark=0)
    verdict = door.require_door().scan(attendee.ticket_qr)
    assert verdict.points_earned == 50 and verdict.points == 330
    assert verdict.tier == "SILVER" and verdict.previous_tier == "BRONZE" and verdict.tier_changed
    again = door.require_door().scan(attendee.ticket_qr)
    assert again.points == 330 and again.points_earned == 0


def test_manual_checkin_admits_then_reenters(door: Kiosk, world: World) -> None:
    attendee = world.attendees[6]
    service = door.require_door()
    first = service.check_in(attendee.ticket_id, note="QR cracked screen")
    assert first.colour is Colour.GREEN and first.op_type is OpType.TICKET_MANUAL_CHECKIN
    payload = door.outbox.get_op(first.op_id or uuid.uuid4())
    assert payload is not None and payload.payload["note"] == "QR cracked screen"
    assert payload.payload["verdict"] == "green"
    assert service.scan(attendee.ticket_qr).colour is Colour.AMBER
    assert service.check_in(attendee.ticket_id).colour is Colour.AMBER
    assert service.check_in(uuid.uuid4()).reason is Reason.UNKNOWN_TICKET


def test_paid_package_activates_once_then_amber_and_unpaid_is_red(
    door: Kiosk, world: World
) -> None:
    paid, pending, _cash = world.purchases
    service = door.require_door()
    first = service.scan(world.purchase_qrs[paid.id])
    assert first.colour is Colour.GREEN and first.op_type is OpType.PACKAGE_ACTIVATE
    again = service.scan(world.purchase_qrs[paid.id])
    assert again.colour is Colour.AMBER and again.reason is Reason.ALREADY_ACTIVATED
    assert again.op_id is None
    refused = service.scan(world.purchase_qrs[pending.id])
    assert refused.colour is Colour.RED and refused.reason is Reason.PURCHASE_NOT_PAID
    assert [op["type"] for op in _ops(door)] == ["package.activate"]
    assert [r for r, _ in _refusals(door)] == ["purchase_not_paid"]


def test_pay_at_the_door_takes_the_cash_then_hands_over_the_bracelets(
    door: Kiosk, world: World
) -> None:
    cash = world.purchases[2]
    service = door.require_door()
    first = service.scan(world.purchase_qrs[cash.id])
    assert first.colour is Colour.GREEN and first.op_type is OpType.PACKAGE_ACTIVATE
    assert first.headline == "Early Bird VIP Package: take 95.00 cash, then hand over the bracelets"
    again = service.scan(world.purchase_qrs[cash.id])
    assert again.colour is Colour.AMBER and again.reason is Reason.ALREADY_ACTIVATED


def test_ops_carry_corrected_time_raw_clock_and_increasing_seq(
    door: Kiosk, world: World, clock: FixedClock
) -> None:
    door.outbox.set_clock(timedelta(seconds=-90), measured_at=NOW)
    service = door.require_door()
    for attendee in world.attendees[:3]:
        service.scan(attendee.ticket_qr)
        clock.advance(timedelta(seconds=5))
    ops = door.outbox.pending_ops(10)
    assert [op.seq for op in ops] == sorted({op.seq for op in ops}) and len(ops) == 3
    for op in ops:
        assert op.occurred_at == op.device_clock - timedelta(seconds=90)
    assert ops[0].device_clock == NOW + timedelta(hours=1)


def test_ticket_rows_without_a_holder_still_admit(door: Kiosk, world: World) -> None:
    ticket_id = uuid.uuid4()
    row = TicketRow(id=ticket_id, event_id=world.event.id)
    door.cache.apply_page(world.page(tickets=[row]), ack_mark=0)
    qr = issue_token(world.key, TokenKind.TICKET, ticket_id, world.event.id, NOW)
    verdict = door.require_door().scan(qr)
    assert verdict.colour is Colour.GREEN and verdict.headline == "Welcome!"


def test_a_typed_note_loses_the_characters_the_server_refuses(door: Kiosk, world: World) -> None:
    attendee = world.attendees[7]
    verdict = door.require_door().check_in(attendee.ticket_id, note="Cracked\x00 screen\n" * 100)
    stored = door.outbox.get_op(verdict.op_id or uuid.uuid4())
    assert stored is not None
    note = stored.payload["note"]
    assert isinstance(note, str) and "\x00" not in note and len(note) == 500
    assert note.startswith("Cracked screen\nCracked")


def test_a_door_named_for_a_gate_the_server_would_refuse_does_not_start(
    door: Kiosk, world: World
) -> None:
    service = door.require_door()
    with pytest.raises(SettingsError, match="gate name"):
        DoorService(
            outbox=service.outbox,
            cache=service.cache,
            event_id=world.event.id,
            gate="G" * 61,
            device_id=None,
            clock=service.clock,
        )


def test_a_printed_ticket_code_in_any_case_checks_its_ticket_in_by_hand(
    door: Kiosk, world: World
) -> None:
    attendee = world.attendees[5]
    service = door.require_door()
    typed = " " + attendee.ticket_code.lower().replace("-", "") + "\n"
    first = service.scan(typed)
    assert first.colour is Colour.GREEN and first.display_name == attendee.name
    assert first.op_type is OpType.TICKET_MANUAL_CHECKIN
    op = door.outbox.get_op(first.op_id or uuid.uuid4())
    assert op is not None and op.payload["ticket_id"] == str(attendee.ticket_id)
    assert op.payload["note"] == f"ticket code {attendee.ticket_code}"
    assert service.scan(attendee.ticket_code).colour is Colour.AMBER
    assert service.scan(attendee.ticket_qr).colour is Colour.AMBER  # the same ticket


def test_a_ticket_code_not_on_the_list_is_red_points_to_search_and_is_recorded(
    door: Kiosk,
) -> None:
    verdict = door.require_door().scan("zzzz-2222")
    assert verdict.colour is Colour.RED and verdict.reason is Reason.UNKNOWN_TICKET
    assert verdict.open_search and verdict.explanation is not None
    assert "ZZZZ-2222" in verdict.explanation and "search by name" in verdict.explanation
    assert _refusals(door) == [("unknown_ticket", code_digest("zzzz-2222"))]


def test_a_revoked_kiosk_admits_nobody_and_records_nothing(door: Kiosk, world: World) -> None:
    door.outbox.set_sync_record(SyncRecord(revoked=True))
    service = door.require_door()
    for verdict in (
        service.scan(world.attendees[0].ticket_qr),
        service.check_in(world.attendees[1].ticket_id),
    ):
        assert verdict.colour is Colour.RED and verdict.reason is Reason.REVOKED
        assert verdict.headline == "This kiosk has been revoked" and verdict.op_id is None
    assert _ops(door, refusals=True) == []
