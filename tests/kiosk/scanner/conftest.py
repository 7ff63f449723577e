"""Scanner test setup: Qt runs offscreen, and every payload is one of our signed tickets."""

from __future__ import annotations

import os

# Before anything imports Qt: the tests create Qt objects on machines without a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from tests.kiosk.scanner.helpers import make_tickets


@pytest.fixture(scope="session")
def tickets() -> list[str]:
    """Twelve signed ticket tokens, the same on every run."""
    return make_tickets(12)
