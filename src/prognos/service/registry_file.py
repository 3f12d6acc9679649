"""``prognos registry load``: a registry file checked as a whole, then saved.

Every problem of the file (unknown keys, missing fields, references to nothing) is found before
anything is written, so a file with an error leaves the registry as it was; the error lists each
problem by its path in the file with the fix.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from prognos.domain import Asset, AssetType, Customer, Principal, Site
from prognos.domain.planning import CostModel, Crew, PartStock, Travel
from prognos.domain.registry_file import RegistryFile, cross_problems, problems
from prognos.errors import ValidationFailed
from prognos.service.registry import RegistryService
from prognos.service.resources import ResourceService

SHOWN = 25  # problems listed in the error; the rest are counted


def read_document(path: Path) -> Any:
    """A JSON or YAML file as data, or an error naming the file, line and column."""
    path = Path(path)
    if not path.exists():
        raise ValidationFailed(
            f"{path}: no such file",
            hint="give the path of a registry file (JSON or YAML); "
            "`prognos registry schema` prints its format",
        )
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise ValidationFailed(
                f"{path.name}{where}: not valid YAML ({getattr(e, 'problem', e)})"
            ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ValidationFailed(
            f"{path.name} line {e.lineno}, column {e.colno}: not valid JSON ({e.msg})",
            hint="a .yaml or .yml file is read as YAML",
        ) from None


class RegistryFileService:
    """Loads registry files: the installed base and the planner's resources in one go."""

    def __init__(self, registry: RegistryService, resources: ResourceService):
        self._registry = registry
        self._resources = resources

    def check(self, p: Principal, doc: Any, name: str = "the registry file") -> RegistryFile:
        """The document as a ``RegistryFile``, or one error listing every problem."""
        p.require_manufacturer()
        parsed, found = problems(doc)
        if parsed is not None:
            snap = self._registry.snapshot()
            found = cross_problems(
                parsed,
                {c.id for c in self._registry.customers(p)},
                {s.id: s.customer_id for s in self._registry.sites(p)},
                set(snap.types),
                set(snap.assets),
            )
        if found:
            listed = "\n".join(f"  {m}" for m in found[:SHOWN])
            more = f"\n  ... and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
            raise ValidationFailed(
                f"{name}: {len(found)} problem{'s' if len(found) > 1 else ''}, "
                f"nothing was saved:\n{listed}{more}",
                hint="fix them and load the file again; `prognos registry schema` prints "
                "the format (docs/own-data.md explains it)",
                details=found,
            )
        return parsed

    def load(self, p: Principal, doc: Any, name: str = "the registry file") -> dict[str, int]:
        """Check the whole document, then save it; how many records of each section."""
        f = self.check(p, doc, name)
        reg = self._registry
        for c in f.customers:
            reg.add_customer(p, Customer.model_validate(c.model_dump()))
        for s in f.sites:
            reg.add_site(p, Site.model_validate(s.model_dump()))
        for t in f.asset_types:
            reg.add_asset_type(p, AssetType.model_validate(t.model_dump()))
        if f.assets:
            reg.add_assets(p, [Asset.model_validate(a.model_dump()) for a in f.assets])
        for c in f.crews:
            self._resources.put_crew(p, Crew.model_validate(c.model_dump()))
        for s in f.parts:
            self._resources.put_stock(p, PartStock.model_validate(s.model_dump()))
        for cm in f.cost_models:
            self._resources.put_cost_model(
                p, cm.asset_type, CostModel.model_validate(cm.model_dump())
            )
        if f.travel is not None:
            self._resources.put_travel(p, Travel.model_validate(f.travel.model_dump()))
        counts = {
            k: len(getattr(f, k))
            for k in (
                "customers",
                "sites",
                "asset_types",
                "assets",
                "crews",
                "parts",
                "cost_models",
            )
        }
        counts["travel"] = int(f.travel is not None)
        return counts
