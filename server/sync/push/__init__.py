"""Push: record and decide a batch of outbox ops, idempotently and convergently.

The public API (what `server.api.sync`, `server.api.branch_manager` and a
venue hub call):

- `push(session, *, device, request, now, settings, between_steps=None) -> PushResponse`
  decides a kiosk's batch; one result per op, in the request's order.
- `confirm_prize(session, *, offer, customer_id, device, user_id, now, settings) -> LoyaltyPass`
  confirms a prize online, as an op of the card's ledger (see `online`).

Neither commits: the caller's unit of work (one HTTP request) wraps the
batch. Without `between_steps` a push commits once; the HTTP route passes
its commit as `between_steps`, and the batch then commits in two steps:
first everything whose rows no other transaction holds, then the rest,
locked waiting (see `push`). Inside each step:

1. `intake`: ops already in the log (by `op_id`) are replays and get their
   first result back; a repeat of an op in the batch gets the first one's
   result; another op under an id used earlier in the batch is `rejected`
   (`duplicate_op_id`).
2. `checks`: each new op is checked on its own (its time, payload, the
   device's role and scope, the token's signature with the server's keys,
   the row it names) and gets a typed subject: a ticket, a card, a purchase,
   or none (`RecordOnly`: a static refusal, or a fact such as a door's
   `scan.refused`, recorded as it is). A failure is `rejected` and final.
3. `locks`: every subject row the batch touches is locked in one global
   order (tickets, purchases, cards, then the holders' passports, by id).
4. `decisions`: for each subject, in a savepoint, *all* its ops are decided
   again in the contract's order (`server.sync.decide`), and `effects`
   writes the result through the domain (door scans, the passport stamp,
   the card ledger, the activation). A poisoned op (one the database
   refuses) is rejected alone (`invalid_op`) and the rest is committed.
5. `oplog` holds the op log's rows: each new op (and door scan) is written
   once, in bulk, with its final values.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from core.wire import PushRequest, PushResponse
from server.db.models import Device
from server.settings import ServerSettings
from server.sync.push import checks, decisions, intake, locks, oplog
from server.sync.push.online import confirm_prize
from server.sync.push.oplog import OpRow
from server.sync.push.subjects import Checked, Origin, RecordOnly

__all__ = ["confirm_prize", "push"]


def push(
    session: Session,
    *,
    device: Device,
    request: PushRequest,
    now: datetime,
    settings: ServerSettings,
    between_steps: Callable[[], None] | None = None,
) -> PushResponse:
    """Decide every op of the batch, idempotently and in the contract's deterministic order.

    Without `between_steps` the whole batch is decided in the caller's one
    transaction, waiting for any subject another batch holds. With it (the
    edge's commit), the batch never waits while it holds locks: the subjects
    it can lock at once are decided first, `between_steps()` commits them,
    and the few that other batches held are then locked, waiting, and decided
    in a second transaction. Concurrent batches that share a handful of
    tickets therefore no longer queue behind each other's whole batch.
    """
    batch = intake.take_in(session, request)
    origin = Origin.of(device)
    stored: dict[uuid.UUID, OpRow] = dict(batch.known)
    by_subject: dict[str, list[Checked]] = defaultdict(list)
    alone = []
    for item in checks.check_all(session, device, batch.fresh, now):
        if isinstance(item.subject, RecordOnly):
            alone.append(item)
        else:
            by_subject[item.subject.key].append(item)
    stored.update(oplog.record_alone(session, origin, alone, now))
    profiles, held_elsewhere = locks.lock_subjects(session, by_subject, wait=between_steps is None)
    ready = {key: items for key, items in by_subject.items() if key not in held_elsewhere}
    stored.update(decisions.decide_locked(session, origin, ready, profiles, settings, now))
    _note_device(device, request, now)
    if held_elsewhere:
        assert between_steps is not None
        between_steps()
        later = {key: by_subject[key] for key in sorted(held_elsewhere)}
        profiles, _none = locks.lock_subjects(session, later, wait=True)
        stored.update(decisions.decide_locked(session, origin, later, profiles, settings, now))
    session.flush()
    # Ops a concurrent push logged first (after our first look) answer with its result.
    missing = [op.op_id for op in batch.fresh if op.op_id not in stored]
    stored.update(oplog.existing(session, missing))
    return PushResponse(server_time=now, results=intake.results(batch, stored))


def _note_device(device: Device, request: PushRequest, now: datetime) -> None:
    """Last sync, highest seq, and the clock offset measured from `device_time`."""
    device.last_seen_at = now
    device.last_sync_at = now
    if request.ops:
        highest = max(op.seq for op in request.ops)
        device.last_seq = max(device.last_seq or 0, highest)
    device.clock_offset_ms = round((now - request.device_time).total_seconds() * 1000)
