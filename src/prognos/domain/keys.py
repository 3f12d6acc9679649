"""Who is calling: the manufacturer (sees everything) or one customer (sees only its own)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    """The identity behind an API key."""

    key_id: str
    customer_id: str | None  # None: the manufacturer
    name: str = ""

    @property
    def is_manufacturer(self) -> bool:
        return self.customer_id is None

    def may_see(self, customer_id: str) -> bool:
        return self.customer_id is None or self.customer_id == customer_id


MANUFACTURER = Principal(key_id="local", customer_id=None, name="local manufacturer")
