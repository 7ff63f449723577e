"""A real SMTP server for tests (aiosmtpd on a free local port) and the mail it received."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from server.devtools import free_port

_LINK = re.compile(r"https?://\S+/reset/[A-Za-z0-9_-]+")


@dataclass
class Mailbox:
    """Every message the local SMTP server accepted, in order of arrival."""

    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    _arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        """aiosmtpd's hook: keep the message."""
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self._arrived:
            self.messages.append(parsed)
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 10) -> list[EmailMessage]:
        """The first `count` messages, waiting up to `timeout` seconds for them to arrive."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"{len(self.messages)} mails arrived, expected {count}"
                self._arrived.wait(left)
            return list(self.messages[:count])

    def settings(self) -> dict[str, Any]:
        """ServerSettings fields that send mail here."""
        return {"smtp_host": self.host, "smtp_port": self.port, "smtp_security": "none"}

    def environment(self) -> dict[str, str]:
        """The same settings as SOCA_ environment variables, for a server process."""
        return {
            "SOCA_SMTP_HOST": self.host,
            "SOCA_SMTP_PORT": str(self.port),
            "SOCA_SMTP_SECURITY": "none",
        }


def reset_link(message: EmailMessage) -> str:
    """The reset link a mail carries."""
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    found = _LINK.search(body.get_content())
    assert found is not None, "the mail holds no reset link"
    return found.group(0)


@contextmanager
def local_smtp(**smtp: Any) -> Iterator[Mailbox]:
    """An SMTP server on 127.0.0.1 for the duration (`smtp`: aiosmtpd's TLS and AUTH options)."""
    mailbox = Mailbox("127.0.0.1", free_port())
    controller = Controller(mailbox, hostname=mailbox.host, port=mailbox.port, **smtp)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()
