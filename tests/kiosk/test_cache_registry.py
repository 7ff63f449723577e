"""The cache as a registry: each pulled table declared once, and the file follows the declaration."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import AwareDatetime

from core.tokens import TokenKind
from core.wire import CardRow, PullResponse, ScanRow
from kiosk.store.cache import Cache
from kiosk.store.tables import BY_NAME, CARDS, TABLES, Kind, kind_of
from tests.kiosk.world import NOW, World


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    """An empty cache file."""
    opened = Cache.open(tmp_path / "cache.sqlite3", busy_timeout_ms=100)
    yield opened
    opened.close()


def _columns(cache: Cache, table: str) -> set[str]:
    return {row[1] for row in cache.db.execute(f"PRAGMA table_info({table})")}


def test_every_row_section_of_a_pull_is_declared_and_every_column_is_in_the_file(
    tmp_path: Path,
) -> None:
    sections = {
        name
        for name, field in PullResponse.model_fields.items()
        if name not in ("keys", "deletions") and str(field.annotation).startswith("list[")
    }
    assert set(BY_NAME) == sections
    cache = Cache.open(tmp_path / "cache.sqlite3", busy_timeout_ms=100)
    try:
        for table in TABLES:
            extra = {"n"} if table.name == "tickets" else set()  # the search index's rowid
            assert _columns(cache, table.name) == set(table.columns) | extra, table.name
    finally:
        cache.close()


def test_a_column_the_file_lacks_is_added_and_the_next_pull_starts_over(
    tmp_path: Path, world: World
) -> None:
    path = tmp_path / "cache.sqlite3"
    cache = Cache.open(path, busy_timeout_ms=100)
    cache.apply_page(world.page(cursor="41"), ack_mark=0)
    # A file written before cards had holders (as a kiosk updated in the field has).
    cache.db.execute("ALTER TABLE cards DROP COLUMN holder_name")
    cache.close()
    cache = Cache.open(path, busy_timeout_ms=100)
    try:
        assert "holder_name" in _columns(cache, "cards")
        assert cache.cursor() is None and cache.offer(world.offer.id) is not None
        reopened_cursor = "42"
        cache.apply_page(world.page(cursor=reopened_cursor), ack_mark=0)
    finally:
        cache.close()
    cache = Cache.open(path, busy_timeout_ms=100)  # nothing missing now: the cursor stays
    try:
        assert cache.cursor() == reopened_cursor
    finally:
        cache.close()


def test_rows_read_back_by_column_name_as_they_were_pulled(cache: Cache, world: World) -> None:
    person = world.attendees[0]
    card = CardRow(
        offer_id=world.offer.id,
        user_id=person.user_id,
        current_stamps=3,
        rewards_claimed=2,
        last_activity_at=NOW - timedelta(days=1),
        expired=True,
        holder_name=person.name,
        handle=person.handle,
    )
    scan = ScanRow(
        id=uuid.uuid4(),
        event_id=world.event.id,
        ticket_id=person.ticket_id,
        gate="North",
        scanned_at=NOW,
        outcome="ADMITTED",
        device_id=uuid.uuid4(),
    )
    cache.apply_page(world.page(cards=[card], scans=[scan]), ack_mark=7)
    read = cache.card(world.offer.id, person.user_id)
    assert read is not None and read.pulled_at_ack == 7
    fields = {f.name for f in dataclasses.fields(read)} - {"pulled_at_ack"}
    assert {name: getattr(read, name) for name in fields} == card.model_dump(include=fields)
    offer = cache.offer(world.offer.id)
    assert offer is not None and offer.loyalty_tiers == world.offer.loyalty_tiers
    admitted = cache.first_admission(person.ticket_id)
    assert admitted is not None
    assert (admitted.gate, admitted.scanned_at, admitted.device_id) == (
        "North",
        NOW,
        str(scan.device_id),
    )
    cache.apply_page(
        world.page(deletions=[{"entity": "cards", "id": f"{world.offer.id}:{person.user_id}"}]),
        ack_mark=8,
    )
    assert cache.card(world.offer.id, person.user_id) is None


@pytest.mark.parametrize(
    ("annotation", "kind"),
    [
        (bool, Kind.BOOL),
        (int, Kind.INT),
        (TokenKind, Kind.INT),
        (uuid.UUID | None, Kind.UUID),
        (AwareDatetime | None, Kind.TIME),
        (dict[str, Any] | None, Kind.JSON),
        (Literal["ADMITTED", "REFUSED"], Kind.TEXT),
        (str | None, Kind.TEXT),
    ],
)
def test_how_a_value_is_stored_follows_its_annotation(annotation: Any, kind: Kind) -> None:
    assert kind_of(annotation) is kind


def test_a_declared_table_knows_its_deletion_key() -> None:
    offer_id, user_id = uuid.uuid4(), uuid.uuid4()
    assert CARDS.key_values(f"{offer_id}:{user_id}") == [str(offer_id), str(user_id)]
    assert BY_NAME["events"].key_values("abc") == ["abc"]
