"""HQ's tiers page: thresholds and perks edited as fields (flags and numbers, not JSON), and
every paid membership shown by passport handle and email."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from sqlalchemy.orm import Session

from core import limits
from core.tiers import PointTier
from server.api.deps import DbSession
from server.domain import hq_views, tiers
from server.errors import FieldErrors, InvalidInput
from server.web.auth import CheckedForm, Hq, field
from server.web.forms import done
from server.web.render import render
from server.web.routing import page_router

router = page_router()


def _tiers_page(
    request: Request,
    session: Session,
    *,
    error: str = "",
    typed: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    rows = tiers.list_tiers(session)
    values = typed or _values_of(rows)
    known = {perk.key for perk in tiers.PERK_FIELDS}
    context: dict[str, Any] = {
        "tiers": rows,
        "perks": tiers.PERK_FIELDS,
        "values": values,
        "other_perks": {t.name: {k: v for k, v in t.perks.items() if k not in known} for t in rows},
        "memberships": hq_views.membership_lines(session),
        "error": error,
        "most_points": limits.TIER_MIN_POINTS.maximum,
    }
    return render(request, "hq/tiers.html", context, status=status)


def _values_of(rows: list[PointTier]) -> dict[str, str]:
    values = {}
    for tier in rows:
        values[f"min_{tier.name}"] = str(tier.min_points)
        for perk in tiers.PERK_FIELDS:
            value = tier.perks.get(perk.key)
            if perk.is_flag:
                values[f"{perk.key}_{tier.name}"] = "on" if value else ""
            else:
                values[f"{perk.key}_{tier.name}"] = "" if not value else str(value)
    return values


@router.get("/hq/tiers")
def tier_list(request: Request, session: DbSession, _hq: Hq) -> Response:
    """Tiers with their thresholds and perks, and every membership."""
    return _tiers_page(request, session)


@router.post("/hq/tiers")
def save_tiers(request: Request, session: DbSession, _hq: Hq, form: CheckedForm) -> Response:
    """Replace the tier set with the edited thresholds and perks (all checked together)."""
    typed = {key: field(form, key) for key in form if key != "csrf_token"}
    edited, problems = [], []
    for tier in tiers.list_tiers(session):
        try:
            min_points = limits.parse_whole(field(form, f"min_{tier.name}"), limits.TIER_MIN_POINTS)
        except ValueError as exc:
            problems.append(f"{tier.name} points: {exc}")
            continue
        values = {perk.key: field(form, f"{perk.key}_{tier.name}") for perk in tiers.PERK_FIELDS}
        try:
            perks = tiers.perks_from_fields(tier.name, values, keep=tier.perks)
        except FieldErrors as exc:
            problems.extend(exc.fields.values())
            continue
        edited.append(PointTier(tier.name, min_points, perks))
    if problems:
        return _tiers_page(request, session, error=" ".join(problems), typed=typed, status=422)
    try:
        with session.begin_nested():
            tiers.replace_tiers(session, tiers=edited, shown=request.app.state.point_tiers)
    except InvalidInput as exc:
        return _tiers_page(request, session, error=exc.message, typed=typed, status=422)
    return done("/hq/tiers", "Tiers saved. Passports move to their new tier at their next stamp.")
