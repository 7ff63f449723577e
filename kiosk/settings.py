"""The kiosk's one typed settings object, built at the composition root and passed down.

Values come from keyword arguments (command-line flags), then `SOCA_KIOSK_*`
environment variables, then the defaults below; nothing is read at import
time. The data folder defaults to the platform's (platformdirs) and holds
three files: the outbox (`outbox.sqlite3`, never deleted by the kiosk), the
downloaded cache (`cache.sqlite3`, safe to wipe) and the device config
(`device.json`, mode 0600).
"""

from __future__ import annotations

import enum
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from platformdirs import user_data_path
from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from core import limits
from kiosk.errors import SettingsError

OUTBOX_FILE = "outbox.sqlite3"
CACHE_FILE = "cache.sqlite3"
CONFIG_FILE = "device.json"


class Language(enum.StrEnum):
    """The languages the kiosk's screens speak (Arabic lays them out right to left)."""

    ENGLISH = "en"
    ARABIC = "ar"


def default_data_dir() -> Path:
    """The platform's data folder for the kiosk."""
    return user_data_path("soca-kiosk", "SocaPassport")


def _default_device_name() -> str:
    return (socket.gethostname() or "kiosk")[: limits.DEVICE_NAME.max_length]


class KioskSettings(BaseSettings):
    """Every knob of the kiosk, typed and validated; frozen once built."""

    model_config = SettingsConfigDict(env_prefix="SOCA_KIOSK_", extra="ignore", frozen=True)

    data_dir: Path = Field(default_factory=default_data_dir)
    device_name: Annotated[str, limits.DEVICE_NAME] = Field(default_factory=_default_device_name)
    gate: Annotated[str, limits.GATE, Field(min_length=1)] = "Main gate"
    busy_timeout_ms: int = Field(default=10_000, ge=100)
    push_batch_size: int = Field(default=500, ge=1, le=1000)
    pull_page_size: int = Field(default=25_000, ge=1, le=25_000)
    request_deadline_s: float = Field(default=30.0, gt=0)
    connect_timeout_s: float = Field(default=5.0, gt=0)
    read_timeout_s: float = Field(default=15.0, gt=0)
    retry_attempts: int = Field(default=6, ge=1)
    backoff_initial_s: float = Field(default=0.5, ge=0)
    backoff_max_s: float = Field(default=30.0, ge=0)
    sync_interval_s: float = Field(default=20.0, gt=0)
    #: A venue hub to prefer (`soca-server hub`); none: the one found on the local network.
    hub_url: str | None = None
    #: Look for a venue hub for this kiosk's event on the local network (zeroconf).
    discover_hub: bool = True
    #: Seconds a waiting pull may wait for a change (0: never wait; the server allows 30).
    pull_wait_s: float = Field(default=10.0, ge=0, le=30)
    clock_warning_s: float = Field(default=120.0, gt=0)
    pass_inactivity_days: int = Field(default=90, ge=1)
    language: Language = Language.ENGLISH  # SOCA_KIOSK_LANGUAGE=en|ar

    @property
    def outbox_path(self) -> Path:
        """The outbox file: ops and their local effects; the kiosk never deletes it."""
        return self.data_dir / OUTBOX_FILE

    @property
    def cache_path(self) -> Path:
        """The downloaded cache: safe to wipe, a sync downloads it again."""
        return self.data_dir / CACHE_FILE

    @property
    def config_path(self) -> Path:
        """The device config written by pairing."""
        return self.data_dir / CONFIG_FILE


def load_settings(**overrides: Any) -> KioskSettings:
    """Build settings from flags (None means "not given"), the environment and defaults."""
    given: Mapping[str, Any] = {key: value for key, value in overrides.items() if value is not None}
    try:
        return KioskSettings(**given)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        )
        raise SettingsError(f"invalid kiosk settings: {problems}") from exc
