"""Self-made certificates for a local install, the demo and the tests.

`make_dev_certificates` writes a root CA, a stand-in "WWDR" intermediate it
signs, and a Pass Type ID certificate the intermediate signs, laid out like
Apple's. Passes signed with them verify against `ca.pem`, but a real iPhone
refuses to install them: only Apple's WWDR chain is trusted there.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Issued:
    """A certificate and its key."""

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    def cert_pem(self) -> bytes:
        """The certificate as PEM."""
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        """The key as unencrypted PKCS #8 PEM."""
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def _name(**parts: str) -> x509.Name:
    oids = {
        "cn": NameOID.COMMON_NAME,
        "ou": NameOID.ORGANIZATIONAL_UNIT_NAME,
        "o": NameOID.ORGANIZATION_NAME,
        "uid": NameOID.USER_ID,
    }
    return x509.Name([x509.NameAttribute(oids[key], value) for key, value in parts.items()])


def issue(
    subject: x509.Name,
    *,
    issuer: Issued | None = None,
    ca: bool = False,
    days: int = 365,
    not_before: datetime | None = None,
    hosts: tuple[str, ...] = (),
    client: bool = False,
) -> Issued:
    """A new EC key and a certificate for it, self-signed when `issuer` is None."""
    key = ec.generate_private_key(ec.SECP256R1())
    start = not_before or datetime.now(UTC) - timedelta(minutes=5)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
        builder = builder.add_extension(usage, critical=True)
    if hosts:
        names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        usages = [ExtendedKeyUsageOID.SERVER_AUTH]
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    if client:
        usages = [ExtendedKeyUsageOID.CLIENT_AUTH]
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    signer = issuer.key if issuer else key
    return Issued(builder.sign(signer, hashes.SHA256()), key)


@dataclass(frozen=True)
class DevCertificates:
    """The chain a local install signs with: root CA → stand-in WWDR → pass certificate."""

    root: Issued
    wwdr: Issued
    pass_cert: Issued


def dev_chain(pass_type_id: str, team_id: str, *, days: int = 365) -> DevCertificates:
    """A fresh root, stand-in WWDR and Pass Type ID certificate (client auth, for APNs too)."""
    root = issue(_name(cn="Soca Passport Dev Root CA", o="Soca Passport (dev)"), ca=True, days=3650)
    wwdr = issue(
        _name(cn="Stand-in WWDR Intermediate", ou="G4", o="Soca Passport (dev)"),
        issuer=root,
        ca=True,
        days=3650,
    )
    subject = _name(uid=pass_type_id, cn=f"Pass Type ID: {pass_type_id}", ou=team_id)
    pass_cert = issue(subject, issuer=wwdr, days=days, client=True)
    return DevCertificates(root, wwdr, pass_cert)


def make_dev_certificates(out: Path, *, pass_type_id: str, team_id: str) -> dict[str, Path]:
    """Write ca.pem, wwdr.pem, pass.pem and pass.key (0600) into `out`; their paths."""
    out.mkdir(parents=True, exist_ok=True)
    chain = dev_chain(pass_type_id, team_id)
    files = {
        "ca": (out / "ca.pem", chain.root.cert_pem()),
        "wwdr": (out / "wwdr.pem", chain.wwdr.cert_pem()),
        "cert": (out / "pass.pem", chain.pass_cert.cert_pem()),
        "key": (out / "pass.key", chain.pass_cert.key_pem()),
    }
    for name, (path, data) in files.items():
        path.write_bytes(data)
        if name == "key":
            path.chmod(0o600)
    return {name: path for name, (path, _data) in files.items()}
