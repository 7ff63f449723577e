"""Start-up checks of the wallet configuration, and `soca-server wallet-dev-certs`."""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from server.errors import ConfigError
from server.settings import ServerSettings
from server.wallet.apple.devcerts import dev_chain
from server.wallet.apple.signing import PassSigner
from server.wallet.runtime import load_wallets
from tests.server.wallet.certs import PASS_TYPE_ID, CertFiles, write

NOW = datetime.now(UTC)


def apple(files: CertFiles, **changes: str) -> ServerSettings:
    given = {
        "apple_pass_type_id": PASS_TYPE_ID,
        "apple_team_id": "TEAM123456",
        "apple_cert_file": str(files.cert),
        "apple_key_file": str(files.key),
        "apple_wwdr_file": str(files.wwdr),
        **changes,
    }
    return ServerSettings(database_url="sqlite://", **given)


def test_nothing_configured_means_no_wallet() -> None:
    wallets = load_wallets(ServerSettings(database_url="sqlite://"), now=NOW)
    assert (wallets.apple, wallets.google, wallets.any) == (None, None, False)


def test_a_complete_apple_setup_loads(cert_files: CertFiles) -> None:
    wallets = load_wallets(apple(cert_files), now=NOW)
    assert wallets.apple is not None and wallets.apple.pass_type_id == PASS_TYPE_ID
    assert wallets.warnings == []


def test_half_an_apple_setup_names_what_is_missing(cert_files: CertFiles) -> None:
    with pytest.raises(ConfigError, match="SOCA_APPLE_WWDR_FILE"):
        load_wallets(apple(cert_files, apple_wwdr_file=""), now=NOW)


def test_a_certificate_for_another_pass_type_is_refused(cert_files: CertFiles) -> None:
    with pytest.raises(ConfigError, match="not SOCA_APPLE_PASS_TYPE_ID"):
        load_wallets(apple(cert_files, apple_pass_type_id="pass.other.id"), now=NOW)


def test_a_foreign_wwdr_stops_start_up(cert_files: CertFiles, tmp_path: Path) -> None:
    other = write(tmp_path / "wwdr.pem", dev_chain(PASS_TYPE_ID, "T").wwdr.cert_pem())
    with pytest.raises(ConfigError, match="did not issue"):
        load_wallets(apple(cert_files, apple_wwdr_file=str(other)), now=NOW)


def test_an_expiry_within_weeks_is_logged_at_start_up(
    cert_files: CertFiles, caplog: pytest.LogCaptureFixture
) -> None:
    ends = cert_files.chain.pass_cert.certificate.not_valid_after_utc
    with caplog.at_level(logging.WARNING, logger="soca.wallet"):
        wallets = load_wallets(apple(cert_files), now=ends - timedelta(days=10))
    assert any("expires on" in line for line in wallets.warnings)
    assert "pass certificate expires" in caplog.text


def test_half_a_google_setup_is_refused() -> None:
    with pytest.raises(ConfigError, match="SOCA_GOOGLE_SERVICE_ACCOUNT_FILE"):
        load_wallets(ServerSettings(database_url="sqlite://", google_issuer_id="338800"), now=NOW)


def test_wallet_dev_certs_writes_a_chain_the_server_accepts(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from server.cli import main; main()",
            "wallet-dev-certs",
            "--out",
            str(tmp_path),
            "--pass-type-id",
            "pass.local.test",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    settings = dict(
        line.split("=", 1) for line in done.stdout.splitlines() if line.startswith("SOCA_")
    )
    assert settings["SOCA_APPLE_PASS_TYPE_ID"] == "pass.local.test"
    signer = PassSigner.load(
        Path(settings["SOCA_APPLE_CERT_FILE"]),
        Path(settings["SOCA_APPLE_KEY_FILE"]),
        Path(settings["SOCA_APPLE_WWDR_FILE"]),
    )
    assert signer.pass_type_id == "pass.local.test"
    assert (tmp_path / "pass.key").stat().st_mode & 0o077 == 0
