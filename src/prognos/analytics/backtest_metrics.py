"""Scoring a replayed history against what happened: lead times, false alerts, RUL error.

A replay is a life's checkpoints in time order, each with the alerts prognos would have given
then (a health watch, an anomaly alarm, a planned job) and its RUL forecast. Against the end of
the life:

* **lead time** of an alert kind: time from its first checkpoint inside the warning window
  (the last ``window`` time units before the failure) to the failure; none if it never came,
  or came only at the failure itself (no warning). An alert before the window is early.
* **false alerts**: alert episodes (any kind, from the moment one begins until all clear) that
  begin in healthy time: before the warning window of a failed life, or anywhere in a life that
  did not fail.
* **RUL error** at every checkpoint against the true remaining life, capped where the model
  caps it (a capped model promises "at least the cap"), and whether the truth lay inside the
  central 80 % interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

ALERTS = ("watch", "alarm", "job")


@dataclass
class Replay:
    """One life replayed: ages (time units since the life began) and per checkpoint the alerts
    and the RUL quantiles (NaN where the model said nothing)."""

    life_id: str
    asset_id: str
    age: np.ndarray
    alerts: dict[str, np.ndarray]  # kind -> bool per checkpoint
    p10: np.ndarray
    p50: np.ndarray
    p90: np.ndarray
    failed_at: float | None  # the age at failure, None for a life that did not fail


def _episodes(on: np.ndarray) -> np.ndarray:
    """Positions where an alert episode begins (off -> on)."""
    on = np.asarray(on, dtype=bool)
    prev = np.concatenate([[False], on[:-1]])
    return np.flatnonzero(on & ~prev)


def score(r: Replay, window: float, cap: float | None) -> dict[str, object]:
    """Lead times, false alerts and RUL error of one replayed life."""
    any_alert = np.zeros(len(r.age), dtype=bool)
    for on in r.alerts.values():
        any_alert |= on
    out: dict[str, object] = {"life_id": r.life_id, "asset_id": r.asset_id}
    if r.failed_at is None:
        healthy = np.ones(len(r.age), dtype=bool)
        out["lead_times"] = dict.fromkeys(r.alerts)
        out["lead_time"] = None
    else:
        rul = r.failed_at - r.age
        healthy = rul > window
        leads = {}
        for kind, on in r.alerts.items():
            hits = np.flatnonzero(on & ~healthy & (rul > 0))
            leads[kind] = float(rul[hits[0]]) if len(hits) else None
        out["lead_times"] = leads
        found = [v for v in leads.values() if v is not None]
        out["lead_time"] = max(found) if found else None
        truth = np.minimum(rul, cap) if cap is not None else rul
        ok = ~np.isnan(r.p50)
        err = r.p50[ok] - truth[ok]
        out["rul_errors"] = err
        out["inside_80"] = (truth[ok] >= r.p10[ok]) & (truth[ok] <= r.p90[ok])
        out["rul_mae"] = float(np.mean(np.abs(err))) if len(err) else None
        out["rul_rmse"] = float(np.sqrt(np.mean(err**2))) if len(err) else None
        out["coverage_80"] = float(np.mean(out["inside_80"])) if len(err) else None
    starts = _episodes(any_alert)
    out["false_alerts"] = int(np.sum(healthy[starts])) if len(starts) else 0
    if len(r.age) > 1:
        span = np.diff(r.age)
        out["healthy_time"] = float(np.sum(span[healthy[1:]]))
    else:
        out["healthy_time"] = 0.0
    return out


def overall(scored: Sequence[dict], days_per_unit: float) -> dict[str, object]:
    """The fleet's figures: share of failures detected, median lead time, false alerts per 100
    asset-days of healthy time, RUL error and coverage pooled over every checkpoint."""
    failed = [s for s in scored if "rul_errors" in s]
    detected = [s["lead_time"] for s in failed if s["lead_time"] is not None]
    errors = np.concatenate([s["rul_errors"] for s in failed]) if failed else np.array([])
    inside = np.concatenate([s["inside_80"] for s in failed]) if failed else np.array([])
    healthy_days = sum(s["healthy_time"] for s in scored) * days_per_unit
    false = sum(s["false_alerts"] for s in scored)
    return {
        "failures": len(failed),
        "detected_share": len(detected) / len(failed) if failed else None,
        "lead_time_median": float(np.median(detected)) if detected else None,
        "false_alerts": false,
        "healthy_asset_days": healthy_days,
        "false_alerts_per_100_asset_days": 100.0 * false / healthy_days if healthy_days else None,
        "rul_mae": float(np.mean(np.abs(errors))) if len(errors) else None,
        "rul_rmse": float(np.sqrt(np.mean(errors**2))) if len(errors) else None,
        "coverage_80": float(np.mean(inside)) if len(inside) else None,
        "checkpoints": int(len(errors)),
    }
