"""The services behind the portal: applying with an account, one application per email,
accounts found later, HQ's create-admin, editing events on the venue's clock, switching the
passport off, devices and conflicts as HQ reads them, perks as fields."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from core.wire import DeviceRole, DeviceScope, OpStatus
from server.db.models import Device, Promoter, SyncOp, User
from server.db.models.enums import PromoterStatus, UserRole
from server.domain import (
    accounts,
    conflicts,
    device_lines,
    devices,
    events,
    hq_views,
    memberships,
    promoters,
    signup,
    tickets,
    tiers,
)
from server.errors import Conflict, FieldErrors, NotFound
from tests.server.factories import T0, make_event, make_user

NAME, EMAIL = "Island Vibes", "crew@vibes.example"


def _register(session: Session) -> Promoter:
    return promoters.register(session, name=NAME, email=EMAIL)


def _apply(session: Session, **overrides: str) -> tuple[Promoter, User]:
    fields = {
        "name": NAME,
        "email": EMAIL,
        "password": "wine-n-grind",
        "password_confirmation": "wine-n-grind",
    }
    fields.update(overrides)
    return promoters.apply(
        session,
        name=fields["name"],
        email=fields["email"],
        password=fields["password"],
        password_confirmation=fields["password_confirmation"],
    )


# ------------------------------------------------------------------- applications


def test_applying_signed_out_makes_the_account_that_opens_the_portal_once_approved(
    session: Session,
) -> None:
    promoter, user = _apply(session)
    assert promoter.user_id == user.id and promoter.status == PromoterStatus.PENDING
    assert (user.email, user.role) == ("crew@vibes.example", UserRole.ATTENDEE)
    assert accounts.password_matches(user.password_hash, "wine-n-grind")
    promoters.approve(session, promoter_id=promoter.id)
    assert user.role == UserRole.PROMOTER


def test_an_application_reports_every_problem_at_once(session: Session) -> None:
    with pytest.raises(FieldErrors) as raised:
        _apply(session, name="", email="nope", password="short", password_confirmation="short")
    assert set(raised.value.fields) == {"name", "email", "password"}
    with pytest.raises(FieldErrors) as differs:
        _apply(session, password_confirmation="wine-n-grinD")
    assert set(differs.value.fields) == {"password_confirmation"}


def test_a_second_application_from_the_same_email_is_refused(session: Session) -> None:
    _apply(session)
    with pytest.raises(Conflict, match="already have an application"):
        _apply(session, email="CREW@vibes.example")
    with pytest.raises(Conflict, match="already have an application"):
        promoters.register(session, name="Again", email="crew@vibes.example")
    assert len(promoters.list_(session)) == 1


def test_after_a_rejection_the_email_may_apply_again(session: Session) -> None:
    first = _register(session)
    promoters.reject(session, promoter_id=first.id)
    again = _register(session)
    assert again.status == PromoterStatus.PENDING


def test_an_existing_account_applies_with_its_own_password_only(session: Session) -> None:
    owner = accounts.create_user(
        session,
        username="crew",
        display_name="Crew",
        email="crew@vibes.example",
        password="right-password",
    )
    with pytest.raises(FieldErrors) as raised:
        _apply(session, password="wrong-password", password_confirmation="wrong-password")
    assert "already has an account" in raised.value.fields["password"]
    promoter, user = _apply(
        session, password="right-password", password_confirmation="right-password"
    )
    assert user.id == owner.id and promoter.user_id == owner.id


def test_an_application_without_an_account_is_linked_when_it_registers_later(
    session: Session,
) -> None:
    promoter = _register(session)  # the public API: no account
    promoters.approve(session, promoter_id=promoter.id)
    assert promoter.user_id is None
    user = signup.sign_up(
        session, username="vibes", email="Crew@Vibes.example", password="wine-n-grind"
    )
    assert promoter.user_id == user.id
    assert user.role == UserRole.PROMOTER  # approved before the account existed


def test_approval_links_the_account_that_already_has_the_email(session: Session) -> None:
    promoter = _register(session)
    owner = accounts.create_user(
        session,
        username="vibes",
        display_name="V",
        email="crew@vibes.example",
        password="wine-n-grind",
    )
    promoters.approve(session, promoter_id=promoter.id)
    assert (promoter.user_id, owner.role) == (owner.id, UserRole.PROMOTER)


# ------------------------------------------------------------------------ create-admin


def test_create_admin_creates_then_resets_and_never_takes_another_account(
    session: Session,
) -> None:
    admin, created = accounts.set_admin(session, email="HQ@Soca.example", password="first-pass")
    assert created and (admin.role, admin.email) == (UserRole.HQ, "hq@soca.example")
    again, created_again = accounts.set_admin(
        session, email="hq@soca.example", password="second-pass"
    )
    assert again.id == admin.id and not created_again
    assert accounts.password_matches(again.password_hash, "second-pass")
    assert not accounts.password_matches(again.password_hash, "first-pass")
    accounts.create_user(session, username="fan", display_name="Fan", email="fan@soca.example")
    with pytest.raises(Conflict, match="attendee account"):
        accounts.set_admin(session, email="fan@soca.example", password="third-pass")
    with pytest.raises(FieldErrors):
        accounts.set_admin(session, email="hq@soca.example", password="short")


# ------------------------------------------------------------------------------ events


def test_an_event_is_typed_on_the_venues_clock_and_stored_in_utc(session: Session) -> None:
    local = datetime(2026, 2, 14, 21, 0)
    starts = events.local_to_utc(local, "America/Port_of_Spain")
    event = events.create_event(
        session,
        name="Soca Sunrise",
        starts_at=starts,
        time_zone="America/Port_of_Spain",
        country_code="tt",
    )
    assert event.starts_at == datetime(2026, 2, 15, 1, 0, tzinfo=UTC)
    assert events.venue_time(event).replace(tzinfo=None) == local
    edited = events.update_event(
        session,
        event_id=event.id,
        name="Soca Sunset",
        starts_at=events.local_to_utc(datetime(2026, 2, 14, 18, 0), "Europe/London"),
        time_zone="Europe/London",
        country_code="GB",
        stamp_points_default=75,
    )
    assert (edited.name, edited.country_code, edited.stamp_points_default) == (
        "Soca Sunset",
        "GB",
        75,
    )
    assert edited.starts_at == datetime(2026, 2, 14, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"stamp_points_default": 10_001}, "stamp_points_default"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"name": "x" * 201}, "name"),
        ({"venue": "a\x00b"}, "venue"),
    ],
)
def test_event_fields_keep_to_their_limits(
    session: Session, fields: dict[str, object], bad: str
) -> None:
    base: dict[str, object] = {"name": "Fête", "starts_at": T0}
    with pytest.raises(FieldErrors) as raised:
        events.create_event(session, **{**base, **fields})  # type: ignore[arg-type]
    assert set(raised.value.fields) == {bad}
    assert events.field_problems(**{**base, **fields}) == raised.value.fields  # type: ignore[arg-type]


def test_an_enabled_event_keeps_its_country(session: Session) -> None:
    event = make_event(session)
    with pytest.raises(FieldErrors) as raised:
        events.update_event(session, event_id=event.id, name=event.name, starts_at=T0)
    assert set(raised.value.fields) == {"country_code"}


def test_the_passport_switches_off_only_while_no_stamp_exists(session: Session) -> None:
    event = make_event(session, enabled=False)
    events.enable_passport(session, event_id=event.id)
    assert events.disable_passport(session, event_id=event.id).is_soca_passport_enabled is False
    events.enable_passport(session, event_id=event.id)
    ticket = tickets.issue_ticket(session, event_id=event.id, user_id=make_user(session).id)
    tickets.record_scan(session, ticket_id=ticket.id, event_id=event.id, gate="A", scanned_at=T0)
    with pytest.raises(Conflict, match="1 fan has"):
        events.disable_passport(session, event_id=event.id)
    assert event.is_soca_passport_enabled is True


# ----------------------------------------------------------------- devices, conflicts


def _device(session: Session, name: str, event_id: uuid.UUID) -> Device:
    code = devices.create_pairing_code(
        session, role=DeviceRole.DOOR, scope=DeviceScope(event_id=event_id), now=T0
    )
    return devices.pair(session, code=code.code, name=name, now=T0).device


def _op(session: Session, device: Device, status: str, subject: str, **fields: object) -> SyncOp:
    op = SyncOp(
        op_id=uuid.uuid4(),
        device_id=device.id,
        seq=1,
        type="ticket.scan",
        occurred_at=T0,
        device_clock=T0,
        payload={},
        status=status,
        subject_key=subject,
        first_status=status,
        **fields,
    )
    session.add(op)
    session.flush()
    return op


def test_conflicts_name_their_ticket_and_attendee_and_are_resolved_with_a_note(
    session: Session,
) -> None:
    owner = accounts.create_user(
        session, username="kes", display_name="Kes", email="kes@example.com"
    )
    event = make_event(session, name="Soca Sunrise")
    ticket = tickets.issue_to_email(
        session, event_id=event.id, email="kes@example.com", holder_name="Kes B"
    )
    gate_1, gate_2 = _device(session, "Gate 1", event.id), _device(session, "Gate 2", event.id)
    won = _op(session, gate_1, OpStatus.APPLIED, f"ticket:{ticket.id}")
    lost = _op(
        session,
        gate_2,
        OpStatus.CONFLICT,
        f"ticket:{ticket.id}",
        blocked_by_op_id=won.op_id,
        message="Already admitted at Gate 1",
    )
    [line] = conflicts.list_(session)
    assert line.subject == f"Ticket {ticket.code} (Kes B) at Soca Sunrise"
    assert line.attendee == "@kes · kes@example.com"
    assert (line.who, line.won_by, line.resolution) == ("Gate 2", "Gate 1", None)
    assert owner.id == ticket.user_id
    pending = {d.name: d.pending_conflicts for d in device_lines.list_lines(session)}
    assert pending == {"Gate 1": 0, "Gate 2": 1}
    with pytest.raises(FieldErrors):
        conflicts.resolve(session, op_id=lost.op_id, note="  ", user_id=None, now=T0)
    conflicts.resolve(session, op_id=lost.op_id, note="Let in once.", user_id=None, now=T0)
    [resolved] = conflicts.list_(session)
    assert resolved.resolution is not None and resolved.resolution.note == "Let in once."
    assert all(d.pending_conflicts == 0 for d in device_lines.list_lines(session))
    with pytest.raises(NotFound):
        conflicts.resolve(session, op_id=won.op_id, note="Not a conflict", user_id=None, now=T0)


def test_a_promoter_lists_only_the_devices_in_its_own_scopes(session: Session) -> None:
    user = make_user(session, email="p@example.com")
    mine = promoters.register(session, name="Mine", email="p@example.com", user_id=user.id)
    promoters.approve(session, promoter_id=mine.id)
    my_event = events.create_event(session, name="Mine", starts_at=T0, promoter_id=mine.id)
    other_event = make_event(session, name="Theirs")
    _device(session, "My gate", my_event.id)
    _device(session, "Their gate", other_event.id)
    lines = device_lines.list_lines(session, promoter_id=mine.id)
    assert [(line.name, line.where) for line in lines] == [("My gate", "Event: Mine")]


# ------------------------------------------------------------------------ HQ reading


def test_perks_are_read_from_fields_and_unknown_keys_are_kept() -> None:
    perks = tiers.perks_from_fields(
        "GOLD",
        {"vip_line": "on", "discount_percent": "12", "free_drink": "", "reward_valid_days": "0"},
        keep={"vip_line": False, "custom_badge": "gold-star"},
    )
    assert perks == {"vip_line": True, "discount_percent": 12, "custom_badge": "gold-star"}
    for bad in ("101", "-1", "ten", "²", "1" * 40):
        with pytest.raises(FieldErrors):
            tiers.perks_from_fields("GOLD", {"discount_percent": bad}, keep={})


def test_bills_and_memberships_name_their_people(session: Session) -> None:
    user = make_user(session, username="fan_one", email="fan1@example.com")
    memberships.create(session, user_id=user.id, tier="GOLD", now=T0)
    promoter = promoters.register(session, name="Crew", email="crew@example.com")
    promoters.approve(session, promoter_id=promoter.id)
    event = events.create_event(
        session, name="Crew Fête", starts_at=T0, promoter_id=promoter.id, country_code="TT"
    )
    events.enable_passport(session, event_id=event.id)
    [bill] = hq_views.bill_lines(session)
    assert (bill.event_name, bill.promoter_name) == ("Crew Fête", "Crew")
    [member] = hq_views.membership_lines(session)
    assert (member.handle, member.email, member.tier) == ("fan_one", "fan1@example.com", "GOLD")
    assert member.started_at <= datetime.now(UTC) + timedelta(days=1)
