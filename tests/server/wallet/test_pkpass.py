"""The .pkpass as a phone unpacks it: files, manifest SHA-1s, fields, languages, signature."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import pkcs7

from core.tiers import DEFAULT_CARD_TIERS, card_tier_progress
from server.errors import ConfigError
from server.wallet.apple.devcerts import dev_chain
from server.wallet.apple.pkpass import AppleIdentity, build_pkpass
from server.wallet.apple.signing import PassSigner
from server.wallet.content import (
    CardFacts,
    TicketFacts,
    card_content,
    ticket_content,
)
from tests.server.wallet.certs import PASS_TYPE_ID, TEAM_ID, CertFiles, write

IDENTITY = AppleIdentity(PASS_TYPE_ID, TEAM_ID, "https://passport.example/api/wallet/apple")
TOKEN = "t" * 32
REQUIRED = ("pass.json", "manifest.json", "signature", "icon.png", "icon@2x.png", "logo.png")


def signer_of(files: CertFiles) -> PassSigner:
    return PassSigner.load(files.cert, files.key, files.wwdr)


def card(current: int = 4, completions: int = 7) -> CardFacts:
    return CardFacts(
        offer_id=uuid.uuid4(),
        offer_name="Rum Punch Club",
        branch_name="Bar Uno",
        prize="Free rum punch",
        current=current,
        max=5,
        completions=completions,
        progress=card_tier_progress(completions, DEFAULT_CARD_TIERS),
        expired=False,
    )


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def strings(data: bytes) -> dict[str, str]:
    found = {}
    for line in data.decode("utf-16").splitlines():
        key, _, value = line.partition('" = "')
        found[key.lstrip('"')] = value.rstrip('";')
    return found


def openssl_verify(
    tmp_path: Path, files: dict[str, bytes], ca: Path
) -> subprocess.CompletedProcess[str]:
    signature = write(tmp_path / "signature", files["signature"])
    content = write(tmp_path / "manifest.json", files["manifest.json"])
    return subprocess.run(
        [
            "openssl",
            "smime",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            str(signature),
            "-content",
            str(content),
            "-CAfile",
            str(ca),
            "-purpose",
            "any",
            "-out",
            "/dev/null",
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def test_card_pass_has_every_file_in_the_manifest_with_its_sha1(cert_files: CertFiles) -> None:
    files = unzip(
        build_pkpass(
            card_content(card(), serial="S1", qr="QRCODE"), IDENTITY, TOKEN, signer_of(cert_files)
        )
    )
    for name in (
        *REQUIRED,
        "strip.png",
        "strip@2x.png",
        "en.lproj/pass.strings",
        "ar.lproj/pass.strings",
    ):
        assert name in files, name
    listed = json.loads(files["manifest.json"])
    assert set(listed) == set(files) - {"manifest.json", "signature"}
    for name, digest in listed.items():
        assert hashlib.sha1(files[name]).hexdigest() == digest


def test_card_pass_shows_the_seeds_fields_in_english_and_arabic(cert_files: CertFiles) -> None:
    files = unzip(
        build_pkpass(
            card_content(card(), serial="S1", qr="QRCODE"), IDENTITY, TOKEN, signer_of(cert_files)
        )
    )
    body = json.loads(files["pass.json"])
    assert body["passTypeIdentifier"] == PASS_TYPE_ID and body["teamIdentifier"] == TEAM_ID
    assert body["serialNumber"] == "S1" and body["authenticationToken"] == TOKEN
    assert body["webServiceURL"] == IDENTITY.web_service_url
    assert body["barcodes"][0] == {
        "format": "PKBarcodeFormatQR",
        "message": "QRCODE",
        "messageEncoding": "iso-8859-1",
    }
    secondary = body["storeCard"]["secondaryFields"]
    assert [f["key"] for f in secondary] == ["progress", "completed", "tier"]
    assert secondary[2]["changeMessage"] == "tier.change"
    en = strings(files["en.lproj/pass.strings"])
    ar = strings(files["ar.lproj/pass.strings"])
    shown = {f["key"]: (en[f["label"]], en[f["value"]]) for f in secondary}
    assert shown == {
        "progress": ("Progress", "4 of 5"),
        "completed": ("Completed", "7x"),
        "tier": ("Tier", "🥇 Gold Member"),
    }
    assert ar["tier.value"] == "🥇 عضو ذهبي" and ar["progress.value"] == "4 من 5"
    assert "%@" in en["tier.change"] and "%@" in ar["completed.change"]


def test_signature_verifies_against_the_ca_with_openssl(
    cert_files: CertFiles, tmp_path: Path
) -> None:
    files = unzip(
        build_pkpass(
            card_content(card(), serial="S1", qr="Q"), IDENTITY, TOKEN, signer_of(cert_files)
        )
    )
    result = openssl_verify(tmp_path, files, cert_files.ca)
    assert result.returncode == 0, result.stderr
    assert "Verification successful" in result.stderr
    certs = pkcs7.load_der_pkcs7_certificates(files["signature"])
    subjects = {c.subject for c in certs}
    assert (
        cert_files.chain.wwdr.certificate.subject in subjects
    )  # the WWDR intermediate travels along


def test_tampered_manifest_fails_verification(cert_files: CertFiles, tmp_path: Path) -> None:
    files = unzip(
        build_pkpass(
            card_content(card(), serial="S1", qr="Q"), IDENTITY, TOKEN, signer_of(cert_files)
        )
    )
    listed = json.loads(files["manifest.json"])
    listed["pass.json"] = "0" * 40  # as if pass.json had been swapped for another
    tampered = json.dumps(listed).encode()
    assert tampered != files["manifest.json"]
    files["manifest.json"] = tampered
    result = openssl_verify(tmp_path, files, cert_files.ca)
    assert result.returncode != 0


def test_ticket_pass_carries_the_door_qr_and_a_revoked_one_is_voided(cert_files: CertFiles) -> None:
    facts = TicketFacts(
        uuid.uuid4(),
        uuid.uuid4(),
        "ABC123",
        "Kai",
        "Soca Brainwash",
        "Queen's Park",
        "Port of Spain",
        datetime(2027, 2, 14, 21, tzinfo=UTC),
        None,
        revoked=False,
    )
    body = json.loads(
        unzip(
            build_pkpass(
                ticket_content(facts, serial="T", qr="DOORQR"),
                IDENTITY,
                TOKEN,
                signer_of(cert_files),
            )
        )["pass.json"]
    )
    assert "eventTicket" in body and body["barcodes"][0]["message"] == "DOORQR"
    assert body["relevantDate"] == "2027-02-14T21:00:00Z"
    revoked = ticket_content(
        TicketFacts(**{**facts.__dict__, "revoked": True}), serial="T", qr="DOORQR"
    )
    voided = json.loads(
        unzip(build_pkpass(revoked, IDENTITY, TOKEN, signer_of(cert_files)))["pass.json"]
    )
    assert voided["voided"] is True and "barcodes" not in voided


def test_a_wwdr_that_did_not_issue_the_pass_certificate_is_refused(
    cert_files: CertFiles, tmp_path: Path
) -> None:
    stranger = dev_chain(PASS_TYPE_ID, TEAM_ID).wwdr
    other = write(tmp_path / "other-wwdr.pem", stranger.cert_pem())
    with pytest.raises(ConfigError, match="did not issue"):
        PassSigner.load(cert_files.cert, cert_files.key, other)


def test_a_key_of_another_certificate_is_refused(cert_files: CertFiles, tmp_path: Path) -> None:
    other = write(tmp_path / "other.key", dev_chain(PASS_TYPE_ID, TEAM_ID).pass_cert.key_pem())
    with pytest.raises(ConfigError, match="does not belong"):
        PassSigner.load(cert_files.cert, other, cert_files.wwdr)


def test_expiry_is_warned_weeks_ahead(cert_files: CertFiles) -> None:
    signer = signer_of(cert_files)
    assert signer.pass_type_id == PASS_TYPE_ID
    ends = cert_files.chain.pass_cert.certificate.not_valid_after_utc
    assert signer.warnings(ends - timedelta(days=200)) == []
    soon = signer.warnings(ends - timedelta(days=20))
    assert len(soon) == 1 and "pass certificate expires" in soon[0]
    assert "expired" in signer.warnings(ends + timedelta(days=1))[0]
