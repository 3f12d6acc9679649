"""``prognos plan``: plan preventive replacements into customers' calendars and list work orders."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Annotated

import typer

from prognos.cli import _context as ctx
from prognos.cli import _output as output
from prognos.cli._output import say, show, table

# Costs carry no currency in the cost model (domain.planning.CostModel): they are EUR, as the
# plan's explanations say (planning.explain); a plan that names another currency shows it.
CURRENCY = "EUR"


def register(app: typer.Typer) -> None:
    @app.command("plan")
    def plan(
        horizon: Annotated[int, typer.Option(help="Days ahead to plan.")] = 56,
        time_limit: Annotated[float, typer.Option(help="Seconds the solver may take.")] = 10.0,
        dry_run: Annotated[
            bool, typer.Option(help="Show the plan without creating work orders.")
        ] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
        db: Annotated[str | None, typer.Option(help="Store (default: PROGNOS_DB).")] = None,
    ) -> None:
        """Plan replacements from the newest forecasts; work orders are created, moved or cancelled."""
        from prognos.domain.keys import MANUFACTURER

        s = ctx.settings(db)
        p = ctx.try_local(s)
        if p is None:
            out = ctx.remote_post(
                s,
                "/api/v1/plan",
                params={"horizon_days": horizon, "time_limit_s": time_limit, "commit": not dry_run},
            )
            names = remote_names(s)
            clock = None
        else:
            try:
                start, clock = p.planning.person_clock()
                with output.out.status("planning..."):
                    out = p.planning.plan(
                        MANUFACTURER,
                        horizon_days=horizon,
                        time_limit_s=time_limit,
                        commit=not dry_run,
                        now=start,
                    )
                names = local_names(p)
            finally:
                p.close()
        if as_json:
            print(json.dumps(out, indent=2, default=str))
            return
        show_plan(out, names, clock)


class Names:
    """What the table calls assets, sites and customers: their names (ids stay in --json)."""

    def __init__(self, assets: dict[str, tuple[str, str]], sites: dict, customers: dict):
        self.assets = assets  # id -> (serial or id, customer id)
        self.sites = sites
        self.customers = customers

    def asset(self, aid: str) -> str:
        return self.assets.get(aid, (aid, ""))[0]

    def customer_of(self, aid: str) -> str:
        cid = self.assets.get(aid, ("", ""))[1]
        return self.customers.get(cid, cid)

    def site(self, sid: str) -> str:
        return self.sites.get(sid, sid)


def local_names(p) -> Names:
    from prognos.domain.keys import MANUFACTURER

    snap = p.registry.snapshot().assets
    return Names(
        {a.id: (a.serial or a.id, a.customer_id) for a in snap.values()},
        {x.id: x.name for x in p.registry.sites(MANUFACTURER)},
        {c.id: c.name for c in p.registry.customers(MANUFACTURER)},
    )


def remote_names(s) -> Names:
    sites = {x["id"]: x.get("name") or x["id"] for x in ctx.remote_get(s, "/api/v1/sites")}
    customers = {c["id"]: c.get("name") or c["id"] for c in ctx.remote_get(s, "/api/v1/customers")}
    assets: dict[str, tuple[str, str]] = {}
    offset = 0
    while True:  # the API pages its assets
        page = ctx.remote_get(s, "/api/v1/assets", limit=500, offset=offset)
        items = page["items"] if isinstance(page, dict) else page
        for a in items:
            assets[a["id"]] = (a.get("serial") or a["id"], a["customer_id"])
        offset += len(items)
        if len(items) < 500:
            break
    return Names(assets, sites, customers)


def window_word(job: dict) -> str:
    """In a customer's window, or outside one: the job stops production then. It is an
    emergency only when the plan could not wait for a window without the part likely failing
    first (the planner's own flag, ``domain.planning.EMERGENCY_P``); a job outside windows at
    a low risk is the cheaper choice, not an emergency."""
    if job["in_window"]:
        return "yes"
    urgent = job["explanation"].get("emergency", False)
    return "no: EMERGENCY, stops production" if urgent else "no: stops production"


def show_plan(out: dict, names: Names, clock=None) -> None:
    pl = out["plan"]
    cur = pl.get("currency", CURRENCY)
    t = table(
        "day", "asset", "customer", "site", "crew", "in window", "P(fail before)",
        f"cost avoided ({cur})",
        title=f"plan: {len(pl['jobs'])} jobs over {pl['horizon_days']} days ({pl['status']}, "
        f"{pl['solve_seconds']:.1f} s)",
        whole=("day",),
        right=("P(fail before)", f"cost avoided ({cur})"),
    )  # fmt: skip
    for j in sorted(pl["jobs"], key=lambda j: (j["day"], j["asset_id"])):
        e = j["explanation"]
        t.add_row(
            j["day"],
            names.asset(j["asset_id"]),
            names.customer_of(j["asset_id"]),
            names.site(j["site_id"]),
            j["crew_id"],
            window_word(j),
            f"{e['prob_fail_before']:.1%}",
            f"{e['expected_cost_avoided']:,.0f}",
        )
    show(t)
    start = datetime.fromisoformat(out["now"]) if out.get("now") else None
    if clock is not None and start is not None and start - clock > timedelta(hours=1):
        say(
            f"the newest readings are from {clock:%Y-%m-%d %H:%M} UTC, "
            f"{(start - clock).days} days ago: the plan starts today from the forecasts made "
            "then (serve the platform, e.g. `prognos demo`, so the data catches up)"
        )
    say(f"expected cost {cur} {pl['objective']:,.0f} (lower bound {cur} {pl['lower_bound']:,.0f})")
    if out["committed"]:
        say(
            f"work orders: {len(out['created'])} created, {len(out['moved'])} moved, "
            f"{len(out['cancelled'])} cancelled"
        )
        if waited := deferred_line(out.get("deferred") or [], names):
            say(waited)
    else:
        say("dry run: no work order was changed")


def deferred_line(deferred: list[str], names: Names) -> str | None:
    """The assets whose orders or part changed while the plan was made (a crew finished a job,
    a part was repaired): the plan left their orders as they were, and the next plan makes
    their changes. Named as the table names assets: serial and customer, not ids."""
    if not deferred:
        return None
    who = ", ".join(
        names.asset(a) + (f" ({c})" if (c := names.customer_of(a)) else "") for a in deferred
    )
    n = len(deferred)
    return (
        f"{n} asset{'s' if n > 1 else ''} changed while the plan was being made, so "
        f"{'their' if n > 1 else 'its'} work orders were left as they were until the next "
        f"plan (plan again to include {'them' if n > 1 else 'it'}): {who}"
    )
