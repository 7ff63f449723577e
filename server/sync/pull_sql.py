"""A pull page in one PostgreSQL statement: the change-log page and its bulk rows as JSON.

`server.sync.pull.pull_json` asks for a page of the change log and the
database answers in the same round trip with the page's tickets and
passports (nearly all of a door's rows) already written as JSON arrays, the
fields of `core.wire.TicketRow` and `core.wire.PassportRow` with the values
`pull._tickets` and `pull._passports` give. Only the page's other rows
(deletions, the small entities, and bulk rows that no longer exist) come back
as plain rows for the caller to load and to send as deletions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, TextClause, Uuid, and_, case, cast, select, text
from sqlalchemy.orm import Session

#: The entities this statement writes as JSON.
BULK = ("tickets", "passports")
#: How a page's transaction runs its statement (see `read_page`).
_SETTINGS = "SELECT set_config('jit', 'off', true), set_config('work_mem', '32MB', true)"

# `kept` is the page (the first `size` rows of `page`, which holds one more to tell whether
# more follow); `uid` is the id of a live bulk row as a UUID, NULL for every other row.
_TICKETS = """
SELECT coalesce(json_agg(r), '[]')::text AS rows, count(*) AS n FROM (
    SELECT t.id, t.event_id, t.user_id, t.holder_name, p.handle, t.code,
           t.status = 'REVOKED' AS revoked,
           first.scanned_at AS checked_in_at, first.gate AS checked_in_gate,
           first.device_id::text AS checked_in_device
    FROM kept
    JOIN tickets AS t ON t.id = kept.uid AND kept.entity = 'tickets'
    LEFT JOIN passport_profiles AS p ON p.user_id = t.user_id
    LEFT JOIN LATERAL (
        SELECT s.scanned_at, s.gate, s.device_id FROM ticket_scans AS s
        WHERE s.ticket_id = t.id AND s.outcome = 'ADMITTED'
        ORDER BY s.scanned_at LIMIT 1
    ) AS first ON true
) AS r"""
_PASSPORTS = """
SELECT coalesce(json_agg(r), '[]')::text AS rows, count(*) AS n FROM (
    SELECT p.user_id, p.handle, p.total_points, p.current_tier, false AS revoked
    FROM kept
    JOIN passport_profiles AS p ON p.user_id = kept.uid AND kept.entity = 'passports'
) AS r"""
# The page's other rows. A bulk row the log names as live but that is gone (`_OTHERS_CHECKED`)
# can only be told by looking each one up, which costs a fifth of a page; the counts of
# bulk rows named and found tell whether any is gone, so the lookups run only then.
_OTHERS = "WHERE kept.uid IS NULL"
_OTHERS_CHECKED = """WHERE kept.uid IS NULL
    OR (kept.entity = 'tickets' AND NOT EXISTS (SELECT FROM tickets AS t WHERE t.id = kept.uid))
    OR (kept.entity = 'passports'
        AND NOT EXISTS (SELECT FROM passport_profiles AS p WHERE p.user_id = kept.uid))"""


def _columns(others: str) -> TextClause:
    return text(
        f"""
(SELECT count(*) FROM page) AS found,
(SELECT max(kept.change_no) FROM kept) AS last,
(SELECT count(*) FROM kept WHERE kept.uid IS NOT NULL) AS named,
tickets.rows AS tickets, tickets.n AS ticket_count,
passports.rows AS passports, passports.n AS passport_count,
(SELECT coalesce(json_agg(json_build_array(kept.entity, kept.entity_id, kept.deleted)), '[]')
 FROM kept {others}) AS others
FROM ({_TICKETS}) AS tickets, ({_PASSPORTS}) AS passports
"""  # noqa: S608 (built once, from this module's constants)
    )


_COLUMNS, _COLUMNS_CHECKED = _columns(_OTHERS), _columns(_OTHERS_CHECKED)


@dataclass(frozen=True)
class JsonPage:
    """One page as the database wrote it."""

    more: bool
    last: int | None  # the page's last change number (None: an empty page)
    tickets: str  # a JSON array of `TicketRow`s
    passports: str  # a JSON array of `PassportRow`s
    #: Every other row of the page, in no order, as (entity, entity_id, deleted): deletions,
    #: the small entities, and tickets or passports the change log names but that are gone.
    others: list[tuple[str, str, bool]]


def read_page(session: Session, *, changes: Select[Any], size: int) -> JsonPage:
    """The page `changes` selects (the first `size` + 1 changes of a scope after a cursor,
    as `server.sync.scope.page_of_changes` gives), tickets and passports as JSON."""
    connection = session.connection()
    # The statement's estimated cost is far above PostgreSQL's JIT threshold, yet compiling
    # it takes 20-35 ms of a 200-300 ms page and runs no faster; and the page's sorts of
    # 25,000 wide rows spill to disk within the default 4 MB of sort memory.
    connection.exec_driver_sql(_SETTINGS)
    row = connection.execute(_statement(changes, size, _COLUMNS)).one()
    if row.ticket_count + row.passport_count < row.named:  # a named row is gone
        row = connection.execute(_statement(changes, size, _COLUMNS_CHECKED)).one()
    return JsonPage(
        more=row.found > size,
        last=row.last,
        tickets=row.tickets,
        passports=row.passports,
        others=[(entity, entity_id, deleted) for entity, entity_id, deleted in row.others],
    )


def _statement(changes: Select[Any], size: int, columns: TextClause) -> Select[Any]:
    page = changes.cte("page")
    live_bulk = and_(~page.c.deleted, page.c.entity.in_(BULK))
    kept = (
        select(page, case((live_bulk, cast(page.c.entity_id, Uuid())), else_=None).label("uid"))
        .order_by(page.c.change_no)
        .limit(size)
        .cte("kept")
    )
    return select(columns).add_cte(page).add_cte(kept)
