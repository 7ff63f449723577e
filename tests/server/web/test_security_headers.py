"""Every response carries the security headers, and everything but static files is no-store:
every page (as the person it is for), a redirect, HTML and JSON errors, the API, the documents."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from server.db.session import unit_of_work
from server.domain import packages
from server.headers import CONTENT_SECURITY_POLICY, DOCS_POLICY, HSTS
from server.web.routing import web_pages
from tests.server.api.world import fresh_reward
from tests.server.web.conftest import browser, login
from tests.server.web.world import WebWorld

#: Who opens a page, where it is not an attendee's or told by its prefix.
PAGE_VISITOR = {
    "/socaport-app": "anonymous",
    "/passport-promoters": "anonymous",
    "/login": "anonymous",
}
#: What a page that asks before acting needs in its query.
QUERIES = {
    "/hq/users/sign-out": "?who=road_runner",
    "/hq/billing/{billing_id}/status": "?to=PENDING_PAYMENT",
}
ALWAYS = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


def _check(
    response: object, *, store: bool = False, docs: bool = False, https: bool = False
) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    where = f"{response.request.method} {response.request.url}"  # type: ignore[attr-defined]
    for name, value in ALWAYS.items():
        if name == "referrer-policy" and ("/reset/" in where or "/welcome/" in where):
            value = "no-referrer"  # a link's page never sends its token on: stricter
        assert headers.get(name) == value, (where, name)
    expected_csp = DOCS_POLICY if docs else CONTENT_SECURITY_POLICY
    assert headers.get("content-security-policy") == expected_csp, where
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert (headers.get("cache-control") == "no-store") != store, where
    assert (headers.get("strict-transport-security") == HSTS) == https, where


def _visitor(path: str) -> str:
    if path.startswith("/hq"):
        return "hq"
    if path == "/business" or path.startswith("/business/offers"):
        return "owner"
    if path in ("/business/apply", "/welcome/{token}", "/media/tier-icons/{name}"):
        return "anonymous"
    if path == "/promoter" or path.startswith("/promoter/"):
        return "promoter_a"
    return PAGE_VISITOR.get(path, "attendee")


@pytest.mark.parametrize("web_engine", ["sqlite"], indirect=True)
def test_every_page_and_route_kind_carries_the_headers(
    app: FastAPI, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    with unit_of_work(factory) as session:
        package = packages.create(
            session, event_id=world.event_a_id, name="VIP", price=Decimal("10.00")
        )
        reward = fresh_reward(session, world.event_a_id)
        ids = {"package_id": package.id, "reward_id": reward.id}
    params = {
        **ids,
        "ticket_id": world.ticket_id,
        "device_id": world.door_id,
        "billing_id": world.billing_a_id,
        "decision": "approve",
        "event_id": world.event_a_id,
        "promoter_id": world.promoter_a_id,
        "offer_id": world.offer_id,
        "user_id": world.attendee_id,
        "business_id": world.business_id,
        "action": "approve",
        "name": "0" * 64 + ".png",
    }
    pages = [page.path for page in web_pages(app) if "GET" in page.methods]
    checked = 0
    for who in ("anonymous", "attendee", "promoter_a", "hq", "owner"):
        with browser(app) as client:
            if who != "anonymous":
                login(client, world.emails[who])
            for path in pages:
                if _visitor(path) != who:
                    continue
                url = path.format(**params, token="not-a-live-link") + QUERIES.get(path, "")
                response = client.get(url)
                # A link page with a dead token answers with its own error page: headers all the same.
                dead_link = "{token}" in path or "{name}" in path  # no such link or icon
                assert response.status_code == 200 or dead_link, (url, response.status_code)
                _check(response)
                checked += 1
    assert checked == len(pages)
    with browser(app) as client:
        _check(client.get("/passport"))  # a redirect to the login form
        _check(client.get("/events/not-an-id"))  # an HTML error page
        _check(client.get("/api/v1/events"))  # a JSON 401
        _check(client.get("/api/passport/landing-info"))  # public JSON
        _check(client.get("/health"))
        _check(client.get("/openapi.json"))
        _check(client.get("/api/v1/events", headers={"Authorization": "Bearer x"}))
        _check(client.get("/static/site.css"), store=True)
        _check(client.get("/docs"), docs=True)
        client.base_url = client.base_url.copy_with(scheme="https")
        _check(client.get("/socaport-app"), https=True)
        _check(client.get("/api/passport/landing-info"), https=True)


def test_an_unexpected_error_carries_the_headers_too(app: FastAPI) -> None:
    from server.domain.recent import Recent

    def broken(*_args: object) -> dict[str, int]:
        raise RuntimeError("boom")

    app.state.landing = Recent(broken, ttl=5.0)  # the landing figures fail to count
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/passport/landing-info")
    assert response.status_code == 500
    _check(response)
