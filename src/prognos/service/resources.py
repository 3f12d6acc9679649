"""The manufacturer's service resources: crews, spare parts in depots, costs and travel.

They are the manufacturer's own; customers neither see nor change them.
"""

from __future__ import annotations

from prognos.domain import Principal
from prognos.domain.planning import CostModel, Crew, PartStock, Travel
from prognos.store.ports import DocumentsPort, Kind

OWN = "crews, parts, costs, plans and work orders are its own"


class ResourceService:
    def __init__(self, documents: DocumentsPort):
        self._docs = documents

    def put_crew(self, p: Principal, crew: Crew) -> Crew:
        p.require_manufacturer(OWN)
        self._docs.put_document(Kind.crew, crew.id, crew.model_dump(mode="json"))
        return crew

    def put_stock(self, p: Principal, s: PartStock) -> PartStock:
        p.require_manufacturer(OWN)
        self._docs.put_document(
            Kind.part_stock, f"{s.depot_id}:{s.part}", s.model_dump(mode="json")
        )
        return s

    def put_cost_model(self, p: Principal, key: str, cm: CostModel) -> CostModel:
        """Costs for an asset type (``key`` = type id) or one asset (``key`` = asset id)."""
        p.require_manufacturer(OWN)
        self._docs.put_document(Kind.cost_model, key, {**cm.model_dump(mode="json"), "_key": key})
        return cm

    def put_travel(self, p: Principal, t: Travel) -> Travel:
        p.require_manufacturer(OWN)
        self._docs.put_document(Kind.travel, "default", t.model_dump(mode="json"))
        return t

    def crews(self, p: Principal) -> list[Crew]:
        """Every crew for the manufacturer; for a customer, the crews its work orders name."""
        crews = [Crew.model_validate(d) for d in self._docs.list_documents(Kind.crew)]
        if p.is_manufacturer:
            return crews
        mine = {
            d.get("crew_id")
            for d in self._docs.list_documents(Kind.workorder, customer_id=p.customer_id)
        }
        return [c for c in crews if c.id in mine]

    def stock(self, p: Principal) -> list[PartStock]:
        p.require_manufacturer(OWN)
        return [PartStock.model_validate(d) for d in self._docs.list_documents(Kind.part_stock)]

    def cost_models(self, p: Principal) -> dict[str, CostModel]:
        """Cost models by key: an asset type id, or an asset id for per-asset costs."""
        p.require_manufacturer(OWN)
        return {
            d.get("_key", d["asset_type"]): CostModel.model_validate(
                {k: v for k, v in d.items() if k != "_key"}
            )
            for d in self._docs.list_documents(Kind.cost_model)
        }

    def travel(self, p: Principal) -> Travel:
        p.require_manufacturer(OWN)
        body = self._docs.get_document(Kind.travel, "default")
        return Travel.model_validate(body) if body else Travel()
