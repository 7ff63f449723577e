"""Recompute: derived figures equal what their ledgers say, and drift is reported and fixed."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from server.domain import cards, passport
from server.domain.recompute import recompute
from server.errors import ReasonError
from tests.server.factories import T0, make_event, make_offer, make_user

# An operation: ("award", user, event) or ("stamp"/"claim", user, minute).
operations = st.lists(
    st.one_of(
        st.tuples(st.just("award"), st.integers(0, 2), st.integers(0, 4)),
        st.tuples(
            st.sampled_from(["stamp", "stamp", "claim"]),
            st.integers(0, 2),
            st.integers(0, 60 * 24 * 200),
        ),
    ),
    max_size=30,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=operations)
def test_recompute_equals_incremental_totals_after_any_sequence(
    session: Session, ops: list[tuple[str, int, int]]
) -> None:
    with session.begin_nested() as outer:
        users = [make_user(session) for _ in range(3)]
        events = [
            make_event(session, country=c, points=p)
            for c, p in zip("TTUGB", (50, 150, 300, 500, 700), strict=True)
        ]
        offer = make_offer(session, max_stamps=3)
        for kind, who, what in ops:
            user = users[who]
            if kind == "award":
                passport.award_stamp_for_event_scan(
                    session, user_id=user.id, event_id=events[what].id
                )
                continue
            when = T0 + timedelta(minutes=what)
            action = cards.add_stamp if kind == "stamp" else cards.confirm_prize
            with contextlib.suppress(ReasonError):
                action(session, offer_id=offer.id, user_id=user.id, occurred_at=when)
        report = recompute(session, inactivity_days=90)
        assert report.drift == []
        outer.rollback()


def test_drift_is_reported_and_fixed(session: Session) -> None:
    user = make_user(session)
    event = make_event(session, points=400)
    passport.award_stamp_for_event_scan(session, user_id=user.id, event_id=event.id)
    offer = make_offer(session)
    cards.add_stamp(session, offer_id=offer.id, user_id=user.id, occurred_at=T0)
    profile = passport.get_or_create_profile(session, user_id=user.id)
    profile.total_points = 9999
    card = cards.get_pass(session, offer_id=offer.id, user_id=user.id)
    assert card is not None
    card.current_stamps = 4
    session.flush()

    report = recompute(session, inactivity_days=90)
    found = {(d.table, d.column, d.stored, d.expected) for d in report.drift}
    assert ("passport_profiles", "total_points", 9999, 400) in found
    assert ("passport_profiles", "current_tier", "SILVER", "SILVER") not in found
    assert ("loyalty_passes", "current_stamps", 4, 1) in found

    fixed = recompute(session, inactivity_days=90, fix=True)
    assert len(fixed.drift) == len(report.drift)
    assert recompute(session, inactivity_days=90).drift == []
    assert profile.total_points == 400 and card.current_stamps == 1
