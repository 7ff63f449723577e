"""What a wallet pass says, in English and Arabic, independent of Apple or Google.

A `PassContent` is built from the attendee's own views (`server.domain.attendee`)
by pure functions, so both wallets show the same figures and words as /passport:
a stamp card's Progress "4 of 5", Completed "7x" and Tier "🥇 Gold Member"; the
passport's points and tier; a ticket's event, time and door QR. Each field
carries its label and value in both languages and, for the figures whose change
deserves a lock-screen message (prizes and tier-ups), that message.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Final

from core.tiers import CardTier, CardTierProgress, next_tier_line

#: Brand colours (Apple wants rgb(); Google takes #RRGGBB).
BACKGROUND: Final = "#1B0B3A"
FOREGROUND: Final = "#FFFFFF"
ACCENT: Final = "#FFC83D"
ORGANIZATION: Final = "Soca Passport"


class PassKind(StrEnum):
    """The three passes a person can add to a wallet."""

    CARD = "card"
    PASSPORT = "passport"
    TICKET = "ticket"


@dataclass(frozen=True)
class Words:
    """One text in English and Arabic."""

    en: str
    ar: str

    def __getitem__(self, lang: str) -> str:
        return self.ar if lang == "ar" else self.en


def same(text: str) -> Words:
    """A text that reads the same in both languages (numbers, names)."""
    return Words(text, text)


@dataclass(frozen=True)
class PassField:
    """A labelled value; `change` (with %@ for the new value) is said on the lock screen."""

    key: str
    label: Words
    value: Words
    change: Words | None = None


@dataclass(frozen=True)
class PassContent:
    """Everything a pass shows, for either wallet."""

    kind: PassKind
    serial: str
    group: str  # the class its Google object belongs to: "offer_<id>", "passport", "event_<id>"
    title: Words  # the pass's name (offer, "Soca Passport", event)
    description: Words
    barcode: str | None
    header: list[PassField] = field(default_factory=list)
    primary: list[PassField] = field(default_factory=list)
    secondary: list[PassField] = field(default_factory=list)
    auxiliary: list[PassField] = field(default_factory=list)
    back: list[PassField] = field(default_factory=list)
    stamps: tuple[int, int] | None = None  # (current, max): the strip of stamps
    points: int | None = None  # loyalty points Google shows big (card: completions)
    progress_percent: int | None = None
    tier_colour: str | None = None
    relevant_date: datetime | None = None
    expires_at: datetime | None = None
    voided: bool = False


@dataclass(frozen=True)
class CardFacts:
    """A stamp card's figures, as `attendee.cards_of` reads them."""

    offer_id: uuid.UUID
    offer_name: str
    branch_name: str
    prize: str
    current: int
    max: int
    completions: int
    progress: CardTierProgress
    expired: bool


@dataclass(frozen=True)
class PassportFacts:
    """The passport's figures."""

    handle: str
    points: int
    tier: str
    total_events: int
    total_countries: int
    next_tier: str | None
    points_to_next: int
    percent: int


@dataclass(frozen=True)
class TicketFacts:
    """An upcoming ticket, on the venue's clock."""

    ticket_id: uuid.UUID
    event_id: uuid.UUID
    code: str
    holder_name: str
    event_name: str
    venue: str | None
    city: str | None
    starts_at: datetime
    ends_at: datetime | None
    revoked: bool


def tier_words(tier: CardTier | None) -> Words:
    """The tier as a pass shows it ("🥇 Gold Member"), or "No tier yet"."""
    if tier is None:
        return Words("No tier yet", "لا مستوى بعد")
    return Words(tier.label("en"), tier.label("ar"))


def card_content(facts: CardFacts, *, serial: str, qr: str | None) -> PassContent:
    """A stamp card: storeCard with Progress, Completed and Tier (seed 002)."""
    tier = tier_words(facts.progress.current)
    progress = PassField(
        "progress",
        Words("Progress", "التقدم"),
        Words(f"{facts.current} of {facts.max}", f"{facts.current} من {facts.max}"),
    )
    completed = PassField(
        "completed",
        Words("Completed", "مكتملة"),
        same(f"{facts.completions}x"),
        Words("Prize confirmed: %@ completed", "تم تأكيد الجائزة: %@ مكتملة"),
    )
    tier_field = PassField(
        "tier", Words("Tier", "المستوى"), tier, Words("New tier: %@", "مستوى جديد: %@")
    )
    ready = facts.current >= facts.max
    status = (
        Words("Prize ready: show your QR at the bar", "الجائزة جاهزة: أظهر الرمز عند البار")
        if ready
        else Words(
            f"{facts.max - facts.current} more for {facts.prize or 'your prize'}",
            f"{facts.max - facts.current} للجائزة",
        )
    )
    back = [
        PassField("branch", Words("Where", "المكان"), same(facts.branch_name)),
        PassField("prize", Words("Prize", "الجائزة"), same(facts.prize or "-")),
        PassField(
            "next",
            Words("Next tier", "المستوى التالي"),
            Words(next_tier_line(facts.progress, "en"), next_tier_line(facts.progress, "ar")),
        ),
    ]
    if facts.expired:
        back.append(
            PassField(
                "rested",
                Words("Card rested", "البطاقة متوقفة"),
                Words(
                    "Your next stamp starts it again; completions and tier stay.",
                    "الختم التالي يعيد تشغيلها؛ تبقى الإنجازات والمستوى.",
                ),
            )
        )
    span = max(facts.max, 1)
    return PassContent(
        kind=PassKind.CARD,
        serial=serial,
        group=f"offer_{facts.offer_id.hex}",
        title=same(facts.offer_name),
        description=Words(f"{facts.offer_name} stamp card", f"بطاقة أختام {facts.offer_name}"),
        barcode=qr,
        header=[PassField("stamps", Words("Stamps", "الأختام"), same(f"{facts.current}/{span}"))],
        primary=[PassField("status", Words("Card", "البطاقة"), status)],
        secondary=[progress, completed, tier_field],
        back=back,
        stamps=(facts.current, facts.max),
        points=facts.completions,
        progress_percent=min(100, 100 * facts.current // span),
        tier_colour=facts.progress.current.color if facts.progress.current else None,
    )


def passport_content(facts: PassportFacts, *, serial: str, qr: str | None) -> PassContent:
    """The attendee's passport: points, tier, events and countries, the passport QR."""
    tier = same(facts.tier.title())
    if facts.next_tier:
        upcoming = Words(
            f"{facts.points_to_next} points to {facts.next_tier.title()}",
            f"{facts.points_to_next} نقطة للوصول إلى {facts.next_tier.title()}",
        )
    else:
        upcoming = Words("Top tier reached", "أعلى مستوى")
    return PassContent(
        kind=PassKind.PASSPORT,
        serial=serial,
        group="passport",
        title=Words("Soca Passport", "جواز سوكا"),
        description=Words("Soca Passport", "جواز سوكا"),
        barcode=qr,
        header=[PassField("handle", Words("Member", "العضو"), same(f"@{facts.handle}"))],
        primary=[
            PassField(
                "points",
                Words("Points", "النقاط"),
                same(str(facts.points)),
            )
        ],
        secondary=[
            PassField(
                "tier", Words("Tier", "المستوى"), tier, Words("New tier: %@", "مستوى جديد: %@")
            ),
            PassField("events", Words("Events", "الفعاليات"), same(str(facts.total_events))),
            PassField("countries", Words("Countries", "الدول"), same(str(facts.total_countries))),
        ],
        back=[PassField("next", Words("Next tier", "المستوى التالي"), upcoming)],
        points=facts.points,
        progress_percent=facts.percent,
    )


def ticket_content(facts: TicketFacts, *, serial: str, qr: str) -> PassContent:
    """An event ticket whose barcode is the ticket's door QR; a revoked ticket is voided."""
    place = ", ".join(part for part in (facts.venue, facts.city) if part) or "-"
    when = f"{facts.starts_at:%a %d %b %Y · %H:%M}"
    return PassContent(
        kind=PassKind.TICKET,
        serial=serial,
        group=f"event_{facts.event_id.hex}",
        title=same(facts.event_name),
        description=Words(f"Ticket for {facts.event_name}", f"تذكرة {facts.event_name}"),
        barcode=None if facts.revoked else qr,
        primary=[PassField("event", Words("Event", "الفعالية"), same(facts.event_name))],
        secondary=[
            PassField("when", Words("When", "الموعد"), same(when)),
            PassField("where", Words("Where", "المكان"), same(place)),
        ],
        auxiliary=[
            PassField("holder", Words("Holder", "حامل التذكرة"), same(facts.holder_name)),
            PassField("code", Words("Ticket", "التذكرة"), same(facts.code)),
        ],
        back=[
            PassField(
                "status",
                Words("Status", "الحالة"),
                Words("Revoked: ask the promoter", "ملغاة: اسأل المنظم")
                if facts.revoked
                else Words("Valid: show the QR at the door", "صالحة: أظهر الرمز عند الباب"),
                Words("Ticket: %@", "التذكرة: %@"),
            )
        ],
        relevant_date=facts.starts_at,
        expires_at=facts.ends_at,
        voided=facts.revoked,
    )
