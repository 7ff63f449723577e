"""The /socaport-app figures (seed 001 §4.1), on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy.orm import Session

from server.domain.landing import LandingFigures, landing_info
from tests.server.domain._world_accounts import make_event, make_profile, make_stamp, make_user


def test_landing_info_is_zero_on_an_empty_database(session: Session) -> None:
    assert landing_info(session) == {"totalPassportUsers": 0, "totalStampsIssued": 0}


def test_landing_info_counts_passport_profiles_and_stamps(session: Session) -> None:
    with_passport = [make_user(session), make_user(session)]
    make_user(session)  # an account without a passport is not a passport user
    for user in with_passport:
        make_profile(session, user)
    carnival, brunch = make_event(session), make_event(session, country_code="US")
    make_stamp(session, with_passport[0], carnival)
    make_stamp(session, with_passport[0], brunch)
    make_stamp(session, with_passport[1], carnival)

    info = landing_info(session)

    assert info == {"totalPassportUsers": 2, "totalStampsIssued": 3}
    assert list(info) == ["totalPassportUsers", "totalStampsIssued"]


def test_landing_figures_are_counted_once_per_interval(session: Session) -> None:
    """A crowd on the landing page costs one pair of counts per `ttl`, then fresh figures."""

    now = [100.0]
    figures = LandingFigures(ttl=5.0, clock=lambda: now[0])
    make_profile(session, make_user(session))
    assert figures.get(session)["totalPassportUsers"] == 1
    make_profile(session, make_user(session))
    now[0] += 4.9
    assert figures.get(session)["totalPassportUsers"] == 1  # reused within the interval
    now[0] += 0.2
    assert figures.get(session)["totalPassportUsers"] == 2  # counted again after it


def test_forgotten_figures_are_counted_again_at_once(session: Session) -> None:
    """`forget` (the app changed what the reading came from) drops it before its interval ends."""
    figures = LandingFigures(ttl=5.0, clock=lambda: 100.0)
    assert figures.get(session)["totalPassportUsers"] == 0
    make_profile(session, make_user(session))
    assert figures.get(session)["totalPassportUsers"] == 0
    figures.forget()
    assert figures.get(session)["totalPassportUsers"] == 1
