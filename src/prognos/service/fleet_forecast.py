"""``prognos forecast``: each asset type forecast with whatever models it has, and said so.

A type is forecast by the best model it has: a sensor RUL model (``prognos train``), its wear
trend (types with a failure threshold), else its reliability fit (``prognos reliability fit``);
its health model scores it either way, and a type with only a health model gets health scores.
The report says per type what was done, and what to do where nothing could be. ``history``
replays stored history instead: health and forecasts at past moments, stored without alarms.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from prognos.domain import Asset, AssetType, Principal
from prognos.service.forecasts import ForecastService
from prognos.service.frames import life_frame, wide
from prognos.service.registry import RegistryService
from prognos.service.reliability import ReliabilityService
from prognos.service.replay import checkpoints, health_path, rul_forecasts
from prognos.service.scoring import ScoringService
from prognos.store.ports import ReadingsPort

Progress = Callable[[str, int, int], None]


class FleetForecastService:
    def __init__(
        self,
        readings: ReadingsPort,
        registry: RegistryService,
        forecasts: ForecastService,
        scoring: ScoringService,
        reliability: ReliabilityService,
    ):
        self._readings = readings
        self._registry = registry
        self._forecasts = forecasts
        self._scoring = scoring
        self._reliability = reliability

    def _by_type(self, asset_ids: list[str] | None) -> dict[str, list[Asset]]:
        snap = self._registry.snapshot()
        wanted = set(asset_ids) if asset_ids is not None else None
        out: dict[str, list[Asset]] = {}
        for a in sorted(snap.assets.values(), key=lambda a: a.id):
            if wanted is None or a.id in wanted:
                out.setdefault(a.type_id, []).append(a)
        return out

    def plan_of(self, t: AssetType) -> tuple[str | None, bool]:
        """How a type is forecast (``rul``, ``wear``, ``reliability`` or None) and whether it
        has a health model."""
        health = self._forecasts.model_for(f"{t.id}:health") is not None
        if t.failure_threshold:
            return "wear", health
        if self._forecasts.model_for(t.id) is not None:
            return "rul", health
        if self._forecasts.model_for(f"{t.id}:classifier") is not None:
            return "classifier", health
        if self._forecasts.model_for(f"{t.id}:reliability") is not None:
            return "reliability", health
        return None, health

    def run(
        self,
        p: Principal,
        asset_ids: list[str] | None = None,
        *,
        dask_address: str | None = None,
        read_from: str | None = None,
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        """Forecast and score every asset (or ``asset_ids``) and save the results."""
        p.require_manufacturer("fleet scoring writes every customer's forecasts")
        t0 = time.perf_counter()
        types = self._registry.snapshot().types
        rows, scored = [], []
        for type_id, assets in self._by_type(asset_ids).items():
            how, health = self.plan_of(types[type_id])
            down = self._down(p, type_id, assets)
            assets = [a for a in assets if a.id not in down]
            row = {"type_id": type_id, "assets": len(assets), "forecast_by": how, "health": health}
            if down:
                row["down"] = sorted(down)
            if how in ("rul", "wear"):
                scored += [a.id for a in assets]
                row["forecasts"] = len(assets)
                row["forecast_assets"] = len(assets)
            elif how in ("reliability", "classifier") or health:
                fcs, hs = [], []
                for i, a in enumerate(assets):
                    if how == "reliability":
                        fcs += self._reliability.forecast(p, a)
                    elif how == "classifier":
                        f = self._forecasts.classifier_forecast(a, types[type_id])
                        fcs += [f] if f else []
                    h = self._forecasts.health(a, types[type_id]) if health else None
                    hs += [h] if h else []
                    if progress:
                        progress(f"{type_id}: {how or 'health'}", i + 1, len(assets))
                self._forecasts.save(fcs, hs)
                row["forecasts"], row["health_scores"] = len(fcs), len(hs)
                row["forecast_assets"] = len({f.asset_id for f in fcs})
            if how is None:
                row["note"] = (
                    "health scores only: no failure model yet (prognos train needs labelled "
                    "lives; prognos reliability fit needs failure events)"
                    if health
                    else f"no model: run `prognos train --asset-type {type_id}`"
                )
            rows.append(row)
        engine = "in-process"
        if scored:
            out = self._scoring.score_fleet(
                p, scored, dask_address=dask_address, progress=progress, read_from=read_from
            )
            engine = out["engine"]
        return {
            "types": rows,
            "forecasts": sum(r.get("forecasts", 0) for r in rows),
            "assets": sum(r.get("forecast_assets", 0) for r in rows),
            "seconds": round(time.perf_counter() - t0, 3),
            "engine": engine,
        }

    def _down(self, p: Principal, type_id: str, assets: list[Asset]) -> set[str]:
        """Assets whose last event is a failure with no reading after it: they are down (the
        next life begins with their repair or replacement), so nothing is forecast for them."""
        by_asset = self._reliability.events_of_type(p, type_id)
        out = set()
        for a in assets:
            evs = [e for e in by_asset.get(a.id, []) if not e.get("component")]
            if not evs:
                continue
            last = max(evs, key=lambda e: e["at"])
            if last["kind"] != "failure" or last.get("resets_age") is False:
                continue
            seen = self._readings.telemetry_span(a.id)[1]
            if seen is None or seen <= datetime.fromisoformat(last["at"]):
                out.add(a.id)
        return out

    def history(
        self,
        p: Principal,
        asset_ids: list[str] | None = None,
        *,
        points: int | None = 100,
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        """Health and forecasts at up to ``points`` past moments of each asset's stored history
        (None: at every reading time), stored without raising alarms."""
        p.require_manufacturer("results are written by the manufacturer")
        types = self._registry.snapshot().types
        rows = []
        for type_id, assets in self._by_type(asset_ids).items():
            t = types[type_id]
            how, health = self.plan_of(t)
            n_f = n_h = 0
            events = self._reliability.events_of_type(p, type_id)
            for i, a in enumerate(assets):
                # from its first known installation: a replacement event moved installed_at on
                starts = [datetime.fromisoformat(e["life_start"])
                          for e in events.get(a.id, []) if e.get("life_start")]  # fmt: skip
                a = a.model_copy(update={"installed_at": min([a.installed_at, *starts])})
                fcs, hs = self._replay(p, a, t, how, health, points)
                self._forecasts.backfill(p, fcs, hs)
                n_f, n_h = n_f + len(fcs), n_h + len(hs)
                if progress:
                    progress(f"{type_id}: replaying history", i + 1, len(assets))
            rows.append(
                {"type_id": type_id, "assets": len(assets), "forecast_by": how,
                 "forecasts": n_f, "health_scores": n_h}
            )  # fmt: skip
        return {"types": rows, "forecasts": sum(r["forecasts"] for r in rows)}

    def _replay(self, p, a: Asset, t: AssetType, how, health: bool, points):
        long = self._readings.read_telemetry(a.id, start=a.installed_at)
        if long.empty:
            return [], []
        w = wide(long)
        pos = checkpoints(len(w), points)
        times = list(w.index[pos])
        fcs: list = []
        if how == "rul":
            meta, model = self._forecasts.model_for(t.id)
            # the rows the model reads: every channel known (as ``life_frame`` keeps them)
            ready = w.reindex(columns=_model_channels(model)).ffill().dropna()
            frame = life_frame(ready, a, t)
            if not frame.empty:
                rows = checkpoints(len(frame), points)
                at = [x.to_pydatetime() for x in ready.index[rows]]
                fcs = rul_forecasts(model, frame, rows, a.id, at, t.time_unit.value, meta["id"])
        elif how == "reliability":
            for ts in times:
                fcs += self._reliability.forecast(p, a, as_of=ts.to_pydatetime())
        hs = []
        if health:
            _meta, hm = self._forecasts.model_for(f"{t.id}:health")
            hs = [h for h in health_path(hm, w, times, a.id) if h is not None]
        return fcs, hs


def _model_channels(model) -> list[str]:
    """The columns a sensor RUL model reads: its settings and sensors."""
    norm = model.normalizer_
    return list(dict.fromkeys([*norm.settings, *norm.sensors_]))
