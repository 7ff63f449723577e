"""The two kiosk files' schemas, as sqlite-utils `Migrations` (append new steps; never edit one).

outbox.sqlite3 holds what this device did: the ops to send (`ops`) and their
local effects (`checkins`, `card_entries`, `activations`), each effect tied to
its op by a foreign key, so the two are written in one transaction of one
file. cache.sqlite3 holds what the server sent (one table per pull section,
plus the cursor); every cached row records `pulled_at_ack`, the outbox's ack
counter when the pull that wrote it began (see `kiosk.store.outbox`).
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

OUTBOX_MIGRATIONS = Migrations("soca-kiosk-outbox")
CACHE_MIGRATIONS = Migrations("soca-kiosk-cache")


def _run(db: Database, *statements: str) -> None:
    # One statement at a time: executescript() would COMMIT the migration's transaction.
    for statement in statements:
        db.execute(statement)


@OUTBOX_MIGRATIONS(name="0001_ops_and_effects")
def _outbox_0001(db: Database) -> None:
    _run(
        db,
        """
        CREATE TABLE ops (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            op_id TEXT NOT NULL UNIQUE,
            type TEXT NOT NULL CHECK (type IN (
                'ticket.scan', 'ticket.manual_checkin', 'pass.stamp', 'pass.claim',
                'package.activate')),
            occurred_at TEXT NOT NULL,
            device_clock TEXT NOT NULL,
            payload TEXT NOT NULL CHECK (json_valid(payload)),
            verdict TEXT CHECK (verdict IN ('green', 'amber', 'red')),
            device_id TEXT,
            state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN (
                'pending', 'applied', 'duplicate', 'conflict', 'rejected')),
            reason TEXT,
            message TEXT,
            effects TEXT CHECK (effects IS NULL OR json_valid(effects)),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_attempt_at TEXT,
            acked_at TEXT,
            ack_no INTEGER,
            CHECK ((state = 'pending') = (acked_at IS NULL))
        )
        """,
        "CREATE INDEX ops_pending ON ops (seq) WHERE state = 'pending'",
        "CREATE INDEX ops_problems ON ops (state, seq) WHERE state IN ('conflict', 'rejected')",
        """
        CREATE TABLE checkins (
            ticket_id TEXT PRIMARY KEY,
            event_id TEXT NOT NULL,
            user_id TEXT,
            gate TEXT NOT NULL,
            checked_in_at TEXT NOT NULL,
            points_earned INTEGER NOT NULL DEFAULT 0,
            op_id TEXT NOT NULL UNIQUE REFERENCES ops (op_id)
        )
        """,
        "CREATE INDEX checkins_user ON checkins (user_id, event_id)",
        """
        CREATE TABLE card_entries (
            id INTEGER PRIMARY KEY,
            offer_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('STAMP', 'CLAIM')),
            occurred_at TEXT NOT NULL,
            op_id TEXT NOT NULL UNIQUE REFERENCES ops (op_id)
        )
        """,
        "CREATE INDEX card_entries_card ON card_entries (offer_id, user_id, occurred_at)",
        """
        CREATE TABLE activations (
            purchase_id TEXT PRIMARY KEY,
            activated_at TEXT NOT NULL,
            op_id TEXT NOT NULL UNIQUE REFERENCES ops (op_id)
        )
        """,
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    )


@CACHE_MIGRATIONS(name="0001_pulled_rows")
def _cache_0001(db: Database) -> None:
    _run(
        db,
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        """
        CREATE TABLE keys (
            key_id INTEGER PRIMARY KEY,
            public_key BLOB NOT NULL,
            revoked INTEGER NOT NULL DEFAULT 0
        )
        """,
        """
        CREATE TABLE events (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            starts_at TEXT,
            ends_at TEXT,
            venue TEXT,
            is_soca_passport_enabled INTEGER NOT NULL DEFAULT 0,
            stamp_points_default INTEGER NOT NULL DEFAULT 0,
            country_code TEXT,
            carnival_circuit TEXT,
            pulled_at_ack INTEGER NOT NULL DEFAULT 0
        )
        """,
        """
        CREATE TABLE tickets (
            n INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            event_id TEXT NOT NULL,
            user_id TEXT,
            holder_name TEXT,
            handle TEXT,
            code TEXT,
            revoked INTEGER NOT NULL DEFAULT 0,
            checked_in_at TEXT,
            checked_in_gate TEXT,
            checked_in_device TEXT,
            code_key TEXT,
            search_key TEXT NOT NULL DEFAULT '',
            pulled_at_ack INTEGER NOT NULL DEFAULT 0
        )
        """,
        "CREATE INDEX tickets_user ON tickets (user_id, event_id)",
        "CREATE INDEX tickets_code ON tickets (code_key)",
        """
        CREATE TABLE passports (
            user_id TEXT PRIMARY KEY,
            handle TEXT NOT NULL,
            total_points INTEGER NOT NULL DEFAULT 0,
            current_tier TEXT NOT NULL,
            revoked INTEGER NOT NULL DEFAULT 0,
            pulled_at_ack INTEGER NOT NULL DEFAULT 0
        )
        """,
        """
        CREATE TABLE offers (
            id TEXT PRIMARY KEY,
            branch_id TEXT NOT NULL,
            name TEXT NOT NULL,
            max_stamps INTEGER NOT NULL,
            prize TEXT,
            loyalty_tiers TEXT,
            active INTEGER NOT NULL DEFAULT 1,
            pulled_at_ack INTEGER NOT NULL DEFAULT 0
        )
        """,
        "CREATE INDEX offers_branch ON offers (branch_id)",
        """
        CREATE TABLE cards (
            offer_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            current_stamps INTEGER NOT NULL DEFAULT 0,
            rewards_claimed INTEGER NOT NULL DEFAULT 0,
            last_activity_at TEXT,
            expired INTEGER NOT NULL DEFAULT 0,
            pulled_at_ack INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (offer_id, user_id)
        )
        """,
        """
        CREATE TABLE purchases (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL,
            package_id TEXT NOT NULL,
            event_id TEXT,
            package_name TEXT,
            status TEXT NOT NULL,
            activated_at TEXT,
            pulled_at_ack INTEGER NOT NULL DEFAULT 0
        )
        """,
        """
        CREATE TABLE scans (
            id TEXT PRIMARY KEY,
            event_id TEXT NOT NULL,
            ticket_id TEXT,
            user_id TEXT,
            gate TEXT,
            scanned_at TEXT NOT NULL,
            outcome TEXT NOT NULL,
            device_id TEXT,
            pulled_at_ack INTEGER NOT NULL DEFAULT 0
        )
        """,
        "CREATE INDEX scans_ticket ON scans (ticket_id, scanned_at)",
        """
        CREATE TABLE revoked_tokens (
            kind INTEGER NOT NULL,
            subject_id TEXT NOT NULL,
            issued_before TEXT,
            revoked_at TEXT NOT NULL,
            PRIMARY KEY (kind, subject_id)
        )
        """,
    )


@CACHE_MIGRATIONS(name="0002_ticket_search")
def _cache_0002(db: Database) -> None:
    # Word-prefix search over name, handle and code, keyed by the tickets' stable rowid `n`.
    # Kept in step by `Cache` with set-based statements per pull page, not row triggers:
    # FTS5 inserts from a trigger cost ~50x more than one INSERT ... SELECT.
    _run(
        db,
        """
        CREATE VIRTUAL TABLE ticket_search USING fts5(
            search_key, content = 'tickets', content_rowid = 'n',
            tokenize = 'unicode61 remove_diacritics 2'
        )
        """,
        "INSERT INTO ticket_search (ticket_search) VALUES ('rebuild')",
    )


#: The outbox tables whose rows reference `ops (op_id)`.
_OP_EFFECTS = ("checkins", "card_entries", "activations")


@OUTBOX_MIGRATIONS(name="0002_second_wave_op_types")
def _outbox_0002(db: Database) -> None:
    # Allow `scan.refused` and `pass.unstamp`. SQLite cannot change a CHECK in place, so `ops`
    # is rebuilt with foreign keys on, inside the migration's transaction: the effects are set
    # aside first (a dropped parent must have no children), and the seq counter is carried over.
    # The table names are the fixed ones above (S608).
    statements = [f"CREATE TEMP TABLE keep_{t} AS SELECT * FROM {t}" for t in _OP_EFFECTS]  # noqa: S608
    statements += [f"DELETE FROM {t}" for t in _OP_EFFECTS]  # noqa: S608
    statements += [
        "CREATE TEMP TABLE keep_sequence AS "
        "SELECT COALESCE(MAX(seq), 0) AS seq FROM sqlite_sequence WHERE name = 'ops'",
        _OPS_TABLE.replace("CREATE TABLE ops", "CREATE TABLE ops_new"),
        "INSERT INTO ops_new SELECT * FROM ops",
        "DROP TABLE ops",
        "ALTER TABLE ops_new RENAME TO ops",
        "UPDATE sqlite_sequence SET seq = MAX(seq, (SELECT seq FROM keep_sequence)) "
        "WHERE name = 'ops'",
        "DROP TABLE keep_sequence",
        "CREATE INDEX ops_pending ON ops (seq) WHERE state = 'pending'",
        "CREATE INDEX ops_problems ON ops (state, seq) WHERE state IN ('conflict', 'rejected')",
    ]
    statements += [f"INSERT INTO {t} SELECT * FROM keep_{t}" for t in _OP_EFFECTS]  # noqa: S608
    statements += [f"DROP TABLE keep_{t}" for t in _OP_EFFECTS]
    _run(db, *statements)


_OPS_TABLE = """
    CREATE TABLE ops (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        op_id TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL CHECK (type IN (
            'ticket.scan', 'ticket.manual_checkin', 'pass.stamp', 'pass.claim',
            'package.activate', 'scan.refused', 'pass.unstamp')),
        occurred_at TEXT NOT NULL,
        device_clock TEXT NOT NULL,
        payload TEXT NOT NULL CHECK (json_valid(payload)),
        verdict TEXT CHECK (verdict IN ('green', 'amber', 'red')),
        device_id TEXT,
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN (
            'pending', 'applied', 'duplicate', 'conflict', 'rejected')),
        reason TEXT,
        message TEXT,
        effects TEXT CHECK (effects IS NULL OR json_valid(effects)),
        attempts INTEGER NOT NULL DEFAULT 0,
        last_attempt_at TEXT,
        acked_at TEXT,
        ack_no INTEGER,
        CHECK ((state = 'pending') = (acked_at IS NULL))
    )
"""


@OUTBOX_MIGRATIONS(name="0003_card_entry_unstamps")
def _outbox_0003(db: Database) -> None:
    # A card entry may be an UNSTAMP (a `pass.unstamp`), naming the stamp it withdraws
    # (`undoes`, an op id of this outbox). Nothing references `card_entries`, so it is
    # rebuilt in place with its new CHECK.
    _run(
        db,
        """
        CREATE TABLE card_entries_new (
            id INTEGER PRIMARY KEY,
            offer_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('STAMP', 'CLAIM', 'UNSTAMP')),
            occurred_at TEXT NOT NULL,
            op_id TEXT NOT NULL UNIQUE REFERENCES ops (op_id),
            undoes TEXT CHECK ((kind = 'UNSTAMP') = (undoes IS NOT NULL))
        )
        """,
        "INSERT INTO card_entries_new (id, offer_id, user_id, kind, occurred_at, op_id) "
        "SELECT id, offer_id, user_id, kind, occurred_at, op_id FROM card_entries",
        "DROP TABLE card_entries",
        "ALTER TABLE card_entries_new RENAME TO card_entries",
        "CREATE INDEX card_entries_card ON card_entries (offer_id, user_id, occurred_at)",
    )


@CACHE_MIGRATIONS(name="0003_card_holders")
def _cache_0003(db: Database) -> None:
    # Cardholders' names for a branch tablet's offline search, and an index that serves a
    # search in name order and stops at the first screenful. The cursor is dropped so the next
    # pull sends every card again, with its holder.
    _run(
        db,
        "ALTER TABLE cards ADD COLUMN holder_name TEXT",
        "ALTER TABLE cards ADD COLUMN handle TEXT",
        "ALTER TABLE cards ADD COLUMN search_key TEXT",
        "CREATE INDEX cards_search ON cards (offer_id, search_key, user_id)",
        "DELETE FROM meta WHERE key = 'cursor'",
    )
