"""``prognos backtest``: what prognos would have told you, replayed on labelled history.

For an asset type with labelled failures, the assets are split into folds; each fold's assets
are replayed with a health model and a sensor RUL model trained on the other folds only, so no
asset is ever scored by a model that saw it. At every checkpoint of each replayed life prognos'
answers then are taken as alerts: a **watch** (health below 70, the panel's band), an **alarm**
(the health model's anomaly alarm, as ``AlarmService.from_health`` raises it) and a **planned
job** (the forecast gives at least ``plan_risk`` probability of failing within the planning
horizon, a rule of thumb for what the planner would schedule). ``analytics.backtest_metrics``
scores them against what happened. Each asset's replay is kept for its page's chart.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from prognos.analytics.backtest_metrics import Replay, overall, score
from prognos.analytics.life_events import Life
from prognos.config import Settings
from prognos.domain import AssetType, FailureForecast, Principal
from prognos.domain.forecast import DEFAULT_LEVELS
from prognos.errors import ModelError
from prognos.service.registry import RegistryService
from prognos.service.replay import checkpoints, health_path, rul_quantiles
from prognos.service.training import TrainingService, early_life, fit_health, rul_model
from prognos.service.training_data import LifeTable, life_table
from prognos.store.ports import DocumentsPort, ReadingsPort

KIND = "backtest"  # documents: one replay per asset, for its page
WATCH_BELOW = 70.0  # the panel's "good" band ends here (service.fleet.GOOD)
PLANNER_HORIZON_DAYS = 56.0  # `prognos plan`'s default horizon
CHART_POINTS = 300
Progress = Callable[[str, int, int], None]


class BacktestService:
    def __init__(
        self,
        settings: Settings,
        readings: ReadingsPort,
        documents: DocumentsPort,
        registry: RegistryService,
        training: TrainingService,
    ):
        self._settings = settings
        self._readings = readings
        self._docs = documents
        self._registry = registry
        self._training = training

    def run(
        self,
        p: Principal,
        type_id: str,
        *,
        folds: int = 5,
        points: int | None = None,
        health_points: int | None = 50,
        window: float | None = None,
        plan_horizon: float | None = None,
        plan_risk: float = 0.1,
        params: dict[str, Any] | None = None,
        min_lives: int | None = None,
        random_state: int = 0,
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        """Replay the type's labelled lives fold by fold; per life and overall figures."""
        p.require_manufacturer("backtests train models, which is the manufacturer's")
        t = self._registry.asset_type(p, type_id)
        need = self._settings.min_lives if min_lives is None else min_lives
        lives = self._training.failure_lives(p, type_id)
        if len(lives) < max(need, 2):
            raise ModelError(
                f"asset type {type_id!r} has {len(lives)} labelled run-to-failure "
                f"{'life' if len(lives) == 1 else 'lives'}; a "
                f"backtest needs at least {max(need, 2)}",
                hint="load failures with `prognos events load`",
            )
        assets = {
            a.id: a for a in self._registry.snapshot().assets.values() if a.type_id == type_id
        }
        table = life_table(self._readings, assets, t, lives)
        healthy = self._healthy_lives(assets, {x.asset_id for x in lives})
        spare = life_table(self._readings, assets, t, healthy, table.settings + table.sensors)
        params = params if params is not None else self._settings.rul_params
        unit_s = t.time_unit.seconds
        horizon = (
            plan_horizon if plan_horizon is not None else PLANNER_HORIZON_DAYS * 86400 / unit_s
        )
        # folds over assets; one asset alone (a tabular set's machine) is folded over its lives
        by_life = len({x.asset_id for x in table.lives + spare.lives}) < 2
        group = (lambda x: x.id) if by_life else (lambda x: x.asset_id)
        rng = np.random.default_rng(random_state)
        ids = sorted({group(x) for x in table.lives + spare.lives})
        fold_of = {a: k % folds for k, a in enumerate(rng.permutation(ids))}
        frames = _frames(table) | _frames(spare)
        scored, replays = [], []
        cap = None
        for k in range(folds):
            test = [x for x in table.lives + spare.lives if fold_of[group(x)] == k]
            train_units = [x.id for x in table.lives if fold_of[group(x)] != k]
            if not test or len(train_units) < 2:
                continue
            tr = table.data[table.data["unit"].isin(train_units)]
            model = rul_model(table.settings, table.sensors, params, random_state).fit(
                tr.drop(columns=["rul"]), tr["rul"].to_numpy()
            )
            cap = model.cap
            seen = [f for x in table.lives + spare.lives if fold_of[group(x)] != k
                    for f in [frames[x.id].drop(columns=["rul"])]]  # fmt: skip
            health, _card = fit_health(early_life(seen), t)
            for life in test:
                r, chart = self._replay(
                    life, frames[life.id], t, (model, health), (points, health_points),
                    horizon, plan_risk,
                )  # fmt: skip
                replays.append(chart)
                scored.append(score(r, window if window is not None else model.cap, model.cap))
            if progress:
                progress("backtest folds", k + 1, folds)
        if not scored:
            raise ModelError(
                f"asset type {type_id!r}: no fold could be replayed: each needs labelled lives "
                f"outside it to train on ({len(table.lives)} lives in {folds} folds)",
                hint="load more failures, or use fewer folds (--folds 2)",
            )
        w = window if window is not None else cap
        self._keep(p, type_id, replays, scored, w)
        out = _report(t, scored, w, horizon, plan_risk, folds, table)
        out["settings"]["folds_over"] = "lives" if by_life else "assets"
        out["failure_within"] = self._classifier(p, type_id)
        return out

    def _classifier(self, p: Principal, type_id: str) -> dict[str, Any]:
        """The type's failure classifier as its training validated it: out-of-fold over assets
        (or lives), so no row was scored by a model that saw its asset."""
        card = self._training.classifier_card(p, type_id)
        if card is None:
            return {"skipped": "no failure classifier: `prognos train` fits one for a type "
                    "without a sensor RUL model"}  # fmt: skip
        return card

    def _healthy_lives(self, assets: dict, failed: set[str]) -> list[Life]:
        """The history of every asset without a labelled failure, as a life that did not end."""
        out = []
        for a in assets.values():
            if a.id in failed:
                continue
            last = self._readings.telemetry_span(a.id)[1]
            if last is not None and last > a.installed_at:
                out.append(Life(a.id, None, a.installed_at, last, False))
        return out

    def _replay(self, life: Life, frame, t: AssetType, models, points, horizon, risk):
        """One life's checkpoints: RUL quantiles at each, health at up to ``points[1]`` of
        them (the health model scores a window per call; between two scores the last holds)."""
        model, health = models
        unit_s = t.time_unit.seconds
        rows = checkpoints(len(frame), points[0])
        age = frame["cycle"].to_numpy(dtype=float)
        q = rul_quantiles(model, frame.drop(columns=["rul"], errors="ignore"), rows)
        # times back from ages, to the microsecond the store keeps
        stamps = (pd.Timestamp(life.start) + pd.to_timedelta(age * unit_s, unit="s")).round("us")
        wide = frame.drop(columns=["unit", "cycle", "rul"], errors="ignore").set_index(stamps)
        scored_at = checkpoints(len(rows), points[1])
        hs = health_path(health, wide, list(stamps[rows[scored_at]]), life.asset_id)
        held = np.searchsorted(scored_at, np.arange(len(rows)), side="right") - 1
        score_ = np.array([h.score if h else np.nan for h in hs])[held]
        alarm = np.array([bool(h and h.anomalies) for h in hs])[held]
        lv = list(DEFAULT_LEVELS)
        job = np.array(
            [
                FailureForecast(
                    life.asset_id, datetime.now(UTC), DEFAULT_LEVELS, tuple(row)
                ).prob_fail_before(horizon)
                >= risk
                for row in q
            ]
        )
        r = Replay(
            life.id,
            life.asset_id,
            age[rows],
            {"watch": score_ < WATCH_BELOW, "alarm": alarm, "job": job},
            q[:, lv.index(0.1)],
            q[:, lv.index(0.5)],
            q[:, lv.index(0.9)],
            life.duration(unit_s) if life.failed else None,
        )
        pick = checkpoints(len(rows), CHART_POINTS)
        chart = {
            "asset_id": life.asset_id,
            "life_id": life.id,
            "failed_at": life.end.isoformat() if life.failed else None,
            "ts": [stamps[rows][i].isoformat() for i in pick],
            "health": [None if np.isnan(v) else round(float(v), 2) for v in score_[pick]],
            "p10": np.round(r.p10[pick], 3).tolist(),
            "p50": np.round(r.p50[pick], 3).tolist(),
            "p90": np.round(r.p90[pick], 3).tolist(),
            "rul_true": (np.round(r.failed_at - r.age[pick], 3).tolist() if life.failed else None),
            "alarm": alarm[pick].tolist(),
            "job": job[pick].tolist(),
        }
        return r, chart

    def _keep(self, p: Principal, type_id: str, charts, scored, window) -> None:
        """Each asset's newest replay (its last life), for the asset page's chart."""
        at = datetime.now(UTC).isoformat()
        by_life = {s["life_id"]: s for s in scored}
        assets = self._registry.snapshot().assets
        docs = {}
        for c in sorted(charts, key=lambda c: c["ts"][-1] if c["ts"] else ""):  # the last wins
            s = by_life[c["life_id"]]
            body = {**c, "type_id": type_id, "run_at": at, "window": window,
                    "lead_times": s["lead_times"], "false_alerts": s["false_alerts"],
                    "time_unit": self._registry.snapshot().types[type_id].time_unit.value}  # fmt: skip
            docs[c["asset_id"]] = (c["asset_id"], body, assets[c["asset_id"]].customer_id,
                                   c["asset_id"], type_id)  # fmt: skip
        self._docs.put_documents(KIND, list(docs.values()))

    def of_asset(self, p: Principal, asset_id: str) -> dict[str, Any] | None:
        """The asset's newest backtest replay, or None (``prognos backtest`` makes them)."""
        self._registry.asset(p, asset_id)
        return self._docs.get_document(KIND, asset_id)


def _frames(table: LifeTable) -> dict[str, pd.DataFrame]:
    if table.data.empty:
        return {}
    return {str(u): g.reset_index(drop=True) for u, g in table.data.groupby("unit", sort=False)}


def _report(t: AssetType, scored, window, horizon, risk, folds, table: LifeTable) -> dict:
    days = t.time_unit.seconds / 86400.0
    rows = []
    for s in scored:
        if "rul_errors" not in s:
            continue
        life = next(x for x in table.lives if x.id == s["life_id"])
        rows.append(
            {
                "asset_id": s["asset_id"],
                "life_id": s["life_id"],
                "failed_at": life.end.isoformat(),
                "lead_time": s["lead_time"],
                "lead_times": s["lead_times"],
                "false_alerts": s["false_alerts"],
                "rul_mae": s["rul_mae"],
                "rul_rmse": s["rul_rmse"],
                "coverage_80": s["coverage_80"],
            }
        )
    figures = overall(scored, days)
    return {
        "time_unit": t.time_unit.value,
        "assets": rows,
        "healthy_assets": sum("rul_errors" not in s for s in scored),
        **figures,
        "settings": {
            "folds": folds,
            "warning_window": window,
            "plan_horizon": horizon,
            "plan_risk": risk,
            "watch_below": WATCH_BELOW,
            "channels": table.settings + table.sensors,
            "left_out": table.left_out(),
        },
    }
