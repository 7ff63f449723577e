"""Prize mode: a branch's stamp card, scanned from a customer's passport QR.

`look_up` shows the card ("4 of 5 • 🥇 Gold Member • 7× completed") and writes
nothing; `add_stamp` adds one stamp unless the card is full; `confirm_prize`
works only on a full card, after which the card shows 0 and one more
completion, with any tier change in the verdict. The card shown is the cached
(pulled) card with this device's own stamps and claims that the cache does not
reflect yet replayed on top by `core.cards.apply_entry`, the one card rule.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from core.cards import CardState, EntryKind, apply_entry, is_expired
from core.clock import Clock
from core.errors import CoreError
from core.reasons import Reason
from core.tiers import CardTier, Lang, card_summary, card_tier_for, parse_card_tier_config
from core.tokens import TokenKind
from core.wire import PassClaimPayload, PassStampPayload
from kiosk.services.scanning import storage_errors, verify_scan
from kiosk.services.verdict import CardView, Colour, Verdict, refused, with_op
from kiosk.store.cache import Cache, CachedOffer, CachedPassport
from kiosk.store.outbox import Outbox, counts_on_top


@dataclass(frozen=True, slots=True)
class BranchActivity:
    """One line of the prize screen's recent activity: who got a stamp or a prize, when."""

    occurred_at: datetime
    kind: EntryKind
    customer: str
    offer: str
    state: str


@dataclass(frozen=True, slots=True)
class _Customer:
    text: str
    user_id: uuid.UUID
    passport: CachedPassport | None


class PrizeService:
    """Stamp-card operations for one branch and offer (`look_up`, `add_stamp`, `confirm_prize`).

    Threading contract: like `DoorService`, an instance belongs to the thread
    that opened its `Outbox` and `Cache`; each action is one short outbox
    transaction, deciding and writing under the same write lock.
    """

    def __init__(
        self,
        *,
        outbox: Outbox,
        cache: Cache,
        branch_id: uuid.UUID,
        offer_id: uuid.UUID | None,
        device_id: uuid.UUID | None,
        clock: Clock,
        inactivity_days: int,
    ) -> None:
        self.outbox = outbox
        self.cache = cache
        self.branch_id = branch_id
        self.offer_id = offer_id
        self.device_id = device_id
        self.clock = clock
        self.inactivity_days = inactivity_days

    def list_offers(self) -> list[CachedOffer]:
        """The branch's active offers (a screen offers a choice when there are several)."""
        return [offer for offer in self.cache.offers_of_branch(self.branch_id) if offer.active]

    @storage_errors
    def recent_activity(self, limit: int = 12) -> list[BranchActivity]:
        """The stamps and prizes this tablet gave lately, newest first, with their sync state."""
        found = []
        for entry in self.outbox.recent_card_entries(limit):
            passport = self.cache.passport(entry.user_id)
            offer = self.cache.offer(entry.offer_id)
            found.append(
                BranchActivity(
                    occurred_at=entry.occurred_at,
                    kind=EntryKind(entry.kind),
                    customer=f"@{passport.handle}" if passport else str(entry.user_id)[:8],
                    offer=offer.name if offer else "",
                    state=entry.state,
                )
            )
        return found

    @storage_errors
    def look_up(self, code: object) -> Verdict:
        """Show a customer's card on the offer; writes nothing."""
        found = self._customer_and_offer(code)
        if isinstance(found, Verdict):
            return found
        customer, offer = found
        now = self.clock.now()
        state = self._card_state(offer, customer.user_id)
        restarted = is_expired(state, self.outbox.occurred_at(now), self.inactivity_days)
        if restarted:
            state = CardState(0, state.rewards_claimed, state.last_activity_at)
        card = self._view(offer, state, restarted=restarted)
        headline = "Card full: confirm the prize" if card.full else card.summary
        return self._verdict(Colour.GREEN, headline, customer, card)

    @storage_errors
    def add_stamp(self, code: object) -> Verdict:
        """Add one stamp to the customer's card; red `card_full` when it is already full."""
        return self._apply(code, EntryKind.STAMP)

    @storage_errors
    def confirm_prize(self, code: object) -> Verdict:
        """Confirm the prize on a full card: back to 0, one more completion; red if not full."""
        return self._apply(code, EntryKind.CLAIM)

    # ------------------------------------------------------------------ internals

    def _offer(self) -> CachedOffer | Verdict:
        if self.offer_id is not None:
            offer = self.cache.offer(self.offer_id)
            if offer is None or not offer.active:
                return refused(Reason.UNKNOWN_OFFER, "Offer not on this device's list")
            if offer.branch_id != self.branch_id:
                return refused(Reason.WRONG_BRANCH, "Offer of another branch")
            return offer
        offers = self.list_offers()
        if len(offers) != 1:
            headline = "No offer for this branch" if not offers else "Choose an offer first"
            return refused(Reason.UNKNOWN_OFFER, headline)
        return offers[0]

    def _customer_and_offer(self, code: object) -> tuple[_Customer, CachedOffer] | Verdict:
        checked = verify_scan(code, self.cache, (TokenKind.PASSPORT,))
        if isinstance(checked, Verdict):
            return checked
        text, claims = checked
        passport = self.cache.passport(claims.subject_id)
        if passport is not None and passport.revoked:
            return refused(Reason.REVOKED, "This passport has been revoked", what="passport")
        offer = self._offer()
        if isinstance(offer, Verdict):
            return offer
        return _Customer(text, claims.subject_id, passport), offer

    def _card_state(self, offer: CachedOffer, user_id: uuid.UUID) -> CardState:
        cached = self.cache.card(offer.id, user_id)
        state = CardState()
        reflected = self.cache.complete_through()
        if cached is not None:
            state = CardState(
                cached.current_stamps, cached.rewards_claimed, cached.last_activity_at
            )
            reflected = max(reflected, cached.pulled_at_ack)
        for entry in self.outbox.card_entries(offer.id, user_id):
            if counts_on_top(entry.state, entry.ack_no, reflected):
                state = apply_entry(
                    state,
                    EntryKind(entry.kind),
                    entry.occurred_at,
                    max_stamps=offer.max_stamps,
                    inactivity_days=self.inactivity_days,
                ).state
        return state

    def _apply(self, code: object, kind: EntryKind) -> Verdict:
        found = self._customer_and_offer(code)
        if isinstance(found, Verdict):
            return found
        customer, offer = found
        now = self.clock.now()
        with self.outbox.transaction():
            before = self._card_state(offer, customer.user_id)
            occurred_at = self.outbox.occurred_at(now)
            step = apply_entry(
                before,
                kind,
                occurred_at,
                max_stamps=offer.max_stamps,
                inactivity_days=self.inactivity_days,
            )
            if step.refused is not None:
                current = 0 if is_expired(before, occurred_at, self.inactivity_days) else None
                shown = before if current is None else CardState(0, before.rewards_claimed)
                card = self._view(offer, shown, restarted=current is not None)
                verdict = refused(
                    step.refused,
                    "Card full: confirm the prize" if kind is EntryKind.STAMP else "Card not full",
                    current=card.current_stamps,
                    max=offer.max_stamps,
                )
                return _with_customer(verdict, customer, card)
            payload = (
                PassStampPayload(qr=customer.text, offer_id=offer.id, verdict="green")
                if kind is EntryKind.STAMP
                else PassClaimPayload(qr=customer.text, offer_id=offer.id, verdict="green")
            )
            op = self.outbox.add_op(payload, device_clock=now, device_id=self.device_id)
            self.outbox.add_card_entry(
                offer_id=offer.id,
                user_id=customer.user_id,
                kind=kind.value,
                occurred_at=op.occurred_at,
                op_id=op.op_id,
            )
        card = self._view(offer, step.state, restarted=step.restarted)
        if kind is EntryKind.STAMP:
            headline = "Stamp added: prize ready!" if card.full else f"Stamp added: {card.summary}"
            verdict = self._verdict(Colour.GREEN, headline, customer, card)
        else:
            tiers = self._tiers(offer)
            previous_tier = card_tier_for(before.rewards_claimed, tiers)
            previous = _tier_label(previous_tier)
            verdict = self._verdict(
                Colour.GREEN, f"Prize confirmed: {offer.prize or 'enjoy'}!", customer, card
            )
            verdict = _replace_previous(verdict, previous, _tier_label(previous_tier, "ar"))
        return with_op(verdict, op)

    def _tiers(self, offer: CachedOffer) -> tuple[CardTier, ...]:
        try:
            return parse_card_tier_config(offer.loyalty_tiers)
        except CoreError:
            return parse_card_tier_config(None)

    def _view(self, offer: CachedOffer, state: CardState, *, restarted: bool) -> CardView:
        tier = card_tier_for(state.rewards_claimed, self._tiers(offer))
        current = min(state.current_stamps, offer.max_stamps)
        return CardView(
            offer_id=offer.id,
            offer_name=offer.name,
            current_stamps=current,
            max_stamps=offer.max_stamps,
            completions=state.rewards_claimed,
            tier=_tier_label(tier),
            summary=card_summary(current, offer.max_stamps, tier, state.rewards_claimed),
            restarted=restarted,
            tier_ar=_tier_label(tier, "ar"),
            summary_ar=card_summary(current, offer.max_stamps, tier, state.rewards_claimed, "ar"),
        )

    def _verdict(
        self, colour: Colour, headline: str, customer: _Customer, card: CardView
    ) -> Verdict:
        passport = customer.passport
        return Verdict(
            colour=colour,
            headline=headline,
            handle=passport.handle if passport is not None else None,
            tier=card.tier,
            tier_ar=card.tier_ar,
            points=passport.total_points if passport is not None else None,
            stamps=card.current_stamps,
            card=card,
            note="Welcome back: the card starts again." if card.restarted else None,
        )


def _tier_label(tier: CardTier | None, lang: Lang = "en") -> str | None:
    return None if tier is None else tier.label(lang)


def _with_customer(verdict: Verdict, customer: _Customer, card: CardView) -> Verdict:
    passport = customer.passport
    return replace(
        verdict,
        handle=passport.handle if passport is not None else None,
        tier=card.tier,
        tier_ar=card.tier_ar,
        points=passport.total_points if passport is not None else None,
        stamps=card.current_stamps,
        card=card,
    )


def _replace_previous(verdict: Verdict, previous: str | None, previous_ar: str | None) -> Verdict:
    changed = previous != verdict.tier
    return replace(
        verdict,
        previous_tier=previous if changed else None,
        previous_tier_ar=previous_ar if changed else None,
        tier_changed=changed,
    )
