"""The server's one typed settings object, built at the composition root and passed down."""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from platformdirs import user_data_dir
from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_database_url() -> str:
    """A SQLite file in the platform's data folder: the embedded default."""
    folder = Path(user_data_dir("soca-passport", "SocaPassport")) / "server"
    return f"sqlite:///{folder / 'soca.sqlite3'}"


def _sqlite_file(database_url: str) -> Path | None:
    """The file of a `sqlite:///FILE` URL (None for other engines and in-memory databases)."""
    prefix = "sqlite:///"
    if not database_url.startswith(prefix):
        return None
    name = database_url[len(prefix) :].split("?", 1)[0]
    return Path(name) if name and name != ":memory:" else None


def persisted_secret_key(database_url: str) -> str:
    """The web secret kept next to a SQLite file (created on first use), else a fresh one.

    Without a file to sit beside (PostgreSQL, in-memory SQLite) the key lives
    as long as the process; set SOCA_SECRET_KEY to keep CSRF tokens valid
    across restarts and between several server processes.
    """
    database = _sqlite_file(database_url)
    if database is None:
        return secrets.token_urlsafe(32)
    keyfile = database.with_name(database.name + ".secret")
    try:
        if keyfile.exists():
            return keyfile.read_text().strip()
        keyfile.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(32)
        # Created owner-only from the first byte (no moment when others could read it).
        descriptor = os.open(keyfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(key + "\n")
    except FileExistsError:  # another process made it just now
        return keyfile.read_text().strip()
    except OSError:  # an unwritable folder: the database itself will say so, plainly
        return secrets.token_urlsafe(32)
    return key


def default_media_dir(database_url: str) -> Path:
    """Uploads beside a SQLite file (`<file>.media`), else in the platform's data folder."""
    database = _sqlite_file(database_url)
    if database is not None:
        return database.with_name(database.name + ".media")
    return Path(user_data_dir("soca-passport", "SocaPassport")) / "server" / "media"


class ServerSettings(BaseSettings):
    """Server configuration from the environment (prefix SOCA_) and command-line flags."""

    model_config = SettingsConfigDict(env_prefix="SOCA_", extra="ignore")

    database_url: str = Field(default_factory=default_database_url)
    pass_inactivity_expiration_days: int = Field(
        default=90,
        ge=1,
        validation_alias=AliasChoices(
            "PASS_INACTIVITY_EXPIRATION_DAYS", "SOCA_PASS_INACTIVITY_EXPIRATION_DAYS"
        ),
    )
    #: When `serve` expires inactive passes (cron, UTC; SOCA_EXPIRY_SCHEDULE, "off" for never).
    expiry_schedule: str = "0 2 * * 0"
    #: Where uploaded tier icons are kept (SOCA_MEDIA_DIR; default: beside the data folder).
    media_dir: str = ""
    echo_sql: bool = False
    #: Processes `serve` runs (SOCA_WORKERS; `--workers` overrides). 0, the default: one
    #: per core on PostgreSQL, one on SQLite (which admits one writer at a time anyway).
    workers: int = Field(default=0, ge=0, le=64)
    #: A private folder where the worker processes of one `serve --workers N` join each
    #: other's runs of a crowd page (SOCA_JOIN_FOLDER, set by `serve` for its workers;
    #: see `server.web.coalesce_shared`). None: each process joins only its own requests.
    join_folder: Path | None = None
    #: PostgreSQL connections each server process keeps open (SOCA_DB_POOL_SIZE) and may
    #: add under load (SOCA_DB_POOL_OVERFLOW); their sum caps `db_concurrency`. Keep
    #: workers x (size + overflow) under the database's max_connections (100 by default)
    #: less its other clients.
    db_pool_size: int = Field(default=10, ge=1, le=500)
    db_pool_overflow: int = Field(default=5, ge=0, le=500)
    #: Requests of one server process that do their database work at once
    #: (SOCA_DB_CONCURRENCY; at most size + overflow); the rest wait at the process's
    #: admission gate. A process runs Python on one core at a time: a few requests in
    #: flight keep it busy while others wait on PostgreSQL, and more only take turns on
    #: the interpreter lock (`bench/web_load.py`: 200 x 5 /passport served 1.3-2 times
    #: as fast with 3-4 as with 15).
    db_concurrency: int = Field(default=4, ge=1, le=1000)
    #: Seconds a request waits for a database connection before it is answered 503 with
    #: Retry-After (SOCA_DB_POOL_TIMEOUT). 12, not 8: a burst of 500 sign-ups (argon2 on two
    #: cores) is about 11 s of work, and at 8 s 200-250 of them were refused and sent again,
    #: which cost more; a kiosk reads for 15 s, so its 503 still arrives in time.
    db_pool_timeout: float = Field(default=12.0, gt=0, le=60)
    #: Days an API login token works (SOCA_API_TOKEN_DAYS); web sessions last 14 days.
    api_token_days: int = Field(default=30, ge=1, le=3650)
    #: The server's address as kiosks and phones reach it (SOCA_PUBLIC_URL), e.g.
    #: https://passport.example; pairing QRs and links in mail carry it. Empty: the
    #: address the request came to.
    public_url: str = ""
    #: Proxies whose X-Forwarded-For / -Proto are believed (SOCA_TRUSTED_PROXIES): comma-
    #: separated addresses or networks, or "*". Empty (the default): none, the peer is the client.
    trusted_proxies: str = ""
    # Rate limits (see server.api.ratelimit): failures or attempts per window.
    login_failures_per_account: int = Field(default=5, ge=1)  # one address, one account, 1 min
    login_failures_per_address: int = Field(default=100, ge=1)  # one address, 1 min
    pairing_failures_per_address: int = Field(default=10, ge=1)  # 1 min
    signups_per_address: int = Field(default=300, ge=1)  # 10 min
    promoter_applications_per_address: int = Field(default=10, ge=1)  # 1 hour
    password_resets_per_address: int = Field(default=5, ge=1)  # 15 min
    #: Outgoing mail (SOCA_SMTP_*). With no host, each mail is written to the server log.
    smtp_host: str = ""
    smtp_port: int | None = Field(default=None, ge=1, le=65535)  # None: 587, 465 or 25
    smtp_user: str = ""
    smtp_password: str = Field(default="", repr=False)
    smtp_from: str = "Soca Passport <no-reply@localhost>"
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    #: How long a mailed reset link works (SOCA_RESET_LINK_MINUTES); invitations: INVITE_TTL.
    reset_link_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    #: Signs the web pages' CSRF tokens (SOCA_SECRET_KEY); empty means "persisted default".
    secret_key: str = Field(default="", repr=False)
    # Wallet passes (see README, "Wallet passes"). Apple needs all five; Google both.
    apple_pass_type_id: str = ""
    apple_team_id: str = ""
    apple_cert_file: str = ""  # the Pass Type ID certificate (PEM or DER)
    apple_key_file: str = ""  # its private key (unencrypted PEM)
    apple_wwdr_file: str = ""  # Apple's WWDR intermediate that issued it
    #: APNs (SOCA_APNS_URL); SOCA_APNS_CA_FILE trusts a stand-in's own CA instead of the system's.
    apns_url: str = "https://api.push.apple.com"
    apns_ca_file: str = ""
    google_issuer_id: str = ""
    google_service_account_file: str = ""
    google_wallet_url: str = "https://walletobjects.googleapis.com/walletobjects/v1"

    @property
    def apple_wallet_enabled(self) -> bool:
        """True when every Apple setting is given (else no Apple button shows)."""
        return all(
            (
                self.apple_pass_type_id,
                self.apple_team_id,
                self.apple_cert_file,
                self.apple_key_file,
                self.apple_wwdr_file,
            )
        )

    @property
    def google_wallet_enabled(self) -> bool:
        """True when Google's issuer and service account are given."""
        return bool(self.google_issuer_id and self.google_service_account_file)

    @property
    def is_sqlite(self) -> bool:
        """True when the database is a SQLite file (or in memory)."""
        return self.database_url.strip().startswith("sqlite")

    @property
    def media_folder(self) -> Path:
        """Where uploaded files (tier icons) are kept."""
        return Path(self.media_dir) if self.media_dir else default_media_dir(self.database_url)

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value:
            return ""
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            raise ValueError("give the server's base URL, like https://passport.example")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _trusted_proxies(cls, value: str) -> str:
        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        for entry in entries:
            if entry != "*":
                try:
                    ipaddress.ip_network(entry, strict=False)
                except ValueError:
                    raise ValueError(f"{entry!r} is not an address or network") from None
        return ",".join(entries)

    @property
    def trusted_proxy_list(self) -> list[str]:
        """The trusted proxies, one entry each (empty: trust none)."""
        return [entry for entry in self.trusted_proxies.split(",") if entry]

    @model_validator(mode="after")
    def _default_secret_key(self) -> ServerSettings:
        if not self.secret_key:
            self.secret_key = persisted_secret_key(self.database_url)
        return self
