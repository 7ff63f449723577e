"""Seed 000 and 001: passports, stamps, tiers, rewards, missions and memberships."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core import limits
from server.db.models.base import Base, created_at, one_of, updated_at, uuid_pk
from server.db.models.enums import (
    MembershipStatus,
    PassportRewardStatus,
    StampSource,
)
from server.db.types import JsonDocument, UTCDateTime

_EMPTY_JSON = text("'{}'")


class PassportProfile(Base):
    """A user's Soca Passport identity and its derived totals (recomputable from stamps)."""

    __tablename__ = "passport_profiles"
    __table_args__ = (
        Index("uq_passport_profiles_lower_handle", func.lower(text("handle")), unique=True),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), unique=True)
    handle: Mapped[str] = mapped_column(String(limits.HANDLE.max_length), unique=True)
    qr_token: Mapped[str | None] = mapped_column(Text())
    # BIGINT, and saturating at core.limits.PASSPORT_POINTS: a total never overflows.
    total_points: Mapped[int] = mapped_column(BigInteger(), default=0, server_default=text("0"))
    current_tier: Mapped[str] = mapped_column(
        String(limits.TIER_NAME.max_length), default="BRONZE", server_default=text("'BRONZE'")
    )
    total_events: Mapped[int] = mapped_column(Integer(), default=0, server_default=text("0"))
    total_countries: Mapped[int] = mapped_column(Integer(), default=0, server_default=text("0"))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class PassportStamp(Base):
    """One event stamp earned; at most one per user and event."""

    __tablename__ = "passport_stamps"
    __table_args__ = (
        UniqueConstraint("user_id", "event_id"),
        one_of("source", StampSource),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id"), index=True)
    country_code: Mapped[str] = mapped_column(String(limits.COUNTRY_CODE.max_length))
    carnival_circuit: Mapped[str | None] = mapped_column(String(limits.CARNIVAL_CIRCUIT.max_length))
    points_earned: Mapped[int] = mapped_column(Integer())
    source: Mapped[str] = mapped_column(
        String(30), default=StampSource.TICKET_SCAN, server_default=text("'TICKET_SCAN'")
    )
    created_at: Mapped[datetime] = created_at()


class PassportTier(Base):
    """A configurable point tier and its perks."""

    __tablename__ = "passport_tiers"

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(limits.TIER_NAME.max_length), unique=True)
    min_points: Mapped[int] = mapped_column(Integer())
    perks_json: Mapped[dict[str, Any]] = mapped_column(
        JsonDocument, default=dict, server_default=_EMPTY_JSON
    )


class PassportReward(Base):
    """A reward unlocked by a user (a tier's perk, or granted by HQ)."""

    __tablename__ = "passport_rewards"
    __table_args__ = (
        one_of("status", PassportRewardStatus),
        UniqueConstraint("user_id", "source_tier", "reward_type"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    reward_type: Mapped[str] = mapped_column(String(40))
    metadata_json: Mapped[dict[str, Any]] = mapped_column(
        JsonDocument, default=dict, server_default=_EMPTY_JSON
    )
    status: Mapped[str] = mapped_column(
        String(20), default=PassportRewardStatus.AVAILABLE, server_default=text("'AVAILABLE'")
    )
    source_tier: Mapped[str | None] = mapped_column(String(limits.TIER_NAME.max_length))
    created_at: Mapped[datetime] = created_at()
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PassportMission(Base):
    """Phase 2 stub: the table exists so the schema is future-proof."""

    __tablename__ = "passport_missions"

    id: Mapped[uuid.UUID] = uuid_pk()
    title: Mapped[str] = mapped_column(String(limits.MISSION_TITLE.max_length))
    description: Mapped[str | None] = mapped_column(Text())
    points_reward: Mapped[int] = mapped_column(Integer())
    rules_json: Mapped[dict[str, Any]] = mapped_column(
        JsonDocument, default=dict, server_default=_EMPTY_JSON
    )
    active_from: Mapped[datetime] = mapped_column(UTCDateTime())
    active_to: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at()


class PassportMembership(Base):
    """Seed 001 scaffolding for paid membership tiers; no row means FREE."""

    __tablename__ = "passport_memberships"
    __table_args__ = (one_of("status", MembershipStatus),)

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    tier: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(
        String(20), default=MembershipStatus.ACTIVE, server_default=text("'ACTIVE'")
    )
    started_at: Mapped[datetime] = created_at()
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    metadata_json: Mapped[dict[str, Any]] = mapped_column(
        JsonDocument, default=dict, server_default=_EMPTY_JSON
    )
