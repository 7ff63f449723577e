"""Door mode: tickets and package purchases scanned at one event's gate, and manual check-in.

Every action is verify → decide against the cache and this device's own
effects → one outbox transaction (the op and its local effect) → verdict.
Green admits and records the op and a local check-in (so the next scan of the
same ticket is amber at once, before any sync); amber is a re-entry, recorded
as an op too (a fact, never an admission); red records a `scan.refused` op
(the reason and the code's digest, never the code: a fact for the promoter and
HQ, never an admission). Hostile input of any kind gives a red verdict with its
reason, never an exception. A ticket's short printed code (`UN49-Y3NQ`, in any
case) is a scan too: the ticket it names on this device's list is checked in.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from core import limits
from core.clock import Clock
from core.purchases import door_collects_payment, door_may_activate
from core.reasons import Reason, explain
from core.ticket_codes import ticket_code_key
from core.tiers import DEFAULT_POINT_TIERS, point_tier_for
from core.tokens import TokenClaims, TokenKind
from core.wire import (
    ManualCheckinPayload,
    PackageActivatePayload,
    Payload,
    ScanRefusedPayload,
    TicketScanPayload,
    code_digest,
)
from core.wire import (
    Verdict as WireVerdict,
)
from kiosk.errors import SettingsError
from kiosk.services.scanning import clean_code, describe_when, storage_errors, verify_scan
from kiosk.services.verdict import Colour, Verdict, refused, with_op
from kiosk.store.cache import Cache, CachedPurchase, CachedTicket
from kiosk.store.outbox import LocalActivation, LocalCheckin, Outbox

_TIER_RANK = {tier.name: index for index, tier in enumerate(DEFAULT_POINT_TIERS)}
MAX_NOTE_LENGTH = limits.CHECKIN_NOTE.max_length
#: A revoked kiosk admits nobody (and records nothing: its ops could never be sent).
_KIOSK_REVOKED = refused(Reason.REVOKED, "This kiosk has been revoked", what="kiosk")


@dataclass(frozen=True, slots=True)
class _FirstEntry:
    at: datetime
    gate: str | None
    by_this_device: bool


@dataclass(frozen=True, slots=True)
class _Standing:
    handle: str | None
    points: int | None
    tier: str | None
    previous_tier: str | None


class DoorService:
    """Door operations for one event and gate (`scan`, `check_in`).

    Threading contract: an instance uses the `Outbox` and `Cache` it is given,
    so it belongs to the thread that opened them (the kiosk's one database
    thread). Each call is one short outbox transaction; the sync loop works
    on its own connections beside it.
    """

    def __init__(
        self,
        *,
        outbox: Outbox,
        cache: Cache,
        event_id: uuid.UUID,
        gate: str,
        device_id: uuid.UUID | None,
        clock: Clock,
    ) -> None:
        problem = limits.text_problem(gate, limits.GATE)
        if problem is not None or not gate:
            # Every op carries the gate, so a name the server would refuse must stop the door
            # here, not refuse each scan later.
            raise SettingsError(f"the gate name {gate!r} cannot be used: {problem or 'name it'}")
        self.outbox = outbox
        self.cache = cache
        self.event_id = event_id
        self.gate = gate
        self.device_id = device_id
        self.clock = clock

    @storage_errors
    def scan(self, code: object) -> Verdict:
        """Decide a scanned code: a ticket admits or re-enters, a package purchase activates.

        A refusal (red) is recorded as a `scan.refused` op and comes back with its id.
        """
        if self.outbox.sync_record().revoked:
            return _KIOSK_REVOKED
        verdict = self._decide(code)
        if verdict.colour is Colour.RED and verdict.op_id is None:
            return self._record_refusal(_scanned_text(code), verdict)
        return verdict

    @storage_errors
    def check_in(self, ticket_id: uuid.UUID, *, note: str | None = None) -> Verdict:
        """Check a ticket in by hand (found by `search`) when its code will not read."""
        if self.outbox.sync_record().revoked:
            return _KIOSK_REVOKED
        ticket = self.cache.ticket(ticket_id)
        if ticket is None:
            return refused(Reason.UNKNOWN_TICKET, "Ticket not on this device's list")
        clean_note = limits.without_control((note or "").strip(), limits.CHECKIN_NOTE) or None
        verdict = self._admit_manually(ticket, clean_note)
        if verdict.colour is Colour.RED and verdict.op_id is None:
            return self._record_refusal(ticket.code or str(ticket.id), verdict)
        return verdict

    def _decide(self, code: object) -> Verdict:
        text = clean_code(code)
        key = ticket_code_key(text) if text is not None else None
        if key is not None:
            return self._scan_ticket_code(key)
        checked = verify_scan(code, self.cache, (TokenKind.TICKET, TokenKind.PURCHASE))
        if isinstance(checked, Verdict):
            return self._say_who_and_what_to_do(checked)
        text, claims = checked
        if claims.kind is TokenKind.PURCHASE:
            return self._activate_package(text, claims)
        if claims.scope_id != self.event_id:
            return self._wrong_event(claims.scope_id)
        ticket_id = claims.subject_id
        return self._admit(
            ticket_id,
            self.cache.ticket(ticket_id),
            lambda verdict: TicketScanPayload(
                qr=text, event_id=self.event_id, gate=self.gate, verdict=verdict
            ),
        )

    def _scan_ticket_code(self, key: str) -> Verdict:
        """A printed ticket code typed or wedged: the ticket it names, checked in by hand."""
        printed = f"{key[:4]}-{key[4:]}"
        ticket = self.cache.ticket_by_code(self.event_id, key)
        if ticket is None:
            verdict = refused(Reason.UNKNOWN_TICKET, "Ticket code not on this device's list")
            return replace(
                verdict,
                explanation=f"No ticket {printed} for this event on this device: "
                "check the code, or search by name.",
                open_search=True,
            )
        return self._admit_manually(ticket, f"ticket code {ticket.code or printed}")

    def _admit_manually(self, ticket: CachedTicket, note: str | None) -> Verdict:
        return self._admit(
            ticket.id,
            ticket,
            lambda verdict: ManualCheckinPayload(
                ticket_id=ticket.id,
                event_id=self.event_id,
                gate=self.gate,
                note=note,
                verdict=verdict,
            ),
        )

    def _say_who_and_what_to_do(self, verdict: Verdict) -> Verdict:
        """A refused token, told in the door's terms: whose revoked ticket; a passport's way out."""
        if verdict.reason is Reason.WRONG_KIND and verdict.context.get("actual") == "passport":
            return replace(
                verdict,
                headline="A passport, not a ticket",
                explanation="Show your ticket — search by name instead.",
                open_search=True,
            )
        subject = verdict.context.get("subject_id")
        if verdict.reason is Reason.REVOKED and isinstance(subject, uuid.UUID):
            ticket = self.cache.ticket(subject)
            if ticket is not None:
                return _with_holder(verdict, ticket)
        return verdict

    def _record_refusal(self, text: str | None, verdict: Verdict) -> Verdict:
        """Write the refusal as a record-only `scan.refused` op (its digest, never the code)."""
        if not text or verdict.reason is None:
            return verdict
        now = self.clock.now()
        payload = ScanRefusedPayload(
            event_id=self.event_id,
            gate=self.gate,
            reason=verdict.reason,
            code_digest=code_digest(text),
            verdict="red",
        )
        with self.outbox.transaction():
            op = self.outbox.add_op(payload, device_clock=now, device_id=self.device_id)
        return with_op(verdict, op)

    # ------------------------------------------------------------------ tickets

    def _wrong_event(self, event_id: uuid.UUID) -> Verdict:
        """Red, naming the ticket's own event when this device knows it (the promoter's others)."""
        event = self.cache.event(event_id)
        suffix = f": {event.name}" if event is not None else " (not this door's)"
        return refused(Reason.WRONG_EVENT, "Wrong event", event_suffix=suffix)

    def _admit(
        self,
        ticket_id: uuid.UUID,
        ticket: CachedTicket | None,
        payload: Callable[[WireVerdict], Payload],
    ) -> Verdict:
        if ticket is not None and ticket.revoked:
            revoked = refused(Reason.REVOKED, "This ticket has been revoked", what="ticket")
            return _with_holder(revoked, ticket)
        if ticket is not None and ticket.event_id != self.event_id:
            return self._wrong_event(ticket.event_id)
        user_id = ticket.user_id if ticket is not None else None
        now = self.clock.now()
        with self.outbox.transaction():
            first = self._first_entry(ticket_id, ticket)
            if first is not None:
                op = self.outbox.add_op(
                    payload("amber"), device_clock=now, device_id=self.device_id
                )
                standing = self._standing(user_id, ticket)
                verdict = self._reentry(first, ticket, standing, now)
            else:
                earned = self._points_for_admission(user_id)
                op = self.outbox.add_op(
                    payload("green"), device_clock=now, device_id=self.device_id
                )
                self.outbox.add_checkin(
                    LocalCheckin(
                        ticket_id=ticket_id,
                        event_id=self.event_id,
                        user_id=user_id,
                        gate=self.gate,
                        checked_in_at=op.occurred_at,
                        points_earned=earned,
                        op_id=op.op_id,
                    )
                )
                standing = self._standing(user_id, ticket)
                verdict = self._welcome(ticket, standing, earned)
        return with_op(verdict, op)

    def _first_entry(self, ticket_id: uuid.UUID, ticket: CachedTicket | None) -> _FirstEntry | None:
        local = self.outbox.checkin(ticket_id)
        if local is not None:
            return _FirstEntry(local.checked_in_at, local.gate, by_this_device=True)
        if ticket is not None and ticket.checked_in_at is not None:
            mine = self.device_id is not None and ticket.checked_in_device == str(self.device_id)
            return _FirstEntry(ticket.checked_in_at, ticket.checked_in_gate, by_this_device=mine)
        scan = self.cache.first_admission(ticket_id)
        if scan is not None:
            mine = self.device_id is not None and scan.device_id == str(self.device_id)
            return _FirstEntry(scan.scanned_at, scan.gate, by_this_device=mine)
        return None

    def _points_for_admission(self, user_id: uuid.UUID | None) -> int:
        """The passport points this first admission earns (one stamp per user and event)."""
        event = self.cache.event(self.event_id)
        if user_id is None or event is None or not event.is_soca_passport_enabled:
            return 0
        if self.cache.user_checked_in(user_id, self.event_id):
            return 0
        if self.outbox.has_checkin_for(user_id, self.event_id):
            return 0
        return event.stamp_points_default

    def _standing(self, user_id: uuid.UUID | None, ticket: CachedTicket | None) -> _Standing:
        handle = ticket.handle if ticket is not None else None
        if user_id is None:
            return _Standing(handle, None, None, None)
        passport = self.cache.passport(user_id)
        if passport is None:
            return _Standing(handle, None, None, None)
        reflected = max(passport.pulled_at_ack, self.cache.complete_through())
        extra = self.outbox.points_on_top(user_id, reflected)
        points = passport.total_points + extra
        tier, previous = passport.current_tier, None
        estimate = point_tier_for(points).name
        if extra and _TIER_RANK.get(estimate, -1) > _TIER_RANK.get(passport.current_tier, 99):
            tier, previous = estimate, passport.current_tier
        return _Standing(handle or passport.handle, points, tier, previous)

    def _welcome(self, ticket: CachedTicket | None, standing: _Standing, earned: int) -> Verdict:
        name = ticket.holder_name if ticket is not None else None
        headline = f"Welcome, {name}!" if name else "Welcome!"
        note = None
        if ticket is None:
            note = (
                "Valid ticket, not yet on this device's list (sold after the last sync): "
                "it will be confirmed at the next sync."
            )
        elif earned:
            note = f"Passport stamp: +{earned} points."
        return Verdict(
            colour=Colour.GREEN,
            headline=headline,
            handle=standing.handle,
            display_name=name,
            tier=standing.tier,
            previous_tier=standing.previous_tier,
            tier_changed=standing.previous_tier is not None,
            points=standing.points,
            points_earned=earned,
            note=note,
        )

    def _reentry(
        self, first: _FirstEntry, ticket: CachedTicket | None, standing: _Standing, now: datetime
    ) -> Verdict:
        context = {
            "when": describe_when(first.at, now),
            "gate": first.gate or "an unknown gate",
            "device_suffix": " by this device" if first.by_this_device else " by another device",
        }
        return Verdict(
            colour=Colour.AMBER,
            headline="Re-entry: already scanned",
            reason=Reason.ALREADY_SCANNED,
            explanation=explain(Reason.ALREADY_SCANNED, context),
            handle=standing.handle,
            display_name=ticket.holder_name if ticket is not None else None,
            tier=standing.tier,
            points=standing.points,
            first_scanned_at=first.at,
            first_gate=first.gate,
            context=context,
        )

    # ------------------------------------------------------------------ packages

    def _activate_package(self, text: str, claims: TokenClaims) -> Verdict:
        if claims.scope_id != self.event_id:
            return self._wrong_event(claims.scope_id)
        purchase = self.cache.purchase(claims.subject_id)
        if purchase is None:
            return refused(Reason.UNKNOWN_PURCHASE, "Package purchase not on this device's list")
        if not door_may_activate(purchase.status, purchase.payment_method):
            return refused(
                Reason.PURCHASE_NOT_PAID, "Package not paid", status=purchase.status.lower()
            )
        passport = self.cache.passport(purchase.user_id)
        handle = passport.handle if passport is not None else None
        package = purchase.package_name or "package"
        now = self.clock.now()
        with self.outbox.transaction():
            local = self.outbox.activation(purchase.id)
            already = local.activated_at if local is not None else purchase.activated_at
            if already is not None:
                when = f"at {describe_when(already, now)}"
                return Verdict(
                    colour=Colour.AMBER,
                    headline=f"{package}: bracelets already given",
                    reason=Reason.ALREADY_ACTIVATED,
                    explanation=explain(Reason.ALREADY_ACTIVATED, {"when": when}),
                    handle=handle,
                    context={"when": when},
                )
            op = self.outbox.add_op(
                PackageActivatePayload(qr=text, verdict="green"),
                device_clock=now,
                device_id=self.device_id,
            )
            self.outbox.add_activation(LocalActivation(purchase.id, op.occurred_at, op.op_id))
        verdict = Verdict(
            colour=Colour.GREEN,
            headline=_activated_headline(package, purchase),
            handle=handle,
            points=passport.total_points if passport is not None else None,
            tier=passport.current_tier if passport is not None else None,
        )
        return with_op(verdict, op)


def _activated_headline(package: str, purchase: CachedPurchase) -> str:
    """What the door does now: hand over the bracelets (after taking the cash, when due)."""
    if door_collects_payment(purchase.status, purchase.payment_method):
        due = f" {purchase.final_amount}" if purchase.final_amount else ""
        return f"{package}: take{due} cash, then hand over the bracelets"
    return f"{package} activated: hand over the bracelets"


def _with_holder(verdict: Verdict, ticket: CachedTicket) -> Verdict:
    """A refusal that names whose ticket it is."""
    who = ticket.holder_name or (f"@{ticket.handle}" if ticket.handle else None)
    headline = f"Revoked ticket: {who}" if who and verdict.reason is Reason.REVOKED else None
    return replace(
        verdict,
        handle=ticket.handle,
        display_name=ticket.holder_name,
        headline=headline or verdict.headline,
    )


def _scanned_text(code: object) -> str | None:
    """The text a refusal's digest is made of: the cleaned code, or as much of it as came."""
    text = clean_code(code)
    if text is not None:
        return text
    if isinstance(code, bytes | bytearray):
        code = bytes(code).decode("utf-8", "replace")
    return code.strip() or None if isinstance(code, str) else None
