"""Apple's PassKit web service, under `webServiceURL` = {site}/api/wallet/apple, as Apple specifies.

- `POST   /v1/devices/{device}/registrations/{passType}/{serial}` `{"pushToken"}`:
  201 registered, 200 already registered, 401 bad `ApplePass` token.
- `DELETE /v1/devices/{device}/registrations/{passType}/{serial}`: 200, 401.
- `GET    /v1/devices/{device}/registrations/{passType}?passesUpdatedSince=tag`:
  200 `{"serialNumbers", "lastUpdated"}` (a string) or 204 when nothing changed.
- `GET    /v1/passes/{passType}/{serial}`: the latest pass with `Last-Modified`;
  304 for an `If-Modified-Since` at or after it; 401 bad token.
- `POST   /v1/log` `{"logs": [...]}`: the phone's complaints, into our log.

A pass type other than ours is 404; an unknown serial is 401 like a wrong token
(nobody learns which serials exist). The rules live in `server.domain.wallet_devices`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from core import limits
from server.api.auth import Policy, PolicyRoute
from server.api.deps import AppSettings, DbSession, link_base
from server.api.errors import HttpError
from server.api.schemas import example_response
from server.db.models import WalletPass
from server.domain import wallet, wallet_devices
from server.errors import InvalidInput, NotFound
from server.wallet.apple.pkpass import MEDIA_TYPE
from server.wallet.runtime import APPLE_SERVICE_PATH, AppleWallet

log = logging.getLogger("soca.wallet.apple")
router = APIRouter(route_class=PolicyRoute, prefix=APPLE_SERVICE_PATH, tags=["apple wallet"])
SCHEME: Final = "applepass"


class PassUnauthorized(HttpError):
    """No pass with this serial, or not this pass's token."""

    code = "unauthorized"
    status = 401

    def __init__(self) -> None:
        super().__init__(
            "Send 'Authorization: ApplePass <token>' of this pass.",
            headers={"WWW-Authenticate": "ApplePass"},
        )


_PASS_DOC = APIKeyHeader(
    name="Authorization",
    auto_error=False,
    scheme_name="ApplePass",
    description="`ApplePass <token>`: the authenticationToken of the pass (pass.json).",
)


class ApplePassPolicy(Policy):
    """Phones: the pass's own token (`Authorization: ApplePass <token>`), checked per route."""

    names = ("apple-pass",)

    def __call__(
        self, request: Request, _documented: Annotated[str | None, Depends(_PASS_DOC)]
    ) -> str | None:
        """The presented pass token, if any (no bearer tokens here)."""
        scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
        if scheme.lower() != SCHEME:
            return None
        return token.strip() or None


PassToken = Annotated[str | None, Depends(ApplePassPolicy())]
DeviceId = Annotated[str, limits.WALLET_DEVICE_ID]


class Registration(BaseModel):
    """What a phone sends when it registers."""

    model_config = ConfigDict(
        extra="ignore", json_schema_extra={"examples": [{"pushToken": "9f3c" * 16}]}
    )
    pushToken: Annotated[str, limits.WALLET_PUSH_TOKEN]  # noqa: N815 - Apple's name


class Logs(BaseModel):
    """What a phone sends to the log endpoint."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"logs": ["Invalid pass: ..."]}]})

    logs: list[Annotated[str, limits.WALLET_LOG_LINE]] = Field(max_length=limits.WALLET_LOG_LINES)


def _apple(request: Request) -> AppleWallet:
    apple: AppleWallet | None = request.app.state.wallets.apple
    if apple is None:
        raise NotFound("Apple Wallet passes are not set up on this server.")
    return apple


def _our_type(request: Request, pass_type: str) -> AppleWallet:
    apple = _apple(request)
    if pass_type != apple.pass_type_id:
        raise NotFound("This server issues no passes of that type.")
    return apple


def _device(device_id: str) -> str:
    problem = limits.text_problem(device_id, limits.WALLET_DEVICE_ID)
    if problem is not None:
        raise InvalidInput(f"deviceLibraryIdentifier: {problem}")
    return device_id


def _authorized(session: Session, serial: str, token: str | None) -> WalletPass:
    found = wallet.get_by_serial(session, serial)
    if found is None or token is None or not wallet.token_matches(found, token):
        raise PassUnauthorized()
    return found


_REG = "/v1/devices/{device_id}/registrations/{pass_type}/{serial}"


@router.post(
    _REG,
    status_code=201,
    response_class=Response,
    responses={200: {"description": "Already registered."}, 201: {"description": "Registered."}},
)
def register(
    device_id: str,
    pass_type: str,
    serial: str,
    body: Registration,
    request: Request,
    session: DbSession,
    token: PassToken,
) -> Response:
    """Register a phone for a pass's updates (201 new, 200 known)."""
    _our_type(request, pass_type)
    found = _authorized(session, serial, token)
    created = wallet_devices.register(
        session, device_id=_device(device_id), wallet_pass=found, push_token=body.pushToken
    )
    return Response(status_code=201 if created else 200)


@router.delete(_REG, response_class=Response, responses={200: {"description": "Unregistered."}})
def unregister(
    device_id: str,
    pass_type: str,
    serial: str,
    request: Request,
    session: DbSession,
    token: PassToken,
) -> Response:
    """Stop sending this phone the pass's updates."""
    _our_type(request, pass_type)
    found = _authorized(session, serial, token)
    wallet_devices.unregister(session, device_id=_device(device_id), wallet_pass=found)
    return Response(status_code=200)


@router.get(
    "/v1/devices/{device_id}/registrations/{pass_type}",
    responses={
        200: example_response({"serialNumbers": ["3f2a..."], "lastUpdated": "42"}),
        204: {"description": "Nothing changed."},
    },
)
def updated_serials(
    device_id: str,
    pass_type: str,
    request: Request,
    session: DbSession,
    _token: PassToken,
    since_tag: Annotated[str | None, Query(alias="passesUpdatedSince", max_length=40)] = None,
) -> Any:
    """The serial numbers of this phone's passes changed since the tag it last got."""
    _our_type(request, pass_type)
    since = None
    if since_tag:
        try:
            since = int(since_tag)
        except ValueError:
            raise InvalidInput("passesUpdatedSince: not a tag this server gave") from None
    found = wallet_devices.updated_since(session, device_id=_device(device_id), since=since)
    if found is None:
        return Response(status_code=204)
    return {"serialNumbers": found.serials, "lastUpdated": str(found.last_updated)}


def http_date(moment: datetime) -> str:
    """An HTTP date (one-second resolution)."""
    return format_datetime(moment.replace(microsecond=0), usegmt=True)


def _not_modified_since(moment: datetime, header: str | None) -> bool:
    if not header:
        return False
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        return False
    return moment.replace(microsecond=0) <= since


@router.get(
    "/v1/passes/{pass_type}/{serial}",
    response_class=Response,
    responses={
        200: {"content": {MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}},
        304: {"description": "Not modified."},
    },
)
def latest_pass(
    pass_type: str,
    serial: str,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    token: PassToken,
    if_modified_since: Annotated[str | None, Header()] = None,
) -> Response:
    """The pass as it is now (304 when the phone's copy is current)."""
    apple = _our_type(request, pass_type)
    found = _authorized(session, serial, token)
    modified = http_date(found.updated_at)
    if _not_modified_since(found.updated_at, if_modified_since):
        return Response(status_code=304, headers={"last-modified": modified})
    assert token is not None
    content = wallet.content_of(session, found)
    data = apple.pkpass(content, base_url=link_base(request, settings), token=token)
    return Response(
        data,
        media_type=MEDIA_TYPE,
        headers={"last-modified": modified, "cache-control": "no-cache"},
    )


@router.post("/v1/log", response_class=Response, responses={200: {"description": "Logged."}})
def device_log(body: Logs, _token: PassToken) -> Response:
    """What phones report about our passes, into the server log."""
    for line in body.logs:
        log.warning("Apple Wallet device log: %s", line)
    return Response(status_code=200)
