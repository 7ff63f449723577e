"""The Loyalty Tiers form of Edit Offer: rows to and from the seed's JSON, errors per row,
and the customer's card preview (English and Arabic), all server-side."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final

from starlette.datastructures import FormData

from core.errors import TierConfigError
from core.tiers import (
    CardTier,
    card_summary,
    card_tier_progress,
    next_tier_line,
    parse_card_tier_config,
)
from server.domain.offers import TierErrors, tier_config

MAX_ROWS: Final = 12
DEFAULT_SAMPLE: Final = 7
_SLUG: Final = re.compile(r"[^a-z0-9]+")


@dataclass
class TierRow:
    """One tier as the form shows it (text as typed), with its problems."""

    id: str = ""
    name: str = ""
    name_ar: str = ""
    min: str = ""
    max: str = ""
    icon: str = ""
    color: str = "#FFB703"
    errors: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """True for a row nobody filled in."""
        return not (self.name or self.name_ar or self.min or self.max or self.icon)


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def rows_from_form(form: FormData) -> list[TierRow]:
    """The rows as posted, without blank rows and the one a Remove button asked to drop."""
    removed = _text(form, "remove")
    rows = []
    for index in range(MAX_ROWS + 1):
        if f"tier_name_{index}" not in form:
            continue
        row = TierRow(
            id=_text(form, f"tier_id_{index}"),
            name=_text(form, f"tier_name_{index}"),
            name_ar=_text(form, f"tier_name_ar_{index}"),
            min=_text(form, f"tier_min_{index}"),
            max=_text(form, f"tier_max_{index}"),
            icon=_text(form, f"tier_icon_{index}"),
            color=_text(form, f"tier_color_{index}") or "#FFB703",
        )
        if str(index) != removed and not row.empty:
            rows.append(row)
    return rows


def rows_from_config(config: dict[str, Any] | None) -> list[TierRow]:
    """The rows of a stored `loyalty_tiers` (none for the defaults)."""
    if not config:
        return []
    return [
        TierRow(
            id=str(entry.get("id", "")),
            name=str(entry.get("name", "")),
            name_ar=str(entry.get("nameAr") or ""),
            min=str(entry.get("minRewards", "")),
            max="" if entry.get("maxRewards") is None else str(entry["maxRewards"]),
            icon=str(entry.get("icon") or ""),
            color=str(entry.get("color") or "#FFB703"),
        )
        for entry in config.get("tiers", [])
    ]


def _number(raw: str) -> object:
    return int(raw) if re.fullmatch(r"-?\d{1,9}", raw) else raw  # core names a non-number


def _ids(rows: list[TierRow]) -> None:
    taken = {row.id for row in rows if row.id}
    for number, row in enumerate(rows, 1):
        if not row.id:
            base = _SLUG.sub("-", row.name.lower()).strip("-")[:30] or f"tier-{number}"
            candidate, suffix = base, 2
            while candidate in taken:
                candidate, suffix = f"{base}-{suffix}", suffix + 1
            row.id = candidate
            taken.add(candidate)


def config_of(enabled: bool, rows: list[TierRow]) -> dict[str, Any]:
    """The seed's JSON for these rows (ids made from names where missing)."""
    _ids(rows)
    return {
        "enabled": enabled,
        "tiers": [
            {
                "id": row.id,
                "name": row.name,
                "nameAr": row.name_ar or None,
                "minRewards": _number(row.min),
                "maxRewards": None if row.max == "" else _number(row.max),
                "icon": row.icon or None,
                "color": row.color or None,
            }
            for row in rows
        ],
    }


def attach_errors(rows: list[TierRow], error: TierErrors) -> str:
    """Put each problem beside the rows it names; the problems naming no row, joined."""
    by_id = {row.id: row for row in rows}
    general = []
    for ids, text in error.problems:
        named = [by_id[tier_id] for tier_id in ids if tier_id in by_id]
        for row in named:
            row.errors.append(text)
        if not named:
            general.append(text)
    return "; ".join(general)


def checked(enabled: bool, rows: list[TierRow]) -> tuple[dict[str, Any], str]:
    """(the config to store, the problems naming no row); row problems go on their rows."""
    config = config_of(enabled, rows)
    try:
        tier_config(config)
    except TierErrors as exc:
        return config, attach_errors(rows, exc)
    return config, ""


@dataclass(frozen=True)
class PreviewCard:
    """The customer's card in one language."""

    lang: str
    summary: str
    next_line: str
    tier: CardTier | None


def preview(
    config: dict[str, Any] | None, *, max_stamps: int, completions: int
) -> tuple[list[PreviewCard], list[CardTier], str]:
    """Cards (English, Arabic) for a customer with `completions`, the tiers shown, an error."""
    try:
        tiers = parse_card_tier_config(config)
    except TierConfigError as exc:
        return [], [], exc.message
    stamps = max(0, max_stamps - 1)
    progress = card_tier_progress(completions, tiers)
    cards = [
        PreviewCard(
            lang=lang,
            summary=card_summary(stamps, max_stamps, progress.current, completions, lang),
            next_line=next_tier_line(progress, lang),
            tier=progress.current,
        )
        for lang in ("en", "ar")
    ]
    return cards, list(tiers), ""
