"""A read-only snapshot of the installed base that validation needs: who owns what, and its channels."""

from __future__ import annotations

from dataclasses import dataclass, field

from prognos.domain.assets import Asset, AssetType


@dataclass
class Registry:
    """Assets by id with their types; cheap to build, rebuilt when the registry changes."""

    assets: dict[str, Asset] = field(default_factory=dict)
    types: dict[str, AssetType] = field(default_factory=dict)

    @classmethod
    def build(cls, assets: list[Asset], types: list[AssetType]) -> Registry:
        return cls({a.id: a for a in assets}, {t.id: t for t in types})

    def type_of(self, asset_id: str) -> AssetType | None:
        a = self.assets.get(asset_id)
        return self.types.get(a.type_id) if a else None

    def customer_of(self) -> dict[str, str]:
        return {a.id: a.customer_id for a in self.assets.values()}
