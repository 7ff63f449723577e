"""The business pages through a browser-like client: apply, HQ approval with confirmation,
Edit Offer → Loyalty Tiers (errors beside their rows, the preview, icon uploads), passes,
CSV, card history, invitations, pairing, and another business's objects as 404 pages."""

from __future__ import annotations

import io
import re
from email.message import EmailMessage

import pytest
from PIL import Image
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from server.app import create_app
from server.db.models import Business, Offer, User
from server.db.models.enums import BusinessStatus, TokenKind
from server.db.session import unit_of_work
from server.domain import accounts
from server.settings import ServerSettings
from server.web.auth import SESSION_COOKIE, SESSION_LABEL
from tests.server.mailbox import local_smtp
from tests.server.web.conftest import browser, login, post_form, token_of
from tests.server.web.world import WebWorld

#: The rules behind these pages run on both engines in the domain and API tests; here SQLite.
pytestmark = pytest.mark.parametrize("web_engine", ["sqlite"], indirect=True)

COFFEE_ROWS = [
    ("Coffee Lover", "محب القهوة", "1", "3", "☕", "#6F4E37"),
    ("Coffee Expert", "خبير القهوة", "4", "9", "🏆", "#C0A062"),
    ("Coffee Master", "أستاذ القهوة", "10", "", "👑", "#FFD700"),
]


def tier_form(rows: list[tuple[str, ...]], **extra: str) -> dict[str, str]:
    """The Edit Offer form with these tier rows, custom tiers on."""
    data = {"name": "Fifth coffee free", "prize": "A coffee", "max_stamps": "5"}
    data.update(status="ACTIVE", tiers_enabled="on", **extra)
    for index, (name, name_ar, low, high, icon, colour) in enumerate(rows):
        data.update(
            {
                f"tier_name_{index}": name,
                f"tier_name_ar_{index}": name_ar,
                f"tier_min_{index}": low,
                f"tier_max_{index}": high,
                f"tier_icon_{index}": icon,
                f"tier_color_{index}": colour,
            }
        )
    return data


def _edit(
    client: TestClient, world: WebWorld, data: dict[str, str], files: object = None
) -> object:
    page = client.get(f"/business/offers/{world.offer_id}/edit")
    assert page.status_code == 200, page.text
    body = {"csrf_token": token_of(page.text), "branch_id": str(world.branch_id), **data}
    return client.post(f"/business/offers/{world.offer_id}", data=body, files=files)


def test_a_signed_out_visitor_applies_and_hq_approves_after_confirming(
    app: object, client: TestClient, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    data = {"name": "Merch Stand", "country_code": "bb", "display_name": "Sam"}
    short = post_form(
        client,
        "/business/apply",
        "/business/apply",
        {**data, "email": "sam@m.example", "password": "short"},
    )
    assert short.status_code == 422 and "Use at least 8 characters." in short.text
    done = post_form(
        client,
        "/business/apply",
        "/business/apply",
        {**data, "email": "sam@m.example", "password": "wine-n-grind"},
    )
    assert done.status_code == 303 and done.headers["location"] == "/business"
    assert "waiting for HQ" in client.get("/business").text
    with unit_of_work(factory) as session:
        business = session.scalars(select(Business).where(Business.name == "Merch Stand")).one()
    client.cookies.clear()
    login(client, world.emails["hq"])
    confirm = client.get(f"/hq/businesses/{business.id}/approve")
    assert "Approve Merch Stand?" in confirm.text and "sam@m.example" in confirm.text
    assert (
        client.post(
            f"/hq/businesses/{business.id}/approve", data={"csrf_token": token_of(confirm.text)}
        ).status_code
        == 303
    )
    with unit_of_work(factory) as session:
        assert session.get(Business, business.id).status == BusinessStatus.APPROVED  # type: ignore[union-attr]


def test_the_tier_form_shows_the_overlap_beside_both_rows_then_saves(
    client: TestClient, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    login(client, world.emails["owner"])
    bad = [*COFFEE_ROWS[:2], ("Coffee Master", "أستاذ القهوة", "8", "", "👑", "#FFD700")]
    refused = _edit(client, world, tier_form(bad))
    assert refused.status_code == 422
    rows = re.findall(r'<fieldset class="tier-row".*?</fieldset>', refused.text, re.S)
    problems = [re.findall(r'class="error tier-error"[^>]*>([^<]+)', row) for row in rows]
    overlap = "tiers &#39;coffee-expert&#39; (4-9) and &#39;coffee-master&#39; (8-∞) overlap"
    assert problems[:3] == [[], [overlap], [overlap]]
    assert 'value="أستاذ القهوة"' in refused.text  # what was typed stays
    saved = _edit(client, world, tier_form(COFFEE_ROWS))
    assert saved.status_code == 303, saved.text
    with unit_of_work(factory) as session:
        offer = session.get(Offer, world.offer_id)
        assert offer is not None and offer.loyalty_tiers is not None
        assert [t["nameAr"] for t in offer.loyalty_tiers["tiers"]] == [r[1] for r in COFFEE_ROWS]
    page = client.get(saved.headers["location"]).text
    assert ('id="saved"' in page and "☕ Coffee Lover" not in page) or "Coffee Lover" in page


def test_the_preview_is_rendered_by_the_server_in_english_and_arabic(
    client: TestClient, world: WebWorld
) -> None:
    login(client, world.emails["owner"])
    page = client.get(f"/business/offers/{world.offer_id}/edit")
    body = {"csrf_token": token_of(page.text), **tier_form(COFFEE_ROWS, sample="7")}
    preview = client.post(f"/business/offers/{world.offer_id}/preview", data=body)
    assert preview.status_code == 200
    assert "4 of 5 • 🏆 Coffee Expert • 7× completed" in preview.text
    assert "3 more for Coffee Master" in preview.text
    assert 'dir="rtl"' in preview.text and "3 إضافية للوصول إلى أستاذ القهوة" in preview.text
    body["tiers_enabled"] = ""
    default = client.post(f"/business/offers/{world.offer_id}/preview", data=body)
    assert "🥇 Gold Member" in default.text and "Top tier" in default.text


def _png(size: int = 64) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), (200, 160, 0)).save(out, format="PNG")
    return out.getvalue()


def test_an_uploaded_icon_is_re_encoded_and_served_and_a_bad_one_refused(
    client: TestClient, world: WebWorld
) -> None:
    login(client, world.emails["owner"])
    rows = [(*COFFEE_ROWS[0][:4], "", "#6F4E37"), *COFFEE_ROWS[1:]]
    bad = _edit(
        client,
        world,
        tier_form(rows),
        files={"tier_icon_file_0": ("x.png", b"<svg/>", "image/png")},
    )
    assert bad.status_code == 422 and "Upload a PNG, JPEG, GIF or WebP image." in bad.text
    good = _edit(
        client,
        world,
        tier_form(rows),
        files={"tier_icon_file_0": ("cup.png", _png(600), "image/png")},
    )
    assert good.status_code == 303, good.text
    page = client.get(f"/business/offers/{world.offer_id}/edit").text
    path = re.search(r'src="(/media/tier-icons/[0-9a-f]{64}\.png)"', page)
    assert path is not None
    served = client.get(path.group(1))
    assert served.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(served.content)).size == (128, 128)
    assert client.get("/media/tier-icons/../../secret").status_code == 404


def test_passes_search_csv_and_card_history(client: TestClient, world: WebWorld) -> None:
    login(client, world.emails["manager"])
    listed = client.get(f"/business/offers/{world.offer_id}/passes?q=road")
    assert "Road Runner" in listed.text and "3 of 5" in listed.text
    assert "Road Runner" not in client.get(f"/business/offers/{world.offer_id}/passes?q=zzz").text
    csv_text = client.get(f"/business/offers/{world.offer_id}/passes.csv").text
    assert csv_text.splitlines()[1].startswith("Road Runner,road_runner,3,5,0,")
    card = client.get(f"/business/offers/{world.offer_id}/passes/{world.customer_id}").text
    assert card.count("<td>Stamp</td>") == 3
    assert client.get(f"/business/offers/{world.offer_id}/edit").status_code == 403  # owners edit


@pytest.mark.parametrize("who", ["owner", "manager"])
def test_another_business_objects_are_404_pages(
    client: TestClient, world: WebWorld, who: str
) -> None:
    login(client, world.emails[who])
    for path in (
        f"/business/offers/{world.other_offer_id}/passes",
        f"/business/offers/{world.other_offer_id}/passes.csv",
        f"/business/offers/{world.other_offer_id}/passes/{world.customer_id}",
    ):
        response = client.get(path)
        assert response.status_code == 404 and "<html" in response.text, path
    page = client.get("/business").text
    pairing = client.post(
        f"/business/branches/{world.other_branch_id}/pairing-code",
        data={"csrf_token": token_of(page)},
    )
    assert pairing.status_code == 404


def _mailed_link(mail: EmailMessage) -> str:
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    found = re.search(r"http://testserver(/welcome/[A-Za-z0-9_-]+)", body.get_content())
    assert found is not None, "the mail holds no invitation link"
    return found.group(1)


def _hash_of(factory: sessionmaker[Session], email: str) -> str | None:
    with unit_of_work(factory) as session:
        return session.scalars(select(User.password_hash).where(User.email == email)).one()


def _token(factory: sessionmaker[Session], email: str, kind: TokenKind = TokenKind.API) -> str:
    """A bearer token or web session for `email`, issued directly: login's password hashing is
    slow on purpose and tested elsewhere."""
    with unit_of_work(factory) as session:
        user = session.scalars(select(User).where(User.email == email)).one()
        label = SESSION_LABEL if kind == TokenKind.WEB else ""
        return accounts.issue_api_token(session, user_id=user.id, label=label, kind=kind)


def test_a_manager_is_invited_sets_a_password_and_pairs_a_tablet(
    client: TestClient, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    client.cookies.set(SESSION_COOKIE, _token(factory, world.emails["owner"], TokenKind.WEB))
    page = client.get("/business").text
    invited = client.post(
        f"/business/branches/{world.branch_id}/manager",
        data={"csrf_token": token_of(page), "email": "kay@bean.example"},
    )
    assert "Mail isn't set up on this server" in invited.text  # so the link is shown
    link = re.search(r'id="invite-link" href="http://testserver(/welcome/[^"]+)"', invited.text)
    assert link is not None
    client.cookies.clear()
    welcome = client.get(link.group(1))
    assert "kay@bean.example" in welcome.text
    signed_in = client.post(
        link.group(1), data={"csrf_token": token_of(welcome.text), "password": "coffee-beans"}
    )
    assert signed_in.status_code == 303
    assert "This link was already used" in client.get(link.group(1)).text
    dashboard = client.get("/business").text
    assert "Ariapita Ave" in dashboard and "Pair a tablet" in dashboard
    code = client.post(
        f"/business/branches/{world.branch_id}/pairing-code",
        data={"csrf_token": token_of(dashboard)},
    )
    assert re.search(r'id="pairing-code">[A-Z2-9]{4}-[A-Z2-9]{4}<', code.text)
    assert "<svg" in code.text and 'data-seconds-left="600"' in code.text


def test_invitations_are_mailed_and_the_link_sets_the_password_once(
    web_engine: Engine, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    url = web_engine.url.render_as_string(hide_password=False)
    with (
        local_smtp() as mailbox,
        browser(
            create_app(ServerSettings(database_url=url, **mailbox.settings()), engine=web_engine)
        ) as client,
    ):
        client.cookies.set(SESSION_COOKIE, _token(factory, world.emails["owner"], TokenKind.WEB))
        invited = post_form(
            client,
            "/business",
            f"/business/branches/{world.branch_id}/manager",
            {"email": "kay@bean.example"},
        )
        assert "We've emailed kay@bean.example an invitation" in invited.text
        mail = mailbox.wait_for(1)[0]
        assert mail["To"] == "kay@bean.example"
        assert mail["Subject"] == "You're invited to Soca Passport"
        assert "Bean There made you the manager of its Ariapita Ave branch" in mail.get_content()
        link = _mailed_link(mail)
        assert f'id="invite-link" href="http://testserver{link}"' in invited.text  # shown once
        client.cookies.clear()
        welcome = client.get(link)
        assert welcome.status_code == 200 and "Welcome, kay" in welcome.text
        assert welcome.headers["referrer-policy"] == "no-referrer"
        data = {"csrf_token": token_of(welcome.text), "password": "violet-steelpan-mango-47"}
        done = client.post(link, data=data)
        assert done.status_code == 303 and done.headers["location"] == "/business"
        assert "Ariapita Ave" in client.get("/business").text  # signed in as the manager
        stored = _hash_of(factory, "kay@bean.example")
        again = client.post(link, data={**data, "password": "another-steelpan-41"})
        assert again.status_code == 410 and "This link was already used" in again.text
        assert _hash_of(factory, "kay@bean.example") == stored  # the first password holds
        made = client.post(
            "/api/v1/businesses",
            json={"name": "Merch Stand", "country_code": "BB", "owner_email": "sam@merch.example"},
            headers={"Authorization": f"Bearer {_token(factory, world.emails['hq'])}"},
        )
        assert made.status_code == 201, made.text
        owner_mail = mailbox.wait_for(2)[1]
        assert owner_mail["To"] == "sam@merch.example"
        assert "as the owner of Merch Stand" in owner_mail.get_content()
        owner_link = _mailed_link(owner_mail)
        assert made.json()["set_password_url"] == f"http://testserver{owner_link}"
        assert "Welcome, sam" in client.get(owner_link).text
