"""API keys: random secrets shown once, stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets

from prognos.domain import Principal

KEY_PREFIX = "pk_"


def new_key() -> tuple[str, str, str]:
    """Returns (key id, secret key to hand out, hash to store)."""
    key_id = secrets.token_hex(6)
    key = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(24)}"
    return key_id, key, hash_key(key)


def hash_key(key: str) -> str:
    # Keys are 190+ random bits, so a fast hash is safe; a slow KDF would only slow every request.
    return hashlib.sha256(key.encode()).hexdigest()


def describe(p: Principal) -> str:
    return (
        "manufacturer (sees every customer)" if p.is_manufacturer else f"customer {p.customer_id}"
    )
