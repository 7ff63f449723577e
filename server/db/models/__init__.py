"""Every table, importable from one place (Alembic's autogenerate reads `Base.metadata`)."""

from server.db.models.accounts import ApiToken, RateLimitCounter, User
from server.db.models.base import Base, utcnow
from server.db.models.businesses import Business, JobRun
from server.db.models.cards import Branch, LoyaltyPass, Offer, PassEntry, PassExpiry
from server.db.models.conflicts import ConflictResolution
from server.db.models.devices import Device, SigningKey, SyncChange, SyncOp
from server.db.models.drawings import QrDrawing
from server.db.models.events import Event, Ticket, TicketScan
from server.db.models.integrations import IntegrationCredential, PurchaseBracelet
from server.db.models.links import AccountLink
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
from server.db.models.wallet import PassUpdate, WalletPass, WalletRegistration

__all__ = [
    "AccountLink",
    "ApiToken",
    "Base",
    "Branch",
    "Business",
    "ConflictResolution",
    "Device",
    "Event",
    "EventPassportBilling",
    "EventReward",
    "IntegrationCredential",
    "JobRun",
    "LoyaltyPass",
    "Offer",
    "Package",
    "PackageItem",
    "PackagePurchase",
    "PairingCode",
    "PassEntry",
    "PassExpiry",
    "PassUpdate",
    "PassportMembership",
    "PassportMission",
    "PassportProfile",
    "PassportReward",
    "PassportStamp",
    "PassportTier",
    "Promoter",
    "PurchaseBracelet",
    "QrDrawing",
    "RateLimitCounter",
    "RewardRedemption",
    "SigningKey",
    "SpendTransaction",
    "SyncChange",
    "SyncOp",
    "Ticket",
    "TicketScan",
    "User",
    "WalletPass",
    "WalletRegistration",
    "utcnow",
]
