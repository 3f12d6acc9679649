"""The simulated service world: customers' sites with calendars, a fleet, crews, depots, costs.

Turbofans are driven by held-out C-MAPSS train-unit trajectories (one cycle = one operating
day); drive chains elongate at a random rate (with an occasional jump when lubrication fails)
until 3 % elongation breaks them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from prognos.domain.assets import Site
from prognos.domain.planning import CostModel, Crew, PartStock, PlanAsset, Travel
from prognos.sim.calendars import CalendarSpec, make_spec, to_ics
from prognos.sim.cmapss import Trajectory, load_trajectories, split
from prognos.sim.costs import CHAIN_DRIVE, TURBOFAN, cost_models

CHAIN = CHAIN_DRIVE  # the drive chains of every simulated world are one asset type
CHAIN_LIMIT = 3.0  # percent elongation at which a chain counts as failed
CHAIN_NOISE = 0.03  # measurement noise, percent
# six-day rotas: the second crew of a region covers Sundays, when six-day plants stand still
ROTAS = ({0, 1, 2, 3, 4, 5}, {1, 2, 3, 4, 5, 6})


@dataclass
class World:
    start: date
    n_days: int
    sites: list[Site]
    calendars: dict[str, CalendarSpec]
    ics: dict[str, str]
    assets: list[PlanAsset]
    crews: list[Crew]
    travel: Travel
    depots: list[PartStock]
    costs: dict[str, CostModel] = field(default_factory=lambda: cost_models(TURBOFAN, CHAIN))
    train_trajectories: list[Trajectory] = field(default_factory=list)
    sim_trajectories: list[Trajectory] = field(default_factory=list)
    seed: int = 0

    def visit_cost(self) -> float:
        """Call-out plus travel there and back for a crew of the site's region."""
        c = self.crews[0]
        return c.callout_cost + 2 * self.travel.same_region * c.cost_per_hour


def chain_path(rng: np.random.Generator, max_len: int = 3000) -> tuple[np.ndarray, int]:
    """True elongation after each operating day (index 0 = new) and the day it breaks."""
    rate = float(np.exp(rng.normal(np.log(CHAIN_LIMIT / 330), 0.35)))
    inc = rng.gamma(2.0, rate / 2.0, size=max_len)
    if rng.random() < 0.4:  # lubrication fails: wear speeds up from then on
        k = int(rng.uniform(0.3, 0.9) * CHAIN_LIMIT / rate)
        inc[k:] *= rng.uniform(1.5, 3.0)
    e = np.concatenate([[rng.uniform(0.0, 0.15)], inc]).cumsum()
    life = int(np.argmax(e >= CHAIN_LIMIT)) if (e >= CHAIN_LIMIT).any() else max_len
    return e[: life + 1], max(life, 1)


def training_chains(n: int, seed: int) -> list[tuple[np.ndarray, int]]:
    """Run-to-failure chain histories (noisy measurements, life) for fitting forecasters."""
    rng = np.random.default_rng(seed + 10_007)
    out = []
    for _ in range(n):
        e, life = chain_path(rng)
        out.append((e + rng.normal(0, CHAIN_NOISE, size=len(e)), life))
    return out


def build_world(
    seed: int = 0,
    n_customers: int = 50,
    n_regions: int = 10,
    turbofans_per_site: float = 5.2,
    chains_per_site: float = 5.2,
    crews_per_region: int = 2,
    start: date = date(2027, 1, 4),
    n_days: int = 730,
    data_dir=None,
    with_trajectories: bool = True,
) -> World:
    rng = np.random.default_rng(seed)
    regions = [f"R{r:02d}" for r in range(n_regions)]
    sites, specs, ics, assets = [], {}, {}, []
    for c in range(n_customers):
        region = regions[c % n_regions]
        spec = make_spec(f"S{c:04d}", start, n_days, rng)
        site = Site(
            id=spec.site_id,
            customer_id=f"C{c:04d}",
            name=f"Customer {c} plant",
            timezone=spec.timezone,
            region=region,
        )
        sites.append(site)
        specs[site.id], ics[site.id] = spec, to_ics(spec, start)
        for kind, mean in ((TURBOFAN, turbofans_per_site), (CHAIN, chains_per_site)):
            for k in range(max(1, int(rng.poisson(mean)))):
                assets.append(
                    PlanAsset(
                        asset_id=f"{site.id}-{kind[:2].upper()}{k:02d}",
                        site_id=site.id,
                        region=region,
                        asset_type=kind,
                    )
                )
    crews = [
        Crew(
            id=f"crew-{r}-{k}",
            skills={TURBOFAN, CHAIN},
            home_region=r,
            hours_per_day=10.0,
            working_weekdays=ROTAS[k % len(ROTAS)],
            cost_per_hour=95.0,
            callout_cost=400.0,
        )
        for r in regions
        for k in range(crews_per_region)
    ]
    ring = {f"{a}|{b}": 3.0 for i, a in enumerate(regions) for b in regions[i + 1 : i + 2]}
    travel = Travel(hours_between=ring, same_region=1.0, default=6.0)
    # 8 cores per region: the baselines never wait for parts, so a scarcer stock (4 was tried,
    # see docs/bench/plan.md) would charge the scarcity to the planner alone
    depots = [
        PartStock(
            depot_id=f"D-{r}-{p}",
            part=cost_models()[kind].part,
            on_hand=n,
            lead_time_days=lt,
            regions={r},
        )
        for r in regions
        for kind, p, n, lt in ((TURBOFAN, "tf", 8, 21), (CHAIN, "ch", 30, 7))
    ]
    train, held = split(load_trajectories(data_dir), seed) if with_trajectories else ([], [])
    return World(
        start,
        n_days,
        sites,
        specs,
        ics,
        assets,
        crews,
        travel,
        depots,
        train_trajectories=train,
        sim_trajectories=held,
        seed=seed,
    )
