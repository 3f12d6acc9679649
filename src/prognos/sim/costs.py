"""One cost model for every simulated world: what a failure and a planned replacement cost.

The demo world (``demo.world``), the planner benchmark's world (``sim.world``) and the loop
benchmark share these numbers, so "the same world" costs the same everywhere. The planner
benchmark replaces ``wasted_life_cost_per_unit`` by the planned job's cost spread over the mean
training life (a part thrown away early costs its share of a new one), see ``bench.plan``.
"""

from __future__ import annotations

from prognos.domain.planning import CostModel

TURBOFAN, CHAIN_DRIVE, ELEVATOR = "turbofan", "chain_drive", "elevator"

COSTS: dict[str, CostModel] = {
    # an elevator out of service: SLA penalty and tenants' complaints; door rollers are cheap
    ELEVATOR: CostModel(
        asset_type=ELEVATOR,
        part="ELV-DOOR-ROLLER",
        unplanned_stoppage_cost_per_hour=150,
        unplanned_repair_hours=6,
        planned_job_hours=1.5,
        part_cost=380,
        labour_cost_per_hour=85,
        wasted_life_cost_per_unit=2.5,  # per operating day of the part's life thrown away
    ),
    # a conveyor chain that breaks stops the line until it is replaced
    CHAIN_DRIVE: CostModel(
        asset_type=CHAIN_DRIVE,
        part="CH-16B-2",
        unplanned_stoppage_cost_per_hour=2400,
        unplanned_repair_hours=6,
        planned_job_hours=2,
        part_cost=950,
        labour_cost_per_hour=95,
        wasted_life_cost_per_unit=4.0,
    ),
    # an engine removed unplanned: lease engine, AOG logistics, 48 h on the ground
    TURBOFAN: CostModel(
        asset_type=TURBOFAN,
        part="TF-HPC-MODULE",
        unplanned_stoppage_cost_per_hour=6000,
        unplanned_repair_hours=48,
        planned_job_hours=10,
        part_cost=60000,
        labour_cost_per_hour=120,
        wasted_life_cost_per_unit=250.0,  # per cycle of module life given away
    ),
}


def cost_models(*types: str) -> dict[str, CostModel]:
    """Copies of the cost models of these types (all when none are named)."""
    return {k: v.model_copy() for k, v in COSTS.items() if not types or k in types}
