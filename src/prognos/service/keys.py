"""API keys: random secrets shown once, stored only as SHA-256 hashes.

``KeyService`` authenticates every request and lets the manufacturer create, list and revoke
keys. A key reads ``pk_<id>_<secret>``: the id is not secret, the 192 random bits after it are.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from prognos.domain import Principal
from prognos.domain.keys import MANUFACTURER, ApiKey
from prognos.errors import AccessDenied, Conflict, NotFound
from prognos.service.throttle import AuthThrottle
from prognos.store.ports import KeysPort, RegistryPort

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


class KeyService:
    """Who calls, and the keys that say so."""

    def __init__(
        self, keys: KeysPort, registry: RegistryPort, throttle: AuthThrottle | None = None
    ):
        self._keys = keys
        self._registry = registry
        self.throttle = throttle or AuthThrottle(20, 60.0)

    def authenticate(self, key: str | None, client: str | None = None) -> Principal:
        """The principal of a valid key. A wrong key counts against ``client`` (the caller's
        address): past the throttle's limit every attempt from there is answered 429, right
        keys included, until the window lets it try again (guessing gets no answers)."""
        if client is not None:
            self.throttle.check(client)
        if not key:
            raise AccessDenied(
                "no API key given",
                hint="send it as 'Authorization: Bearer KEY' or 'X-API-Key: KEY'",
            )
        p = self._keys.find_api_key(hash_key(key))
        if p is None:
            if client is not None:
                self.throttle.failed(client)
            raise AccessDenied("unknown API key", hint="create one with `prognos keys create`")
        return p

    def by_id(self, key_id: str | None) -> Principal:
        """The principal of a key that a signed session names by id, while it is not revoked
        (the panel's sessions hold the id, never the key)."""
        k = self._keys.get_api_key(key_id) if key_id else None
        if k is None or k.revoked:
            raise AccessDenied("the session's key was revoked", hint="log in again")
        return Principal(key_id=k.id, customer_id=k.customer_id, name=k.name)

    def still_valid(self, p: Principal) -> bool:
        """Whether the key behind ``p`` still authenticates (a live stream asks now and then)."""
        if p.key_id == MANUFACTURER.key_id:
            return True
        k = self._keys.get_api_key(p.key_id)
        return k is not None and not k.revoked

    def create(
        self, p: Principal, customer_id: str | None = None, name: str = ""
    ) -> tuple[str, Principal]:
        """A new key for the manufacturer (``customer_id`` None) or one customer; the secret
        is returned once and only its hash is kept."""
        p.require_manufacturer("keys are issued by the manufacturer")
        self._require_customer(customer_id)
        key_id, key, digest = new_key()
        self._keys.add_api_key(key_id, digest, customer_id, name or (customer_id or "manufacturer"))
        return key, Principal(key_id=key_id, customer_id=customer_id, name=name)

    def list_keys(self, p: Principal, customer_id: str | None = None) -> list[ApiKey]:
        """Every key (or one customer's), revoked ones included, oldest first."""
        p.require_manufacturer()
        self._require_customer(customer_id)
        return self._keys.list_api_keys(customer_id)

    def revoke(self, p: Principal, key_id: str) -> ApiKey:
        """Revoke a key from the next request on; revoking it again changes nothing. The last
        active manufacturer key is kept: without one nobody could manage the platform over
        the API (create another first)."""
        p.require_manufacturer()
        k = self._keys.get_api_key(key_id)
        if k is None:
            raise NotFound(
                f"API key {key_id!r} does not exist",
                hint="list keys and their ids with `prognos keys list`",
            )
        if k.customer_id is None and not k.revoked:
            others = [
                o
                for o in self._keys.list_api_keys(None)
                if o.customer_id is None and not o.revoked and o.id != key_id
            ]
            if not others:
                raise Conflict(
                    f"API key {key_id!r} is the last active manufacturer key",
                    hint="create another manufacturer key first (prognos keys create), "
                    "then revoke this one",
                )
        self._keys.revoke_api_key(key_id, datetime.now(UTC))
        return self._keys.get_api_key(key_id)

    def _require_customer(self, customer_id: str | None) -> None:
        if customer_id is not None and self._registry.get_customer(customer_id) is None:
            raise NotFound(
                f"customer {customer_id!r} does not exist",
                hint="list customers with `prognos registry customers`",
            )
