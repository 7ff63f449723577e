"""Outgoing mail: SMTP through the standard library, or the server log when no host is set.

`Mailer(settings).send(Mail(...))` delivers one plain-text message through
`SOCA_SMTP_HOST` (STARTTLS on 587 by default, implicit TLS on 465 with
`SOCA_SMTP_SECURITY=ssl`, or plain with `none`; a login when
`SOCA_SMTP_USER` is set). With no host configured, a local install still
works: the message, link included, is written to the server log (WARNING on
the `server.mail` logger, so it shows on the console without any logging
set-up). Every failure to deliver is a `MailError`; the library's own errors
never leave this module. Pages and routes hand mail to `deliver` as a
background task: it goes out after the response (whose transaction, the
link's row included, is committed by then) and a failure is logged.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Final

from server.errors import SocaError
from server.settings import ServerSettings

logger = logging.getLogger("server.mail")

#: The port each security mode uses when SOCA_SMTP_PORT is not set.
DEFAULT_PORTS: Final = {"starttls": 587, "ssl": 465, "none": 25}


class MailError(SocaError):
    """A message could not be handed to the SMTP server."""

    code = "mail_failed"
    status = 502


@dataclass(frozen=True)
class Mail:
    """One plain-text message to one address."""

    to: str
    subject: str
    text: str


class Mailer:
    """Sends mail with the settings' SMTP server (or logs it when there is none)."""

    def __init__(self, settings: ServerSettings) -> None:
        self.host = settings.smtp_host.strip()
        self.security = settings.smtp_security
        self.port = settings.smtp_port or DEFAULT_PORTS[self.security]
        self.user = settings.smtp_user
        self.password = settings.smtp_password
        self.sender = settings.smtp_from
        self.timeout = settings.smtp_timeout_seconds

    @property
    def configured(self) -> bool:
        """True when mail goes to an SMTP server rather than the log."""
        return bool(self.host)

    def message(self, mail: Mail) -> EmailMessage:
        """The message as it is sent: From, To, Subject, Message-ID and the text."""
        message = EmailMessage()
        try:
            message["From"] = self.sender
            message["To"] = mail.to
            message["Subject"] = mail.subject
        except ValueError as exc:  # a header with a line break: refused, never sent
            raise MailError(f"cannot address a message: {exc}") from exc
        message["Message-ID"] = make_msgid(domain="soca-passport")
        message.set_content(mail.text)
        return message

    def send(self, mail: Mail) -> None:
        """Deliver `mail`, or log it when no SMTP host is configured; MailError on failure."""
        message = self.message(mail)
        if not self.configured:
            logger.warning(
                "no SMTP host configured (SOCA_SMTP_HOST): mail to %s not sent; it reads:\n"
                "Subject: %s\n\n%s",
                mail.to,
                mail.subject,
                mail.text,
            )
            return
        try:
            with self._connect() as smtp:
                if self.user:
                    smtp.login(self.user, self.password)
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(
                f"the SMTP server {self.host}:{self.port} did not take the message: {exc}"
            ) from exc

    def _connect(self) -> smtplib.SMTP:
        if self.security == "ssl":
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.security == "starttls":
            try:
                smtp.starttls(context=ssl.create_default_context())
            except BaseException:
                smtp.close()
                raise
        return smtp


def deliver(mailer: Mailer, mail: Mail) -> None:
    """Send `mail` (after the response); a failure is logged, since the page already answered."""
    try:
        mailer.send(mail)
    except MailError as exc:
        logger.error("mail to %s (%s) failed: %s", mail.to, mail.subject, exc.message)
