"""What HQ and a venue hub say to each other (`/api/v1/hub/...`); server to server only."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from core import limits
from core.wire import HubInfo, Op, OpResult

__all__ = ["HubInfo", "HubPage", "RelayBatch", "RelayRequest", "RelayResponse", "ReplicaOp"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReplicaKey(_Model):
    """A signing key's public half (the private half never leaves HQ)."""

    key_id: int
    public_key: str
    retired_at: AwareDatetime | None = None


class ReplicaOp(_Model):
    """An op HQ recorded for a device in the hub's scope, as the device sent it."""

    device_id: uuid.UUID
    op: Op


class HubPage(_Model):
    """`GET /hub/pull`: one page of the hub's scope, as whole rows, with the ops behind it.

    `rows` maps a table name to its rows (every column); `devices` holds every
    device of the scope with its token hash, and `keys` every signing key's
    public half, in every page; `deleted` maps a table to ids gone upstream.
    """

    cursor: str | None
    more: bool
    server_time: AwareDatetime
    keys: list[ReplicaKey]
    devices: list[dict[str, Any]]
    rows: dict[str, list[dict[str, Any]]]
    deleted: dict[str, list[str]] = Field(default_factory=dict)
    ops: list[ReplicaOp] = Field(default_factory=list)


class RelayBatch(_Model):
    """One device's ops as the hub accepted them, and that device's clock as the hub saw it."""

    device_id: uuid.UUID
    device_time: AwareDatetime
    ops: list[Op] = Field(max_length=limits.HUB_RELAY_OPS.maximum)


class RelayRequest(_Model):
    """`POST /hub/relay`: the hub's ops not yet forwarded, by device."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "batches": [
                        {
                            "device_id": "3c1d2e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
                            "device_time": "2026-02-14T21:05:00Z",
                            "ops": [],
                        }
                    ]
                }
            ]
        },
    )
    batches: list[RelayBatch] = Field(max_length=limits.HUB_RELAY_OPS.maximum)


class RelayedBatch(_Model):
    """HQ's results for one device's ops, or why it refused the whole batch."""

    device_id: uuid.UUID
    results: list[OpResult] = Field(default_factory=list)
    refused: str | None = None


class RelayResponse(_Model):
    """`POST /hub/relay`'s answer, one entry per batch in order."""

    server_time: AwareDatetime
    batches: list[RelayedBatch]
