"""``prognos plan``: plan preventive replacements into customers' calendars and list work orders."""

from __future__ import annotations

import json
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
        else:
            try:
                with output.out.status("planning..."):
                    out = p.planning.plan(
                        MANUFACTURER,
                        horizon_days=horizon,
                        time_limit_s=time_limit,
                        commit=not dry_run,
                    )
            finally:
                p.close()
        if as_json:
            print(json.dumps(out, indent=2, default=str))
            return
        pl = out["plan"]
        cur = pl.get("currency", CURRENCY)
        t = table(
            "day", "asset", "site", "crew", "window", "P(fail before)", f"cost avoided ({cur})",
            title=f"plan: {len(pl['jobs'])} jobs over {pl['horizon_days']} days ({pl['status']}, "
            f"{pl['solve_seconds']:.1f} s)",
            whole=("day",),
            right=("P(fail before)", f"cost avoided ({cur})"),
        )  # fmt: skip
        for j in sorted(pl["jobs"], key=lambda j: j["day"]):
            e = j["explanation"]
            t.add_row(
                j["day"],
                j["asset_id"],
                j["site_id"],
                j["crew_id"],
                "yes" if j["in_window"] else "EMERGENCY",
                f"{e['prob_fail_before']:.1%}",
                f"{e['expected_cost_avoided']:,.0f}",
            )
        show(t)
        say(
            f"expected cost {cur} {pl['objective']:,.0f} "
            f"(lower bound {cur} {pl['lower_bound']:,.0f})"
        )
        if out["committed"]:
            say(
                f"work orders: {len(out['created'])} created, {len(out['moved'])} moved, "
                f"{len(out['cancelled'])} cancelled"
            )
        else:
            say("dry run: no work order was changed")
