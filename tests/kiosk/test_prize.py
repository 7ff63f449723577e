"""Prize mode: look up a card, stamp it, confirm the prize only when full; the card rule is core's."""

from __future__ import annotations

import uuid
from datetime import timedelta

from core.clock import FixedClock
from core.reasons import Reason
from core.tiers import DEFAULT_CARD_TIERS, card_tiers_to_config
from core.wire import CardRow, OfferRow, OpResult, OpStatus, OpType, PassportRow
from kiosk.app import Kiosk
from kiosk.services.verdict import Colour
from tests.kiosk.world import NOW, World


def _card(world: World, index: int, stamps: int, completions: int) -> CardRow:
    return CardRow(
        offer_id=world.offer.id,
        user_id=world.attendees[index].user_id,
        current_stamps=stamps,
        rewards_claimed=completions,
        last_activity_at=NOW - timedelta(days=2),
    )


def test_look_up_shows_the_card_summary_and_writes_nothing(branch: Kiosk, world: World) -> None:
    branch.cache.apply_page(world.page(cards=[_card(world, 0, 4, 7)]), ack_mark=0)
    verdict = branch.require_prize().look_up(world.attendees[0].passport_qr)
    assert verdict.colour is Colour.GREEN and verdict.card is not None
    assert verdict.card.summary == "4 of 5 • 🥇 Gold Member • 7× completed"
    assert verdict.headline == verdict.card.summary and verdict.stamps == 4
    assert verdict.handle == world.attendees[0].handle and verdict.op_id is None
    assert branch.outbox.pending_count() == 0


def test_stamps_fill_the_card_then_a_stamp_on_a_full_card_is_red(
    branch: Kiosk, world: World, clock: FixedClock
) -> None:
    prize = branch.require_prize()
    qr = world.attendees[1].passport_qr
    for expected in range(1, 6):
        verdict = prize.add_stamp(qr)
        assert verdict.colour is Colour.GREEN and verdict.stamps == expected
        assert verdict.op_type is OpType.PASS_STAMP
        clock.advance(timedelta(minutes=1))
    assert verdict.headline == "Stamp added: prize ready!"
    full = prize.add_stamp(qr)
    assert full.colour is Colour.RED and full.reason is Reason.CARD_FULL and full.op_id is None
    assert full.explanation == "The card is full (5 of 5): confirm the prize first."
    assert branch.outbox.pending_count() == 5


def test_prize_is_refused_until_the_card_is_full(branch: Kiosk, world: World) -> None:
    branch.cache.apply_page(world.page(cards=[_card(world, 2, 3, 0)]), ack_mark=0)
    verdict = branch.require_prize().confirm_prize(world.attendees[2].passport_qr)
    assert verdict.colour is Colour.RED and verdict.reason is Reason.NOT_ENOUGH_STAMPS
    assert verdict.explanation == "Only 3 of 5 stamps: the prize needs a full card."
    assert branch.outbox.pending_count() == 0


def test_confirming_the_prize_resets_to_zero_counts_a_completion_and_reports_the_tier(
    branch: Kiosk, world: World
) -> None:
    branch.cache.apply_page(world.page(cards=[_card(world, 3, 5, 5)]), ack_mark=0)
    prize = branch.require_prize()
    verdict = prize.confirm_prize(world.attendees[3].passport_qr)
    assert verdict.colour is Colour.GREEN and verdict.op_type is OpType.PASS_CLAIM
    assert verdict.card is not None
    assert (verdict.card.current_stamps, verdict.card.completions) == (0, 6)
    assert verdict.tier == "🥇 Gold Member" and verdict.previous_tier == "🥈 Silver Member"
    assert verdict.tier_changed
    shown = prize.look_up(world.attendees[3].passport_qr)
    assert shown.card is not None and shown.card.summary == "0 of 5 • 🥇 Gold Member • 6× completed"


def test_first_completion_moves_from_no_tier_to_bronze(branch: Kiosk, world: World) -> None:
    branch.cache.apply_page(world.page(cards=[_card(world, 4, 5, 0)]), ack_mark=0)
    verdict = branch.require_prize().confirm_prize(world.attendees[4].passport_qr)
    assert verdict.previous_tier is None and verdict.tier == "🥉 Bronze Member"
    assert verdict.tier_changed


def test_custom_offer_tiers_are_used(branch: Kiosk, world: World) -> None:
    tiers = card_tiers_to_config(DEFAULT_CARD_TIERS)
    tiers["tiers"][0]["name"] = "Punch Starter"
    offer = world.offer.model_copy(update={"loyalty_tiers": tiers})
    branch.cache.apply_page(world.page(offers=[offer], cards=[_card(world, 0, 1, 1)]), ack_mark=0)
    card = branch.require_prize().look_up(world.attendees[0].passport_qr).card
    assert card is not None and card.tier == "🥉 Punch Starter"


def test_a_pass_idle_past_the_inactivity_limit_restarts_at_zero_keeping_completions(
    branch: Kiosk, world: World, clock: FixedClock
) -> None:
    old = _card(world, 5, 3, 2).model_copy(update={"last_activity_at": NOW - timedelta(days=120)})
    branch.cache.apply_page(world.page(cards=[old]), ack_mark=0)
    prize = branch.require_prize()
    shown = prize.look_up(world.attendees[5].passport_qr)
    assert shown.card is not None and shown.card.current_stamps == 0 and shown.card.restarted
    stamped = prize.add_stamp(world.attendees[5].passport_qr)
    assert stamped.card is not None
    assert (stamped.card.current_stamps, stamped.card.completions) == (1, 2)


def test_local_stamps_stop_counting_once_the_pulled_card_reflects_them(
    branch: Kiosk, world: World
) -> None:
    prize = branch.require_prize()
    qr = world.attendees[6].passport_qr
    first = prize.add_stamp(qr)
    second = prize.add_stamp(qr, again=True)  # moments later: a second yes
    assert second.stamps == 2
    assert first.op_id is not None and second.op_id is not None
    # The server applies both; the next pull brings the card with both stamps.
    branch.outbox.mark_results(
        [OpResult(op_id=op, status=OpStatus.APPLIED) for op in (first.op_id, second.op_id)],
        attempted=[first.op_id, second.op_id],
        now=NOW,
    )
    ack = branch.outbox.ack_counter()
    assert prize.look_up(qr).stamps == 2  # acked, but the cache does not show them yet
    branch.cache.apply_page(world.page(cards=[_card(world, 6, 2, 0)]), ack_mark=ack)
    assert prize.look_up(qr).stamps == 2  # not 4: no double counting
    third = prize.add_stamp(qr, again=True)
    assert third.stamps == 3


def test_rejected_local_stamp_no_longer_counts(branch: Kiosk, world: World) -> None:
    prize = branch.require_prize()
    qr = world.attendees[7].passport_qr
    stamp = prize.add_stamp(qr)
    assert stamp.op_id is not None
    branch.outbox.mark_results(
        [OpResult(op_id=stamp.op_id, status=OpStatus.REJECTED, reason=Reason.UNKNOWN_OFFER)],
        attempted=[stamp.op_id],
        now=NOW,
    )
    assert prize.look_up(qr).stamps == 0


def test_ticket_code_in_prize_mode_and_revoked_passport_are_red(
    branch: Kiosk, world: World
) -> None:
    prize = branch.require_prize()
    assert prize.add_stamp(world.attendees[0].ticket_qr).reason is Reason.WRONG_KIND
    revoked = PassportRow(
        user_id=world.attendees[1].user_id, handle="x", current_tier="BRONZE", revoked=True
    )
    branch.cache.apply_page(world.page(passports=[revoked]), ack_mark=0)
    assert prize.add_stamp(world.attendees[1].passport_qr).reason is Reason.REVOKED
    assert prize.look_up("garbage").reason is Reason.BAD_FORMAT
    assert branch.outbox.pending_count() == 0


def test_an_offer_of_another_branch_or_none_is_refused(branch: Kiosk, world: World) -> None:
    prize = branch.require_prize()
    foreign = OfferRow(id=uuid.uuid4(), branch_id=uuid.uuid4(), name="Elsewhere", max_stamps=3)
    branch.cache.apply_page(world.page(offers=[foreign]), ack_mark=0)
    prize.offer_id = foreign.id
    assert prize.add_stamp(world.attendees[0].passport_qr).reason is Reason.WRONG_BRANCH
    prize.offer_id = None
    second = OfferRow(id=uuid.uuid4(), branch_id=world.branch_id, name="Doubles", max_stamps=10)
    branch.cache.apply_page(world.page(offers=[second]), ack_mark=0)
    choose = prize.add_stamp(world.attendees[0].passport_qr)
    assert choose.reason is Reason.UNKNOWN_OFFER and choose.headline == "Choose an offer first"
    assert {offer.name for offer in prize.list_offers()} == {"Fifth rum punch free", "Doubles"}
