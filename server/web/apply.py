"""/passport-promoters: the seed's page and the promoter application form.

Signed out, the form also makes the account (password and confirmation,
checked by the one password policy), or claims the ticket placeholder of that
email, or uses the existing account when the password is its own; the
applicant is signed in and sent to `/promoter`, which says the application is
pending until HQ approves it and then opens the portal. Signed in, the
application is linked to the account. A second application from the same
email is refused with a message.
"""

from __future__ import annotations

from typing import Final

from fastapi import Request, Response

from server.api.deps import DbSession, client_address
from server.api.login import rate_limiter
from server.domain import promoters
from server.errors import Conflict, FieldErrors
from server.web.auth import CheckedForm, Visitor, field, start_session
from server.web.forms import done
from server.web.render import render
from server.web.routing import page_router

router = page_router()

#: The seed's promoter form: (field, label, input type).
PROMOTER_FIELDS: Final = (
    ("name", "Name", "text"),
    ("email", "Email", "email"),
    ("organization", "Organization / brand", "text"),
    ("location_city", "City", "text"),
    ("location_country", "Country (2-letter code, e.g. TT, US)", "text"),
    ("website_or_social", "Website or IG handle", "text"),
    ("event_types", "Type of events (fêtes, brunches, carnivals…)", "text"),
)
OPTIONAL: Final = (
    "organization",
    "location_city",
    "location_country",
    "website_or_social",
    "event_types",
)
SENT: Final = "Application sent."


def _promoter_page(
    request: Request,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    form_error: str = "",
    status: int = 200,
) -> Response:
    context = {
        "fields": PROMOTER_FIELDS,
        "values": values or {},
        "errors": errors or {},
        "form_error": form_error,
    }
    return render(request, "passport_promoters.html", context, status=status)


@router.get("/passport-promoters")
def passport_promoters(request: Request, _visitor: Visitor) -> Response:
    """The promoters' page and application form."""
    return _promoter_page(request)


@router.post("/passport-promoters")
def promoter_sign_up(
    request: Request, session: DbSession, visitor: Visitor, form: CheckedForm
) -> Response:
    """Store a PENDING application (and, signed out, its account), then show where it stands."""
    limiter = rate_limiter(request)
    limiter.reserve(session, [(limiter.rules.promoter_application, client_address(request))])
    values = {name: field(form, name) for name, _label, _kind in PROMOTER_FIELDS}
    optional = {name: values[name] or None for name in OPTIONAL}
    try:
        with session.begin_nested():
            if visitor.user_id is not None:
                promoters.register(
                    session,
                    name=values["name"],
                    email=values["email"],
                    user_id=visitor.user_id,
                    **optional,
                )
                user_id = None
            else:
                _promoter, user = promoters.apply(
                    session,
                    name=values["name"],
                    email=values["email"],
                    password=str(form.get("password") or ""),
                    password_confirmation=str(form.get("password_confirmation") or ""),
                    **optional,
                )
                user_id = user.id
    except FieldErrors as exc:
        return _promoter_page(request, values, exc.fields, status=422)
    except Conflict as exc:
        return _promoter_page(request, values, form_error=exc.message, status=409)
    response = done("/promoter", SENT)
    if user_id is not None:
        start_session(session, response, request, user_id=user_id)
    return response
