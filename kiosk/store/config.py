"""The device config pairing writes: server, device id, bearer token, role and scope.

A small JSON file in the data folder, mode 0600 because it holds the token,
written atomically (temporary file, fsync, rename), so a crash leaves the old
config or the new one, never half of either. A file that is not a valid
config is a `ConfigError` naming the file, never a traceback.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from core.wire import DeviceRole, DeviceScope
from kiosk.errors import ConfigError

CONFIG_MODE = 0o600


class DeviceConfig(BaseModel):
    """What a paired kiosk knows about itself."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    server_url: Annotated[str, Field(min_length=1)]
    device_id: uuid.UUID
    token: Annotated[str, Field(min_length=1)]
    role: DeviceRole
    scope: DeviceScope
    name: str
    paired_at: AwareDatetime
    # Chosen on the setup screen (or `soca-kiosk pin set`); pairing again keeps only the PIN.
    mode: Literal["door", "prize", "review"] | None = None
    gate: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    offer_id: uuid.UUID | None = None
    pin_hash: str | None = None

    @property
    def event_id(self) -> uuid.UUID | None:
        """The event a door device serves."""
        return self.scope.event_id

    @property
    def branch_id(self) -> uuid.UUID | None:
        """The branch a prize device serves."""
        return self.scope.branch_id


def load_config(path: Path) -> DeviceConfig | None:
    """The device config, None when the device was never paired, ConfigError when corrupt."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the device config {path}: {exc}") from exc
    try:
        return DeviceConfig.model_validate(json.loads(text))
    except (ValueError, ValidationError) as exc:
        detail = str(exc).strip().splitlines()[0]
        raise ConfigError(
            f"the device config {path} is corrupt ({detail}); "
            "pair the device again with `soca-kiosk pair`"
        ) from exc


def save_config(path: Path, config: DeviceConfig) -> None:
    """Write the config atomically with mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    data = config.model_dump_json(indent=2).encode("utf-8")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, CONFIG_MODE)
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), CONFIG_MODE)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        _fsync_folder(path.parent)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise ConfigError(f"cannot write the device config {path}: {exc}") from exc


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def new_config(
    *,
    server_url: str,
    device_id: uuid.UUID,
    token: str,
    role: DeviceRole,
    scope: DeviceScope,
    name: str,
    paired_at: datetime,
) -> DeviceConfig:
    """A config for a device that just paired."""
    return DeviceConfig(
        server_url=server_url.rstrip("/"),
        device_id=device_id,
        token=token,
        role=role,
        scope=scope,
        name=name,
        paired_at=paired_at,
    )
