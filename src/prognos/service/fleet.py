"""The fleet overview the manufacturer and each customer watch: one page of assets with their
newest health, forecast, next job and open alarms, and a summary of every asset selected.

Health bands: good >= 70 > watch >= 40 > critical; the RUL histogram is in days (a cycle is an
operating day), so a mixed fleet shares one axis.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from prognos.domain import Lifecycle, Principal, TimeUnit
from prognos.errors import ValidationFailed
from prognos.service.lifecycle import LifecycleService
from prognos.service.registry import RegistryService
from prognos.service.timeutil import as_day, as_utc
from prognos.store.ports import FleetPort
from prognos.store.sql_fleet import SORTS, FleetFilter

GOOD, WATCH = 70.0, 40.0  # health score bands: good >= 70 > watch >= 40 > critical
SOON_DAYS, LATER_DAYS = 30, 90  # RUL histogram colours: fails within a month, a quarter
_ROW_COLS = [
    "id",
    "customer_id",
    "site_id",
    "type_id",
    "serial",
    "model",
    "health",
    "p10",
    "p50",
    "p90",
    "time_unit",
    "as_of",
    "next_service",
    "alarms",
]


def band(score: float | None) -> str:
    """Health band of a 0-100 score: good, watch, critical, or unknown."""
    if score is None:
        return "unknown"
    return "good" if score >= GOOD else "watch" if score >= WATCH else "critical"


@dataclass
class FleetQuery:
    """Filters, sort and page of the fleet table (all optional)."""

    customer: str | None = None
    site: str | None = None
    type: str | None = None
    q: str | None = None
    band: str | None = None
    sort: str = "rul"
    desc: bool = False
    page: int = 1
    size: int = 50
    state: str | None = None  # None: live (in service and offline); a Lifecycle; "all"

    def __post_init__(self) -> None:
        if self.sort not in SORTS:
            raise ValidationFailed(
                f"cannot sort the fleet by {self.sort!r}", hint=f"use one of {', '.join(SORTS)}"
            )
        self.page = max(int(self.page), 1)
        self.size = min(max(int(self.size), 1), 500)
        for name in ("customer", "site", "type", "q", "band", "state"):
            if getattr(self, name) == "":
                setattr(self, name, None)
        if self.state not in (None, "all", *(s.value for s in Lifecycle)):
            raise ValidationFailed(
                f"no asset state {self.state!r}",
                hint="use in_service, offline, retired or all (default: live, not retired)",
            )


@dataclass
class FleetPage:
    rows: list[dict[str, Any]]
    total: int
    query: FleetQuery
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max((self.total + self.query.size - 1) // self.query.size, 1)


class FleetService:
    def __init__(self, fleet: FleetPort, registry: RegistryService, lifecycle: LifecycleService):
        self._fleet = fleet
        self._registry = registry
        self._lifecycle = lifecycle

    def page(
        self, p: Principal, q: FleetQuery, today: date | None = None, bins: int = 20
    ) -> FleetPage:
        """One page of the fleet table and a summary of every asset the filters select."""
        mine = p.is_manufacturer or q.customer in (None, p.customer_id)
        states = self._lifecycle.states(p)
        offline = tuple(sorted(k for k, v in states.items() if v.state is Lifecycle.offline))
        by_state = {
            Lifecycle.offline.value: {"retired": False, "only_ids": offline},
            Lifecycle.in_service.value: {"retired": False, "not_ids": offline},
            Lifecycle.retired.value: {"retired": True},
            "all": {"retired": None},
        }.get(q.state or "", {"retired": False})
        f = FleetFilter(
            customer_id=q.customer if p.is_manufacturer else p.customer_id,
            site_id=q.site,
            type_id=q.type,
            search=q.q,
            band=q.band,
            sort=q.sort,
            desc=q.desc,
            limit=q.size,
            offset=(q.page - 1) * q.size,
            nothing=not mine,
            **by_state,
        )
        days = {
            t.id: TimeUnit(t.time_unit).seconds / 86400.0
            for t in self._registry.snapshot().types.values()
        }
        today = today or datetime.now(UTC).date()
        rows, stats, hist = [], None, []
        for r in self._fleet.fleet_rows(f, days, today + timedelta(days=30), bins):
            if r[0] == "p":
                d = dict(zip(_ROW_COLS, r[1:15], strict=True))
                d["band"] = band(d["health"])
                d["next_service"] = as_day(d["next_service"])
                d["as_of"] = as_utc(d["as_of"])
                d["p50_days"] = r[15]
                st = states.get(d["id"])
                d["state"] = st.state.value if st else Lifecycle.in_service.value
                d["last_seen"] = st.last_seen if st else None
                rows.append(d)
            elif r[0] == "s":
                stats = r
            else:
                hist.append((int(r[8]), int(r[9]), float(r[10])))
        rows.sort(key=_page_order(q))
        summary = _summary(stats, hist)
        summary["states"] = {
            k.value: sum(1 for v in states.values() if v.state is k) for k in Lifecycle
        }
        summary["state_tiles"] = self._state_tiles(states, q)
        return FleetPage(rows, summary["assets"], q, summary)

    def _state_tiles(self, states: dict[str, Any], q: FleetQuery) -> dict[str, int]:
        """Assets in each lifecycle state among those the customer, site and type filters
        select (top-level assets, as the table lists them): the page's offline and retired
        tiles, from the states the page was built from (one pass over the fleet, not two)."""
        assets = self._registry.snapshot().assets
        counts = {"in_service": 0, "offline": 0, "retired": 0}
        for aid, st in states.items():
            a = assets.get(aid)
            if a is None or a.parent_id is not None:
                continue
            if (q.customer and a.customer_id != q.customer) or (q.site and a.site_id != q.site):
                continue
            if q.type and a.type_id != q.type:
                continue
            counts[st.state.value] += 1
        return counts

    def stamp(self, p: Principal) -> str:
        """Changes whenever the caller's fleet page would (pages poll it)."""
        return self._fleet.fleet_stamp(None if p.is_manufacturer else p.customer_id)

    def _top_level_types(self, p: Principal) -> list:
        """Types of the assets the table lists (a component-only type matches no row)."""
        snap = self._registry.snapshot()
        shown = {
            a.type_id
            for a in snap.assets.values()
            if a.parent_id is None and p.may_see(a.customer_id)
        }
        return [t for t in self._registry.asset_types(p) if t.id in shown]

    def filter_options(self, p: Principal) -> dict[str, list[tuple[str, str]]]:
        """Customers, sites and asset types the caller may filter by, as (id, label)."""
        return {
            "customers": [(c.id, c.name) for c in self._registry.customers(p)],
            "sites": [(s.id, s.name) for s in self._registry.sites(p)],
            "types": sorted((t.id, t.name or t.id) for t in self._top_level_types(p)),
        }


def _summary(stats: tuple | None, hist: list[tuple[int, int, float]]) -> dict[str, Any]:
    """Counts per health band, open alarms, jobs in 30 days, the RUL P50 histogram in days
    (a cycle is an operating day, so a mixed fleet shares one axis)."""
    n = int(stats[7] or 0) if stats else 0
    bands = {
        k: int(stats[i] or 0) if stats else 0
        for k, i in (("good", 8), ("watch", 9), ("critical", 10))
    }
    bands["unknown"] = n - sum(bands.values())
    bars: list[dict[str, Any]] = []
    if hist:
        counts = {b: c for b, c, _ in hist}
        width = hist[0][2]
        for b in range(max(counts) + 1):
            top = (b + 1) * width
            urgency = "soon" if top <= SOON_DAYS else "later" if top <= LATER_DAYS else ""
            bars.append({"lo": b * width, "hi": top, "n": counts.get(b, 0), "urgency": urgency})
    return {
        "assets": n,
        "bands": bands,
        "open_alarms": int(stats[14] or 0) if stats else 0,
        "jobs_30d": int(stats[16] or 0) if stats else 0,
        "forecasts": sum(c for _, c, _ in hist),
        "time_unit": "days",
        "rul_hist": bars,
    }


def _page_order(q: FleetQuery):
    """The page's order again in Python (a UNION does not keep it): NULLS LAST, then id."""
    col = SORTS[q.sort]

    def key(r: dict[str, Any]):
        v = r[col]
        if isinstance(v, int | float) and q.desc:
            v = -v
        return (v is None, v if not q.desc or isinstance(v, int | float) else _Rev(v), r["id"])

    return key


class _Rev:
    """Reverses the order of a string or date inside a sort key."""

    def __init__(self, v: Any):
        self.v = v

    def __lt__(self, other: _Rev) -> bool:
        return self.v > other.v

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Rev) and self.v == other.v
