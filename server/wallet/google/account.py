"""The Google service account, read from its JSON key file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from server.errors import ConfigError

DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL


@dataclass(frozen=True)
class ServiceAccount:
    """Who signs save links and API calls: the account's email, key, key id and token URI."""

    client_email: str
    private_key: rsa.RSAPrivateKey
    private_key_id: str
    token_uri: str

    @classmethod
    def load(cls, path: Path) -> ServiceAccount:
        """Read a service account key file; ConfigError names what is wrong."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"the service account file {path} cannot be read") from exc
        except ValueError as exc:
            raise ConfigError(f"the service account file {path} is not JSON") from exc
        if not isinstance(data, dict) or data.get("type") != "service_account":
            raise ConfigError(f"{path} is not a service account key file")
        try:
            key = serialization.load_pem_private_key(data["private_key"].encode(), password=None)
            email = str(data["client_email"])
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            raise ConfigError(f"{path} lacks a usable private_key or client_email") from exc
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ConfigError(f"the key in {path} is not RSA")
        return cls(
            client_email=email,
            private_key=key,
            private_key_id=str(data.get("private_key_id", "")),
            token_uri=str(data.get("token_uri") or DEFAULT_TOKEN_URI),
        )
