"""The promoter's "Manage Event": a Pre-event (Packages) tab and an Event (Rewards) tab.

Only the event's own promoter gets here (404 for anyone else's event,
package or reward). The tabs list what exists, in words, with its actions;
creating and editing happen on a form page of their own (seed 003's
"Create Package" flow: name, description, price and original price, stock
and per-fan limit, sale window, items). Every change goes through
`server.domain.packages` / `server.domain.event_rewards`, whose refusals are
shown on the form, and ends with a message saying what was done. Rewards'
routes live in `manage_rewards`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Final

from fastapi import Request, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from core import limits
from server.api.auth import Principal
from server.api.deps import DbSession
from server.db.models import Event, Package
from server.db.models.enums import PackageItemType, PackageStatus
from server.domain import event_rewards, events, packages
from server.domain.packages import ItemSpec
from server.errors import NotFound, SocaError
from server.web.auth import CheckedForm, Promoter, field
from server.web.forms import (
    BadField,
    as_local_input,
    confirm,
    done,
    local_datetime,
    money,
    text,
    whole,
)
from server.web.promoter import own_event
from server.web.render import render
from server.web.routing import page_router
from server.web.sales_manage import manage_extras

router = page_router()

TABS: Final = ("packages", "rewards")
#: Blank item rows a package form offers besides the package's own items.
SPARE_ITEM_ROWS: Final = 2
_PACKAGE_TEXT: Final = ("name", "description", "price", "original_price", "max_quantity")
_PACKAGE_MORE: Final = ("max_per_user", "sale_start_date", "sale_end_date", "status")


def manage_url(event: Event, tab: str) -> str:
    """The Manage Event page on one tab."""
    return f"/promoter/events/{event.id}/manage?tab={tab}"


def manage_page(
    request: Request, session: Session, event: Event, tab: str, *, status: int = 200
) -> Response:
    """The Manage Event page: packages (with their items) or rewards, each with its actions."""
    tab = tab if tab in TABS else "packages"
    rows = packages.list_(session, event_id=event.id)
    context: dict[str, Any] = {
        "event": event,
        "tab": tab,
        "packages": rows,
        "items": {row.id: packages.list_items(session, package_id=row.id) for row in rows},
        "rewards": event_rewards.list_(session, event_id=event.id),
        **manage_extras(session, event=event),
    }
    return render(request, "promoter/manage.html", context, status=status)


@router.get("/promoter/events/{event_id}/manage")
def manage(
    request: Request, event_id: str, session: DbSession, promoter: Promoter, tab: str = "packages"
) -> Response:
    """The Manage Event page on one of its two tabs."""
    return manage_page(request, session, own_event(session, promoter, event_id), tab)


def venue_input(event: Event, moment: datetime | None) -> str:
    """A stored moment as a `datetime-local` value on the venue's clock."""
    return as_local_input(events.venue_time(event, moment) if moment is not None else None)


def venue_moment(form: FormData, name: str, event: Event) -> datetime | None:
    """A `datetime-local` field read on the venue's clock, as UTC."""
    local = local_datetime(form, name)
    return events.local_to_utc(local, event.time_zone or "UTC") if local is not None else None


def own_package(session: Session, principal: Principal, raw_id: str) -> tuple[Package, Event]:
    """The caller's package and its event; NotFound (as for a missing id) otherwise."""
    try:
        package = session.get(Package, uuid.UUID(raw_id))
    except ValueError:
        package = None
    if package is None:
        raise NotFound("We couldn't find that package.")
    try:
        return package, own_event(session, principal, str(package.event_id))
    except NotFound:
        raise NotFound("We couldn't find that package.") from None


# ---------------------------------------------------------------------- package form


def _package_values(session: Session, event: Event, package: Package) -> dict[str, str]:
    values = {
        "name": package.name,
        "description": package.description or "",
        "price": str(package.price),
        "original_price": "" if package.original_price is None else str(package.original_price),
        "max_quantity": "" if package.max_quantity is None else str(package.max_quantity),
        "max_per_user": "" if package.max_per_user is None else str(package.max_per_user),
        "sale_start_date": venue_input(event, package.sale_start_date),
        "sale_end_date": venue_input(event, package.sale_end_date),
        "status": package.status,
    }
    for index, item in enumerate(packages.list_items(session, package_id=package.id)):
        values[f"item_type_{index}"] = item.type
        values[f"item_name_{index}"] = item.name
        values[f"item_quantity_{index}"] = str(item.quantity)
        values[f"item_amount_{index}"] = (
            "" if item.bracelet_amount is None else str(item.bracelet_amount)
        )
    return values


def _item_rows(values: dict[str, str]) -> int:
    filled = [key for key in values if key.startswith("item_name_") and values[key]]
    return len(filled) + SPARE_ITEM_ROWS


def _package_form(
    request: Request,
    event: Event,
    *,
    package: Package | None,
    values: dict[str, str] | None = None,
    form: FormData | None = None,
    refusal: BadField | SocaError | None = None,
) -> Response:
    """The package form: fresh, filled in, or as typed with the refusal that sent it back."""
    if form is not None:
        values = _typed(form)
    values = values or {}
    error = refusal.message if refusal is not None else ""
    error_field = refusal.name if isinstance(refusal, BadField) else ""
    status = 422 if refusal is not None else 200
    context = {
        "event": event,
        "package": package,
        "values": values,
        "rows": range(_item_rows(values)),
        "item_types": list(PackageItemType),
        "statuses": [PackageStatus.DRAFT, PackageStatus.ACTIVE, PackageStatus.INACTIVE],
        "error": error,
        "error_field": error_field,
        "zone": event.time_zone or "UTC",
    }
    return render(request, "promoter/package_form.html", context, status=status)


def _typed(form: FormData) -> dict[str, str]:
    values = {name: field(form, name) for name in (*_PACKAGE_TEXT, *_PACKAGE_MORE)}
    for key in form:
        if key.startswith("item_"):
            values[key] = field(form, key)
    return values


def _items(form: FormData) -> list[ItemSpec]:
    specs = []
    at = -1
    while f"item_name_{at + 1}" in form:
        at += 1
        name = field(form, f"item_name_{at}")
        if not name:
            continue
        kind = field(form, f"item_type_{at}") or PackageItemType.ENTRY
        quantity = whole(form, f"item_quantity_{at}", limits.PER_USER) or 1
        amount = money(form, f"item_amount_{at}", limits.PRICE, required=False)
        if kind == PackageItemType.BRACELET and amount is None:
            raise BadField(f"item_amount_{at}", f"{name}: say how much each bracelet holds.")
        if kind != PackageItemType.BRACELET:
            amount = None  # only bracelets are preloaded
        problem = limits.text_problem(name, limits.PACKAGE_ITEM_NAME)
        if problem is not None:
            raise BadField(f"item_name_{at}", f"{name[:40]}: {problem}")
        specs.append(ItemSpec(name, kind, quantity=quantity, bracelet_amount=amount))
    return specs


def _package_fields(form: FormData, event: Event) -> dict[str, Any]:
    price = money(form, "price", limits.PRICE, required=True)
    return {
        "name": text(form, "name", limits.PACKAGE_NAME),
        "description": field(form, "description") or None,
        "price": price,
        "original_price": money(form, "original_price", limits.PRICE, required=False),
        "max_quantity": whole(form, "max_quantity", limits.STOCK),
        "max_per_user": whole(form, "max_per_user", limits.PER_USER),
        "sale_start_date": venue_moment(form, "sale_start_date", event),
        "sale_end_date": venue_moment(form, "sale_end_date", event),
        "status": field(form, "status") or PackageStatus.DRAFT,
        "items": _items(form),
    }


@router.get("/promoter/events/{event_id}/packages/new")
def new_package(
    request: Request, event_id: str, session: DbSession, promoter: Promoter
) -> Response:
    """The form for a new package."""
    event = own_event(session, promoter, event_id)
    values = {"status": PackageStatus.DRAFT, "max_per_user": "1", "item_quantity_0": "1"}
    return _package_form(request, event, package=None, values=values)


@router.post("/promoter/events/{event_id}/packages")
def add_package(
    request: Request, event_id: str, session: DbSession, promoter: Promoter, form: CheckedForm
) -> Response:
    """Create a package with its items (DRAFT unless told otherwise)."""
    event = own_event(session, promoter, event_id)
    try:
        fields = _package_fields(form, event)
        with session.begin_nested():
            created = packages.create(session, event_id=event.id, **fields)
    except (BadField, SocaError) as exc:
        return _package_form(request, event, package=None, form=form, refusal=exc)
    return done(manage_url(event, "packages"), f"Package “{created.name}” created.")


@router.get("/promoter/packages/{package_id}/edit")
def edit_package(
    request: Request, package_id: str, session: DbSession, promoter: Promoter
) -> Response:
    """The package's form, filled in."""
    package, event = own_package(session, promoter, package_id)
    values = _package_values(session, event, package)
    return _package_form(request, event, package=package, values=values)


@router.post("/promoter/packages/{package_id}/edit")
def save_package(
    request: Request, package_id: str, session: DbSession, promoter: Promoter, form: CheckedForm
) -> Response:
    """Save the package's changed fields and items."""
    package, event = own_package(session, promoter, package_id)
    try:
        fields = _package_fields(form, event)
        with session.begin_nested():
            packages.update(session, package_id=package.id, **fields)
    except (BadField, SocaError) as exc:
        return _package_form(request, event, package=package, form=form, refusal=exc)
    return done(manage_url(event, "packages"), f"Package “{package.name}” saved.")


@router.post("/promoter/packages/{package_id}/status")
def package_status(
    request: Request, package_id: str, session: DbSession, promoter: Promoter, form: CheckedForm
) -> Response:
    """Put a package on sale, take it off sale, or back to draft."""
    package, event = own_package(session, promoter, package_id)
    target = field(form, "status")
    try:
        with session.begin_nested():
            packages.update(session, package_id=package.id, status=target)
    except SocaError as exc:
        return done(manage_url(event, "packages"), f"Not changed: {exc.message}")
    words = {"ACTIVE": "is on sale", "INACTIVE": "is off sale", "DRAFT": "is back to draft"}
    return done(manage_url(event, "packages"), f"“{package.name}” {words.get(target, target)}.")


@router.get("/promoter/packages/{package_id}/delete")
def delete_package_confirm(
    request: Request, package_id: str, session: DbSession, promoter: Promoter
) -> Response:
    """Ask before deleting a package."""
    package, event = own_package(session, promoter, package_id)
    return confirm(
        request,
        title=f"Delete “{package.name}”?",
        lines=[
            "The package and its items are deleted for good.",
            "A package someone bought cannot be deleted: take it off sale instead.",
        ],
        action=f"/promoter/packages/{package.id}/delete",
        button="Delete the package",
        back=manage_url(event, "packages"),
    )


@router.post("/promoter/packages/{package_id}/delete")
def delete_package(
    package_id: str, session: DbSession, promoter: Promoter, _form: CheckedForm
) -> Response:
    """Delete a package nobody bought (after one sale: refused, with the reason)."""
    package, event = own_package(session, promoter, package_id)
    name = package.name
    try:
        with session.begin_nested():
            packages.delete(session, package_id=package.id)
    except SocaError:
        return done(
            manage_url(event, "packages"),
            f"“{name}” was not deleted: it has been bought. Take it off sale instead.",
        )
    return done(manage_url(event, "packages"), f"Package “{name}” deleted.")
