"""Seed 003's packages: `GET/POST /api/v1/packages`, `GET/PUT/DELETE /api/v1/packages/{id}`.

Bodies and responses use the seed's camelCase names; money is a decimal
string ("8.00"). Errors carry the seed's codes (`PACKAGE_INVALID_PRICE`,
`PACKAGE_NOT_FOUND`, ...). A promoter reads and writes the packages of its
own events; HQ all of them. PUT changes only the fields it sends.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from fastapi import APIRouter, Body, Query, Response
from pydantic import AwareDatetime, ConfigDict, Field
from sqlalchemy.orm import Session

from core import limits
from core.reasons import Reason
from server.api import tenancy
from server.api.auth import PolicyRoute, Principal, Role, allow
from server.api.deps import DbSession
from server.api.schemas import CamelRequest, CamelView, PartialUpdate, SeedRequest
from server.db.models import Package
from server.db.models.enums import PackageItemType, PackageStatus
from server.domain import packages
from server.domain.packages import ItemSpec

router = APIRouter(prefix="/api/v1/packages", tags=["packages"], route_class=PolicyRoute)
Writer = Annotated[Principal, allow(Role.HQ, Role.PROMOTER)]

_EVENT_ID = "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e"
_PRICE = Annotated[Decimal, limits.PRICE]
_DESCRIPTION = Annotated[str, limits.DESCRIPTION]
_PRICES = dict.fromkeys(
    ("price", "original_price", "bracelet_amount"), Reason.PACKAGE_INVALID_PRICE
)
_QUANTITIES = dict.fromkeys(
    ("max_quantity", "max_per_user", "quantity"), Reason.PACKAGE_INVALID_QUANTITY
)
_EXAMPLE: dict[str, Any] = {
    "eventId": _EVENT_ID,
    "name": "Early Bird VIP Package",
    "description": "Entry + 2 bracelets with 50€ each",
    "price": "95.00",
    "originalPrice": "105.00",
    "maxQuantity": 200,
    "maxPerUser": 2,
    "saleStartDate": "2026-01-01T00:00:00Z",
    "saleEndDate": "2026-02-14T18:00:00Z",
    "status": "ACTIVE",
    "items": [
        {"name": "Entry", "type": "ENTRY", "quantity": 1},
        {"name": "Bracelet", "type": "BRACELET", "quantity": 2, "braceletAmount": "50.00"},
    ],
}


class PackageItemIn(CamelRequest):
    """One line of a package."""

    name: Annotated[str, limits.PACKAGE_ITEM_NAME]
    type: PackageItemType
    quantity: Annotated[int, limits.PER_USER] = 1
    bracelet_amount: _PRICE | None = None
    description: _DESCRIPTION | None = None

    def spec(self) -> ItemSpec:
        """As the domain takes it."""
        return ItemSpec(
            name=self.name,
            type=self.type,
            quantity=self.quantity,
            bracelet_amount=self.bracelet_amount,
            description=self.description,
        )


class PackageCreate(SeedRequest):
    """A new package for one of the caller's events."""

    FIELD_CODES: ClassVar[Mapping[str, str]] = _PRICES | _QUANTITIES

    event_id: uuid.UUID
    name: Annotated[str, limits.PACKAGE_NAME]
    description: _DESCRIPTION | None = None
    price: _PRICE
    original_price: _PRICE | None = None
    max_quantity: Annotated[int, limits.STOCK] | None = None
    max_per_user: Annotated[int, limits.PER_USER] | None = 1
    sale_start_date: Annotated[AwareDatetime, limits.DATE_TIME] | None = None
    sale_end_date: Annotated[AwareDatetime, limits.DATE_TIME] | None = None
    status: PackageStatus = PackageStatus.DRAFT
    items: list[PackageItemIn] = Field(default_factory=list, max_length=limits.PACKAGE_ITEMS)

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})


class PackageUpdate(PartialUpdate, SeedRequest):
    """The fields to change; `items`, when sent, replace every item."""

    NOT_NULL: ClassVar[frozenset[str]] = frozenset({"name", "price", "status"})
    FIELD_CODES: ClassVar[Mapping[str, str]] = _PRICES | _QUANTITIES

    name: Annotated[str, limits.PACKAGE_NAME] | None = None
    description: _DESCRIPTION | None = None
    price: _PRICE | None = None
    original_price: _PRICE | None = None
    max_quantity: Annotated[int, limits.STOCK] | None = None
    max_per_user: Annotated[int, limits.PER_USER] | None = None
    sale_start_date: Annotated[AwareDatetime, limits.DATE_TIME] | None = None
    sale_end_date: Annotated[AwareDatetime, limits.DATE_TIME] | None = None
    status: PackageStatus | None = None
    items: Annotated[list[PackageItemIn], Field(max_length=limits.PACKAGE_ITEMS)] | None = None

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"price": "85.00", "status": "ACTIVE"}]}
    )


class PackageItemView(CamelView):
    """One line of a package."""

    id: uuid.UUID
    name: str
    description: str | None
    type: str
    quantity: int
    bracelet_amount: Decimal | None


class PackageView(CamelView):
    """A package with its items and stock."""

    id: uuid.UUID
    event_id: uuid.UUID
    promoter_id: uuid.UUID | None
    name: str
    description: str | None
    status: str
    price: Decimal
    original_price: Decimal | None
    max_quantity: int | None
    sold_quantity: int
    max_per_user: int | None
    sale_start_date: datetime | None
    sale_end_date: datetime | None
    created_at: datetime
    updated_at: datetime
    items: list[PackageItemView]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_EXAMPLE,
                    "id": "4d5e6f7a-8b9c-4d0e-9f1a-2b3c4d5e6f7a",
                    "promoterId": "2f3a4b5c-6d7e-4f8a-9b0c-1d2e3f4a5b6c",
                    "soldQuantity": 12,
                    "createdAt": "2026-01-01T00:00:00Z",
                    "updatedAt": "2026-01-02T00:00:00Z",
                }
            ]
        }
    )


def _view(session: Session, package: Package) -> PackageView:
    items = [
        PackageItemView.model_validate(item)
        for item in packages.list_items(session, package_id=package.id)
    ]
    return PackageView.model_validate({**_columns(package), "items": items})


def _columns(package: Package) -> dict[str, object]:
    return {name: getattr(package, name) for name in PackageView.model_fields if name != "items"}


def _specs(items: Sequence[PackageItemIn] | None) -> list[ItemSpec] | None:
    return None if items is None else [item.spec() for item in items]


@router.get("")
def list_packages(
    session: DbSession,
    caller: Writer,
    event_id: Annotated[uuid.UUID | None, Query(alias="eventId")] = None,
    status: PackageStatus | None = None,
) -> list[PackageView]:
    """Packages of the caller's events (HQ: all), optionally of one event and one status."""
    scope = tenancy.listing_events(session, caller, event_id)
    if scope is None:
        found = packages.list_(session, status=status)
    else:
        found = [p for one in scope for p in packages.list_(session, event_id=one, status=status)]
    return [_view(session, package) for package in found]


@router.get("/{package_id}")
def get_package(package_id: uuid.UUID, session: DbSession, caller: Writer) -> PackageView:
    """One package (PACKAGE_NOT_FOUND for a missing id or another promoter's)."""
    return _view(session, tenancy.package(session, caller, package_id))


@router.post("", status_code=201)
def create_package(
    session: DbSession,
    caller: Writer,
    body: Annotated[PackageCreate, Body(openapi_examples={"vip": {"value": _EXAMPLE}})],
) -> PackageView:
    """Create a package for one of the caller's events."""
    event = tenancy.event(session, caller, body.event_id)
    fields = body.model_dump(exclude={"event_id", "items"})
    created = packages.create(session, event_id=event.id, items=_specs(body.items) or (), **fields)
    return _view(session, created)


@router.put("/{package_id}")
def update_package(
    package_id: uuid.UUID,
    session: DbSession,
    caller: Writer,
    body: Annotated[
        PackageUpdate, Body(openapi_examples={"reprice": {"value": {"price": "85.00"}}})
    ],
) -> PackageView:
    """Change the fields sent; `items`, when sent, replace all items."""
    package = tenancy.package(session, caller, package_id)
    changes = body.changes()
    if "items" in changes:
        changes["items"] = _specs(body.items)
    return _view(session, packages.update(session, package_id=package.id, **changes))


@router.delete("/{package_id}", status_code=204, response_class=Response)
def delete_package(package_id: uuid.UUID, session: DbSession, caller: Writer) -> None:
    """Delete a package nobody bought (409 `package_has_purchases` after a sale)."""
    packages.delete(session, package_id=tenancy.package(session, caller, package_id).id)
