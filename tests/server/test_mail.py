"""server.mail against real local SMTP servers: plain, STARTTLS with a login, implicit TLS,
certificates checked, and every failure a MailError."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from server.devtools import free_port
from server.mail import DEFAULT_PORTS, Mail, Mailer, MailError
from server.settings import ServerSettings
from tests.server.mailbox import local_smtp

MAIL = Mail(to="fan@example.com", subject="Hello", text="A line\nand a link https://x.example/r")


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "soca test smtp")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "smtp.crt", folder / "smtp.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ssl.SSLContext]:
    """The certificate file a client must trust, and the server's TLS context."""
    cert_file, key_file = _certificate(tmp_path_factory.mktemp("tls"))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return cert_file, context


def _mailer(**fields: Any) -> Mailer:
    return Mailer(ServerSettings(database_url="sqlite://", **fields))


def _only_user(_server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any) -> Any:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"soca", b"s3cret")
    return AuthResult(success=ok)


def test_a_plain_message_arrives_with_its_headers() -> None:
    with local_smtp() as box:
        _mailer(**box.settings(), smtp_from="Soca <hello@soca.example>").send(MAIL)
        [got] = box.wait_for(1)
    assert (got["From"], got["To"], got["Subject"]) == (
        "Soca <hello@soca.example>",
        MAIL.to,
        "Hello",
    )
    assert got["Message-ID"]
    body = got.get_body(preferencelist=("plain",))
    assert body is not None and body.get_content().replace("\r\n", "\n").strip() == MAIL.text


# aiosmtpd itself sets its deprecated Session.login_data after every successful login.
@pytest.mark.filterwarnings("ignore:Session.login_data is deprecated:DeprecationWarning")
def test_starttls_with_a_login_when_the_certificate_is_trusted(
    tls: tuple[Path, ssl.SSLContext], monkeypatch: pytest.MonkeyPatch
) -> None:
    cert_file, context = tls
    options = {"tls_context": context, "require_starttls": True, "authenticator": _only_user}
    with local_smtp(**options) as box:
        settings = {"smtp_host": box.host, "smtp_port": box.port, "smtp_security": "starttls"}
        with pytest.raises(MailError, match="certificate verify failed"):
            _mailer(**settings).send(MAIL)  # an untrusted certificate is never accepted
        monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
        _mailer(**settings, smtp_user="soca", smtp_password="s3cret").send(MAIL)
        assert [m["To"] for m in box.wait_for(1)] == [MAIL.to]


def test_implicit_tls(tls: tuple[Path, ssl.SSLContext], monkeypatch: pytest.MonkeyPatch) -> None:
    cert_file, context = tls
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    with local_smtp(ssl_context=context) as box:
        _mailer(smtp_host=box.host, smtp_port=box.port, smtp_security="ssl").send(MAIL)
        assert len(box.wait_for(1)) == 1


def test_failures_are_mail_errors() -> None:
    closed = free_port()
    with pytest.raises(MailError, match=f"127.0.0.1:{closed}"):
        _mailer(smtp_host="127.0.0.1", smtp_port=closed, smtp_security="none").send(MAIL)
    with pytest.raises(MailError, match="cannot address"):
        _mailer(smtp_host="127.0.0.1").send(Mail("a@x.example\nBcc: b@x.example", "s", "t"))


def test_ports_follow_the_security_mode() -> None:
    assert [_mailer(smtp_security=mode).port for mode in DEFAULT_PORTS] == [587, 465, 25]
    assert _mailer(smtp_port=2525).port == 2525
    assert not _mailer().configured and _mailer(smtp_host="mail.example").configured
