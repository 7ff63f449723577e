"""A signed .pkpass: pass.json, images, en.lproj and ar.lproj, manifest.json, signature.

Every text a person reads is a key into the pass's own `pass.strings` (one
file per language), so the same pass reads in English or Arabic by the
phone's language: `label`, `value` and `changeMessage` of each field are keys
such as `tier.value`, `tier.change`. The manifest lists the SHA-1 of every
other file; the signature is `PassSigner.sign` of the manifest's bytes.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Final

from server.wallet.apple import images
from server.wallet.apple.signing import PassSigner
from server.wallet.content import (
    BACKGROUND,
    FOREGROUND,
    ORGANIZATION,
    PassContent,
    PassField,
    PassKind,
)

MEDIA_TYPE: Final = "application/vnd.apple.pkpass"
LANGUAGES: Final = ("en", "ar")
STYLE: Final = {
    PassKind.CARD: "storeCard",
    PassKind.PASSPORT: "generic",
    PassKind.TICKET: "eventTicket",
}


@dataclass(frozen=True)
class AppleIdentity:
    """Who issues the passes and where phones ask for updates."""

    pass_type_id: str
    team_id: str
    web_service_url: str


def _rgb(colour: str) -> str:
    value = colour.lstrip("#")
    red, green, blue = (int(value[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgb({red},{green},{blue})"


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _field(item: PassField) -> dict[str, Any]:
    found: dict[str, Any] = {
        "key": item.key,
        "label": f"{item.key}.label",
        "value": f"{item.key}.value",
    }
    if item.change is not None:
        found["changeMessage"] = f"{item.key}.change"
    return found


def _all_fields(content: PassContent) -> list[PassField]:
    return [
        *content.header,
        *content.primary,
        *content.secondary,
        *content.auxiliary,
        *content.back,
    ]


def pass_json(content: PassContent, identity: AppleIdentity, auth_token: str) -> dict[str, Any]:
    """The pass.json document for this content."""
    body: dict[str, Any] = {
        "formatVersion": 1,
        "passTypeIdentifier": identity.pass_type_id,
        "teamIdentifier": identity.team_id,
        "serialNumber": content.serial,
        "organizationName": ORGANIZATION,
        "description": "pass.description",
        "logoText": "pass.title",
        "foregroundColor": _rgb(FOREGROUND),
        "labelColor": _rgb(content.tier_colour or "#FFC83D"),
        "backgroundColor": _rgb(BACKGROUND),
        "webServiceURL": identity.web_service_url,
        "authenticationToken": auth_token,
        "sharingProhibited": True,
        STYLE[content.kind]: {
            "headerFields": [_field(f) for f in content.header],
            "primaryFields": [_field(f) for f in content.primary],
            "secondaryFields": [_field(f) for f in content.secondary],
            "auxiliaryFields": [_field(f) for f in content.auxiliary],
            "backFields": [_field(f) for f in content.back],
        },
    }
    if content.barcode:
        code = {
            "format": "PKBarcodeFormatQR",
            "message": content.barcode,
            "messageEncoding": "iso-8859-1",
        }
        body["barcodes"] = [code]
        body["barcode"] = code  # iOS 8 and older read only this one
    if content.relevant_date is not None:
        body["relevantDate"] = _when(content.relevant_date)
    if content.expires_at is not None:
        body["expirationDate"] = _when(content.expires_at)
    if content.voided:
        body["voided"] = True
    return body


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")


def pass_strings(content: PassContent, lang: str) -> bytes:
    """One language's pass.strings (UTF-16 with a byte order mark, as Apple's tools write)."""
    pairs = [("pass.title", content.title[lang]), ("pass.description", content.description[lang])]
    for item in _all_fields(content):
        pairs.append((f"{item.key}.label", item.label[lang]))
        pairs.append((f"{item.key}.value", item.value[lang]))
        if item.change is not None:
            pairs.append((f"{item.key}.change", item.change[lang]))
    text = "".join(f'"{_escape(key)}" = "{_escape(value)}";\n' for key, value in pairs)
    return text.encode("utf-16")


def pass_files(content: PassContent, identity: AppleIdentity, auth_token: str) -> dict[str, bytes]:
    """Every file of the pass except manifest and signature."""
    files = {
        "pass.json": json.dumps(
            pass_json(content, identity, auth_token), ensure_ascii=False, separators=(",", ":")
        ).encode(),
        "icon.png": images.icon(1),
        "icon@2x.png": images.icon(2),
        "icon@3x.png": images.icon(3),
        "logo.png": images.logo(1),
        "logo@2x.png": images.logo(2),
    }
    if content.stamps is not None:
        current, maximum = content.stamps
        files["strip.png"] = images.strip(current, maximum, 1, content.tier_colour)
        files["strip@2x.png"] = images.strip(current, maximum, 2, content.tier_colour)
    for lang in LANGUAGES:
        files[f"{lang}.lproj/pass.strings"] = pass_strings(content, lang)
    return files


@lru_cache(maxsize=1024)
def _sha1(data: bytes) -> str:
    """A file's SHA-1 (the images are the same objects pass after pass: hashed once)."""
    return hashlib.sha1(data).hexdigest()  # noqa: S324 - Apple's manifest format


def manifest(files: dict[str, bytes]) -> bytes:
    """manifest.json: each file's SHA-1 in hex."""
    digests = {name: _sha1(data) for name, data in sorted(files.items())}
    return json.dumps(digests, separators=(",", ":")).encode()


def build_pkpass(
    content: PassContent, identity: AppleIdentity, auth_token: str, signer: PassSigner
) -> bytes:
    """The signed .pkpass (a zip) for this content."""
    files = pass_files(content, identity, auth_token)
    listed = manifest(files)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, data in files.items():
            # PNGs are compressed already: deflating them again costs time and saves nothing.
            stored = zipfile.ZIP_STORED if name.endswith(".png") else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=stored)
        archive.writestr("manifest.json", listed)
        archive.writestr("signature", signer.sign(listed))
    return out.getvalue()
