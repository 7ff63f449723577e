"""The server's one typed settings object, built at the composition root and passed down."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal

from platformdirs import user_data_dir
from pydantic import AliasChoices, Field, model_validator
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
        keyfile.write_text(key + "\n")
        keyfile.chmod(0o600)
    except OSError:  # an unwritable folder: the database itself will say so, plainly
        return secrets.token_urlsafe(32)
    return key


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
    echo_sql: bool = False
    #: The site's address as people reach it, for links in mail (SOCA_PUBLIC_URL, e.g.
    #: https://passport.example); empty: the address the request came to.
    public_url: str = ""
    #: Outgoing mail (SOCA_SMTP_*). With no host, each mail is written to the server log.
    smtp_host: str = ""
    smtp_port: int | None = Field(default=None, ge=1, le=65535)  # None: 587, 465 or 25
    smtp_user: str = ""
    smtp_password: str = Field(default="", repr=False)
    smtp_from: str = "Soca Passport <no-reply@localhost>"
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    #: How long an emailed "set your password" link works (SOCA_RESET_LINK_MINUTES).
    reset_link_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    #: Signs the web pages' CSRF tokens (SOCA_SECRET_KEY); empty means "persisted default".
    secret_key: str = Field(default="", repr=False)

    @model_validator(mode="after")
    def _default_secret_key(self) -> ServerSettings:
        if not self.secret_key:
            self.secret_key = persisted_secret_key(self.database_url)
        return self
