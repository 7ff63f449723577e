"""Certificates the wallet tests sign and serve with: a local CA standing in for Apple's."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from server.wallet.apple.devcerts import DevCertificates, Issued, _name, dev_chain, issue

PASS_TYPE_ID = "pass.test.socapassport"
TEAM_ID = "TEAM123456"


@dataclass(frozen=True)
class CertFiles:
    """The test chain on disk, and a TLS certificate for local stand-in servers."""

    chain: DevCertificates
    ca: Path
    wwdr: Path
    cert: Path
    key: Path
    server_cert: Path
    server_key: Path


def write(path: Path, data: bytes) -> Path:
    """Write bytes, return the path."""
    path.write_bytes(data)
    return path


def make_cert_files(folder: Path) -> CertFiles:
    """A fresh chain (root → WWDR stand-in → pass cert) and a 127.0.0.1 server cert."""
    chain = dev_chain(PASS_TYPE_ID, TEAM_ID)
    tls: Issued = issue(_name(cn="127.0.0.1"), issuer=chain.root, hosts=("127.0.0.1", "localhost"))
    return CertFiles(
        chain=chain,
        ca=write(folder / "ca.pem", chain.root.cert_pem()),
        wwdr=write(folder / "wwdr.pem", chain.wwdr.cert_pem()),
        cert=write(folder / "pass.pem", chain.pass_cert.cert_pem()),
        key=write(folder / "pass.key", chain.pass_cert.key_pem()),
        server_cert=write(folder / "tls.pem", tls.cert_pem()),
        server_key=write(folder / "tls.key", tls.key_pem()),
    )
