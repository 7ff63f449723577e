"""Prize mode: a branch's stamp card, scanned from a customer's passport QR.

`look_up` shows the card ("4 of 5 • 🥇 Gold Member • 7× completed") and writes
nothing; `add_stamp` adds one stamp unless the card is full, and asks first
("Add another stamp?") when this tablet stamped the same card moments ago;
`undo_stamp` withdraws the card's last stamp for a short while (a
`pass.unstamp`); `confirm_prize` works only on a full card, after which the
card shows 0 and one more completion, with any tier change in the verdict.
`search` finds the branch's cardholders by name or handle offline. The card
shown is the cached (pulled) card with this device's own entries that the
cache does not reflect yet replayed on top (`kiosk.services.card_state`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from core import limits
from core.cards import CardState, EntryKind, apply_entry, is_expired
from core.clock import Clock
from core.reasons import Reason
from core.tiers import (
    card_tier_for,
)
from core.tokens import TokenKind
from core.wire import PassClaimPayload, PassStampPayload, PassUnstampPayload
from kiosk.services.card_state import (
    UNSTAMP,
    card_on_device,
    card_view,
    offer_tiers,
    recent_stamp,
    tier_label,
)
from kiosk.services.scanning import storage_errors, verify_scan
from kiosk.services.verdict import CardView, Colour, Verdict, refused, with_op
from kiosk.store.cache import Cache, CachedCard, CachedOffer, CachedPassport
from kiosk.store.outbox import Outbox


@dataclass(frozen=True, slots=True)
class BranchActivity:
    """One line of the prize screen's recent activity: who got a stamp or a prize, when."""

    occurred_at: datetime
    kind: str  # an `EntryKind` or "UNSTAMP" (a stamp undone)
    customer: str
    offer: str
    state: str


@dataclass(frozen=True, slots=True)
class CardholderMatch:
    """A cardholder found by search: who, on which offer, and their card as it stands."""

    user_id: uuid.UUID
    holder_name: str | None
    handle: str | None
    offer_name: str
    summary: str


@dataclass(frozen=True, slots=True)
class _Customer:
    text: str | None  # the pass QR scanned (None: found by search, so nothing can be written)
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
        """The stamps, undos and prizes this tablet gave lately, newest first, with sync state."""
        found = []
        for entry in self.outbox.recent_card_entries(limit):
            passport = self.cache.passport(entry.user_id)
            offer = self.cache.offer(entry.offer_id)
            found.append(
                BranchActivity(
                    occurred_at=entry.occurred_at,
                    kind=entry.kind,
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
        return self._shown(*found)

    @storage_errors
    def look_up_holder(self, user_id: uuid.UUID) -> Verdict:
        """Show the card of a cardholder found by search (no pass scanned); writes nothing."""
        offer = self._offer()
        if isinstance(offer, Verdict):
            return offer
        return self._shown(_Customer(None, user_id, self.cache.passport(user_id)), offer)

    @storage_errors
    def search(self, query: object) -> list[CardholderMatch]:
        """The offer's cardholders with a name or handle word starting with each word typed."""
        offer = self._offer()
        if isinstance(offer, Verdict) or not isinstance(query, str):
            return []
        text = limits.without_control(query.strip(), limits.SEARCH_QUERY).strip()
        found = self.cache.search_cards(offer.id, text, limit=limits.CARDHOLDER_SEARCH_RESULTS)
        return [self._match(offer, card) for card in found]

    @storage_errors
    def add_stamp(self, code: object, *, again: bool = False) -> Verdict:
        """Add one stamp; asks first when this tablet stamped the card moments ago (`again`)."""
        return self._apply(code, EntryKind.STAMP, again=again)

    @storage_errors
    def stamp_again(self, code: object) -> Verdict:
        """Add a stamp after a yes to "Add another stamp?" (or where no one could be asked)."""
        return self._apply(code, EntryKind.STAMP, again=True)

    @storage_errors
    def confirm_prize(self, code: object) -> Verdict:
        """Confirm the prize on a full card: back to 0, one more completion; red if not full."""
        return self._apply(code, EntryKind.CLAIM)

    @storage_errors
    def undo_stamp(self, code: object) -> Verdict:
        """Withdraw the card's last stamp from this tablet, within `STAMP_UNDO_WINDOW`."""
        found = self._customer_and_offer(code)
        if isinstance(found, Verdict):
            return found
        customer, offer = found
        now = self.clock.now()
        with self.outbox.transaction():
            occurred_at = self.outbox.occurred_at(now)
            entries = self.outbox.card_entries(offer.id, customer.user_id)
            stamp = recent_stamp(entries, occurred_at, limits.STAMP_UNDO_WINDOW)
            if stamp is None or stamp.op_id is None or customer.text is None:
                verdict = refused(Reason.UNKNOWN_STAMP, "No recent stamp to undo")
                return _with_customer(verdict, customer, self._view(offer, customer.user_id))
            payload = PassUnstampPayload(
                qr=customer.text, offer_id=offer.id, undoes=stamp.op_id, verdict="green"
            )
            op = self.outbox.add_op(payload, device_clock=now, device_id=self.device_id)
            self.outbox.add_card_entry(
                offer_id=offer.id,
                user_id=customer.user_id,
                kind=UNSTAMP,
                occurred_at=op.occurred_at,
                op_id=op.op_id,
                undoes=stamp.op_id,
            )
        card = self._view(offer, customer.user_id)
        verdict = self._verdict(Colour.GREEN, f"Stamp undone: {card.summary}", customer, card)
        return with_op(verdict, op)

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

    def _shown(self, customer: _Customer, offer: CachedOffer) -> Verdict:
        card = self._view(offer, customer.user_id, at=self.outbox.occurred_at(self.clock.now()))
        headline = "Card full: confirm the prize" if card.full else card.summary
        return self._verdict(Colour.GREEN, headline, customer, card)

    def _card_state(self, offer: CachedOffer, user_id: uuid.UUID) -> CardState:
        cached = self.cache.card(offer.id, user_id)
        state = CardState()
        reflected = self.cache.complete_through()
        if cached is not None:
            state = CardState(
                cached.current_stamps, cached.rewards_claimed, cached.last_activity_at
            )
            reflected = max(reflected, cached.pulled_at_ack)
        return card_on_device(
            state,
            self.outbox.card_entries(offer.id, user_id),
            reflected,
            max_stamps=offer.max_stamps,
            inactivity_days=self.inactivity_days,
        )

    def _apply(self, code: object, kind: EntryKind, *, again: bool = False) -> Verdict:
        found = self._customer_and_offer(code)
        if isinstance(found, Verdict):
            return found
        customer, offer = found
        if customer.text is None:  # found by search: nothing is written without the pass
            return refused(Reason.BAD_FORMAT, "Scan the customer's pass")
        now = self.clock.now()
        with self.outbox.transaction():
            before = self._card_state(offer, customer.user_id)
            occurred_at = self.outbox.occurred_at(now)
            if kind is EntryKind.STAMP and not again:
                entries = self.outbox.card_entries(offer.id, customer.user_id)
                if recent_stamp(entries, occurred_at, limits.STAMP_REPEAT_WINDOW) is not None:
                    return self._ask_again(customer, offer, before, occurred_at)
            step = apply_entry(
                before,
                kind,
                occurred_at,
                max_stamps=offer.max_stamps,
                inactivity_days=self.inactivity_days,
            )
            if step.refused is not None:
                return self._refused_step(customer, offer, before, occurred_at, kind, step.refused)
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
        card = card_view(offer, step.state, restarted=step.restarted)
        if kind is EntryKind.STAMP:
            headline = "Stamp added: prize ready!" if card.full else f"Stamp added: {card.summary}"
            verdict = self._verdict(Colour.GREEN, headline, customer, card)
        else:
            previous_tier = card_tier_for(before.rewards_claimed, offer_tiers(offer))
            verdict = self._verdict(
                Colour.GREEN, f"Prize confirmed: {offer.prize or 'enjoy'}!", customer, card
            )
            verdict = _replace_previous(
                verdict, tier_label(previous_tier), tier_label(previous_tier, "ar")
            )
        return with_op(verdict, op)

    def _ask_again(
        self, customer: _Customer, offer: CachedOffer, state: CardState, at: datetime
    ) -> Verdict:
        """Nothing written: this card got a stamp here seconds ago (a double tap?)."""
        card = self._shown_state(offer, state, at)
        verdict = self._verdict(Colour.AMBER, "Add another stamp?", customer, card)
        return replace(verdict, needs_confirmation=True, note="This card was stamped just now.")

    def _refused_step(
        self,
        customer: _Customer,
        offer: CachedOffer,
        before: CardState,
        at: datetime,
        kind: EntryKind,
        reason: Reason,
    ) -> Verdict:
        card = self._shown_state(offer, before, at)
        verdict = refused(
            reason,
            "Card full: confirm the prize" if kind is EntryKind.STAMP else "Card not full",
            current=card.current_stamps,
            max=offer.max_stamps,
        )
        return _with_customer(verdict, customer, card)

    def _view(
        self, offer: CachedOffer, user_id: uuid.UUID, *, at: datetime | None = None
    ) -> CardView:
        """The card as it stands on this device (restarted at 0 when idle past the limit)."""
        state = self._card_state(offer, user_id)
        return self._shown_state(offer, state, at or self.outbox.occurred_at(self.clock.now()))

    def _shown_state(self, offer: CachedOffer, state: CardState, at: datetime) -> CardView:
        restarted = is_expired(state, at, self.inactivity_days)
        if restarted:
            state = CardState(0, state.rewards_claimed, state.last_activity_at)
        return card_view(offer, state, restarted=restarted)

    def _match(self, offer: CachedOffer, card: CachedCard) -> CardholderMatch:
        view = self._view(offer, card.user_id)
        return CardholderMatch(
            user_id=card.user_id,
            holder_name=card.holder_name,
            handle=card.handle,
            offer_name=offer.name,
            summary=view.summary,
        )

    def _verdict(
        self, colour: Colour, headline: str, customer: _Customer, card: CardView
    ) -> Verdict:
        return _with_customer(
            Verdict(
                colour=colour,
                headline=headline,
                note="Welcome back: the card starts again." if card.restarted else None,
            ),
            customer,
            card,
            self.cache.card(card.offer_id, customer.user_id),
        )


def _with_customer(
    verdict: Verdict, customer: _Customer, card: CardView, cached: CachedCard | None = None
) -> Verdict:
    """The verdict naming the customer (display name from the pulled card, handle) and card."""
    passport = customer.passport
    handle = passport.handle if passport is not None else None
    return replace(
        verdict,
        handle=handle or (cached.handle if cached is not None else None),
        display_name=cached.holder_name if cached is not None else None,
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
