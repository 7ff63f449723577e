"""A kiosk reads for longer than the server's admission gate makes a request wait, so a busy
server's 503 and `Retry-After` reach the kiosk instead of its own time-out."""

from __future__ import annotations

from kiosk.settings import KioskSettings
from kiosk.sync.client import RetryPolicy
from server.settings import ServerSettings

#: Seconds a request may take after the gate admits or refuses it, before its answer is read.
ANSWER_MARGIN_S = 3.0


def test_a_kiosk_reads_for_longer_than_the_gate_waits() -> None:
    gate = ServerSettings.model_fields["db_pool_timeout"].default
    reads = (KioskSettings.model_fields["read_timeout_s"].default, RetryPolicy().read_timeout_s)
    assert min(reads) >= gate + ANSWER_MARGIN_S
