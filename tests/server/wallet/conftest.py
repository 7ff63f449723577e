"""Wallet fixtures: a test certificate chain made once per module."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.server.wallet.certs import CertFiles, make_cert_files


@pytest.fixture(scope="module")
def cert_files(tmp_path_factory: pytest.TempPathFactory) -> CertFiles:
    """Root CA, WWDR stand-in, pass certificate and key, and a TLS certificate."""
    return make_cert_files(Path(tmp_path_factory.mktemp("certs")))
