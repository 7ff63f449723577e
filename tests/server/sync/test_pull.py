"""Pull: a fresh device pages through its scope; cursors resume; only the scope is sent."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from core.tokens import TokenKind, verify_token
from core.wire import PullResponse
from server.db.models import Device, PassportProfile, SyncChange, Ticket, User
from server.db.session import make_session_factory, unit_of_work
from server.domain import tickets as tickets_service
from server.errors import InvalidInput
from server.settings import ServerSettings
from server.sync.pull import pull, pull_json
from server.sync.push import push
from tests.conftest import _empty_all_tables
from tests.server.factories import T0
from tests.server.sync.world import build_world, card_op, request, scan_op

SETTINGS = ServerSettings(database_url="sqlite://")
NOW = T0 + timedelta(hours=5)


def pull_all(
    factory: sessionmaker[Session],
    device_id: uuid.UUID,
    cursor: str | None = None,
    limit: int = 1000,
) -> tuple[list[PullResponse], str | None]:
    pages = []
    while True:
        with unit_of_work(factory) as session:
            device = session.get(Device, device_id)
            assert device is not None
            page = pull(session, device=device, cursor=cursor, limit=limit, now=NOW)
        pages.append(page)
        cursor = page.cursor
        if not page.more:
            return pages, cursor


@pytest.fixture
def ids(committed_factory: sessionmaker[Session]) -> dict[str, object]:
    with unit_of_work(committed_factory) as session:
        world = build_world(session, users=5, doors=1, branches=1)
        return {
            "door": world.doors[0].id,
            "branch": world.branches[0].id,
            "tickets": [t.id for t in world.tickets],
            "users": [u.id for u in world.users],
            "event": world.event_id,
            "world": world,
        }


def test_fresh_door_device_gets_keys_event_tickets_and_holders(
    committed_factory: sessionmaker[Session], ids: dict[str, object]
) -> None:
    pages, cursor = pull_all(committed_factory, ids["door"])  # type: ignore[arg-type]
    page = pages[0]
    assert len(pages) == 1 and not page.more and cursor is not None
    assert [e.id for e in page.events] == [ids["event"]]
    assert {t.id for t in page.tickets} == set(ids["tickets"])  # type: ignore[arg-type]
    assert all(t.handle and t.code and t.holder_name for t in page.tickets)
    assert {p.user_id for p in page.passports} == set(ids["users"])  # type: ignore[arg-type]
    assert page.offers == [] and page.cards == [] and page.scans == []
    with unit_of_work(committed_factory) as session:
        token = session.get(Ticket, page.tickets[0].id).qr_token  # type: ignore[union-attr]
    assert verify_token(token, page.active_keys(), TokenKind.TICKET).ok


def test_small_pages_resume_from_the_cursor_and_lose_nothing(
    committed_factory: sessionmaker[Session], ids: dict[str, object]
) -> None:
    pages, cursor = pull_all(committed_factory, ids["door"], limit=2)  # type: ignore[arg-type]
    assert len(pages) >= 5 and all(p.more for p in pages[:-1]) and not pages[-1].more
    seen = [t.id for p in pages for t in p.tickets]
    assert sorted(seen) == sorted(ids["tickets"])  # type: ignore[arg-type]
    # Interrupted after the second page: resuming from its cursor gives the rest.
    resumed, _ = pull_all(committed_factory, ids["door"], cursor=pages[1].cursor, limit=2)  # type: ignore[arg-type]
    rest = [t.id for p in resumed for t in p.tickets]
    assert sorted(rest) == sorted(t.id for p in pages[2:] for t in p.tickets)
    nothing, same = pull_all(committed_factory, ids["door"], cursor=cursor)  # type: ignore[arg-type]
    assert same == cursor and nothing[0].tickets == [] and nothing[0].keys


def test_after_a_push_the_ticket_comes_back_checked_in(
    committed_factory: sessionmaker[Session], ids: dict[str, object]
) -> None:
    _, cursor = pull_all(committed_factory, ids["door"])  # type: ignore[arg-type]
    world = ids["world"]
    with unit_of_work(committed_factory) as session:
        door = session.get(Device, ids["door"])
        assert door is not None
        op = scan_op(world, door, world.tickets[0], 3, gate="North")  # type: ignore[attr-defined]
        push(session, device=door, request=request([op]), now=NOW, settings=SETTINGS)
    pages, _ = pull_all(committed_factory, ids["door"], cursor=cursor)  # type: ignore[arg-type]
    ticket = pages[0].tickets[0]
    assert [t.id for t in pages[0].tickets] == [world.tickets[0].id]  # type: ignore[attr-defined]
    assert ticket.checked_in_at == T0 + timedelta(minutes=3) and ticket.checked_in_gate == "North"
    assert [p.total_points for p in pages[0].passports] == [100]


def test_branch_device_gets_offers_and_cards_not_tickets(
    committed_factory: sessionmaker[Session], ids: dict[str, object]
) -> None:
    world = ids["world"]
    with unit_of_work(committed_factory) as session:
        branch = session.get(Device, ids["branch"])
        assert branch is not None
        op = card_op(world, branch, world.users[1], "stamp", 1)  # type: ignore[attr-defined]
        push(session, device=branch, request=request([op]), now=NOW, settings=SETTINGS)
    pages, _ = pull_all(committed_factory, ids["branch"])  # type: ignore[arg-type]
    page = pages[0]
    assert page.tickets == [] and len(page.offers) == 1
    assert [(c.user_id, c.current_stamps) for c in page.cards] == [(world.users[1].id, 1)]  # type: ignore[attr-defined]
    assert [p.user_id for p in page.passports] == [world.users[1].id]  # type: ignore[attr-defined]


def test_branch_cards_carry_the_holders_names_for_offline_search(
    committed_factory: sessionmaker[Session], ids: dict[str, Any]
) -> None:
    world = ids["world"]
    with unit_of_work(committed_factory) as session:
        branch = session.get(Device, ids["branch"])
        assert branch is not None
        ops = [card_op(world, branch, world.users[n], "stamp", n + 1) for n in (0, 2)]
        push(session, device=branch, request=request(ops), now=NOW, settings=SETTINGS)
    pages, cursor = pull_all(committed_factory, ids["branch"])
    cards = {card.user_id: card for page in pages for card in page.cards}
    assert set(cards) == {world.users[0].id, world.users[2].id}
    for n in (0, 2):
        card = cards[world.users[n].id]
        handle = next(
            p.handle for page in pages for p in page.passports if p.user_id == card.user_id
        )
        assert card.holder_name == world.users[n].display_name and card.handle == handle
        assert card.offer_id == world.offer.id and card.current_stamps == 1
    # The route's JSON (built by the database on PostgreSQL) says the same.
    with unit_of_work(committed_factory) as session:
        device = session.get(Device, ids["branch"])
        assert device is not None
        text_page = pull_json(session, device=device, cursor=None, limit=1000, now=NOW)
    sent = {card.user_id: card for card in PullResponse.model_validate_json(text_page).cards}
    assert sent == cards
    # A holder renamed, another's handle changed: their cards come again with the new names.
    with unit_of_work(committed_factory) as session:
        user = session.get(User, world.users[0].id)
        profile = session.scalars(
            select(PassportProfile).where(PassportProfile.user_id == world.users[2].id)
        ).one_or_none()
        assert user is not None and profile is not None
        user.display_name = "Renamed Fan"
        profile.handle = "new_handle_2"
    again, _ = pull_all(committed_factory, ids["branch"], cursor=cursor)
    renamed = {card.user_id: card for page in again for card in page.cards}
    assert set(renamed) == {world.users[0].id, world.users[2].id}
    assert renamed[world.users[0].id].holder_name == "Renamed Fan"
    assert renamed[world.users[2].id].handle == "new_handle_2"


def test_deleted_row_is_sent_as_a_deletion(
    committed_factory: sessionmaker[Session], ids: dict[str, object]
) -> None:
    _, cursor = pull_all(committed_factory, ids["door"])  # type: ignore[arg-type]
    gone = ids["tickets"][-1]  # type: ignore[index]
    with unit_of_work(committed_factory) as session:
        session.delete(session.get(Ticket, gone))
    pages, _ = pull_all(committed_factory, ids["door"], cursor=cursor)  # type: ignore[arg-type]
    assert [(d.entity, d.id) for d in pages[0].deletions] == [("tickets", str(gone))]


def test_a_cursor_that_was_never_given_out_is_refused(
    committed_factory: sessionmaker[Session], ids: dict[str, object]
) -> None:
    with unit_of_work(committed_factory) as session, pytest.raises(InvalidInput):
        pull(session, device=session.get(Device, ids["door"]), cursor="abc", limit=10, now=NOW)  # type: ignore[arg-type]


@pytest.fixture
def postgres_factory(databases: Any) -> Iterator[sessionmaker[Session]]:
    """Committed sessions on PostgreSQL only: SQLite never lets two writers overlap."""
    engine = databases.engine("postgresql")
    _empty_all_tables(engine)
    yield make_session_factory(engine)
    _empty_all_tables(engine)


def test_change_numbers_follow_commit_order_not_start_order(
    postgres_factory: sessionmaker[Session],
) -> None:
    with unit_of_work(postgres_factory) as session:
        world = build_world(session, users=2, doors=1, branches=0)
        ticket_ids = [t.id for t in world.tickets]
    first, second = postgres_factory(), postgres_factory()
    try:
        a = first.get(Ticket, ticket_ids[0])
        b = second.get(Ticket, ticket_ids[1])
        assert a is not None and b is not None
        a.holder_name, b.holder_name = "Renamed A", "Renamed B"
        first.flush()
        second.commit()  # started later, commits first
        first.commit()
    finally:
        first.close()
        second.close()
    with postgres_factory() as session:
        numbers = dict(
            session.execute(
                select(SyncChange.entity_id, SyncChange.change_no).where(
                    SyncChange.entity == "tickets"
                )
            ).all()
        )
    assert numbers[str(ticket_ids[0])] > numbers[str(ticket_ids[1])]


def test_a_ticket_is_sent_again_only_when_its_first_check_in_moves(
    committed_factory: sessionmaker[Session], ids: dict[str, Any]
) -> None:
    world, ticket = ids["world"], ids["tickets"][0]
    door = world.doors[0]

    def numbers() -> dict[str, int]:
        with committed_factory() as session:
            rows = session.scalars(select(SyncChange).where(SyncChange.entity == "tickets"))
            return {row.entity_id: row.change_no for row in rows}

    def scan(minute: float) -> None:
        with unit_of_work(committed_factory) as session:
            device = session.get(Device, door.id)
            ticket_row = session.get(Ticket, ticket)
            assert device is not None and ticket_row is not None
            op = scan_op(world, door, ticket_row, minute)
            push(session, device=device, request=request([op]), now=NOW, settings=SETTINGS)

    before = numbers()[str(ticket)]
    scan(10)  # admitted: the ticket now has a first check-in
    admitted = numbers()[str(ticket)]
    scan(20)  # a re-entry: the first check-in stays where it was
    assert admitted > before
    assert numbers()[str(ticket)] == admitted
    scan(5)  # a late scan from earlier takes the admission over
    assert numbers()[str(ticket)] > admitted


def _sorted_page(page: PullResponse) -> dict[str, Any]:
    """A page as comparable data: lists in a fixed order, and the request time left out."""
    data = page.model_dump(mode="json", exclude={"server_time"})
    for name, rows in data.items():
        if isinstance(rows, list):
            data[name] = sorted(rows, key=lambda row: json.dumps(row, sort_keys=True))
    return data


def test_the_route_s_json_page_says_what_the_models_say(
    committed_factory: sessionmaker[Session], ids: dict[str, Any]
) -> None:
    """On PostgreSQL the route's page is written by the database: it must match `pull`."""
    world = ids["world"]
    with unit_of_work(committed_factory) as session:
        door = session.get(Device, ids["door"])
        assert door is not None
        ops = [
            scan_op(world, door, world.tickets[0], 3, gate="North"),
            scan_op(world, door, world.tickets[0], 9, gate="South"),
            scan_op(world, door, world.tickets[1], 4),
        ]
        push(session, device=door, request=request(ops), now=NOW, settings=SETTINGS)
        tickets_service.revoke_ticket(session, ticket_id=ids["tickets"][2], now=NOW)
        session.delete(session.get(Ticket, ids["tickets"][3]))
    for cursor, limit in ((None, 1000), (None, 3), ("2", 4)):
        with unit_of_work(committed_factory) as session:
            device = session.get(Device, ids["door"])
            assert device is not None
            modelled = pull(session, device=device, cursor=cursor, limit=limit, now=NOW)
            written = pull_json(session, device=device, cursor=cursor, limit=limit, now=NOW)
        assert _sorted_page(PullResponse.model_validate_json(written)) == _sorted_page(modelled)
    assert modelled.tickets or modelled.passports or modelled.deletions


def test_rows_gone_behind_the_log_s_back_are_sent_as_deletions(
    committed_factory: sessionmaker[Session], ids: dict[str, Any]
) -> None:
    """A ticket and a passport deleted without the log noting it (a bulk statement) are
    still named live by the log: both page readers send them as deletions."""
    gone_ticket, gone_user = ids["tickets"][0], ids["users"][1]
    with unit_of_work(committed_factory) as session:
        session.execute(delete(Ticket).where(Ticket.id == gone_ticket))
        session.execute(delete(PassportProfile).where(PassportProfile.user_id == gone_user))
    with unit_of_work(committed_factory) as session:
        device = session.get(Device, ids["door"])
        assert device is not None
        modelled = pull(session, device=device, cursor=None, limit=1000, now=NOW)
        written = PullResponse.model_validate_json(
            pull_json(session, device=device, cursor=None, limit=1000, now=NOW)
        )
    for page in (modelled, written):
        assert {(d.entity, d.id) for d in page.deletions} == {
            ("tickets", str(gone_ticket)),
            ("passports", str(gone_user)),
        }
        assert gone_ticket not in {t.id for t in page.tickets}
        assert len(page.tickets) == len(ids["tickets"]) - 1
    assert _sorted_page(written) == _sorted_page(modelled)


def test_a_door_also_gets_its_promoters_other_events_but_no_strangers(
    committed_factory: sessionmaker[Session], ids: dict[str, object]
) -> None:
    from server.db.models import Event, Promoter
    from tests.server.factories import make_event

    with unit_of_work(committed_factory) as session:
        ours, theirs = (
            Promoter(name=name, email=f"{name}@example.com", status="APPROVED")
            for name in ("ours", "theirs")
        )
        session.add_all([ours, theirs])
        session.flush()
        tonight = session.get(Event, ids["event"])
        assert tonight is not None
        tonight.promoter_id = ours.id
        tomorrow = make_event(session, name="Tomorrow's fête", promoter_id=ours.id).id
        make_event(session, name="A stranger's fête", promoter_id=theirs.id)
    pages, _ = pull_all(committed_factory, ids["door"])  # type: ignore[arg-type]
    names = {e.id: e.name for p in pages for e in p.events}
    assert set(names) == {ids["event"], tomorrow}
    assert names[tomorrow] == "Tomorrow's fête"
    # Still only tonight's tickets: the other nights' names are all a door learns of them.
    assert {t.event_id for p in pages for t in p.tickets} == {ids["event"]}


def test_a_page_read_branch_by_branch_is_the_page_of_the_whole_scope(
    committed_factory: sessionmaker[Session], ids: dict[str, object]
) -> None:
    """Every page size and cursor: the merged walks give the rows, in the order, that one
    OR over the scope gives, a row in two branches (tonight, an event of the door's own
    promoter) once."""
    from server.db.models import Event, Promoter
    from server.sync.scope import page_of_changes, scope_filter
    from tests.server.factories import make_event

    with unit_of_work(committed_factory) as session:
        ours = Promoter(name="ours", email="ours@example.com", status="APPROVED")
        session.add(ours)
        session.flush()
        tonight = session.get(Event, ids["event"])
        assert tonight is not None
        tonight.promoter_id = ours.id
        make_event(session, name="Tomorrow's fête", promoter_id=ours.id)
    columns = (SyncChange.entity, SyncChange.entity_id, SyncChange.change_no, SyncChange.deleted)
    with unit_of_work(committed_factory) as session:
        for device_id in (ids["door"], ids["branch"]):
            device = session.get(Device, device_id)
            assert device is not None
            whole = session.execute(
                select(*columns).where(scope_filter(device)).order_by(SyncChange.change_no)
            ).all()
            assert whole
            for rows in (1, 2, 3, len(whole), len(whole) + 5):
                for after in {0, whole[0][2], whole[len(whole) // 2][2], whole[-1][2]}:
                    expected = [row for row in whole if row[2] > after][:rows]
                    page = session.execute(page_of_changes(device, after=after, rows=rows)).all()
                    assert [tuple(row) for row in page] == [tuple(row) for row in expected]
