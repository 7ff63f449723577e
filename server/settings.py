"""The server's one typed settings object, built at the composition root and passed down."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_dir
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_database_url() -> str:
    """A SQLite file in the platform's data folder: the embedded default."""
    folder = Path(user_data_dir("soca-passport", "SocaPassport")) / "server"
    return f"sqlite:///{folder / 'soca.sqlite3'}"


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
    clock_skew_warning_seconds: int = 120
    echo_sql: bool = False
