"""The prize tablet's day: names on the card, the double-tap guard, undo, offline cardholder search."""

from __future__ import annotations

import uuid
from datetime import timedelta

from core import limits
from core.clock import FixedClock
from core.reasons import Reason
from core.wire import CardRow, OpResult, OpStatus, OpType
from kiosk.app import Kiosk
from kiosk.services.verdict import Colour
from tests.kiosk.world import NOW, World


def _card(world: World, index: int, stamps: int, completions: int = 0) -> CardRow:
    person = world.attendees[index]
    return CardRow(
        offer_id=world.offer.id,
        user_id=person.user_id,
        current_stamps=stamps,
        rewards_claimed=completions,
        last_activity_at=NOW - timedelta(days=2),
        holder_name=person.name,
        handle=person.handle,
    )


def _ack(branch: Kiosk, *op_ids: uuid.UUID | None) -> int:
    acked = [op_id for op_id in op_ids if op_id is not None]
    branch.outbox.mark_results(
        [OpResult(op_id=op_id, status=OpStatus.APPLIED) for op_id in acked],
        attempted=acked,
        now=NOW,
    )
    return branch.outbox.ack_counter()


def test_the_card_names_the_customer_the_offer_the_prize_and_the_next_tier(
    branch: Kiosk, world: World
) -> None:
    branch.cache.apply_page(world.page(cards=[_card(world, 0, 4, 4)]), ack_mark=0)
    verdict = branch.require_prize().look_up(world.attendees[0].passport_qr)
    card = verdict.card
    assert card is not None
    assert verdict.display_name == "Marcus Boyce" and verdict.handle == world.attendees[0].handle
    assert card.offer_name == world.offer.name and card.prize == world.offer.prize
    assert card.summary == "4 of 5 • 🥈 Silver Member • 4× completed"
    assert card.tier_ar == "🥈 عضو فضي"
    assert card.next_tier == "2 more for Gold Member"
    assert card.next_tier_ar == "2 إضافية للوصول إلى عضو ذهبي"


def test_a_second_stamp_moments_later_asks_first_and_writes_nothing(
    branch: Kiosk, world: World, clock: FixedClock
) -> None:
    prize = branch.require_prize()
    qr = world.attendees[1].passport_qr
    first = prize.add_stamp(qr)
    clock.advance(timedelta(seconds=1))
    second = prize.add_stamp(qr)
    assert first.colour is Colour.GREEN and first.stamps == 1
    assert second.needs_confirmation and second.colour is Colour.AMBER
    assert second.headline == "Add another stamp?" and second.op_id is None
    assert second.stamps == 1 and branch.outbox.pending_count() == 1
    confirmed = prize.add_stamp(qr, again=True)
    assert confirmed.stamps == 2 and confirmed.op_type is OpType.PASS_STAMP
    clock.advance(limits.STAMP_REPEAT_WINDOW)
    later = prize.add_stamp(qr)
    assert not later.needs_confirmation and later.stamps == 3
    # Another customer's card is not guarded by this one's stamp.
    assert not prize.add_stamp(world.attendees[2].passport_qr).needs_confirmation


def test_the_last_stamp_is_undone_by_a_pass_unstamp_naming_it(
    branch: Kiosk, world: World, clock: FixedClock
) -> None:
    branch.cache.apply_page(world.page(cards=[_card(world, 3, 2)]), ack_mark=0)
    prize = branch.require_prize()
    qr = world.attendees[3].passport_qr
    stamp = prize.add_stamp(qr)
    assert stamp.stamps == 3
    clock.advance(timedelta(seconds=20))
    undone = prize.undo_stamp(qr)
    assert undone.colour is Colour.GREEN and undone.op_type is OpType.PASS_UNSTAMP
    assert undone.stamps == 2 and undone.headline.startswith("Stamp undone")
    assert undone.op_id is not None
    record = branch.outbox.get_op(undone.op_id)
    assert record is not None
    assert record.payload["undoes"] == str(stamp.op_id) and record.payload["qr"] == qr
    assert prize.look_up(qr).stamps == 2
    again = prize.undo_stamp(qr)  # nothing left to undo: the earlier stamps are the server's
    assert again.colour is Colour.RED and again.reason is Reason.UNKNOWN_STAMP
    assert again.op_id is None and again.stamps == 2
    activity = prize.recent_activity()
    assert [entry.kind for entry in activity] == ["UNSTAMP", "STAMP"]


def test_undo_closes_after_its_window_and_after_a_prize(
    branch: Kiosk, world: World, clock: FixedClock
) -> None:
    branch.cache.apply_page(world.page(cards=[_card(world, 4, 4)]), ack_mark=0)
    prize = branch.require_prize()
    qr = world.attendees[4].passport_qr
    prize.add_stamp(qr)
    clock.advance(limits.STAMP_UNDO_WINDOW + timedelta(seconds=1))
    late = prize.undo_stamp(qr)
    assert late.reason is Reason.UNKNOWN_STAMP and late.stamps == 5
    branch.cache.apply_page(world.page(cards=[_card(world, 5, 4)]), ack_mark=0)
    other = world.attendees[5].passport_qr
    prize.add_stamp(other)
    assert prize.confirm_prize(other).colour is Colour.GREEN
    after_prize = prize.undo_stamp(other)
    assert after_prize.reason is Reason.UNKNOWN_STAMP and after_prize.card is not None
    assert after_prize.card.completions == 1


def test_an_undone_stamp_counts_once_whatever_the_pull_has_seen(
    branch: Kiosk, world: World, clock: FixedClock
) -> None:
    prize = branch.require_prize()
    qr = world.attendees[6].passport_qr
    stamp = prize.add_stamp(qr)
    # The stamp reaches the server and comes back in the pulled card; then it is undone.
    ack = _ack(branch, stamp.op_id)
    branch.cache.apply_page(world.page(cards=[_card(world, 6, 1)]), ack_mark=ack)
    clock.advance(timedelta(seconds=30))
    undo = prize.undo_stamp(qr)
    assert undo.stamps == 0 and prize.look_up(qr).stamps == 0
    ack = _ack(branch, undo.op_id)
    assert prize.look_up(qr).stamps == 0  # acked, not pulled yet: still taken off once
    branch.cache.apply_page(world.page(cards=[_card(world, 6, 0)]), ack_mark=ack)
    assert prize.look_up(qr).stamps == 0  # pulled: not taken off twice


def test_a_rejected_unstamp_withdraws_nothing(
    branch: Kiosk, world: World, clock: FixedClock
) -> None:
    prize = branch.require_prize()
    qr = world.attendees[7].passport_qr
    prize.add_stamp(qr)
    undo = prize.undo_stamp(qr)
    assert undo.op_id is not None and undo.stamps == 0
    branch.outbox.mark_results(
        [OpResult(op_id=undo.op_id, status=OpStatus.REJECTED, reason=Reason.UNKNOWN_STAMP)],
        attempted=[undo.op_id],
        now=NOW,
    )
    assert prize.look_up(qr).stamps == 1


def test_cardholders_are_found_offline_by_name_or_handle(branch: Kiosk, world: World) -> None:
    rows = [_card(world, index, index % 5, index) for index in range(6)]
    foreign = _card(world, 6, 1).model_copy(update={"offer_id": uuid.uuid4()})
    branch.cache.apply_page(world.page(cards=[*rows, foreign]), ack_mark=0)
    prize = branch.require_prize()
    by_name = prize.search("marc boy")
    assert [m.holder_name for m in by_name] == ["Marcus Boyce"]
    assert by_name[0].summary == "0 of 5" and by_name[0].offer_name == world.offer.name
    assert [m.holder_name for m in prize.search("zoe")] == ["Zoë Baptiste"]  # accents folded
    handle = world.attendees[2].handle
    assert [m.handle for m in prize.search(f"@{handle}")] == [handle]
    assert prize.search(world.attendees[6].name) == []  # a card of another offer
    assert prize.search("arcus") == [] and prize.search("   ") == [] and prize.search("%") == []
    found = prize.look_up_holder(by_name[0].user_id)
    assert found.display_name == "Marcus Boyce" and found.card is not None
    assert found.op_id is None and branch.outbox.pending_count() == 0
