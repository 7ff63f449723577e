"""The closed set of reason codes both programs and the API use.

A reason travels with every op that is not applied and every refused scan,
so a door person, a manager or HQ can act on it. The lower-case codes are
ours (sync and scan); the upper-case ones are the seeds' API error codes.
`explain` turns a code and its context into one plain sentence.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping


class Reason(enum.StrEnum):
    """Why something was not simply applied."""

    # token verification
    BAD_FORMAT = "bad_format"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    WRONG_KIND = "wrong_kind"
    # door
    WRONG_EVENT = "wrong_event"
    REVOKED = "revoked"
    UNKNOWN_TICKET = "unknown_ticket"
    ALREADY_SCANNED = "already_scanned"
    EVENT_NOT_ENABLED = "event_not_enabled"
    # stamp cards
    UNKNOWN_OFFER = "unknown_offer"
    UNKNOWN_PASSPORT = "unknown_passport"
    WRONG_BRANCH = "wrong_branch"
    CARD_FULL = "card_full"
    NOT_ENOUGH_STAMPS = "not_enough_stamps"
    PASS_EXPIRED = "pass_expired"  # noqa: S105 (a reason, not a password)
    # packages at the door
    UNKNOWN_PURCHASE = "unknown_purchase"
    ALREADY_ACTIVATED = "already_activated"
    PURCHASE_NOT_PAID = "purchase_not_paid"
    # sync
    INVALID_OP = "invalid_op"
    OUT_OF_SCOPE = "out_of_scope"
    DUPLICATE_OP = "duplicate_op"
    DUPLICATE_OP_ID = "duplicate_op_id"
    IMPLAUSIBLE_TIME = "implausible_time"
    UNKNOWN_STAMP = "unknown_stamp"
    STAMP_UNDONE = "stamp_undone"
    ALREADY_UNDONE = "already_undone"
    # seed 003: packages
    PACKAGE_NOT_FOUND = "PACKAGE_NOT_FOUND"
    PACKAGE_EXPIRED = "PACKAGE_EXPIRED"
    PACKAGE_SOLD_OUT = "PACKAGE_SOLD_OUT"
    PACKAGE_INACTIVE = "PACKAGE_INACTIVE"
    PACKAGE_MAX_PER_USER_EXCEEDED = "PACKAGE_MAX_PER_USER_EXCEEDED"
    PACKAGE_INVALID_PRICE = "PACKAGE_INVALID_PRICE"
    PACKAGE_INVALID_QUANTITY = "PACKAGE_INVALID_QUANTITY"
    # seed 003: rewards
    REWARD_NOT_FOUND = "REWARD_NOT_FOUND"
    REWARD_EXPIRED = "REWARD_EXPIRED"
    REWARD_DEPLETED = "REWARD_DEPLETED"
    REWARD_INACTIVE = "REWARD_INACTIVE"
    REWARD_MAX_REDEMPTIONS_EXCEEDED = "REWARD_MAX_REDEMPTIONS_EXCEEDED"
    REWARD_USER_NOT_QUALIFIED = "REWARD_USER_NOT_QUALIFIED"
    REWARD_INVALID_AMOUNT = "REWARD_INVALID_AMOUNT"


_EXPLANATIONS: dict[Reason, str] = {
    Reason.BAD_FORMAT: "This is not a Soca Passport code.",
    Reason.UNKNOWN_KEY: (
        "This code was signed with a key this device does not know; sync and try again."
    ),
    Reason.BAD_SIGNATURE: "This code's signature is invalid: it may be forged or damaged.",
    Reason.WRONG_KIND: "This is a {actual} code, not a {expected} code.",
    Reason.WRONG_EVENT: "This ticket is for another event{event_suffix}.",
    Reason.REVOKED: "This {what} has been revoked.",
    Reason.UNKNOWN_TICKET: "This ticket is not on the list for this event.",
    Reason.ALREADY_SCANNED: "Already scanned {when} at {gate}{device_suffix}.",
    Reason.EVENT_NOT_ENABLED: "This event is not Soca Passport enabled: no stamp.",
    Reason.UNKNOWN_OFFER: "This stamp card offer is unknown.",
    Reason.UNKNOWN_PASSPORT: "This passport is unknown.",
    Reason.WRONG_BRANCH: "This offer does not belong to this branch.",
    Reason.CARD_FULL: "The card is full ({current} of {max}): confirm the prize first.",
    Reason.NOT_ENOUGH_STAMPS: "Only {current} of {max} stamps: the prize needs a full card.",
    Reason.PASS_EXPIRED: "This pass expired after {days} days without a scan.",
    Reason.UNKNOWN_PURCHASE: "This package purchase is unknown.",
    Reason.ALREADY_ACTIVATED: "This package was already activated {when}.",
    Reason.PURCHASE_NOT_PAID: "This package purchase is {status}, not paid.",
    Reason.INVALID_OP: "This operation is malformed: {detail}.",
    Reason.OUT_OF_SCOPE: "This device may not do that for this {what}.",
    Reason.DUPLICATE_OP: "This operation was already received.",
    Reason.DUPLICATE_OP_ID: (
        "Another operation in this batch has the same id and different content: "
        "each operation needs an id of its own."
    ),
    Reason.IMPLAUSIBLE_TIME: (
        "This operation's time ({when}) cannot be right: check the device's date and clock, "
        "then sync again."
    ),
    Reason.UNKNOWN_STAMP: (
        "This card has no stamp with that id to withdraw (it may not have reached the server yet)."
    ),
    Reason.STAMP_UNDONE: "This stamp was withdrawn by a correction ({when}).",
    Reason.ALREADY_UNDONE: "This stamp was already withdrawn ({when}).",
    Reason.PACKAGE_NOT_FOUND: "Package not found.",
    Reason.PACKAGE_EXPIRED: "The package is outside its sale period.",
    Reason.PACKAGE_SOLD_OUT: "The package is sold out.",
    Reason.PACKAGE_INACTIVE: "The package is not on sale.",
    Reason.PACKAGE_MAX_PER_USER_EXCEEDED: "You already bought the maximum of this package.",
    Reason.PACKAGE_INVALID_PRICE: "The package price is invalid: {detail}.",
    Reason.PACKAGE_INVALID_QUANTITY: "The package quantity is invalid: {detail}.",
    Reason.REWARD_NOT_FOUND: "Reward not found.",
    Reason.REWARD_EXPIRED: "The reward is outside its active period.",
    Reason.REWARD_DEPLETED: "The reward has been given out as often as it may be.",
    Reason.REWARD_INACTIVE: "The reward is not active.",
    Reason.REWARD_MAX_REDEMPTIONS_EXCEEDED: (
        "This customer already has this reward the maximum times."
    ),
    Reason.REWARD_USER_NOT_QUALIFIED: "The customer does not yet qualify for this reward.",
    Reason.REWARD_INVALID_AMOUNT: "The reward amount is invalid: {detail}.",
}


class _Blank(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return ""


def explain(reason: Reason, context: Mapping[str, object] | None = None) -> str:
    """One plain sentence for a reason, filled from its context (missing parts left out)."""
    return _EXPLANATIONS[reason].format_map(_Blank(context or {}))
