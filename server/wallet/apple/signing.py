"""The Pass Type ID certificate: loaded and checked once, then signing every manifest.

Apple wants `signature` to be a detached PKCS #7 (CMS) signature of
`manifest.json` by the Pass Type ID certificate, with Apple's WWDR
intermediate certificate included so a phone can build the chain to Apple's
root. `PassSigner.load` refuses a WWDR certificate that did not issue the pass
certificate (the most common reason a pass silently fails to install) and
`warnings` names an expiry within `EXPIRY_WARNING`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from server.errors import ConfigError

#: How long before the pass certificate expires the server starts warning.
EXPIRY_WARNING: Final = timedelta(weeks=6)

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def _read_certificate(path: Path, what: str) -> x509.Certificate:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{what} {path} cannot be read: {exc.strerror}") from exc
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError as exc:
        raise ConfigError(f"{what} {path} is not an X.509 certificate (PEM or DER)") from exc


def _read_key(path: Path) -> SigningKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"the pass key {path} cannot be read: {exc.strerror}") from exc
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"the pass key {path} is not an unencrypted PEM private key") from exc
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ConfigError(f"the pass key {path} must be RSA or EC")
    return key


@dataclass(frozen=True)
class PassSigner:
    """The pass certificate, its key and the WWDR certificate that issued it."""

    certificate: x509.Certificate
    key: SigningKey
    wwdr: x509.Certificate

    @classmethod
    def load(cls, cert_file: Path, key_file: Path, wwdr_file: Path) -> PassSigner:
        """Read and check the three files; ConfigError names what is wrong."""
        signer = cls(
            _read_certificate(cert_file, "the pass certificate"),
            _read_key(key_file),
            _read_certificate(wwdr_file, "the WWDR certificate"),
        )
        signer.check()
        return signer

    def check(self) -> None:
        """ConfigError unless the WWDR certificate issued the pass certificate and the key fits."""
        try:
            self.certificate.verify_directly_issued_by(self.wwdr)
        except (ValueError, TypeError, InvalidSignature) as exc:
            raise ConfigError(
                "the WWDR certificate did not issue the pass certificate "
                f"(pass issuer: {self.certificate.issuer.rfc4514_string()}; "
                f"WWDR subject: {self.wwdr.subject.rfc4514_string()}); download the WWDR "
                "intermediate named as the issuer from Apple"
            ) from exc
        public = self.certificate.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        mine = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        if public != mine:
            raise ConfigError("the pass key does not belong to the pass certificate")

    @property
    def pass_type_id(self) -> str | None:
        """The Pass Type ID the certificate was made for (its UID), if it names one."""
        found = self.certificate.subject.get_attributes_for_oid(NameOID.USER_ID)
        return str(found[0].value) if found else None

    def warnings(self, now: datetime) -> list[str]:
        """Plain-language warnings about expiry (empty when all is well)."""
        found = []
        for what, cert in (("pass", self.certificate), ("WWDR", self.wwdr)):
            ends = cert.not_valid_after_utc
            if ends <= now:
                found.append(f"the {what} certificate expired on {ends:%Y-%m-%d}: passes fail")
            elif ends - now <= EXPIRY_WARNING:
                days = (ends - now).days
                found.append(
                    f"the {what} certificate expires on {ends:%Y-%m-%d} (in {days} days): "
                    "renew it in Apple's developer portal"
                )
        return found

    def sign(self, manifest: bytes) -> bytes:
        """A detached DER PKCS #7 signature of `manifest`, the WWDR certificate included."""
        return (
            pkcs7.PKCS7SignatureBuilder()
            .set_data(manifest)
            .add_signer(self.certificate, self.key, hashes.SHA256())
            .add_certificate(self.wwdr)
            .sign(
                serialization.Encoding.DER,
                [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary],
            )
        )
