"""Paid passport memberships (seed 001 §3.3): FREE by absence, one ACTIVE at a time."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
from sqlalchemy.orm import Session

from server.db.models import PassportMembership
from server.db.models.enums import MembershipStatus, MembershipTier
from server.domain import memberships
from server.domain.promoters import FieldErrors
from server.errors import Conflict, InvalidInput, NotFound
from tests.server.domain._world_accounts import DAY, NOW, make_user


def test_a_user_without_a_membership_is_free(session: Session) -> None:
    user = make_user(session)

    assert memberships.current_tier(session, user_id=user.id, now=NOW) == MembershipTier.FREE
    assert memberships.current(session, user_id=user.id, now=NOW) is None


def test_an_active_membership_gives_its_tier(session: Session) -> None:
    user = make_user(session)
    memberships.create(session, user_id=user.id, tier="GOLD", expires_at=NOW + DAY, now=NOW)

    assert memberships.current_tier(session, user_id=user.id, now=NOW) == MembershipTier.GOLD


def test_a_membership_without_expiry_lasts(session: Session) -> None:
    user = make_user(session)
    memberships.create(session, user_id=user.id, tier=MembershipTier.ELITE, now=NOW)

    later = NOW + 3650 * DAY
    assert memberships.current_tier(session, user_id=user.id, now=later) == MembershipTier.ELITE


def test_an_active_membership_past_its_expiry_counts_as_free(session: Session) -> None:
    user = make_user(session)
    row = memberships.create(session, user_id=user.id, tier="GOLD", expires_at=NOW + DAY, now=NOW)

    assert memberships.current_tier(session, user_id=user.id, now=NOW + DAY) == "FREE"
    assert row.status == MembershipStatus.ACTIVE  # until expire_due runs


def test_a_cancelled_membership_counts_as_free(session: Session) -> None:
    user = make_user(session)
    row = memberships.create(session, user_id=user.id, tier="GOLD", now=NOW)

    cancelled = memberships.cancel(session, membership_id=row.id)

    assert cancelled.status == MembershipStatus.CANCELLED
    assert memberships.current_tier(session, user_id=user.id, now=NOW) == MembershipTier.FREE


def test_an_expired_membership_counts_as_free(session: Session) -> None:
    user = make_user(session)
    memberships.create(session, user_id=user.id, tier="GOLD", expires_at=NOW + DAY, now=NOW)
    memberships.expire_due(session, now=NOW + 2 * DAY)

    assert memberships.current_tier(session, user_id=user.id, now=NOW) == MembershipTier.FREE


def test_creating_a_membership_cancels_the_previous_active_one(session: Session) -> None:
    user = make_user(session)
    gold = memberships.create(session, user_id=user.id, tier="GOLD", now=NOW)

    elite = memberships.create(session, user_id=user.id, tier="ELITE", now=NOW + DAY)

    assert gold.status == MembershipStatus.CANCELLED
    assert elite.status == MembershipStatus.ACTIVE
    assert memberships.list_(session, status="ACTIVE", user_id=user.id) == [elite]
    assert memberships.current_tier(session, user_id=user.id, now=NOW + DAY) == "ELITE"


def test_a_previous_membership_already_past_expiry_is_marked_expired(session: Session) -> None:
    user = make_user(session)
    gold = memberships.create(session, user_id=user.id, tier="GOLD", expires_at=NOW + DAY, now=NOW)

    memberships.create(session, user_id=user.id, tier="ELITE", now=NOW + 2 * DAY)

    assert gold.status == MembershipStatus.EXPIRED


def test_creating_for_one_user_leaves_other_users_alone(session: Session) -> None:
    mine, theirs = make_user(session), make_user(session)
    their_gold = memberships.create(session, user_id=theirs.id, tier="GOLD", now=NOW)

    memberships.create(session, user_id=mine.id, tier="ELITE", now=NOW)

    assert their_gold.status == MembershipStatus.ACTIVE


def test_create_stores_metadata_and_defaults_to_an_empty_object(session: Session) -> None:
    user = make_user(session)
    with_meta = memberships.create(
        session, user_id=user.id, tier="GOLD", metadata={"note": "comp"}, now=NOW
    )
    other = memberships.create(session, user_id=make_user(session).id, tier="GOLD")

    session.expire_all()
    assert memberships.get(session, membership_id=with_meta.id).metadata_json == {"note": "comp"}
    assert memberships.get(session, membership_id=other.id).metadata_json == {}


def test_create_starts_now_by_default(session: Session) -> None:
    user = make_user(session)

    row = memberships.create(session, user_id=user.id, tier="GOLD")

    assert row.started_at.tzinfo is not None
    assert row.started_at > NOW


def test_create_refuses_an_unknown_tier(session: Session) -> None:
    with pytest.raises(InvalidInput, match="GOLD"):
        memberships.create(session, user_id=make_user(session).id, tier="PLATINUM")


def test_create_refuses_an_expiry_before_the_start(session: Session) -> None:
    with pytest.raises(FieldErrors) as caught:
        memberships.create(
            session, user_id=make_user(session).id, tier="GOLD", expires_at=NOW, now=NOW
        )

    assert set(caught.value.fields) == {"expires_at"}


def test_create_refuses_a_naive_expiry(session: Session) -> None:
    with pytest.raises(InvalidInput):
        memberships.create(
            session,
            user_id=make_user(session).id,
            tier="GOLD",
            expires_at=datetime(2030, 1, 1),
        )


def test_create_for_an_unknown_user_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound):
        memberships.create(session, user_id=uuid.uuid4(), tier="GOLD")


def test_cancelling_twice_is_a_no_op(session: Session) -> None:
    row = memberships.create(session, user_id=make_user(session).id, tier="GOLD", now=NOW)
    memberships.cancel(session, membership_id=row.id)

    again = memberships.cancel(session, membership_id=row.id)

    assert again.status == MembershipStatus.CANCELLED


def test_an_expired_membership_cannot_be_cancelled(session: Session) -> None:
    row = memberships.create(
        session, user_id=make_user(session).id, tier="GOLD", expires_at=NOW + DAY, now=NOW
    )
    memberships.expire_due(session, now=NOW + DAY)

    with pytest.raises(Conflict):
        memberships.cancel(session, membership_id=row.id)
    assert row.status == MembershipStatus.EXPIRED


def test_cancelling_an_unknown_membership_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound):
        memberships.cancel(session, membership_id=uuid.uuid4())


def test_expire_due_flips_only_active_rows_past_expiry(session: Session) -> None:
    due = memberships.create(
        session, user_id=make_user(session).id, tier="GOLD", expires_at=NOW + DAY, now=NOW
    )
    on_the_dot = memberships.create(
        session, user_id=make_user(session).id, tier="GOLD", expires_at=NOW + 2 * DAY, now=NOW
    )
    not_yet = memberships.create(
        session, user_id=make_user(session).id, tier="GOLD", expires_at=NOW + 3 * DAY, now=NOW
    )
    forever = memberships.create(session, user_id=make_user(session).id, tier="ELITE", now=NOW)
    cancelled = memberships.create(
        session, user_id=make_user(session).id, tier="GOLD", expires_at=NOW + DAY, now=NOW
    )
    memberships.cancel(session, membership_id=cancelled.id)

    flipped = memberships.expire_due(session, now=NOW + 2 * DAY)

    assert flipped == 2
    assert due.status == on_the_dot.status == MembershipStatus.EXPIRED
    assert not_yet.status == forever.status == MembershipStatus.ACTIVE
    assert cancelled.status == MembershipStatus.CANCELLED
    assert memberships.expire_due(session, now=NOW + 2 * DAY) == 0


def test_expire_due_is_seen_by_a_fresh_read(session: Session) -> None:
    row = memberships.create(
        session, user_id=make_user(session).id, tier="GOLD", expires_at=NOW + DAY, now=NOW
    )
    memberships.expire_due(session, now=NOW + DAY)
    session.expire_all()

    stored = session.get(PassportMembership, row.id)
    assert stored is not None
    assert stored.status == MembershipStatus.EXPIRED


def test_list_filters_by_status(session: Session) -> None:
    active = memberships.create(session, user_id=make_user(session).id, tier="GOLD", now=NOW)
    cancelled = memberships.create(
        session, user_id=make_user(session).id, tier="GOLD", now=NOW + DAY
    )
    memberships.cancel(session, membership_id=cancelled.id)

    assert memberships.list_(session) == [active, cancelled]
    assert memberships.list_(session, status=MembershipStatus.ACTIVE) == [active]
    assert memberships.list_(session, status="CANCELLED") == [cancelled]
    assert memberships.list_(session, status="EXPIRED") == []


def test_list_refuses_an_unknown_status(session: Session) -> None:
    with pytest.raises(InvalidInput):
        memberships.list_(session, status="PAUSED")


def test_current_tier_refuses_a_naive_now(session: Session) -> None:
    with pytest.raises(InvalidInput):
        memberships.current_tier(session, user_id=make_user(session).id, now=datetime(2026, 1, 1))
