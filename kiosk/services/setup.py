"""The setup operations: read a pairing QR, what this device may run, and saving the choices.

The device's role comes from its pairing code, so the scope is chosen within
it: a DOOR device serves the event it was paired for, at a gate named here; a
BRANCH device serves its branch, on the offer chosen here (from the cache);
a PROMOTER device reviews its promoter's events. The mode is door or review,
prize or review, or review alone. Choices and the kiosk-mode PIN hash are
kept in the device config, so `soca-kiosk run` opens the screen chosen here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qs, urlsplit

from core import limits
from core.wire import DeviceRole
from kiosk.errors import NotAPairingCode, NotPaired, SettingsError, WrongMode
from kiosk.services.headless import ScanMode
from kiosk.services.pin import check_new_pin, hash_pin
from kiosk.services.status import KioskStatus
from kiosk.settings import KioskSettings
from kiosk.store.cache import Cache
from kiosk.store.config import DeviceConfig, load_config, save_config

PAIRING_SCHEME: Final = "socapassport"
PAIRING_HOST: Final = "pair"
GATE_MAX_LENGTH: Final = limits.GATE.max_length

_MODES: Final = {
    DeviceRole.DOOR: (ScanMode.DOOR, ScanMode.REVIEW),
    DeviceRole.BRANCH: (ScanMode.PRIZE, ScanMode.REVIEW),
    DeviceRole.PROMOTER: (ScanMode.REVIEW,),
}


@dataclass(frozen=True, slots=True)
class PairingLink:
    """What a pairing QR carries: the server's base URL and the one-time code."""

    server_url: str
    code: str


def parse_pairing_qr(text: str) -> PairingLink:
    """Read `socapassport://pair?server=URL&code=CODE`; NotAPairingCode for anything else."""
    parts = urlsplit(text.strip())
    if parts.scheme.lower() != PAIRING_SCHEME or parts.netloc.lower() != PAIRING_HOST:
        raise NotAPairingCode(
            "This QR code is not a pairing code. Scan the pairing QR shown on the server's "
            "device page, or type the code."
        )
    query = parse_qs(parts.query)
    server = query.get("server", [""])[0].strip()
    code = query.get("code", [""])[0].strip()
    if not server.startswith(("http://", "https://")) or not code:
        raise NotAPairingCode("This pairing QR has no server address or no code; make a new one.")
    return PairingLink(server_url=server.rstrip("/"), code=code)


def allowed_modes(role: DeviceRole) -> tuple[ScanMode, ...]:
    """The modes a device of `role` can run, its natural one first."""
    return _MODES[role]


@dataclass(frozen=True, slots=True)
class Option:
    """One choice in a list: an id and what a person reads."""

    id: uuid.UUID
    label: str


@dataclass(frozen=True, slots=True)
class SetupState:
    """What the setup screen shows: pairing, the choices within the role, and the sync state."""

    config: DeviceConfig | None
    status: KioskStatus
    modes: tuple[ScanMode, ...]
    mode: ScanMode | None
    event: Option | None
    gate: str
    offers: tuple[Option, ...]
    offer_id: uuid.UUID | None

    @property
    def paired(self) -> bool:
        """True once the device has a config."""
        return self.config is not None

    @property
    def pin_set(self) -> bool:
        """True when `run` goes full screen and asks for a PIN to leave."""
        return self.config is not None and self.config.pin_hash is not None


def get_setup_state(
    settings: KioskSettings, *, config: DeviceConfig | None, cache: Cache, status: KioskStatus
) -> SetupState:
    """The state for the screen, from the config and what the last sync downloaded."""
    if config is None:
        return SetupState(None, status, (), None, None, settings.gate, (), None)
    modes = allowed_modes(config.role)
    mode = ScanMode(config.mode) if config.mode in modes else modes[0]
    event = None
    if config.event_id is not None:
        cached = cache.event(config.event_id)
        event = Option(config.event_id, cached.name if cached else str(config.event_id))
    offers: tuple[Option, ...] = ()
    if config.branch_id is not None:
        offers = tuple(
            Option(offer.id, f"{offer.name} ({offer.max_stamps} stamps)")
            for offer in cache.offers_of_branch(config.branch_id)
            if offer.active
        )
    return SetupState(
        config=config,
        status=status,
        modes=modes,
        mode=mode,
        event=event,
        gate=config.gate or settings.gate,
        offers=offers,
        offer_id=config.offer_id,
    )


def save_choices(
    settings: KioskSettings,
    *,
    cache: Cache,
    mode: ScanMode,
    gate: str | None = None,
    offer_id: uuid.UUID | None = None,
) -> DeviceConfig:
    """Check the mode and scope against the role and the cache, and keep them in the config."""
    config = load_config(settings.config_path)
    if config is None:
        raise NotPaired("pair this kiosk first: its role decides the modes it can run")
    if mode not in allowed_modes(config.role):
        raise WrongMode(
            f"a {config.role.value} device cannot run {mode.value} mode; it can run "
            + " or ".join(allowed.value for allowed in allowed_modes(config.role))
        )
    update: dict[str, object] = {"mode": mode.value}
    if config.role is DeviceRole.DOOR:
        name = (gate or "").strip()
        if not name or limits.text_problem(name, limits.GATE) is not None:
            raise SettingsError(f"name the gate (1 to {GATE_MAX_LENGTH} characters)")
        update["gate"] = name
    if config.role is DeviceRole.BRANCH:
        if offer_id is not None:
            offer = cache.offer(offer_id)
            if offer is None or offer.branch_id != config.branch_id:
                raise SettingsError("that offer is not one of this branch's; sync and choose again")
        update["offer_id"] = offer_id
    chosen = config.model_copy(update=update)
    save_config(settings.config_path, chosen)
    return chosen


def require_config(settings: KioskSettings) -> DeviceConfig:
    """The device config, or NotPaired: the PIN and the choices live in it."""
    config = load_config(settings.config_path)
    if config is None:
        raise NotPaired(
            f"this kiosk ({settings.data_dir}) is not paired: pair it first "
            "(`soca-kiosk pair --server URL --code CODE` or `soca-kiosk setup`)"
        )
    return config


def set_pin_hash(settings: KioskSettings, pin_hash: str | None) -> DeviceConfig:
    """Store (or, with None, clear) the kiosk-mode PIN's hash in the device config."""
    config = require_config(settings)
    updated = config.model_copy(update={"pin_hash": pin_hash})
    save_config(settings.config_path, updated)
    return updated


def set_pin(settings: KioskSettings, pin: str | None, confirmation: str | None) -> DeviceConfig:
    """Kiosk mode on with a new PIN (checked, then only its scrypt hash kept), or off with None."""
    if pin is None:
        return set_pin_hash(settings, None)
    require_config(settings)  # before the slow hash
    return set_pin_hash(settings, hash_pin(check_new_pin(pin, confirmation)))


def with_saved_gate(settings: KioskSettings) -> KioskSettings:
    """`settings` with the gate chosen at setup, unless --gate or SOCA_KIOSK_GATE named one."""
    if "gate" in settings.model_fields_set:
        return settings
    config = load_config(settings.config_path)
    if config is None or config.gate is None:
        return settings
    return settings.model_copy(update={"gate": config.gate})
