"""The sync and pairing contract (ARCHITECTURE.md, "HTTP"), as pydantic models both sides share.

Every model refuses unknown fields and naive datetimes. An op travels as the
six-key envelope `{"op_id", "seq", "type", "occurred_at", "device_clock",
"payload"}`; its payload stays a plain JSON object in the envelope so that a
push whose envelopes are sound is accepted as a batch, and each op's payload
is checked on its own with `parse_payload` — a bad payload rejects that op
(`Reason.INVALID_OP`), never its batch.

Pull rows are small models with defaults, so a field added later is optional
for older senders; all list sections of a `PullResponse` default to empty.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from core import limits
from core.errors import InvalidPayloadError
from core.reasons import Reason
from core.tokens import TokenKind

MAX_OPS_PER_PUSH = 1000
MAX_QR_LENGTH = limits.QR_CODE.max_length  # the most a QR code can hold
PUBLIC_KEY_BYTES = 32

NonNegativeInt = Annotated[int, Field(ge=0, le=2**63 - 1, strict=True)]
# Payload text takes its bounds from `core.limits`: lengths the columns hold, no control
# characters (PostgreSQL refuses NUL), so a payload that passes is one the server can store.
QrText = Annotated[str, limits.QR_CODE]
Gate = Annotated[str, limits.GATE]
#: What the kiosk showed for an op (green admitted/stamped, amber re-entry, red refused).
#: Optional and never trusted for effects: the server uses it only to tell a re-entry
#: the kiosk knew about (`duplicate`) from offline devices that disagreed (`conflict`).
Verdict = Literal["green", "amber", "red"]


class WireModel(BaseModel):
    """Base of every wire model: unknown fields are refused, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------------------------- ops


class OpType(enum.StrEnum):
    """What a kiosk did; each type has one payload model."""

    TICKET_SCAN = "ticket.scan"
    TICKET_MANUAL_CHECKIN = "ticket.manual_checkin"
    PASS_STAMP = "pass.stamp"  # noqa: S105 (not a password)
    PASS_CLAIM = "pass.claim"  # noqa: S105 (not a password)
    PACKAGE_ACTIVATE = "package.activate"
    SCAN_REFUSED = "scan.refused"
    PASS_UNSTAMP = "pass.unstamp"  # noqa: S105 (not a password)


class TicketScanPayload(WireModel):
    """A ticket QR scanned at a gate."""

    qr: QrText
    event_id: uuid.UUID
    gate: Gate
    verdict: Verdict | None = None


class ManualCheckinPayload(WireModel):
    """A ticket checked in by hand (looked up by name) when its code would not read."""

    ticket_id: uuid.UUID
    event_id: uuid.UUID
    gate: Gate
    note: Annotated[str, limits.CHECKIN_NOTE] | None = None
    verdict: Verdict | None = None


class PassStampPayload(WireModel):
    """A stamp added to a customer's card on an offer."""

    qr: QrText
    offer_id: uuid.UUID
    verdict: Verdict | None = None


class PassClaimPayload(WireModel):
    """A prize confirmed on a full card; the card starts a new cycle."""

    qr: QrText
    offer_id: uuid.UUID
    verdict: Verdict | None = None


class PackageActivatePayload(WireModel):
    """A pre-bought package activated at the door."""

    qr: QrText
    verdict: Verdict | None = None


class ScanRefusedPayload(WireModel):
    """A code the door turned away (red): recorded for the promoter and HQ, never an admission.

    It carries the code's digest (`code_digest`), not the code, so a refusal log
    cannot be replayed as tickets.
    """

    event_id: uuid.UUID
    gate: Gate
    reason: Reason
    code_digest: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    verdict: Verdict | None = None


class PassUnstampPayload(WireModel):
    """Withdraws one earlier `pass.stamp` (op `undoes`) of the same card: a mistaken tap undone."""

    qr: QrText
    offer_id: uuid.UUID
    undoes: uuid.UUID
    verdict: Verdict | None = None


Payload = (
    TicketScanPayload
    | ManualCheckinPayload
    | PassStampPayload
    | PassClaimPayload
    | PackageActivatePayload
    | ScanRefusedPayload
    | PassUnstampPayload
)

PAYLOAD_MODELS: dict[OpType, type[Payload]] = {
    OpType.TICKET_SCAN: TicketScanPayload,
    OpType.TICKET_MANUAL_CHECKIN: ManualCheckinPayload,
    OpType.PASS_STAMP: PassStampPayload,
    OpType.PASS_CLAIM: PassClaimPayload,
    OpType.PACKAGE_ACTIVATE: PackageActivatePayload,
    OpType.SCAN_REFUSED: ScanRefusedPayload,
    OpType.PASS_UNSTAMP: PassUnstampPayload,
}
_OP_TYPES: dict[type[Payload], OpType] = {model: kind for kind, model in PAYLOAD_MODELS.items()}


class Op(WireModel):
    """One outbox entry: client id, per-device sequence, type, two times and the payload."""

    op_id: uuid.UUID
    seq: NonNegativeInt
    type: OpType
    occurred_at: AwareDatetime
    device_clock: AwareDatetime
    payload: dict[str, Any]


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "payload"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def code_digest(code: str) -> str:
    """The SHA-256 of a scanned code's text, in hex: how a refusal names the code it refused."""
    return hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest()


def parse_payload(op: Op) -> Payload:
    """Validate an op's payload against its type; raise `InvalidPayloadError` with the details."""
    model = PAYLOAD_MODELS[op.type]
    try:
        return model.model_validate(op.payload)
    except ValidationError as exc:
        raise InvalidPayloadError(f"{op.type.value} {_describe(exc)}") from exc


def build_op(
    payload: Payload,
    *,
    seq: int,
    occurred_at: datetime,
    device_clock: datetime,
    op_id: uuid.UUID | None = None,
) -> Op:
    """Wrap a payload in an op envelope, its type taken from the payload's model."""
    return Op(
        op_id=op_id or uuid.uuid4(),
        seq=seq,
        type=_OP_TYPES[type(payload)],
        occurred_at=occurred_at,
        device_clock=device_clock,
        payload=payload_json(payload),
    )


def payload_json(payload: Payload) -> dict[str, Any]:
    """A payload as the contract's JSON object; `verdict` appears only when the kiosk set it."""
    data = payload.model_dump(mode="json")
    if data.get("verdict") is None:
        data.pop("verdict", None)
    return data


class PushRequest(WireModel):
    """`POST /sync/push`: the kiosk's clock at sending time and up to 1000 ops."""

    device_time: AwareDatetime
    ops: list[Op] = Field(max_length=MAX_OPS_PER_PUSH)


class OpStatus(enum.StrEnum):
    """How the server took an op."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    REJECTED = "rejected"


class OpResult(WireModel):
    """The server's verdict on one op; anything but `applied` carries a reason."""

    op_id: uuid.UUID
    status: OpStatus
    reason: Reason | None = None
    message: str | None = None
    effects: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _explained(self) -> Self:
        if self.status is not OpStatus.APPLIED and self.reason is None:
            raise ValueError(f"an op result with status {self.status.value!r} needs a reason")
        return self


class PushResponse(WireModel):
    """`POST /sync/push` response: one result per op, in the request's order."""

    server_time: AwareDatetime
    results: list[OpResult]


# --------------------------------------------------------------------------------- pull


class PublicKeyInfo(WireModel):
    """A token-verifying key: its id, its 32 raw bytes in standard base64, and whether revoked."""

    key_id: Annotated[int, Field(ge=1, le=2**16 - 1, strict=True)]
    public_key: str
    revoked: bool = False

    @field_validator("public_key")
    @classmethod
    def _is_ed25519_base64(cls, value: str) -> str:
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("public_key must be standard base64") from exc
        if len(raw) != PUBLIC_KEY_BYTES:
            raise ValueError(f"public_key must hold {PUBLIC_KEY_BYTES} bytes, got {len(raw)}")
        return value

    @classmethod
    def from_raw(cls, key_id: int, raw: bytes, *, revoked: bool = False) -> PublicKeyInfo:
        """Build from raw public key bytes."""
        return cls(key_id=key_id, public_key=base64.b64encode(raw).decode("ascii"), revoked=revoked)

    def raw(self) -> bytes:
        """The 32 raw public key bytes, as `verify_token` takes them."""
        return base64.b64decode(self.public_key)


class EventRow(WireModel):
    """An event a door kiosk serves."""

    id: uuid.UUID
    name: str
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    venue: str | None = None
    is_soca_passport_enabled: bool = False
    stamp_points_default: NonNegativeInt = 50
    country_code: Annotated[str, Field(max_length=limits.COUNTRY_CODE.max_length)] | None = None
    carnival_circuit: (
        Annotated[str, Field(max_length=limits.CARNIVAL_CIRCUIT.max_length)] | None
    ) = None


class TicketRow(WireModel):
    """A ticket for an event, with its first check-in if the server knows one."""

    id: uuid.UUID
    event_id: uuid.UUID
    user_id: uuid.UUID | None = None
    holder_name: str | None = None
    handle: str | None = None
    code: str | None = None
    revoked: bool = False
    checked_in_at: AwareDatetime | None = None
    checked_in_gate: str | None = None
    checked_in_device: str | None = None


class PassportRow(WireModel):
    """A passport holder, for showing a name and tier at the counter."""

    user_id: uuid.UUID
    handle: str
    total_points: NonNegativeInt = 0
    current_tier: str = "BRONZE"
    revoked: bool = False


class OfferRow(WireModel):
    """A stamp-card offer of a branch; `loyalty_tiers` is the seed's JSON (null: default tiers)."""

    id: uuid.UUID
    branch_id: uuid.UUID
    name: str
    max_stamps: Annotated[int, Field(ge=1, strict=True)]
    prize: str | None = None
    loyalty_tiers: dict[str, Any] | None = None
    active: bool = True


class CardRow(WireModel):
    """One customer's card on one offer: the current cycle, completed cycles, and its holder.

    `holder_name` (the account's display name) and `handle` let a branch tablet
    find a cardholder by name offline when their phone is dead.
    """

    offer_id: uuid.UUID
    user_id: uuid.UUID
    current_stamps: NonNegativeInt = 0
    rewards_claimed: NonNegativeInt = 0
    last_activity_at: AwareDatetime | None = None
    expired: bool = False
    holder_name: str | None = None
    handle: str | None = None


class PurchaseRow(WireModel):
    """A package purchase that may be activated at the door."""

    id: uuid.UUID
    user_id: uuid.UUID
    package_id: uuid.UUID
    event_id: uuid.UUID | None = None
    package_name: str | None = None
    status: str
    activated_at: AwareDatetime | None = None
    #: How it is paid ("CASH": at the door, see `core.purchases`) and what is due, e.g. "95.00".
    payment_method: str | None = None
    final_amount: str | None = None


class ScanRow(WireModel):
    """A door scan the server recorded (promoter devices review attendance offline)."""

    id: uuid.UUID
    event_id: uuid.UUID
    ticket_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    gate: str | None = None
    scanned_at: AwareDatetime
    outcome: Literal["ADMITTED", "REENTRY", "REFUSED"]
    device_id: uuid.UUID | None = None


class RevokedTokenRow(WireModel):
    """Tokens of this kind and subject are refused issued before `issued_before` (all if None)."""

    kind: TokenKind
    subject_id: uuid.UUID
    issued_before: AwareDatetime | None = None
    revoked_at: AwareDatetime


SyncedEntity = Literal["events", "tickets", "passports", "offers", "cards", "purchases", "scans"]


class DeletionRow(WireModel):
    """A row the kiosk must drop from its cache; `id` is text (a card's is "offer_id:user_id")."""

    entity: SyncedEntity
    id: str


class PullResponse(WireModel):
    """`GET /sync/pull` page: cursor for the next page, whether more follow, and changed rows."""

    cursor: str | None
    more: bool
    server_time: AwareDatetime
    keys: list[PublicKeyInfo] = Field(default_factory=list)
    events: list[EventRow] = Field(default_factory=list)
    tickets: list[TicketRow] = Field(default_factory=list)
    passports: list[PassportRow] = Field(default_factory=list)
    offers: list[OfferRow] = Field(default_factory=list)
    cards: list[CardRow] = Field(default_factory=list)
    purchases: list[PurchaseRow] = Field(default_factory=list)
    scans: list[ScanRow] = Field(default_factory=list)
    revoked_tokens: list[RevokedTokenRow] = Field(default_factory=list)
    deletions: list[DeletionRow] = Field(default_factory=list)

    def active_keys(self) -> dict[int, bytes]:
        """The page's unrevoked keys as `verify_token` takes them: key id → raw public bytes."""
        return {key.key_id: key.raw() for key in self.keys if not key.revoked}


# ------------------------------------------------------------------------------ pairing


class DeviceRole(enum.StrEnum):
    """What a paired device may do: scan tickets, run stamp cards, or read a promoter's events."""

    DOOR = "DOOR"
    BRANCH = "BRANCH"
    PROMOTER = "PROMOTER"
    #: A venue hub (`soca-server hub`): an event's or a promoter's doors sync through it.
    HUB = "HUB"


_SCOPE_FIELD: dict[DeviceRole, tuple[str, ...]] = {
    DeviceRole.DOOR: ("event_id",),
    DeviceRole.BRANCH: ("branch_id",),
    DeviceRole.PROMOTER: ("promoter_id",),
    DeviceRole.HUB: ("event_id", "promoter_id"),
}
_SCOPE_NAMES = ("event_id", "branch_id", "promoter_id")


class DeviceScope(WireModel):
    """What a device is bound to: the one id that matches its role."""

    event_id: uuid.UUID | None = None
    branch_id: uuid.UUID | None = None
    promoter_id: uuid.UUID | None = None


def _check_scope(role: DeviceRole, scope: DeviceScope | PairingCodeRequest) -> None:
    allowed = _SCOPE_FIELD[role]
    given = [name for name in _SCOPE_NAMES if getattr(scope, name) is not None]
    wrong = [name for name in given if name not in allowed]
    if wrong:
        only = " or ".join(allowed)
        raise ValueError(f"a {role.value} device takes only {only}, not {', '.join(wrong)}")
    if len(given) > 1:
        raise ValueError(f"a {role.value} device takes one of {', '.join(allowed)}, not both")


class PairingCodeRequest(WireModel):
    """`POST /devices/pairing-codes`: a role and, optionally, the id it is bound to."""

    role: DeviceRole
    event_id: uuid.UUID | None = None
    branch_id: uuid.UUID | None = None
    promoter_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _scope_matches_role(self) -> Self:
        _check_scope(self.role, self)
        return self


class PairingCodeResponse(WireModel):
    """A one-time pairing code and when it stops working."""

    code: str
    expires_at: AwareDatetime


class PairRequest(WireModel):
    """`POST /devices/pair`: the code and a name for the device."""

    code: Annotated[str, limits.PAIRING_CODE]
    name: Annotated[str, limits.DEVICE_NAME]


class PairResponse(WireModel):
    """The new device's id, its bearer token, its role and scope."""

    device_id: uuid.UUID
    token: str
    role: DeviceRole
    scope: DeviceScope

    @model_validator(mode="after")
    def _scope_matches_role(self) -> Self:
        _check_scope(self.role, self.scope)
        return self


# ------------------------------------------------------------------------------ venue hub


class HubInfo(WireModel):
    """`GET /hub/info`: whether this server is a venue hub and, if so, whose and for what."""

    hub: bool
    device_id: uuid.UUID | None = None
    name: str | None = None
    scope: DeviceScope | None = None
    event_ids: list[uuid.UUID] = Field(default_factory=list)
    upstream: str | None = None
    upstream_reachable: bool | None = None
    last_relay_at: AwareDatetime | None = None
    pending_relay: int | None = None


class HeldRequest(WireModel):
    """`POST /hub/held`: a device asks where ops it sent (to a hub) stand."""

    op_ids: list[uuid.UUID] = Field(max_length=MAX_OPS_PER_PUSH)


class HeldResponse(WireModel):
    """Which of the ops HQ holds (`relayed`), the hub still holds (`held`), or nobody (`unknown`).

    A server that is not a hub holds everything it knows: all of it is `relayed`.
    """

    relayed: list[uuid.UUID] = Field(default_factory=list)
    held: list[uuid.UUID] = Field(default_factory=list)
    unknown: list[uuid.UUID] = Field(default_factory=list)
