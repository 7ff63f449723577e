"""Wallet downloads: the caller's stamp card, passport or ticket as an Apple or Google pass.

Each answers to an API bearer token and to the web session alike, so the
buttons on /passport are plain links. Apple: the signed `.pkpass`. Google:
`{"save_url"}`, or, for a browser following a link (it asks for HTML), a
303 to that URL. With a wallet not configured, its routes answer 404.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from server.api.auth import Policy, PolicyRoute, Principal, bearer_token, public, resolve_principal
from server.api.deps import AppSettings, DbSession, link_base
from server.api.errors import Unauthorized
from server.api.schemas import example_response
from server.db.models import WalletPass, utcnow
from server.domain import wallet
from server.errors import Forbidden, NotFound
from server.settings import ServerSettings
from server.wallet.apple import images
from server.wallet.apple.pkpass import MEDIA_TYPE
from server.wallet.content import PassContent, PassKind
from server.wallet.google.client import GoogleWalletClient
from server.wallet.runtime import LOGO_PATH, AppleWallet, Wallets
from server.web.auth import SESSION_COOKIE, web_principal

router = APIRouter(route_class=PolicyRoute)
OWNER: Final = "pass-owner"
_BEARER_DOC = HTTPBearer(auto_error=False, scheme_name="BearerToken")


class OwnerPolicy(Policy):
    """Any signed-in user, by API bearer token or by web session cookie: their own passes."""

    names = (OWNER,)

    def __call__(
        self,
        request: Request,
        session: DbSession,
        _documented: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER_DOC)],
    ) -> Principal:
        """The caller; 401 without a live token or session."""
        if bearer_token(request) is not None:
            days = request.app.state.settings.api_token_days
            principal = resolve_principal(
                session, bearer_token(request), max_age=timedelta(days=days)
            )
        else:
            principal = web_principal(session, request.cookies.get(SESSION_COOKIE))
        if principal.device is not None:
            raise Forbidden("Wallet passes belong to people, not devices.")
        if principal.user is None:
            raise Unauthorized("Log in, or send 'Authorization: Bearer <token>'.")
        return principal


Owner = Annotated[Principal, Depends(OwnerPolicy())]


def wallets_of(request: Request) -> Wallets:
    """The app's wallets."""
    found: Wallets = request.app.state.wallets
    return found


def _apple(request: Request) -> AppleWallet:
    apple = wallets_of(request).apple
    if apple is None:
        raise NotFound("Apple Wallet passes are not set up on this server.")
    return apple


def _google(request: Request) -> GoogleWalletClient:
    google = wallets_of(request).google
    if google is None:
        raise NotFound("Google Wallet passes are not set up on this server.")
    return google


def _subject(
    session: Session, kind: PassKind, user_id: uuid.UUID, subject: str | None
) -> uuid.UUID:
    if kind is PassKind.PASSPORT:
        return wallet.passport_subject(session, user_id=user_id)
    try:
        parsed = uuid.UUID(subject or "")
    except ValueError:
        raise NotFound("No such pass.") from None
    if kind is PassKind.CARD:
        return wallet.card_subject(session, user_id=user_id, offer_id=parsed)
    return wallet.ticket_subject(session, user_id=user_id, ticket_id=parsed, now=utcnow())


def _issue(
    session: Session,
    settings: ServerSettings,
    user_id: uuid.UUID,
    kind: PassKind,
    subject: str | None,
) -> tuple[WalletPass, str, PassContent]:
    """The user's pass of `kind` for `subject` (issued if new), its token and its content."""
    subject_id = _subject(session, kind, user_id, subject)
    issued, token = wallet.issue(
        session, kind=kind, subject_id=subject_id, user_id=user_id, secret=settings.secret_key
    )
    return issued, token, wallet.content_of(session, issued)


def apple_download(
    request: Request,
    session: Session,
    settings: ServerSettings,
    user_id: uuid.UUID,
    kind: PassKind,
    subject: str | None,
) -> Response:
    """The .pkpass of one of the user's passes."""
    apple = _apple(request)
    _issued, token, content = _issue(session, settings, user_id, kind, subject)
    data = apple.pkpass(content, base_url=link_base(request, settings), token=token)
    name = f"soca-{kind.value}.pkpass"
    return Response(
        data,
        media_type=MEDIA_TYPE,
        headers={
            "content-disposition": f'attachment; filename="{name}"',
            "cache-control": "no-store",
        },
    )


def google_save(
    request: Request,
    session: Session,
    settings: ServerSettings,
    user_id: uuid.UUID,
    kind: PassKind,
    subject: str | None,
) -> Response:
    """The save link of one of the user's passes (its Google object made or brought up to date)."""
    google = _google(request)
    issued, _token, content = _issue(session, settings, user_id, kind, subject)
    base = link_base(request, settings)
    google.ensure(content, logo_url=base + LOGO_PATH)
    issued.google_object = True
    url = google.save_url(content, origins=[base])
    if "text/html" in request.headers.get("accept", ""):
        return RedirectResponse(url, status_code=303)
    return JSONResponse({"save_url": url})


_BINARY: Final = {"schema": {"type": "string", "format": "binary"}}
_PKPASS: Final[dict[int | str, dict[str, Any]]] = {
    200: {"content": {MEDIA_TYPE: _BINARY}, "description": "The signed pass."}
}
_SAVE: Final[dict[int | str, dict[str, Any]]] = {
    200: example_response({"save_url": "https://pay.google.com/gp/v/save/eyJhbGciOi..."}),
    303: {"description": "A browser (Accept: text/html) is sent to the save link."},
}


@router.get(
    "/api/v1/wallet/apple/cards/{offer_id}",
    tags=["wallet"],
    responses=_PKPASS,
    response_class=Response,
)
def apple_card(
    offer_id: str, request: Request, session: DbSession, settings: AppSettings, caller: Owner
) -> Response:
    """The caller's stamp card for this offer as an Apple Wallet pass."""
    assert caller.user_id is not None
    return apple_download(request, session, settings, caller.user_id, PassKind.CARD, offer_id)


@router.get(
    "/api/v1/wallet/apple/passport", tags=["wallet"], responses=_PKPASS, response_class=Response
)
def apple_passport(
    request: Request, session: DbSession, settings: AppSettings, caller: Owner
) -> Response:
    """The caller's passport as an Apple Wallet pass."""
    assert caller.user_id is not None
    return apple_download(request, session, settings, caller.user_id, PassKind.PASSPORT, None)


@router.get(
    "/api/v1/wallet/apple/tickets/{ticket_id}",
    tags=["wallet"],
    responses=_PKPASS,
    response_class=Response,
)
def apple_ticket(
    ticket_id: str, request: Request, session: DbSession, settings: AppSettings, caller: Owner
) -> Response:
    """One of the caller's upcoming tickets as an Apple Wallet event ticket."""
    assert caller.user_id is not None
    return apple_download(request, session, settings, caller.user_id, PassKind.TICKET, ticket_id)


@router.get("/api/v1/wallet/google/cards/{offer_id}", tags=["wallet"], responses=_SAVE)
def google_card(
    offer_id: str, request: Request, session: DbSession, settings: AppSettings, caller: Owner
) -> Response:
    """`{"save_url"}` of the caller's stamp card for this offer (a browser is redirected)."""
    assert caller.user_id is not None
    return google_save(request, session, settings, caller.user_id, PassKind.CARD, offer_id)


@router.get("/api/v1/wallet/google/passport", tags=["wallet"], responses=_SAVE)
def google_passport(
    request: Request, session: DbSession, settings: AppSettings, caller: Owner
) -> Response:
    """`{"save_url"}` of the caller's passport."""
    assert caller.user_id is not None
    return google_save(request, session, settings, caller.user_id, PassKind.PASSPORT, None)


@router.get("/api/v1/wallet/google/tickets/{ticket_id}", tags=["wallet"], responses=_SAVE)
def google_ticket(
    ticket_id: str, request: Request, session: DbSession, settings: AppSettings, caller: Owner
) -> Response:
    """`{"save_url"}` of one of the caller's upcoming tickets."""
    assert caller.user_id is not None
    return google_save(request, session, settings, caller.user_id, PassKind.TICKET, ticket_id)


@router.get(
    LOGO_PATH,
    tags=["wallet"],
    dependencies=[public()],
    responses={200: {"content": {"image/png": _BINARY}}},
    response_class=Response,
)
def logo() -> Response:
    """The logo Google Wallet shows on our classes."""
    return Response(
        images.logo(2), media_type="image/png", headers={"cache-control": "public, max-age=86400"}
    )
