"""Every bound a person or a device can hit, declared once.

Wire models, API schemas, web forms, the kiosk and the database columns all
read their limits from here, so a value one layer accepts can never be
refused by another as a 5xx (a 62-character gate once passed the wire model
and broke a `varchar(60)` column on PostgreSQL). `COLUMNS` names the column
each text limit guards; a test compares it with the migrated schema.

Text refuses NUL and other control characters (PostgreSQL refuses NUL in text
outright); multi-line text admits newlines and tabs only. Numbers carry a sane
range for what a person types, well inside the column's type.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Final

from annotated_types import GroupedMetadata
from pydantic import AfterValidator, Field, StringConstraints

_CENT: Final = Decimal("0.01")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_BUT_LINES: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # keeps \t and \n


def _refuse_control(value: str) -> str:
    problem = control_character(value)
    if problem is not None:
        raise ValueError(f"contains a {problem}")
    return value


def _refuse_control_multiline(value: str) -> str:
    problem = control_character(value, multiline=True)
    if problem is not None:
        raise ValueError(f"contains a {problem}")
    return value


# ------------------------------------------------------------------ declarations
# Each limit is also pydantic metadata: `name: Annotated[str, limits.EVENT_NAME]`.


@dataclass(frozen=True, slots=True)
class Text(GroupedMetadata):
    """A text field: at most `max_length` characters (at least `min_length`), no control chars."""

    max_length: int
    min_length: int = 0
    multiline: bool = False

    def __iter__(self) -> Iterator[object]:
        yield StringConstraints(min_length=self.min_length, max_length=self.max_length)
        yield AfterValidator(_refuse_control_multiline if self.multiline else _refuse_control)


@dataclass(frozen=True, slots=True)
class Whole(GroupedMetadata):
    """A whole number from `minimum` to `maximum`, inclusive (strict: no floats, no strings)."""

    minimum: int
    maximum: int

    def __iter__(self) -> Iterator[object]:
        yield Field(ge=self.minimum, le=self.maximum, strict=True)

    def contains(self, value: int) -> bool:
        """True when `value` lies in the range."""
        return self.minimum <= value <= self.maximum


@dataclass(frozen=True, slots=True)
class Money(GroupedMetadata):
    """A finite amount with at most two decimal places, `minimum` to `maximum` (NUMERIC(10, 2))."""

    minimum: Decimal
    maximum: Decimal

    def __iter__(self) -> Iterator[object]:
        yield Field(
            ge=self.minimum,
            le=self.maximum,
            max_digits=10,
            decimal_places=2,
            allow_inf_nan=False,
        )

    def contains(self, value: Decimal) -> bool:
        """True when `value` is finite, has at most two places and lies in the range."""
        if not value.is_finite() or not self.minimum <= value <= self.maximum:
            return False
        return value == value.quantize(_CENT)


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """Plausible instants: from `earliest` to `ahead` after the server's time, inclusive."""

    earliest: datetime
    ahead: timedelta

    def contains(self, when: datetime, now: datetime) -> bool:
        """True when `when` lies in the window (aware datetimes compare without conversion)."""
        return self.earliest <= when <= now + self.ahead


# People and accounts
USERNAME: Final = Text(50, 1)
HANDLE: Final = Text(50, 3)
EMAIL: Final = Text(255, 3)
DISPLAY_NAME: Final = Text(120, 1)
PASSWORD: Final = Text(1024, 8)
COUNTRY_CODE: Final = Text(4, 2)

# Promoters and billing
PROMOTER_NAME: Final = Text(120, 1)
ORGANIZATION: Final = Text(255)
CITY: Final = Text(120)
WEBSITE_OR_SOCIAL: Final = Text(255)
EVENT_TYPES: Final = Text(255)
BILLING_NOTES: Final = Text(2000, multiline=True)
FEE_CENTS: Final = Whole(0, 100_000_000)  # up to 1,000,000.00 per event

# Events, tickets and the door
EVENT_NAME: Final = Text(200, 1)
VENUE: Final = Text(200)
CARNIVAL_CIRCUIT: Final = Text(120)
HOLDER_NAME: Final = Text(120, 1)
GATE: Final = Text(60)
CHECKIN_NOTE: Final = Text(500, multiline=True)
DEVICE_NAME: Final = Text(120, 1)
STAMP_POINTS: Final = Whole(0, 10_000)  # points per event stamp
TIME_ZONE: Final = Text(64, 1)  # an IANA zone name, e.g. America/Port_of_Spain
CONFLICT_NOTE: Final = Text(2000, 1, multiline=True)  # HQ's note on a resolved sync conflict
TICKET_IMPORT_ROWS: Final = Whole(1, 2_000)  # rows of one CSV upload of tickets
#: A passport's running total saturates here (exact in every JSON reader, far inside BIGINT),
#: so no stamp, however many points an old event row holds, can overflow it.
PASSPORT_POINTS: Final = Whole(0, 2**53 - 1)
TIER_MIN_POINTS: Final = Whole(0, 100_000_000)

# Sync ops
QR_TEXT: Final = Text(7089, 1)  # the most a QR code holds (version 40, numeric mode)
#: An op's `occurred_at` (the kiosk's corrected door time): not before 2020, not more than a
#: day ahead of the server (time zones and a slow clock fit; a clock reset to year 1 does not).
OP_TIME: Final = TimeWindow(datetime(2020, 1, 1, tzinfo=UTC), timedelta(days=1))
#: An op's `device_clock` (the raw clock, kept for audit however wrong): a tablet whose clock
#: battery died shows 1970 and is still a real scan when `occurred_at` was corrected.
DEVICE_CLOCK: Final = TimeWindow(datetime(1970, 1, 1, tzinfo=UTC), timedelta(days=36_525))

# Stamp cards (seed 002)
BRANCH_NAME: Final = Text(120, 1)
OFFER_NAME: Final = Text(120, 1)
PRIZE: Final = Text(200)
DESCRIPTION: Final = Text(2000, multiline=True)
MAX_STAMPS: Final = Whole(1, 100)
CARD_TIER_REWARDS: Final = Whole(0, 100_000)  # minRewards / maxRewards
CARD_TIER_ID: Final = Text(40, 1)
CARD_TIER_NAME: Final = Text(60, 1)  # name and nameAr
CARD_TIER_ICON: Final = Text(120)  # an emoji (EMOJI_ICON_LENGTH at most) or an image path
EMOJI_ICON_LENGTH: Final = 16
CARD_TIERS_MAX: Final = 12  # tiers in one set (the seed advises 3-4)
TIER_ICON_BYTES: Final = 256 * 1024  # an uploaded tier icon, before it is re-encoded

# Businesses (seed 002's stamp-card sellers)
BUSINESS_NAME: Final = Text(120, 1)

# Packages and rewards (seed 003)
PACKAGE_NAME: Final = Text(200, 1)
PACKAGE_ITEM_NAME: Final = Text(200, 1)
REWARD_NAME: Final = Text(200, 1)
PRICE: Final = Money(Decimal("0.00"), Decimal("1000000.00"))
REWARD_AMOUNT: Final = Money(Decimal("0.01"), Decimal("1000000.00"))
SPEND_AMOUNT: Final = Money(Decimal("0.01"), Decimal("1000000.00"))
STOCK: Final = Whole(1, 1_000_000)  # a package's max quantity
PER_USER: Final = Whole(1, 1_000)  # max per user, item quantity
REDEMPTIONS: Final = Whole(1, 1_000_000)  # reward redemption limits
MIN_TRANSACTIONS: Final = Whole(1, 100_000)
EXTERNAL_ID: Final = Text(120, 1)

#: The column each text limit guards, as "table.column" (a test compares them).
COLUMNS: Final[dict[str, Text]] = {
    "users.username": USERNAME,
    "users.email": EMAIL,
    "users.display_name": DISPLAY_NAME,
    "users.home_country": COUNTRY_CODE,
    "passport_profiles.handle": HANDLE,
    "promoters.name": PROMOTER_NAME,
    "promoters.email": EMAIL,
    "promoters.organization": ORGANIZATION,
    "promoters.location_city": CITY,
    "promoters.location_country": COUNTRY_CODE,
    "promoters.website_or_social": WEBSITE_OR_SOCIAL,
    "promoters.event_types": EVENT_TYPES,
    "events.name": EVENT_NAME,
    "events.venue": VENUE,
    "events.city": CITY,
    "events.country_code": COUNTRY_CODE,
    "events.carnival_circuit": CARNIVAL_CIRCUIT,
    "events.time_zone": TIME_ZONE,
    "tickets.holder_name": HOLDER_NAME,
    "ticket_scans.gate": GATE,
    "devices.name": DEVICE_NAME,
    "branches.name": BRANCH_NAME,
    "branches.city": CITY,
    "branches.country_code": COUNTRY_CODE,
    "offers.name": OFFER_NAME,
    "offers.prize": PRIZE,
    "businesses.name": BUSINESS_NAME,
    "businesses.country_code": COUNTRY_CODE,
    "packages.name": PACKAGE_NAME,
    "package_items.name": PACKAGE_ITEM_NAME,
    "rewards.name": REWARD_NAME,
    "spend_transactions.external_id": EXTERNAL_ID,
}

# ------------------------------------------------------------------ checks


def control_character(value: str, *, multiline: bool = False) -> str | None:
    """A description of the first forbidden control character in `value`, or None."""
    pattern = _CONTROL_BUT_LINES if multiline else _CONTROL
    found = pattern.search(value.replace("\r\n", "\n") if multiline else value)
    if found is None:
        return None
    return f"control character U+{ord(found.group()):04X} at position {found.start()}"


def text_problem(value: str, limit: Text) -> str | None:
    """Why `value` breaks `limit` (length or control characters), in words; None if it fits."""
    if len(value) > limit.max_length:
        return f"Use at most {limit.max_length} characters."
    if len(value) < limit.min_length:
        return (
            "This can't be empty."
            if limit.min_length == 1
            else (f"Use at least {limit.min_length} characters.")
        )
    control = control_character(value, multiline=limit.multiline)
    if control is not None:
        return f"Remove the {control}."
    return None
