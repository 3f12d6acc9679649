"""Who is calling: the manufacturer (sees everything) or one customer (sees only its own)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, computed_field

from prognos.errors import Forbidden


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

    def require_manufacturer(self, why: str = "") -> None:
        """Refuse a customer's key (403): crews, parts, costs, plans and keys are the
        manufacturer's own."""
        if not self.is_manufacturer:
            raise Forbidden(
                "only the manufacturer's keys may do this" + (f": {why}" if why else "")
            )


MANUFACTURER = Principal(key_id="local", customer_id=None, name="local manufacturer")


class ApiKey(BaseModel):
    """A stored key as it may be shown: never the secret, never its hash."""

    id: str
    name: str
    customer_id: str | None  # None: the manufacturer
    created_at: datetime
    revoked_at: datetime | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def prefix(self) -> str:
        """How the key starts. Keys read ``pk_<id>_<secret>``: the id is not secret, the 192
        random bits after it are."""
        return f"pk_{self.id}_"

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None
