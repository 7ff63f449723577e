"""Seed 000's PassportService: profiles, stamps for event scans, point tiers and their perks.

Totals on `passport_profiles` are maintained incrementally here and can always
be rebuilt from `passport_stamps` (see `server.domain.recompute`). Awarding is
idempotent per (user, event): the unique index decides, inside a savepoint,
so two concurrent awards for the same pair leave one stamp.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from core.passport import NewStamp, Totals, after_stamps
from core.perks import PERK_REWARD_TYPES, PERK_VALIDITY_KEY
from core.tiers import DEFAULT_POINT_TIERS, PointTier, point_tier_finder, point_tier_for
from core.tokens import TokenKind, issue_token
from server.db.bulk import insert_records, member_of, update_rows
from server.db.changelog import touch
from server.db.models import (
    Event,
    PassportProfile,
    PassportReward,
    PassportStamp,
    PassportTier,
    User,
    utcnow,
)
from server.db.models.enums import PassportRewardStatus, StampSource
from server.domain import keys, qr_codes
from server.domain.recent import Recent
from server.errors import Conflict, NotFound

UNKNOWN_COUNTRY = "XX"


@dataclass(frozen=True, slots=True)
class StampInfo:
    """A passport stamp as awarding saw it (a row of `passport_stamps`, not an ORM object)."""

    id: uuid.UUID
    user_id: uuid.UUID
    event_id: uuid.UUID
    country_code: str
    carnival_circuit: str | None
    points_earned: int
    source: str
    created_at: datetime


@dataclass(slots=True)
class ProfileState:
    """A locked passport profile's totals as awarding reads and writes them (not an ORM object).

    Awarding writes every profile of a batch in one statement; the loaded
    `PassportProfile` objects of the session, if any, are brought in step.
    """

    id: uuid.UUID
    user_id: uuid.UUID
    total_points: int
    total_events: int
    total_countries: int
    current_tier: str
    updated_at: datetime


@dataclass(frozen=True)
class AwardResult:
    """What awarding a stamp did: the stamp (existing or new), the profile, and any tier-up."""

    stamp: StampInfo | None
    profile: ProfileState
    created: bool
    previous_tier: str
    tier: str
    new_rewards: list[PassportReward] = field(default_factory=list)

    @property
    def tier_changed(self) -> bool:
        """True when this award moved the passport to a new tier."""
        return self.previous_tier != self.tier


_TIERS_CACHE_KEY = "soca.point_tiers"


#: The configured point tiers, lowest first (built once: every /passport load reads them).
_TIERS: Final = select(PassportTier).order_by(PassportTier.min_points)


def load_point_tiers(session: Session) -> list[PointTier]:
    """The configured point tiers (read once per session), or the seed defaults when none."""
    cached: list[PointTier] | None = session.info.get(_TIERS_CACHE_KEY)
    if cached is not None:
        return cached
    rows = session.scalars(_TIERS).all()
    tiers = (
        [PointTier(row.name, row.min_points, dict(row.perks_json)) for row in rows]
        if rows
        else list(DEFAULT_POINT_TIERS)
    )
    session.info[_TIERS_CACHE_KEY] = tiers
    return tiers


#: How long a worker's pages reuse the point tiers they show (`shown_point_tiers`).
SHOWN_TIERS_TTL_SECONDS: Final = 5.0


def shown_point_tiers() -> Recent[tuple[PointTier, ...]]:
    """The point tiers as an app's pages show them: read at most once per
    `SHOWN_TIERS_TTL_SECONDS` (one per app; never for awarding points, which reads them fresh).

    Every /passport load read them: about 9 % of the page's CPU on this host
    (1,000 loads in one process, the reading kept and not kept in turn). HQ's edit
    through the app forgets them; its other worker processes show the new tiers
    within the interval.
    """
    return Recent(lambda session: tuple(load_point_tiers(session)), SHOWN_TIERS_TTL_SECONDS)


def forget_point_tiers(session: Session) -> None:
    """Drop the session's cached tiers (after HQ edits them)."""
    session.info.pop(_TIERS_CACHE_KEY, None)


_HANDLE_UNSAFE = re.compile(r"[^a-z0-9_]+")


def _handle_base(username: str) -> str:
    cleaned = _HANDLE_UNSAFE.sub("_", username.lower()).strip("_")[:40]
    return cleaned or f"savgent_{secrets.token_hex(3)}"


def _free_handle(session: Session, username: str) -> str:
    base = _handle_base(username)
    candidate = base
    while session.scalar(select(PassportProfile.id).where(PassportProfile.handle == candidate)):
        candidate = f"{base}_{secrets.token_hex(3)}"
    return candidate


def free_handle(session: Session, username: str) -> str:
    """A passport handle made from `username` that no passport uses yet."""
    return _free_handle(session, username)


#: A user's passport (built once: every /passport load and door lookup reads it).
_PROFILE_OF: Final = select(PassportProfile).where(PassportProfile.user_id == bindparam("user_id"))


def get_profile(session: Session, *, user_id: uuid.UUID) -> PassportProfile | None:
    """The user's passport, if they have one."""
    return session.scalar(_PROFILE_OF, {"user_id": user_id})


def get_or_create_profile(session: Session, *, user_id: uuid.UUID) -> PassportProfile:
    """The user's passport, created (BRONZE, zero totals, signed QR) when missing."""
    profile = get_profile(session, user_id=user_id)
    if profile is not None:
        return profile
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    token = issue_token(keys.current_signing_key(session), TokenKind.PASSPORT, user_id)
    profile = PassportProfile(
        user_id=user_id,
        handle=_free_handle(session, user.username),
        current_tier=point_tier_for(0, load_point_tiers(session)).name,
        qr_token=token,
    )
    try:
        with session.begin_nested():
            session.add(profile)
            qr_codes.keep_drawing(session, token)
    except IntegrityError:
        existing = get_profile(session, user_id=user_id)
        if existing is None:
            raise
        return existing
    return profile


def lock_profiles(
    session: Session, user_ids: set[uuid.UUID], *, wait: bool = True
) -> dict[uuid.UUID, ProfileState]:
    """The users' profiles, created if missing, locked (in user order) and read as plain rows.

    With `wait=False`, profiles another transaction holds are skipped (left
    out of the result), and so are missing ones: creating them could wait.
    """
    session.flush()  # profiles created or changed through the ORM are read as they stand
    table = PassportProfile.__table__
    locked = (
        select(*(table.c[name] for name in ProfileState.__slots__))
        .where(member_of(session, table.c.user_id, user_ids))
        .order_by(table.c.user_id)
        .with_for_update(skip_locked=not wait)
    )
    # Core rows, not entities: a sync batch locks hundreds of profiles.
    found = {row[1]: ProfileState(*row) for row in session.connection().execute(locked).all()}
    missing = user_ids - found.keys()
    if missing and wait:
        for user_id in sorted(missing):
            get_or_create_profile(session, user_id=user_id)
        session.flush()
        found = {row[1]: ProfileState(*row) for row in session.connection().execute(locked).all()}
    return found


@dataclass(frozen=True)
class StampRequest:
    """One stamp to award: this user attended this event at this time."""

    user_id: uuid.UUID
    event_id: uuid.UUID
    when: datetime


def award_stamps(
    session: Session,
    requests: list[StampRequest],
    *,
    source: StampSource = StampSource.TICKET_SCAN,
    profiles: dict[uuid.UUID, ProfileState] | None = None,
) -> list[AwardResult]:
    """Award many stamps at once (a sync batch); one result per request, in order.

    Each (user, event) is stamped once ever: a request for a pair that already
    has a stamp returns that stamp, and a stamp takes the earliest time asked
    for it (a late scan that sorts first holds the stamp, dated by its own
    time). Events that are not passport-enabled change nothing (`stamp=None`).
    The profiles are locked first, in user order, so concurrent batches
    serialize per user and cannot deadlock, and the (user, event) checks below
    cannot race; a caller that already holds them (from `lock_profiles`)
    passes them in. Stamps are inserted, re-dated and totals updated in one
    statement each, whatever the number of requests.
    """
    events = {event_id: session.get(Event, event_id) for event_id in {r.event_id for r in requests}}
    if any(event is None for event in events.values()):
        raise NotFound("no such event")
    enabled = {
        event_id for event_id, event in events.items() if event and event.is_soca_passport_enabled
    }
    users = {request.user_id for request in requests}
    if profiles is None or not users <= profiles.keys():
        profiles = lock_profiles(session, users)
    held = {(stamp.user_id, stamp.event_id): stamp for stamp in _held_stamps(session, users)}
    plan = _plan_awards(requests, events, held, source)
    previous = {user_id: profiles[user_id].current_tier for user_id in users}
    tiers = load_point_tiers(session)
    _write_awards(session, plan, held, profiles, tiers)
    results: list[AwardResult] = []
    for request, created in zip(requests, plan.created, strict=True):
        profile = profiles[request.user_id]
        results.append(
            AwardResult(
                plan.stamps.get((request.user_id, request.event_id))
                if request.event_id in enabled
                else None,
                profile,
                created,
                previous[request.user_id] if created else profile.current_tier,
                profile.current_tier,
            )
        )
    return _unlock_perks(session, results, profiles, previous, tiers)


@dataclass
class _AwardPlan:
    """What a batch of requests does: stamps held afterwards, the new and the re-dated ones."""

    stamps: dict[tuple[uuid.UUID, uuid.UUID], StampInfo]
    new: dict[tuple[uuid.UUID, uuid.UUID], StampInfo] = field(default_factory=dict)
    redated: dict[tuple[uuid.UUID, uuid.UUID], StampInfo] = field(default_factory=dict)
    created: list[bool] = field(default_factory=list)
    updated_at: dict[uuid.UUID, datetime] = field(default_factory=dict)


def _plan_awards(
    requests: list[StampRequest],
    events: dict[uuid.UUID, Event | None],
    held: dict[tuple[uuid.UUID, uuid.UUID], StampInfo],
    source: str,
) -> _AwardPlan:
    plan = _AwardPlan(stamps=dict(held))
    for request in requests:
        event = events[request.event_id]
        assert event is not None
        key = (request.user_id, request.event_id)
        existing = plan.stamps.get(key)
        plan.created.append(event.is_soca_passport_enabled and existing is None)
        if not event.is_soca_passport_enabled:
            continue
        if existing is not None:
            if request.when < existing.created_at:
                earlier = replace(existing, created_at=request.when)
                plan.stamps[key] = earlier
                (plan.new if key in plan.new else plan.redated)[key] = earlier
            continue
        stamp = StampInfo(
            id=uuid.uuid4(),
            user_id=request.user_id,
            event_id=request.event_id,
            country_code=event.country_code or UNKNOWN_COUNTRY,
            carnival_circuit=event.carnival_circuit,
            points_earned=event.stamp_points_default,
            source=source,
            created_at=request.when,
        )
        plan.stamps[key] = plan.new[key] = stamp
        plan.updated_at[request.user_id] = request.when
    return plan


def _unlock_perks(
    session: Session,
    results: list[AwardResult],
    profiles: dict[uuid.UUID, ProfileState],
    previous: dict[uuid.UUID, str],
    tiers: list[PointTier],
) -> list[AwardResult]:
    """Give the perks of tiers newly reached, dated by the latest stamp that reached them."""
    for user_id, before in previous.items():
        profile = profiles[user_id]
        if profile.current_tier == before:
            continue
        when = max(
            r.stamp.created_at for r in results if r.created and r.stamp and r.profile is profile
        )
        new = unlock_tier_perks(session, profile=profile, tiers=tiers, now=when)
        results = [
            replace(r, new_rewards=new)
            if r.created and r.profile is profile and r.tier_changed
            else r
            for r in results
        ]
    return results


def _held_stamps(session: Session, users: set[uuid.UUID]) -> list[StampInfo]:
    """Every stamp the users already hold (Core rows: a batch reads hundreds)."""
    table = PassportStamp.__table__
    columns = [table.c[name] for name in StampInfo.__slots__]
    rows = session.connection().execute(
        select(*columns).where(member_of(session, table.c.user_id, users))
    )
    return [StampInfo(*row) for row in rows.all()]  # fetched at once, not row by row


def _write_awards(
    session: Session,
    plan: _AwardPlan,
    held: dict[tuple[uuid.UUID, uuid.UUID], StampInfo],
    profiles: dict[uuid.UUID, ProfileState],
    tiers: list[PointTier],
) -> None:
    """Insert the new stamps, re-date earlier ones, set the stamped profiles' totals, set-based."""
    if plan.redated:
        session.flush()
        rows = [{"id": stamp.id, "created_at": stamp.created_at} for stamp in plan.redated.values()]
        update_rows(session, PassportStamp, "id", rows)
    if not plan.new:
        return
    session.flush()  # the profiles' own pending changes go first
    insert_records(session, PassportStamp, list(plan.new.values()))
    tier_for = point_tier_finder(tiers)
    new_by_user: dict[uuid.UUID, list[NewStamp]] = defaultdict(list)
    for stamp in plan.new.values():
        new_by_user[stamp.user_id].append(NewStamp(stamp.points_earned, stamp.country_code))
    countries_held: dict[uuid.UUID, set[str]] = defaultdict(set)
    for stamp in held.values():
        countries_held[stamp.user_id].add(stamp.country_code)
    changed = []
    for user_id, new in new_by_user.items():
        profile = profiles[user_id]
        before = Totals(profile.total_points, profile.total_events, profile.total_countries)
        held_here = countries_held[user_id]
        totals = after_stamps(before, new, countries_held=held_here, tier_for=tier_for)
        values = {
            "total_points": totals.points,
            "total_events": totals.events,
            "total_countries": totals.countries,
            "current_tier": totals.tier,
            "updated_at": plan.updated_at[user_id],
        }
        _set_profile(session, profile, values)
        changed.append({"id": profile.id, **values})
        touch(session, "passports", str(user_id), user_id=user_id)
    update_rows(session, PassportProfile, "id", changed)


def _set_profile(session: Session, profile: ProfileState, values: dict[str, Any]) -> None:
    for name, value in values.items():
        setattr(profile, name, value)
    loaded = session.identity_map.get(identity_key(PassportProfile, profile.id))
    if loaded is not None:
        # The row is written in bulk: keep a loaded object in step without making it
        # dirty (a flush would write the profile again).
        for name, value in values.items():
            set_committed_value(loaded, name, value)


def award_stamp_for_event_scan(
    session: Session,
    *,
    user_id: uuid.UUID,
    event_id: uuid.UUID,
    source: StampSource = StampSource.TICKET_SCAN,
    now: datetime | None = None,
) -> AwardResult:
    """Stamp the passport for an event, once per (user, event); totals and tier follow.

    A scan at an event that is not passport-enabled changes nothing here
    (the caller records the scan itself) and returns `stamp=None`.
    """
    request = StampRequest(user_id, event_id, now or utcnow())
    return award_stamps(session, [request], source=source)[0]


def _perk_rewards(
    tier: PointTier, now: datetime
) -> list[tuple[str, dict[str, Any], datetime | None]]:
    valid_days = tier.perks.get(PERK_VALIDITY_KEY)
    expires = now + timedelta(days=int(valid_days)) if valid_days else None
    found = []
    for perk, value in tier.perks.items():
        reward_type = PERK_REWARD_TYPES.get(perk)
        if reward_type is None or not value:
            continue
        metadata = {"perk": perk, "tier": tier.name}
        if not isinstance(value, bool):
            metadata["value"] = value
        found.append((reward_type, metadata, expires))
    return found


def unlock_tier_perks(
    session: Session,
    *,
    profile: ProfileState | PassportProfile,
    tiers: list[PointTier],
    now: datetime,
) -> list[PassportReward]:
    """Give the user, once each, the perks of every tier they have reached."""
    reached = [tier for tier in tiers if tier.min_points <= profile.total_points]
    already = set(
        session.execute(
            select(PassportReward.source_tier, PassportReward.reward_type).where(
                PassportReward.user_id == profile.user_id,
                PassportReward.source_tier.is_not(None),
            )
        )
    )
    created = []
    for tier in reached:
        for reward_type, metadata, expires in _perk_rewards(tier, now):
            if (tier.name, reward_type) in already:
                continue
            reward = PassportReward(
                user_id=profile.user_id,
                reward_type=reward_type,
                metadata_json=metadata,
                source_tier=tier.name,
                created_at=now,
                expires_at=expires,
            )
            session.add(reward)
            created.append(reward)
    session.flush()
    return created


def redeem_reward(
    session: Session, *, reward_id: uuid.UUID, user_id: uuid.UUID, now: datetime
) -> PassportReward:
    """Mark an AVAILABLE, unexpired reward of this user as REDEEMED."""
    reward = session.scalar(
        select(PassportReward)
        .where(PassportReward.id == reward_id, PassportReward.user_id == user_id)
        .with_for_update()
    )
    if reward is None:
        raise NotFound("no such reward")
    if (
        reward.status == PassportRewardStatus.AVAILABLE
        and reward.expires_at
        and (reward.expires_at <= now)
    ):
        reward.status = PassportRewardStatus.EXPIRED
        session.flush()
    if reward.status != PassportRewardStatus.AVAILABLE:
        raise Conflict(f"this reward is {reward.status.lower()}, not available")
    reward.status = PassportRewardStatus.REDEEMED
    reward.redeemed_at = now
    session.flush()
    return reward


def expire_rewards(session: Session, *, now: datetime) -> int:
    """Flip AVAILABLE rewards past their expiry to EXPIRED; returns how many."""
    result = session.execute(
        update(PassportReward)
        .where(
            PassportReward.status == PassportRewardStatus.AVAILABLE,
            PassportReward.expires_at.is_not(None),
            PassportReward.expires_at <= now,
        )
        .values(status=PassportRewardStatus.EXPIRED)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return int(result.rowcount)  # type: ignore[attr-defined]


_STAMP, _EVENT = PassportStamp.__table__.c, Event.__table__.c
#: A user's stamps with their event's name, oldest first, and the same for one promoter's
#: events: plain columns, built once and run on the session's connection, not through
#: the ORM (every /passport load reads them, and the body wants values, not objects).
_STAMPS_OF: Final = (
    select(
        _STAMP.id,
        _STAMP.event_id,
        _EVENT.name.label("event_name"),
        _STAMP.country_code,
        _STAMP.carnival_circuit,
        _STAMP.points_earned,
        _STAMP.source,
        _STAMP.created_at,
    )
    .join(Event.__table__, _EVENT.id == _STAMP.event_id)
    .where(_STAMP.user_id == bindparam("user_id"))
    .order_by(_STAMP.created_at)
)
_PROMOTER_STAMPS_OF: Final = _STAMPS_OF.where(_EVENT.promoter_id == bindparam("promoter_id"))


def passport_summary(
    session: Session,
    *,
    user_id: uuid.UUID,
    promoter_id: uuid.UUID | None = None,
    profile: PassportProfile | None = None,
) -> dict[str, Any]:
    """The contract's `GET /passports/{user_id}` body; for a promoter, only its own events.

    With `promoter_id`, the stamps and the event and country counts cover
    that promoter's events alone; the handle, points and tier stay whole (the
    passport's public figures, the ones a door kiosk shows).
    """
    if profile is None or profile.user_id != user_id:  # the caller's copy saves a query
        profile = get_profile(session, user_id=user_id)
    if profile is None:
        raise NotFound("this user has no passport")
    if promoter_id is None:
        rows = session.connection().execute(_STAMPS_OF, {"user_id": user_id}).all()
    else:
        chosen = {"user_id": user_id, "promoter_id": promoter_id}
        rows = session.connection().execute(_PROMOTER_STAMPS_OF, chosen).all()
    total_events, total_countries = profile.total_events, profile.total_countries
    if promoter_id is not None:
        total_events = len(rows)
        total_countries = len({stamp.country_code for stamp in rows})
    return {
        "user_id": str(profile.user_id),
        "handle": profile.handle,
        "total_points": profile.total_points,
        "current_tier": profile.current_tier,
        "total_events": total_events,
        "total_countries": total_countries,
        "stamps": [
            {
                "id": str(stamp.id),
                "event_id": str(stamp.event_id),
                "event_name": stamp.event_name,
                "country_code": stamp.country_code,
                "carnival_circuit": stamp.carnival_circuit,
                "points_earned": stamp.points_earned,
                "source": stamp.source,
                "created_at": stamp.created_at.isoformat(),
            }
            for stamp in rows
        ],
    }
