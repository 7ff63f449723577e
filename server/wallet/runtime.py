"""The wallets this server issues, built once from the settings at the composition root.

Apple needs every one of its five settings, Google both of its own; with none
given, `Wallets.apple` and `.google` are None and no wallet button shows. A
half-given set is a ConfigError naming what is missing, and so is a pass
certificate that the WWDR certificate did not issue; an expiry within weeks
is logged as a warning at start-up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from server.errors import ConfigError
from server.settings import ServerSettings
from server.wallet.apple.apns import ApnsClient, ApnsConfig
from server.wallet.apple.pkpass import AppleIdentity, build_pkpass
from server.wallet.apple.signing import PassSigner
from server.wallet.content import PassContent
from server.wallet.google.account import ServiceAccount
from server.wallet.google.client import GoogleConfig, GoogleWalletClient

log = logging.getLogger("soca.wallet")

#: Where Apple's web service lives under the site's address.
APPLE_SERVICE_PATH = "/api/wallet/apple"
#: The logo Google shows on a class (served by the wallet router).
LOGO_PATH = "/api/wallet/logo.png"


def web_service_url(base_url: str) -> str:
    """The pass's webServiceURL for a site address."""
    return base_url.rstrip("/") + APPLE_SERVICE_PATH


@dataclass
class AppleWallet:
    """Signing and pushing for Apple Wallet."""

    signer: PassSigner
    pass_type_id: str
    team_id: str
    apns: ApnsConfig
    _client: ApnsClient | None = None

    def pkpass(self, content: PassContent, *, base_url: str, token: str) -> bytes:
        """The signed .pkpass of this content."""
        identity = AppleIdentity(self.pass_type_id, self.team_id, web_service_url(base_url))
        return build_pkpass(content, identity, token, self.signer)

    def apns_client(self) -> ApnsClient:
        """The one APNs connection of this process."""
        if self._client is None:
            self._client = ApnsClient(self.apns)
        return self._client

    def close(self) -> None:
        """Close the APNs connection."""
        if self._client is not None:
            self._client.close()
            self._client = None


@dataclass
class Wallets:
    """Apple and Google, each None when not configured."""

    apple: AppleWallet | None = None
    google: GoogleWalletClient | None = None
    public_url: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def any(self) -> bool:
        """True when at least one wallet is configured."""
        return self.apple is not None or self.google is not None

    def close(self) -> None:
        """Close every connection."""
        if self.apple is not None:
            self.apple.close()
        if self.google is not None:
            self.google.close()


def _apple(settings: ServerSettings, now: datetime) -> tuple[AppleWallet | None, list[str]]:
    given = {
        "SOCA_APPLE_PASS_TYPE_ID": settings.apple_pass_type_id,
        "SOCA_APPLE_TEAM_ID": settings.apple_team_id,
        "SOCA_APPLE_CERT_FILE": settings.apple_cert_file,
        "SOCA_APPLE_KEY_FILE": settings.apple_key_file,
        "SOCA_APPLE_WWDR_FILE": settings.apple_wwdr_file,
    }
    missing = [name for name, value in given.items() if not value]
    if len(missing) == len(given):
        return None, []
    if missing:
        raise ConfigError(f"Apple Wallet needs {', '.join(missing)} as well")
    signer = PassSigner.load(
        Path(settings.apple_cert_file),
        Path(settings.apple_key_file),
        Path(settings.apple_wwdr_file),
    )
    named = signer.pass_type_id
    if named is not None and named != settings.apple_pass_type_id:
        raise ConfigError(
            f"the pass certificate is for {named!r}, not SOCA_APPLE_PASS_TYPE_ID "
            f"{settings.apple_pass_type_id!r}"
        )
    apns = ApnsConfig(
        base_url=settings.apns_url,
        topic=settings.apple_pass_type_id,
        cert_file=Path(settings.apple_cert_file),
        key_file=Path(settings.apple_key_file),
        ca_file=Path(settings.apns_ca_file) if settings.apns_ca_file else None,
    )
    wallet = AppleWallet(signer, settings.apple_pass_type_id, settings.apple_team_id, apns)
    return wallet, signer.warnings(now)


def _google(settings: ServerSettings) -> GoogleWalletClient | None:
    if not settings.google_issuer_id and not settings.google_service_account_file:
        return None
    if not settings.google_wallet_enabled:
        raise ConfigError(
            "Google Wallet needs both SOCA_GOOGLE_ISSUER_ID and SOCA_GOOGLE_SERVICE_ACCOUNT_FILE"
        )
    account = ServiceAccount.load(Path(settings.google_service_account_file))
    return GoogleWalletClient(
        GoogleConfig(settings.google_issuer_id, account, settings.google_wallet_url)
    )


def load_wallets(settings: ServerSettings, *, now: datetime) -> Wallets:
    """The configured wallets; ConfigError for a broken configuration, warnings logged."""
    apple, warnings = _apple(settings, now)
    for warning in warnings:
        log.warning("Apple Wallet: %s", warning)
    return Wallets(apple, _google(settings), settings.public_url, warnings)
