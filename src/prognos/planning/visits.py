"""Visit options, part limits, and the checks that name what committed orders break.

Built with array operations: the 100,000-asset plan has half a million site-days and five
hundred crews, and a crew only ever reaches the regions within its day's hours.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from prognos.domain.planning import PartStock, Travel
from prognos.errors import Infeasible
from prognos.planning.problem import Problem


def visit_options(pr: Problem, travel: Travel) -> None:
    """Every (site, day) with candidates, and each crew that could work there that day."""
    key = pr.site_of[pr.c_asset] * max(pr.horizon, 1) + pr.c_day
    sd, inverse = np.unique(key, return_inverse=True)
    sd_site, sd_day = sd // max(pr.horizon, 1), sd % max(pr.horizon, 1)
    pr.site_days = list(zip(sd_site.tolist(), sd_day.tolist(), strict=True))
    types = np.zeros(len(sd), int)  # bits of the asset types with a candidate there
    np.bitwise_or.at(types, inverse, 1 << pr.type_of[pr.c_asset])
    crews = pr.crews
    if not crews or not len(sd):
        _set(pr, *(np.zeros(0, int),) * 3, np.zeros(0), np.zeros(0))
        return
    home = [c.home_region for c in crews]
    trip = np.array([[travel.hours(h, r) for r in pr.regions] for h in home])  # crew x region
    hours = np.array([c.hours_per_day for c in crews])
    cap = hours[:, None] - 2 * trip
    vcost = 2 * trip * np.array([c.cost_per_hour for c in crews])[:, None]
    vcost += np.array([c.callout_cost for c in crews])[:, None]
    works = np.array([[wd in c.working_weekdays for wd in range(7)] for c in crews])
    region = pr.site_region[sd_site]
    reach = [np.flatnonzero(cap[:, r] > 0) for r in range(len(pr.regions))]
    n_reach = np.array([len(x) for x in reach])[region]
    rows = np.repeat(np.arange(len(sd)), n_reach)
    j = np.concatenate([reach[r] for r in region]) if len(rows) else np.zeros(0, int)
    weekday = (np.array(pr.today.toordinal() + sd_day[rows]) - 1) % 7  # date.weekday()
    ok = works[j, weekday] & (pr.skill_mask[j] & types[rows] != 0)
    rows, j = rows[ok], j[ok]
    r = region[rows]
    _set(pr, sd_site[rows], sd_day[rows], j, cap[j, r], vcost[j, r])


def _set(pr: Problem, site, day, crew, cap, cost) -> None:
    pr.v_site, pr.v_day, pr.v_crew, pr.v_cap, pr.v_cost = site, day, crew, cap, cost


def part_limits(pr: Problem, stock: Sequence[PartStock]) -> None:
    """Which depot serves each component, and the candidates drawing before the lead time."""
    serves: dict[tuple[str, str], int] = {}
    for k, s in enumerate(stock):
        for r in s.regions:
            serves.setdefault((s.part, r), k)
    depot = np.array([serves.get((cm.part, a.region), -1) for a, cm in zip(pr.assets, pr.cms, strict=True)], int)  # fmt: skip
    pr.depot_of = {i: stock[k].depot_id for i, k in enumerate(depot.tolist()) if k >= 0}
    cdep = depot[pr.c_asset] if len(pr.c_asset) else np.zeros(0, int)
    lead = np.array([s.lead_time_days for s in stock] + [0], int)  # lead[-1]: no depot
    early = np.flatnonzero(pr.c_day < lead[cdep])
    early = early[np.argsort(cdep[early], kind="stable")]  # by depot, candidates in order
    edges = np.searchsorted(cdep[early], np.arange(len(stock) + 1))
    for k, s in enumerate(stock):
        if edges[k + 1] > edges[k]:
            pr.parts.append((s.depot_id, s.part, s.on_hand, early[edges[k] : edges[k + 1]]))


def check_forced(pr: Problem) -> None:
    """Name the constraint that committed orders break, before any solver sees them."""
    forced = np.flatnonzero(pr.c_forced)
    if not len(forced):
        return
    load: dict[tuple[int, int], float] = defaultdict(float)
    crew_at: dict[tuple[int, int], set[int]] = defaultdict(set)
    for k in forced.tolist():
        i, day, j = int(pr.c_asset[k]), int(pr.c_day[k]), int(pr.c_crew[k])
        a, key = pr.assets[i], (int(pr.site_of[i]), day)
        load[key] += pr.hours[i]
        if j >= 0:
            crew = pr.crews[j]
            if a.asset_type not in crew.skills:
                raise Infeasible(
                    f"crew {crew.id} lacks the skill {a.asset_type} for {a.key}",
                    hint="assign a crew with that skill",
                )
            if pr.date_of(day).weekday() not in crew.working_weekdays:
                raise Infeasible(
                    f"crew {crew.id} does not work on {pr.date_of(day)} (working hours)",
                    hint="pick one of its working days",
                )
            crew_at[key].add(j)
    for (s, day), crews in crew_at.items():
        if len(crews) > 1:
            raise Infeasible(
                f"site {pr.sites[s]} gets {len(crews)} crews on {pr.date_of(day)}; "
                "one crew per site and day"
            )
    keep = np.ones(len(pr.v_site), bool)
    for (s, day), crews in crew_at.items():  # a committed crew: the visit is that crew's
        at = (pr.v_site == s) & (pr.v_day == day)
        keep &= ~at | np.isin(pr.v_crew, list(crews))
    _set(pr, *(x[keep] for x in (pr.v_site, pr.v_day, pr.v_crew, pr.v_cap, pr.v_cost)))
    by_crew_day: dict[tuple[int, int], set[int]] = defaultdict(set)
    for (s, day), crews in crew_at.items():
        for j in crews:
            by_crew_day[(j, day)].add(s)
    for (j, day), sites in by_crew_day.items():
        if len(sites) > 1:
            raise Infeasible(
                f"crew {pr.crews[j].id} is sent to {len(sites)} sites on "
                f"{pr.date_of(day)}; a crew visits one site a day"
            )
    for (s, day), h in load.items():
        at = (pr.v_site == s) & (pr.v_day == day)
        cap = float(pr.v_cap[at].max()) if at.any() else 0.0
        if h > cap + 1e-9:
            raise Infeasible(
                f"committed jobs at site {pr.sites[s]} on {pr.date_of(day)} need "
                f"{h:g} h but the crew capacity there is {cap:g} h (crew capacity)",
                hint="move some orders to another day",
            )
    for depot, part, cap, idx in pr.parts:
        n = int(pr.c_forced[idx].sum())
        if n > cap:
            raise Infeasible(
                f"committed orders draw {n} x {part} from depot {depot} before the "
                f"reorder lead time, but {cap} are on hand (parts on hand)",
                hint="order parts earlier or move orders past the lead time",
            )
