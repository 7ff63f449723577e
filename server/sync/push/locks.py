"""Every row a batch decides on, locked in one global order before any decision.

The order is tickets, purchases, cards, then the ticket holders' passports,
each by id, so concurrent batches cannot deadlock. A step that must not wait
(the first of an HTTP push) skips the tickets and passports another
transaction holds and leaves their subjects for later; purchases and cards
are always waited for, in order, and waits that follow the global order
cannot deadlock.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.bulk import member_of
from server.db.models import LoyaltyPass, PackagePurchase, Ticket
from server.domain import cards, passport
from server.sync.push.subjects import CardSubject, Checked, PurchaseSubject, TicketSubject

Profiles = dict[uuid.UUID, passport.ProfileState]


def lock_subjects(
    session: Session, by_subject: dict[str, list[Checked]], *, wait: bool
) -> tuple[Profiles, set[str]]:
    """Lock the subjects' rows; return the ticket holders' passports and the subjects left over.

    The passports come locked (ticket scans award stamps to them). With
    `wait=False`, the ticket subjects whose ticket or holder's passport
    another transaction holds are left undecided and named in the result.
    """
    subjects = {key: items[0].subject for key, items in by_subject.items()}
    ticket_ids = {s.ticket.id for s in subjects.values() if isinstance(s, TicketSubject)}
    locked_tickets = lock_rows(session, Ticket, ticket_ids, skip_locked=not wait)
    purchase_ids = {s.purchase.id for s in subjects.values() if isinstance(s, PurchaseSubject)}
    lock_rows(session, PackagePurchase, purchase_ids, skip_locked=False)
    card_ids = {
        cards.get_or_create_pass(session, offer_id=s.offer.id, user_id=s.user_id).id
        for s in subjects.values()
        if isinstance(s, CardSubject)
    }
    lock_rows(session, LoyaltyPass, card_ids, skip_locked=False)
    holders = {
        s.ticket.user_id
        for s in subjects.values()
        if isinstance(s, TicketSubject) and s.ticket.id in locked_tickets
    }
    profiles = passport.lock_profiles(session, holders, wait=wait) if holders else {}
    held_elsewhere = {
        key
        for key, s in subjects.items()
        if isinstance(s, TicketSubject)
        and (s.ticket.id not in locked_tickets or s.ticket.user_id not in profiles)
    }
    return profiles, held_elsewhere


def lock_rows(
    session: Session, model: Any, ids: set[uuid.UUID], *, skip_locked: bool
) -> set[uuid.UUID]:
    """Lock these rows (key share, in id order) and return the ids locked.

    Only the lock matters: the rows were loaded already, so ids are read, not
    objects. With `skip_locked`, rows another transaction holds are left out.
    """
    if not ids:
        return set()
    locked = session.scalars(
        select(model.id)
        .where(member_of(session, model.id, ids))
        .order_by(model.id)
        .with_for_update(key_share=True, skip_locked=skip_locked)
    )
    return set(locked)
