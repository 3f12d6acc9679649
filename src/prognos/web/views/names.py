"""What a person reads for a thing: its name. Ids stay in URLs and tooltips."""

from __future__ import annotations

from typing import Any

from prognos.domain import Principal
from prognos.service.platform import Platform


def asset_name(a: Any) -> str:
    """What a person calls an asset: its name where it has one, else the serial on its plate,
    else its id."""
    return a.__dict__.get("name") or a.serial or a.id  # getattr on a pydantic model is slow


class Names:
    """The names of the customers, sites, asset types and assets a caller may see, by id."""

    def __init__(self, platform: Platform, p: Principal):
        snap = platform.registry.snapshot()  # cached: every asset and type, no query
        self._assets = snap.assets
        self.customers = {c.id: c.name for c in platform.registry.customers(p)}
        self.sites = {s.id: s.name for s in platform.registry.sites(p)}
        self.types = {t.id: t.name or t.id for t in snap.types.values()}

    def customer(self, cid: str | None) -> str:
        return self.customers.get(cid or "", cid or "")

    def site(self, sid: str | None) -> str:
        return self.sites.get(sid or "", sid or "")

    def type(self, tid: str | None) -> str:
        return self.types.get(tid or "", tid or "")

    def asset(self, aid: str | None) -> str:
        a = self._assets.get(aid or "")
        return asset_name(a) if a is not None else aid or ""

    def site_of(self, aid: str | None) -> str:
        """The id of the site an asset stands at."""
        a = self._assets.get(aid or "")
        return a.site_id if a is not None else ""

    def asset_type(self, aid: str | None) -> str:
        """The name of an asset's type."""
        a = self._assets.get(aid or "")
        return self.type(a.type_id) if a is not None else ""

    def name_rows(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Add the names to fleet rows (``name``, ``customer_name``, ``site_name``,
        ``type_name``) beside their ids."""
        for d in rows:
            d["name"] = self.asset(d["id"])
            d["customer_name"] = self.customer(d["customer_id"])
            d["site_name"] = self.site(d["site_id"])
            d["type_name"] = self.type(d["type_id"])
        return rows
