"""Setup operations without a screen: the pairing QR, the PIN hash and guard, saved choices."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from core.wire import DeviceRole
from kiosk.app import open_kiosk
from kiosk.errors import NotAPairingCode, NotPaired, PinError, SettingsError, WrongMode
from kiosk.services.headless import ScanMode
from kiosk.services.pin import PinGuard, check_new_pin, hash_pin, verify_pin
from kiosk.services.setup import allowed_modes, parse_pairing_qr, save_choices, set_pin_hash
from kiosk.settings import load_settings
from kiosk.store.cache import Cache
from kiosk.store.config import load_config
from tests.kiosk.world import World, install


def test_a_pairing_qr_gives_the_server_and_the_code() -> None:
    link = parse_pairing_qr(
        "socapassport://pair?server=https%3A%2F%2Fsoca.example%3A8443%2F&code=ABCD-EFGH"
    )
    assert (link.server_url, link.code) == ("https://soca.example:8443", "ABCD-EFGH")


@pytest.mark.parametrize(
    "text",
    [
        "sp1.eyJ0aWNrZXQiOiIxIn0.c2ln",  # a ticket
        "https://soca.example/pair?code=ABCD-EFGH",
        "socapassport://ticket?server=http://x&code=ABCD",
        "socapassport://pair?server=http://x",  # no code
        "socapassport://pair?server=ftp://x&code=ABCD",  # not a web server
        "",
    ],
)
def test_anything_else_is_not_a_pairing_code(text: str) -> None:
    with pytest.raises(NotAPairingCode):
        parse_pairing_qr(text)


def test_each_role_offers_its_own_modes() -> None:
    assert allowed_modes(DeviceRole.DOOR) == (ScanMode.DOOR, ScanMode.REVIEW)
    assert allowed_modes(DeviceRole.BRANCH) == (ScanMode.PRIZE, ScanMode.REVIEW)
    assert allowed_modes(DeviceRole.PROMOTER) == (ScanMode.REVIEW,)


def test_a_pin_is_stored_salted_and_verified() -> None:
    first, second = hash_pin("2468"), hash_pin("2468")
    assert first != second and "2468" not in first
    assert verify_pin("2468", first) and verify_pin("2468", second)
    assert not verify_pin("2469", first)
    assert not verify_pin("2468", "not a hash") and not verify_pin("2468", "scrypt$1$2$3$!$!")


@pytest.mark.parametrize(("pin", "again"), [("123", "123"), ("1234", "1235"), (" 1234", " 1234")])
def test_a_bad_new_pin_is_refused(pin: str, again: str) -> None:
    with pytest.raises(PinError):
        check_new_pin(pin, again)


def test_the_guard_slows_down_after_three_misses() -> None:
    now = [100.0]
    guard = PinGuard.from_pin("2468", clock=lambda: now[0])
    assert [guard.check("0000").wait_s for _ in range(3)] == [0.0, 0.0, 0.0]
    assert guard.check("0000").wait_s == 5.0
    assert not guard.check("2468").ok  # the right PIN is not even tried while waiting
    now[0] += 5.0
    assert guard.check("0000").wait_s == 10.0  # each further miss doubles the wait
    now[0] += 10.0
    assert guard.check("2468").ok
    assert guard.check("0000").wait_s == 0.0  # a right PIN starts the count again


def test_choices_are_checked_against_the_role_and_the_cache(tmp_path: Path, world: World) -> None:
    settings, _ = install(tmp_path, world, role=DeviceRole.BRANCH)
    cache = Cache.open(settings.cache_path, busy_timeout_ms=settings.busy_timeout_ms)
    try:
        with pytest.raises(WrongMode, match="BRANCH device cannot run door mode"):
            save_choices(settings, cache=cache, mode=ScanMode.DOOR, gate="Gate 1")
        with pytest.raises(SettingsError, match="not one of this branch's"):
            save_choices(settings, cache=cache, mode=ScanMode.PRIZE, offer_id=uuid.uuid4())
        saved = save_choices(settings, cache=cache, mode=ScanMode.PRIZE, offer_id=world.offer.id)
    finally:
        cache.close()
    assert load_config(settings.config_path) == saved
    assert (saved.mode, saved.offer_id, saved.gate) == ("prize", world.offer.id, None)
    with open_kiosk(settings) as kiosk:
        assert kiosk.require_prize().offer_id == world.offer.id


def test_the_pin_needs_a_paired_kiosk(tmp_path: Path) -> None:
    with pytest.raises(NotPaired, match="pair it first"):
        set_pin_hash(load_settings(data_dir=tmp_path), hash_pin("2468"))
