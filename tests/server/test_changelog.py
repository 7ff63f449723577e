"""The pull change log: every synced row changed in a committed transaction gets a new number."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session, sessionmaker

from server.db.changelog import touch
from server.db.models import SyncChange
from server.db.session import unit_of_work
from server.domain import passport, tickets
from tests.server.factories import T0, make_event, make_user


def _log(factory: sessionmaker[Session]) -> dict[tuple[str, str], int]:
    with factory() as session:
        rows = session.scalars(select(SyncChange)).all()
        return {(row.entity, row.entity_id): row.change_no for row in rows}


def test_committed_changes_get_increasing_numbers_and_rollbacks_none(
    committed_factory: sessionmaker[Session],
) -> None:
    with unit_of_work(committed_factory) as session:
        user, event = make_user(session), make_event(session)
        ticket = tickets.issue_ticket(session, event_id=event.id, user_id=user.id)
        ids = (user.id, event.id, ticket.id)
    first = _log(committed_factory)
    assert ("tickets", str(ids[2])) in first and ("events", str(ids[1])) in first
    assert ("passports", str(ids[0])) not in first

    def award_then_fail() -> None:
        with unit_of_work(committed_factory) as session:
            passport.award_stamp_for_event_scan(session, user_id=ids[0], event_id=ids[1])
            raise RuntimeError("abandon")

    with pytest.raises(RuntimeError):
        award_then_fail()
    assert _log(committed_factory) == first

    with unit_of_work(committed_factory) as session:
        passport.award_stamp_for_event_scan(session, user_id=ids[0], event_id=ids[1])
    second = _log(committed_factory)
    assert second[("passports", str(ids[0]))] > max(first.values())
    assert second[("tickets", str(ids[2]))] == first[("tickets", str(ids[2]))]

    with unit_of_work(committed_factory) as session:
        tickets.revoke_ticket(session, ticket_id=ids[2], now=T0)
    third = _log(committed_factory)
    assert third[("tickets", str(ids[2]))] > max(second.values())


def test_entity_ids_with_array_literal_characters_are_written_as_given(
    committed_factory: sessionmaker[Session],
) -> None:
    """PostgreSQL receives the rows as array literals: quotes, commas and braces survive."""
    odd = ['quote"d', "back\\slash", "comma,brace{}", "NULL", " spaced "]
    with unit_of_work(committed_factory) as session:
        for index, entity_id in enumerate(odd):
            touch(session, "offers", entity_id, deleted=index % 2 == 0)
    with committed_factory() as session:
        rows = session.scalars(select(SyncChange).where(SyncChange.entity == "offers")).all()
    assert sorted(row.entity_id for row in rows) == sorted(odd)
    assert {row.entity_id: row.deleted for row in rows} == {
        entity_id: index % 2 == 0 for index, entity_id in enumerate(odd)
    }
    numbers = sorted(row.change_no for row in rows)
    assert numbers == list(range(numbers[0], numbers[0] + len(odd)))


def test_a_scope_id_that_is_not_a_uuid_is_refused_and_nothing_is_written(
    committed_factory: sessionmaker[Session],
) -> None:
    """Scope ids go into a UUID array literal on PostgreSQL: text must not bend it."""
    before = _log(committed_factory)
    bent = f"{uuid.uuid4()},{uuid.uuid4()}"

    def write_bent() -> None:
        with unit_of_work(committed_factory) as session:
            touch(session, "scans", "s1", event_id=uuid.uuid4())
            touch(session, "scans", "s2", event_id=bent)

    with pytest.raises((ValueError, StatementError)):
        write_bent()
    assert _log(committed_factory) == before
