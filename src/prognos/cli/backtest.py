"""``prognos backtest``: what prognos would have told you about the failures you know of."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from prognos.cli import _context as ctx
from prognos.cli import _output as output
from prognos.cli._output import step_bars as progress_bars
from prognos.domain.keys import MANUFACTURER

Opt = typer.Option


def _num(v, fmt: str = "{:.1f}") -> str:
    return "-" if v is None else fmt.format(v)


def register(app: typer.Typer) -> None:
    @app.command("backtest")
    def backtest(
        asset_type: Annotated[str, Opt("--asset-type", help="Asset type with labelled failures.")],
        folds: Annotated[int, Opt(min=2, help="Folds of assets (each scored by the others).")] = 5,
        points: Annotated[int, Opt(help="Checkpoints per life (0: every reading time).")] = 0,
        health_points: Annotated[
            int,
            Opt(
                help="Health scores per life (0: at every checkpoint; the health model is the "
                "slow part); between two scores the last holds."
            ),
        ] = 50,
        window: Annotated[
            float | None,
            Opt(
                help="Warning window before a failure, in the type's unit (default: the RUL "
                "model's cap, 125); alerts earlier count as false."
            ),
        ] = None,
        plan_horizon: Annotated[
            float | None, Opt(help="Planning horizon in the type's unit (default: 56 days).")
        ] = None,
        plan_risk: Annotated[
            float, Opt(help="Failure probability within the horizon that plans a job.")
        ] = 0.1,
        as_json: Annotated[bool, Opt("--json", help="Print the report as JSON.")] = False,
        db: Annotated[str | None, Opt(help="Store (default: PROGNOS_DB).")] = None,
    ) -> None:
        """Replay labelled lives with models that never saw them: lead times of watch, alarm and
        planned job before each failure, false alerts, RUL error and interval coverage."""
        with (
            ctx.local_platform(ctx.settings(db), create=False) as p,
            progress_bars(output.out) as report,
        ):
            out = p.backtests.run(
                MANUFACTURER,
                asset_type,
                folds=folds,
                points=points or None,
                health_points=health_points or None,
                window=window,
                plan_horizon=plan_horizon,
                plan_risk=plan_risk,
                progress=None if as_json else report,
            )
        if as_json:
            print(json.dumps(out, indent=2, default=str))
            return
        unit = out["time_unit"]
        t = output.table(
            "asset", "failed", f"lead ({unit})", "watch", "alarm", "job", "false alerts",
            "RUL MAE", "RUL RMSE", "80 % coverage",
            title=f"backtest of {asset_type}: {out['failures']} failures, {folds} folds "
            f"over {out['settings']['folds_over']}",
            right=(f"lead ({unit})", "watch", "alarm", "job", "false alerts", "RUL MAE",
                   "RUL RMSE", "80 % coverage"),
        )  # fmt: skip
        for a in out["assets"]:
            lt = a["lead_times"]
            t.add_row(
                a["life_id"], a["failed_at"][:10], _num(a["lead_time"]), _num(lt["watch"]),
                _num(lt["alarm"]), _num(lt["job"]), str(a["false_alerts"]), _num(a["rul_mae"]),
                _num(a["rul_rmse"]), _num(a["coverage_80"], "{:.0%}"),
            )  # fmt: skip
        output.show(t)
        output.say(
            f"detected before failure: {_num(out['detected_share'], '{:.0%}')}, median lead time "
            f"{_num(out['lead_time_median'])} {unit}; false alerts "
            f"{_num(out['false_alerts_per_100_asset_days'], '{:.2f}')} per 100 asset-days of "
            f"healthy time; RUL MAE {_num(out['rul_mae'])}, RMSE {_num(out['rul_rmse'])} {unit}, "
            f"80 % interval coverage {_num(out['coverage_80'], '{:.0%}')}"
        )
        c = out.get("failure_within") or {}
        if "auc" in c:
            base = ", ".join(f"{k} {_num(v, '{:.2f}')}" for k, v in c["baselines"].items())
            output.say(
                f"P(failure within {c['horizon']:g} {unit}) classifier: out-of-fold AUC "
                f"{_num(c['auc'], '{:.2f}')}, Brier {_num(c['brier'], '{:.3f}')} ({c['chosen']}, "
                f"{c['folds']} folds over {c['folds_over']}); baselines: {base}"
            )
        elif c.get("skipped"):
            output.say(f"failure classifier not validated: {c['skipped']}")
