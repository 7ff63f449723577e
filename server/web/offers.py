"""Dashboard → Offers → Edit Offer → Loyalty Tiers (seed 002 §8), the live card preview,
and an offer's passes: the searchable list, CSV, and one card's history."""

from __future__ import annotations

import csv
import io
from typing import Any, Final

from fastapi import Request, Response
from fastapi.responses import FileResponse, HTMLResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from core import limits
from server.api import tenancy
from server.api.auth import Principal
from server.api.deps import AppSettings, DbSession
from server.db.models import Offer, utcnow
from server.db.models.enums import OfferStatus
from server.domain import card_reports, cards, offers, tier_icons
from server.domain.offers import TierErrors
from server.domain.promoters import FieldErrors
from server.errors import NotFound
from server.settings import ServerSettings
from server.web import tier_form
from server.web.auth import CheckedForm, Visitor, current_principal, field
from server.web.business import Owner, Staff, branch_of, parse_id
from server.web.render import redirect, render, templates
from server.web.routing import page_router
from server.web.tier_form import TierRow

router = page_router()

#: The seed's best practices, shown beside the form.
HINTS: Final = (
    "Use 3-4 tiers (too many dilutes achievement).",
    "Make tier names aspirational and positive.",
    "Use recognizable icons (medals, stars, crowns).",
    "Set achievable thresholds (first tier at 1-2 completions).",
    "Leave the top tier unlimited (leave its maximum empty).",
    "Check the tier display in the card preview.",
)


def _offer(session: Session, who: Principal, raw_id: str) -> Offer:
    return tenancy.offer(session, who, parse_id(raw_id, "offer"))


def _sample(raw: str) -> int:
    return int(raw) if raw.isdigit() and len(raw) < 6 else tier_form.DEFAULT_SAMPLE


def _preview_context(
    config: dict[str, Any] | None, max_stamps: int, sample: int, name: str
) -> dict[str, Any]:
    cards_shown, tiers, error = tier_form.preview(config, max_stamps=max_stamps, completions=sample)
    return {
        "preview_cards": cards_shown,
        "preview_tiers": tiers,
        "preview_error": error,
        "sample": sample,
        "offer_name": name,
    }


def _edit_page(
    request: Request,
    session: Session,
    offer: Offer,
    *,
    enabled: bool,
    rows: list[TierRow],
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    saved: bool = False,
) -> Response:
    values = values or {
        "name": offer.name,
        "prize": offer.prize,
        "max_stamps": str(offer.max_stamps),
        "status": offer.status,
        "branch_id": str(offer.branch_id),
    }
    config = tier_form.config_of(
        enabled, [TierRow(**{**row.__dict__, "errors": []}) for row in rows]
    )
    max_stamps = int(values["max_stamps"]) if values["max_stamps"].isdigit() else offer.max_stamps
    context = {
        "offer": offer,
        "values": values,
        "errors": errors or {},
        "enabled": enabled,
        "rows": [*rows, TierRow()] if len(rows) < tier_form.MAX_ROWS else rows,
        "hints": HINTS,
        "blank_row": TierRow(),
        "branches": tenancy.visible_branches(session, current_principal(request)) or [],
        "statuses": list(OfferStatus),
        "saved": saved,
        **_preview_context(
            config if enabled else None,
            max(1, max_stamps),
            tier_form.DEFAULT_SAMPLE,
            values["name"],
        ),
    }
    return render(request, "business/offer_edit.html", context, status=status)


@router.get("/business/offers")
def offer_list(request: Request, session: DbSession, staff: Staff) -> Response:
    """The offers of the caller's branches, and a form for a new one (owners)."""
    visible = tenancy.visible_branches(session, staff) or []
    rows = offers.list_(session, branch_ids=[row.id for row in visible])
    return render(
        request,
        "business/offers.html",
        {"offers": rows, "branches": visible, "errors": {}, "values": {}},
    )


@router.post("/business/offers")
def create_offer(request: Request, session: DbSession, owner: Owner, form: CheckedForm) -> Response:
    """A new offer with the default tiers; then its edit page."""
    values = {name: field(form, name) for name in ("branch_id", "name", "prize", "max_stamps")}
    branch = branch_of(session, owner, values["branch_id"])
    try:
        with session.begin_nested():
            offer = offers.create(
                session,
                branch_id=branch.id,
                name=values["name"],
                prize=values["prize"],
                max_stamps=int(values["max_stamps"]) if values["max_stamps"].isdigit() else 0,
            )
    except FieldErrors as exc:
        visible = tenancy.visible_branches(session, owner) or []
        rows = offers.list_(session, branch_ids=[row.id for row in visible])
        context = {"offers": rows, "branches": visible, "errors": exc.fields, "values": values}
        return render(request, "business/offers.html", context, status=422)
    return redirect(f"/business/offers/{offer.id}/edit")


@router.get("/business/offers/{offer_id}/edit")
def edit_offer(request: Request, offer_id: str, session: DbSession, owner: Owner) -> Response:
    """Edit Offer, with its Loyalty Tiers section and the card preview."""
    offer = _offer(session, owner, offer_id)
    config = offer.loyalty_tiers
    enabled = bool(config and config.get("enabled"))
    rows = tier_form.rows_from_config(config)
    saved = request.query_params.get("saved") == "1"
    return _edit_page(request, session, offer, enabled=enabled, rows=rows, saved=saved)


def _close_uploads(form: FormData) -> None:
    """Close the form's spooled upload files (the request does not close them itself)."""
    for _name, value in form.multi_items():
        if isinstance(value, UploadFile):
            value.file.close()


def _icons(form: FormData, rows: list[TierRow], settings: ServerSettings) -> None:
    for index in range(tier_form.MAX_ROWS + 1):
        upload = form.get(f"tier_icon_file_{index}")
        if not isinstance(upload, UploadFile) or not upload.filename:
            continue
        data = upload.file.read(limits.TIER_ICON_BYTES + 1)
        name = form.get(f"tier_name_{index}")
        row = next(
            (r for r in rows if r.name == (name.strip() if isinstance(name, str) else "")), None
        )
        if row is None:
            continue
        try:
            row.icon = tier_icons.store(data, settings.media_folder / "tier-icons")
        except tier_icons.BadIcon as exc:
            row.errors.append(exc.message)


@router.post("/business/offers/{offer_id}")
def save_offer(
    request: Request,
    offer_id: str,
    session: DbSession,
    settings: AppSettings,
    owner: Owner,
    form: CheckedForm,
) -> Response:
    """Save the offer and its tiers (or, for Add/Remove without JavaScript, show the rows)."""
    try:
        return _save(request, offer_id, session, settings, owner, form)
    finally:
        _close_uploads(form)


def _save(
    request: Request,
    offer_id: str,
    session: Session,
    settings: ServerSettings,
    owner: Principal,
    form: FormData,
) -> Response:
    offer = _offer(session, owner, offer_id)
    enabled = field(form, "tiers_enabled") == "on"
    rows = tier_form.rows_from_form(form)
    values = {
        name: field(form, name) for name in ("name", "prize", "max_stamps", "status", "branch_id")
    }
    if field(form, "add") or field(form, "remove"):
        return _edit_page(request, session, offer, enabled=enabled, rows=rows, values=values)
    _icons(form, rows, settings)
    config, general = tier_form.checked(enabled, rows)
    errors: dict[str, str] = {"tiers": general} if general else {}
    if any(row.errors for row in rows) and not general:
        errors["tiers"] = "Fix the tiers marked below."
    if not errors:
        try:
            with session.begin_nested():
                offers.update(
                    session,
                    offer_id=offer.id,
                    now=utcnow(),
                    inactivity_days=settings.pass_inactivity_expiration_days,
                    branch_id=branch_of(session, owner, values["branch_id"]).id,
                    name=values["name"],
                    prize=values["prize"],
                    max_stamps=int(values["max_stamps"]) if values["max_stamps"].isdigit() else 0,
                    status=values["status"],
                    loyalty_tiers=config if rows or enabled else None,
                )
        except TierErrors as exc:
            errors["tiers"] = tier_form.attach_errors(rows, exc) or "Fix the tiers marked below."
        except FieldErrors as exc:
            errors.update(exc.fields)
    if errors:
        return _edit_page(
            request,
            session,
            offer,
            enabled=enabled,
            rows=rows,
            values=values,
            errors=errors,
            status=422,
        )
    return redirect(f"/business/offers/{offer.id}/edit?saved=1")


@router.post("/business/offers/{offer_id}/preview")
def preview(
    request: Request, offer_id: str, session: DbSession, owner: Owner, form: CheckedForm
) -> Response:
    """The card preview for the form as it stands (the page's script swaps it in)."""
    offer = _offer(session, owner, offer_id)
    enabled = field(form, "tiers_enabled") == "on"
    rows = tier_form.rows_from_form(form)
    config = tier_form.config_of(enabled, rows) if enabled else None
    raw_max = field(form, "max_stamps")
    max_stamps = (
        int(raw_max)
        if raw_max.isdigit() and limits.MAX_STAMPS.contains(int(raw_max))
        else offer.max_stamps
    )
    context = _preview_context(
        config, max_stamps, _sample(field(form, "sample")), field(form, "name") or offer.name
    )
    response = templates.TemplateResponse(request, "business/_preview.html", context)
    return HTMLResponse(bytes(response.body), headers={"cache-control": "no-store"})


# ---------------------------------------------------------------------------- passes


@router.get("/business/offers/{offer_id}/passes")
def passes(
    request: Request, offer_id: str, session: DbSession, staff: Staff, q: str = ""
) -> Response:
    """The offer's customers: progress, completions, tier, last visit, status; searchable."""
    offer = _offer(session, staff, offer_id)
    rows = card_reports.passes(session, offer=offer, search=q[:100])
    return render(request, "business/passes.html", {"offer": offer, "rows": rows, "q": q[:100]})


@router.get("/business/offers/{offer_id}/passes.csv")
def passes_csv(offer_id: str, session: DbSession, staff: Staff) -> Response:
    """Every card of the offer as CSV (UTF-8 with BOM, for spreadsheets)."""
    offer = _offer(session, staff, offer_id)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.DictWriter(out, fieldnames=card_reports.CSV_COLUMNS)
    writer.writeheader()
    writer.writerows(row.csv_row() for row in card_reports.passes(session, offer=offer, limit=None))
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="passes-{offer.id}.csv"'},
    )


@router.get("/business/offers/{offer_id}/passes/{user_id}")
def card_history(
    request: Request,
    offer_id: str,
    user_id: str,
    session: DbSession,
    settings: AppSettings,
    staff: Staff,
) -> Response:
    """One customer's card: where it stands, and every stamp, prize and expiry."""
    offer = _offer(session, staff, offer_id)
    card = cards.get_pass(session, offer_id=offer.id, user_id=parse_id(user_id, "card"))
    if card is None:
        raise NotFound("We couldn't find that card.")
    row = next(
        (
            r
            for r in card_reports.passes(session, offer=offer, limit=None)
            if r.user_id == card.user_id
        ),
        None,
    )
    items = card_reports.history(
        session, card=card, offer=offer, inactivity_days=settings.pass_inactivity_expiration_days
    )
    context = {
        "offer": offer,
        "card": card,
        "row": row,
        "items": items,
        "days": settings.pass_inactivity_expiration_days,
    }
    return render(request, "business/card.html", context)


@router.get("/media/tier-icons/{name}")
def tier_icon(name: str, settings: AppSettings, _visitor: Visitor) -> Response:
    """An uploaded tier icon (a re-encoded PNG, named by its content)."""
    found = tier_icons.path_of(settings.media_folder / "tier-icons", name)
    if found is None:
        raise NotFound("We couldn't find that icon.")
    return FileResponse(
        found,
        media_type="image/png",
        headers={
            "cache-control": "public, max-age=31536000, immutable",
            "x-content-type-options": "nosniff",
        },
    )
