"""The seeds' allowed values for status and type columns, as closed string enums."""

from __future__ import annotations

import enum

from core.wire import DeviceRole, OpStatus

__all__ = ["DeviceRole", "OpStatus"]  # the wire contract's enums, shared with the models


class UserRole(enum.StrEnum):
    ATTENDEE = "ATTENDEE"
    PROMOTER = "PROMOTER"
    BRANCH_MANAGER = "BRANCH_MANAGER"
    HQ = "HQ"


class TokenKind(enum.StrEnum):
    API = "API"  # a bearer token for /api
    WEB = "WEB"  # a web session cookie


class LinkPurpose(enum.StrEnum):
    """What a single-use account link (an emailed token) lets its holder do."""

    RESET = "reset"  # set a new password after "Forgot password?"
    INVITE = "invite"  # set the first password of an account someone else made


class StampSource(enum.StrEnum):
    TICKET_SCAN = "TICKET_SCAN"
    MISSION = "MISSION"
    BONUS = "BONUS"


class PassportRewardStatus(enum.StrEnum):
    AVAILABLE = "AVAILABLE"
    REDEEMED = "REDEEMED"
    EXPIRED = "EXPIRED"


class PromoterStatus(enum.StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class BusinessStatus(enum.StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class BillingModel(enum.StrEnum):
    PER_EVENT = "PER_EVENT"
    SUBSCRIPTION = "SUBSCRIPTION"
    HYBRID = "HYBRID"


class BillingStatus(enum.StrEnum):
    DRAFT = "DRAFT"
    PENDING_PAYMENT = "PENDING_PAYMENT"
    PAID = "PAID"
    WAIVED = "WAIVED"


class MembershipTier(enum.StrEnum):
    FREE = "FREE"
    GOLD = "GOLD"
    ELITE = "ELITE"


class MembershipStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


class TicketStatus(enum.StrEnum):
    VALID = "VALID"
    REVOKED = "REVOKED"


class ScanOutcome(enum.StrEnum):
    ADMITTED = "ADMITTED"
    REENTRY = "REENTRY"
    REFUSED = "REFUSED"


class ScanMethod(enum.StrEnum):
    QR = "QR"
    MANUAL = "MANUAL"


class OfferStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"


class PassStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"


class PassEntryKind(enum.StrEnum):
    STAMP = "STAMP"
    CLAIM = "CLAIM"


class PackageStatus(enum.StrEnum):
    DRAFT = "DRAFT"
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"
    EXPIRED = "EXPIRED"
    SOLD_OUT = "SOLD_OUT"


class PackageItemType(enum.StrEnum):
    ENTRY = "ENTRY"
    BRACELET = "BRACELET"
    MERCHANDISE = "MERCHANDISE"
    SERVICE = "SERVICE"


class PurchaseStatus(enum.StrEnum):
    PENDING = "PENDING"
    PAID = "PAID"
    CANCELLED = "CANCELLED"
    REFUNDED = "REFUNDED"


class PaymentMethod(enum.StrEnum):
    CARD = "CARD"
    CASH = "CASH"
    BANK_TRANSFER = "BANK_TRANSFER"
    FREE = "FREE"


class RewardStatus(enum.StrEnum):
    DRAFT = "DRAFT"
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"
    EXPIRED = "EXPIRED"
    DEPLETED = "DEPLETED"


class RewardTriggerType(enum.StrEnum):
    MINIMUM_SPEND = "MINIMUM_SPEND"
    TRANSACTION_COUNT = "TRANSACTION_COUNT"
    SPECIFIC_ITEMS = "SPECIFIC_ITEMS"


class RewardType(enum.StrEnum):
    RECHARGE = "RECHARGE"
    DISCOUNT_PERCENTAGE = "DISCOUNT_PERCENTAGE"
    FREE_ITEM = "FREE_ITEM"
