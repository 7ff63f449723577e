"""Compact RS256 JSON Web Tokens, signed with the service account's RSA key.

Only what Google Wallet needs: sign (the save link, the OAuth assertion) and
decode with verification (tests, and our own checks). No other algorithm is
accepted on decode.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


class JwtError(ValueError):
    """A token that does not parse or verify."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode(claims: dict[str, Any], key: rsa.RSAPrivateKey, key_id: str | None = None) -> str:
    """The signed token for these claims."""
    header: dict[str, str] = {"alg": "RS256", "typ": "JWT"}
    if key_id:
        header["kid"] = key_id
    signing_input = ".".join(
        _b64(json.dumps(part, separators=(",", ":"), ensure_ascii=False).encode())
        for part in (header, claims)
    )
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"


def decode(token: str, public_key: rsa.RSAPublicKey) -> dict[str, Any]:
    """The claims of an RS256 token signed by `public_key`; JwtError otherwise."""
    try:
        head, body, signature = token.split(".")
        header = json.loads(_unb64(head))
        if header.get("alg") != "RS256":
            raise JwtError("only RS256 tokens are accepted")
        public_key.verify(
            _unb64(signature), f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256()
        )
        claims = json.loads(_unb64(body))
    except (ValueError, InvalidSignature) as exc:
        raise JwtError(f"bad token: {exc}") from exc
    if not isinstance(claims, dict):
        raise JwtError("the claims are not an object")
    return claims
