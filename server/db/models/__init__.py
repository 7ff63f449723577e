"""Every table, importable from one place (Alembic's autogenerate reads `Base.metadata`)."""

from server.db.models.accounts import ApiToken, User
from server.db.models.base import Base, utcnow
from server.db.models.cards import Branch, LoyaltyPass, Offer, PassEntry
from server.db.models.conflicts import ConflictResolution
from server.db.models.devices import Device, SigningKey, SyncChange, SyncOp
from server.db.models.events import Event, Ticket, TicketScan
from server.db.models.packages import Package, PackageItem, PackagePurchase
from server.db.models.pairing import PairingCode
from server.db.models.passport import (
    PassportMembership,
    PassportMission,
    PassportProfile,
    PassportReward,
    PassportStamp,
    PassportTier,
)
from server.db.models.promoters import EventPassportBilling, Promoter
from server.db.models.rewards import EventReward, RewardRedemption, SpendTransaction

__all__ = [
    "ApiToken",
    "Base",
    "Branch",
    "ConflictResolution",
    "Device",
    "Event",
    "EventPassportBilling",
    "EventReward",
    "LoyaltyPass",
    "Offer",
    "Package",
    "PackageItem",
    "PackagePurchase",
    "PairingCode",
    "PassEntry",
    "PassportMembership",
    "PassportMission",
    "PassportProfile",
    "PassportReward",
    "PassportStamp",
    "PassportTier",
    "Promoter",
    "RewardRedemption",
    "SigningKey",
    "SpendTransaction",
    "SyncChange",
    "SyncOp",
    "Ticket",
    "TicketScan",
    "User",
    "utcnow",
]
