"""/passport in detail: tier progress and perks in words, rewards, stamp cards "4 of 5", the QR,
and how long a session lasts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from core.perks import reward_words
from server.db.models import ApiToken, PassportReward, PassportTier, QrDrawing
from server.db.session import unit_of_work
from server.domain import accounts, cards, passport
from server.domain.qr_codes import BORDER, forget_cached, qr_matrix, qr_svg
from server.web.auth import SESSION_DAYS, SESSION_LABEL
from tests.server.factories import make_event, make_offer
from tests.server.web.conftest import browser, login, post_form
from tests.server.web.test_hq import _tier_fields
from tests.server.web.world import WebWorld


def test_passport_shows_cards_rewards_and_tier_progress(
    client: TestClient, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    with unit_of_work(factory) as session:
        offer = make_offer(session, max_stamps=5)
        for minute in range(4):
            cards.add_stamp(
                session,
                offer_id=offer.id,
                user_id=world.attendee_id,
                occurred_at=datetime.now(UTC) - timedelta(minutes=10 - minute),
            )
        for points, country in ((200, "GB"), (150, "US")):
            event = make_event(session, points=points, country=country)
            passport.award_stamp_for_event_scan(
                session, user_id=world.attendee_id, event_id=event.id, now=datetime.now(UTC)
            )
    login(client, world.emails["attendee"])
    page = client.get("/passport").text
    shown = [part.split("</article>", 1)[0] for part in page.split('class="card stampcard"')[1:]]
    card = next(card for card in shown if "<h3>Fifth drink free</h3>" in card)
    assert "4 of 5</strong>" in card
    assert '<strong id="points">350</strong>' in page
    assert '<span class="badge tier" id="tier">SILVER</span>' in page
    assert "450 points to <strong>GOLD</strong>" in page
    assert "Countries visited: GB, US" in page
    with unit_of_work(factory) as session:
        rewards = session.scalars(
            select(PassportReward).where(PassportReward.user_id == world.attendee_id)
        ).all()
    assert rewards  # the SILVER perks, unlocked by the tier-up
    for reward in rewards:
        assert reward_words(reward.reward_type, reward.metadata_json).title in page
    assert "Your perks: 5 % off merch" in page
    assert "Unlocks: VIP line at the door, 10 % off merch" in page


def test_qr_is_an_inline_svg_that_scales(world: WebWorld) -> None:
    svg = qr_svg(world.ticket_qr)
    assert svg.startswith("<svg") and "viewBox" in svg
    assert 'width="' not in svg.split(">", 1)[0]  # sized by CSS to fill the phone


def test_passport_shows_the_drawing_kept_when_its_token_was_issued(
    client: TestClient, world: WebWorld, factory: sessionmaker[Session], app: FastAPI
) -> None:
    """The passport's QR is the one drawn at issue, read with the passport's own row: no
    query of its own, even in a process that has drawn or read none (the tickets' QRs come
    with their rows the same way: `test_attendee`)."""
    from sqlalchemy import event

    login(client, world.emails["attendee"])
    with unit_of_work(factory) as session:
        profile = passport.get_profile(session, user_id=world.attendee_id)
        assert profile is not None and profile.qr_token
        tokens = {"passport": profile.qr_token}

    def keep(token: str, svg: str) -> None:
        with unit_of_work(factory) as session:
            kept = session.get(QrDrawing, accounts.hash_token(token))
            assert kept is not None
            kept.svg = svg

    for name, token in tokens.items():
        keep(token, f'<svg id="{name}-kept-at-issue"></svg>')
    forget_cached()
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(app.state.engine, "before_cursor_execute", count)
    try:
        page = client.get("/passport").text
    finally:
        event.remove(app.state.engine, "before_cursor_execute", count)
    for name in tokens:
        assert f'<svg id="{name}-kept-at-issue"></svg>' in page
    assert not [s for s in statements if s.startswith("SELECT qr_drawings")], statements
    for token in tokens.values():
        keep(token, qr_svg(token))  # as issued, for the module's other tests


def test_a_session_ends_after_its_days(
    client: TestClient, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    login(client, world.emails["attendee"])
    assert client.get("/passport").status_code == 200
    with unit_of_work(factory) as session:
        session.execute(
            update(ApiToken)
            .where(ApiToken.label == SESSION_LABEL)
            .values(created_at=datetime.now(UTC) - timedelta(days=SESSION_DAYS, minutes=1))
        )
    assert client.get("/passport").status_code == 303


def test_no_database_connection_is_held_while_a_page_renders(
    client: TestClient, world: WebWorld, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """render() commits the request's work first: its connection is back in the pool while
    the template runs, and the page's data is all there."""
    from server.web import render

    login(client, world.emails["attendee"])
    pool = app.state.engine.pool
    idle = pool.checkedout()
    held: list[int] = []
    original = render.templates.TemplateResponse

    def probe(*args: Any, **kwargs: Any) -> Any:
        held.append(pool.checkedout())
        return original(*args, **kwargs)

    monkeypatch.setattr(render.templates, "TemplateResponse", probe)
    page = client.get("/passport")
    assert page.status_code == 200 and "<svg" in page.text
    assert held == [idle]


def test_passport_page_costs_a_bounded_number_of_queries(
    client: TestClient, world: WebWorld, app: FastAPI
) -> None:
    """Each round trip costs the most when a crowd loads the page: the session's token,
    user and approved business come in one query, the profile once, with the sections'
    holdings."""
    from sqlalchemy import event

    login(client, world.emails["attendee"])
    assert client.get("/passport").status_code == 200  # warm
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        statements.append(statement)

    engine = app.state.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get("/passport").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    profile_reads = [s for s in selects if "passport_profiles" in s]
    token_reads = [s for s in selects if "FROM api_tokens" in s]
    assert len(profile_reads) == 1 and len(token_reads) == 1
    assert "EXISTS" in profile_reads[0]  # the holdings ride along
    assert "JOIN users" in token_reads[0]
    assert "FROM businesses" in token_reads[0]
    assert not [s for s in selects if s.lstrip().startswith("SELECT businesses.")]
    # principal, tickets, profile, stamps, tiers, cards and their history, rewards,
    # purchases and earned rewards
    assert len(selects) <= 10, selects


def test_qr_svg_draws_exactly_the_codes_dark_modules() -> None:
    """Each path run is a row of dark modules, offset by the quiet zone: none lost or added."""
    text = "SP1." + "x" * 120
    dark = qr_matrix(text)
    drawn = np.zeros((dark.shape[0] + 2 * BORDER, dark.shape[1] + 2 * BORDER), dtype=bool)
    for x, y, length in re.findall(r"M(\d+) (\d+)\.5h(\d+)", qr_svg(text)):
        drawn[int(y), int(x) : int(x) + int(length)] = True
    assert drawn[BORDER:-BORDER, BORDER:-BORDER].tolist() == dark.tolist()
    assert not drawn[:BORDER].any() and not drawn[:, :BORDER].any()
    assert dark.sum() > dark.size // 3  # a real code, not an empty one


def test_the_tiers_a_passport_shows_are_read_once_a_while_and_hq_s_edit_shows_at_once(
    client: TestClient, world: WebWorld, app: FastAPI, factory: sessionmaker[Session]
) -> None:
    """A crowd's pages share one reading of the point tiers for a few seconds; HQ's edit through
    the app is on the next page at once (the app forgets its reading)."""
    from sqlalchemy import event

    with unit_of_work(factory) as session:  # the seeded tiers are shared reference data
        seeded = {
            row.name: (row.min_points, dict(row.perks_json))
            for row in session.scalars(select(PassportTier))
        }
    login(client, world.emails["attendee"])
    assert client.get("/passport").status_code == 200
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        statements.append(statement)

    event.listen(app.state.engine, "before_cursor_execute", count)
    try:
        pages = [client.get("/passport") for _ in range(3)]
    finally:
        event.remove(app.state.engine, "before_cursor_execute", count)
    assert [page.status_code for page in pages] == [200, 200, 200]
    assert not [s for s in statements if "FROM passport_tiers" in s]
    with unit_of_work(factory) as session:
        points = passport.get_profile(session, user_id=world.attendee_id).total_points  # type: ignore[union-attr]
    moved = {"min_SILVER": points + 4321, "min_GOLD": points + 5000, "min_ELITE": points + 6000}
    assert "4321 points to" not in pages[-1].text
    hq = browser(app)
    try:
        login(hq, world.emails["hq"])
        fields = _tier_fields(seeded) | {name: str(value) for name, value in moved.items()}
        assert post_form(hq, "/hq/tiers", "/hq/tiers", fields).status_code == 303
        assert "4321 points to <strong>SILVER</strong>" in client.get("/passport").text
    finally:
        hq.close()
        with unit_of_work(factory) as session:
            for row in session.scalars(select(PassportTier)):
                row.min_points, row.perks_json = seeded[row.name]
