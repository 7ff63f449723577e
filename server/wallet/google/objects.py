"""Google Wallet classes and objects from a pass's content (the REST API's JSON shapes).

A stamp card is a `loyaltyObject` of its offer's `loyaltyClass`: loyalty
points are the completions (seed 002), with text modules Member Status
("🥇 Gold Member"), Next Tier ("2 more for Platinum") and Progress (a bar of
stamps). The passport is a `loyaltyObject` of the "passport" class (points,
tier); a ticket is an `eventTicketObject` of its event's `eventTicketClass`,
whose barcode is the ticket's door QR. Every text goes as a LocalizedString
with its Arabic translation.
"""

from __future__ import annotations

from typing import Any, Final

from server.wallet.content import (
    BACKGROUND,
    ORGANIZATION,
    PassContent,
    PassField,
    PassKind,
    Words,
)

#: The REST collection and the save-JWT payload key of each kind's objects.
COLLECTION: Final = {
    PassKind.CARD: ("loyaltyClass", "loyaltyObject", "loyaltyObjects"),
    PassKind.PASSPORT: ("loyaltyClass", "loyaltyObject", "loyaltyObjects"),
    PassKind.TICKET: ("eventTicketClass", "eventTicketObject", "eventTicketObjects"),
}


def localized(words: Words) -> dict[str, Any]:
    """A LocalizedString in English with its Arabic translation."""
    return {
        "defaultValue": {"language": "en-US", "value": words.en},
        "translatedValues": [{"language": "ar", "value": words.ar}],
    }


def class_id(issuer_id: str, content: PassContent) -> str:
    """The class of this pass: "<issuer>.<group>"."""
    return f"{issuer_id}.{content.group}"


def object_id(issuer_id: str, content: PassContent) -> str:
    """The object of this pass: "<issuer>.<serial without dashes>"."""
    return f"{issuer_id}.{content.serial.replace('-', '')}"


def _module(item: PassField) -> dict[str, Any]:
    return {
        "id": item.key,
        "header": item.label.en,
        "body": item.value.en,
        "localizedHeader": localized(item.label),
        "localizedBody": localized(item.value),
    }


def _bar(content: PassContent) -> PassField | None:
    if content.stamps is None:
        return None
    current, maximum = content.stamps
    shown = min(maximum, 20)
    bar = "●" * min(current, shown) + "○" * max(0, shown - current)
    return PassField("bar", Words("Progress", "التقدم"), Words(bar, bar))


def _modules(content: PassContent) -> list[dict[str, Any]]:
    fields = [*content.secondary, *content.auxiliary, *content.back]
    if content.kind is PassKind.CARD:
        by_key = {item.key: item for item in fields}
        ordered = [
            PassField("tier", Words("Member Status", "حالة العضوية"), by_key["tier"].value),
            PassField("next", Words("Next Tier", "المستوى التالي"), by_key["next"].value),
            PassField("stamps", Words("Stamps", "الأختام"), by_key["progress"].value),
        ]
        bar = _bar(content)
        fields = [*ordered, *([bar] if bar else []), by_key["branch"], by_key["prize"]]
    return [_module(item) for item in fields]


def class_body(issuer_id: str, content: PassContent, *, logo_url: str) -> dict[str, Any]:
    """The class this pass's object belongs to (created once, before the first object)."""
    body: dict[str, Any] = {
        "id": class_id(issuer_id, content),
        "issuerName": ORGANIZATION,
        "reviewStatus": "UNDER_REVIEW",
        "hexBackgroundColor": BACKGROUND,
    }
    if content.kind is PassKind.TICKET:
        body["eventName"] = localized(content.title)
        when = content.secondary[0].value.en if content.secondary else ""
        body["dateTime"] = (
            {"start": content.relevant_date.isoformat()} if content.relevant_date else {}
        )
        body["venue"] = {
            "name": localized(content.secondary[1].value),
            "address": localized(Words(when, when)),
        }
        body["logo"] = {"sourceUri": {"uri": logo_url}}
    else:
        body["programName"] = content.title.en
        body["localizedProgramName"] = localized(content.title)
        body["programLogo"] = {"sourceUri": {"uri": logo_url}}
    return body


def object_body(issuer_id: str, content: PassContent) -> dict[str, Any]:
    """The object for this pass as it is now (the whole object: a PATCH sends it too)."""
    body: dict[str, Any] = {
        "id": object_id(issuer_id, content),
        "classId": class_id(issuer_id, content),
        "state": "INACTIVE" if content.voided else "ACTIVE",
        "textModulesData": _modules(content),
        "hexBackgroundColor": content.tier_colour or BACKGROUND,
    }
    if content.barcode:
        body["barcode"] = {"type": "QR_CODE", "value": content.barcode}
    if content.kind is PassKind.TICKET:
        by_key = {item.key: item for item in content.auxiliary}
        body["ticketHolderName"] = by_key["holder"].value.en
        body["ticketNumber"] = by_key["code"].value.en
        if content.expires_at is not None:
            body["validTimeInterval"] = {"end": {"date": content.expires_at.isoformat()}}
    else:
        label = (
            Words("Completions", "مرات الإكمال")
            if content.kind is PassKind.CARD
            else Words("Points", "النقاط")
        )
        body["loyaltyPoints"] = {
            "label": label.en,
            "localizedLabel": localized(label),
            "balance": {"int": content.points or 0},
        }
        body["accountName"] = content.header[0].value.en if content.header else content.title.en
    return body
