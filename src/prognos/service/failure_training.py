"""Training the failure-within-horizon classifier of a type, and its honest validation.

The rows are the type's lives (``life_table``): failed lives from labelled events, and the
lives that did not end in failure (assets without one, a part's life in progress, lives ended
by a replacement alone) as censored ones. Each row is labelled "a failure within H"
(``analytics.failure_within.within_labels``). Validation is cross-validated over assets (over
lives when the type has one asset, as a tabular set's machine): each row is scored by models
that never saw its asset. The classifier is kept only when its out-of-fold AUC beats those of
the baselines on the same rows (and reaches ``MIN_AUC``): the platform's health score (a health model fitted on the
other folds' early lives, as ``prognos backtest`` replays it) and the age in the life.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from prognos.analytics.failure_within import (
    KINDS,
    FailureWithinModel,
    brier,
    out_of_fold,
    scores,
    within_labels,
)
from prognos.analytics.life_events import Life
from prognos.domain import Asset, AssetType
from prognos.errors import ModelError
from prognos.service.replay import checkpoints
from prognos.service.training_data import life_table
from prognos.store.ports import ReadingsPort

MAX_ROWS = 30_000  # training rows at most (evenly spread over each life)
EVAL_POINTS = 40  # rows per life where classifier and baselines are compared
MIN_AUC = 0.6  # below this a classifier tells little, whatever the baselines do


@dataclass
class Rows:
    """Labelled rows of the lives, their features and where each came from."""

    frame: pd.DataFrame  # unit (life id), cycle, channels
    X: pd.DataFrame
    y: np.ndarray
    groups: np.ndarray  # asset ids, or life ids with one asset
    evaluate: np.ndarray  # the rows the baselines are compared on
    channels: list[str]
    lives: dict[str, Life]
    folds_over: str


def labelled_rows(
    readings: ReadingsPort,
    assets: dict[str, Asset],
    t: AssetType,
    failed: list[Life],
    censored: list[Life],
    horizon: float,
) -> Rows:
    """The lives' rows with window features and labels (unknown rows dropped)."""
    table = life_table(readings, assets, t, failed)
    if table.data.empty:
        raise ModelError("no labelled failure has readings before it")
    channels = table.settings + table.sensors
    rest = life_table(readings, assets, t, censored, channels) if censored else None
    parts = [table.data.assign(failed=True)]
    if rest is not None and not rest.data.empty:
        parts.append(rest.data.assign(failed=False))
    data = pd.concat(parts, ignore_index=True)
    lives = {x.id: x for x in table.lives + (rest.lives if rest is not None else [])}
    model = FailureWithinModel(horizon=horizon, channels=channels)
    X = model.features(data)  # every row from its own life's past only
    y = within_labels(data["rul"].to_numpy(), data["failed"].to_numpy(), horizon)
    per_life = max(20, MAX_ROWS // max(len(lives), 1))
    keep = np.zeros(len(data), dtype=bool)
    evaluate = np.zeros(len(data), dtype=bool)
    for _unit, idx in data.groupby("unit", sort=False).indices.items():
        known = idx[np.isfinite(y[idx])]
        keep[known[checkpoints(len(known), per_life)]] = True
        evaluate[known[checkpoints(len(known), EVAL_POINTS)]] = True
    by_life = len({x.asset_id for x in lives.values()}) < 2
    unit = data["unit"].to_numpy()
    groups = unit if by_life else np.array([lives[u].asset_id for u in unit], dtype=object)
    return Rows(
        data.loc[keep, ["unit", "cycle", *channels]].reset_index(drop=True),
        X.loc[keep].reset_index(drop=True),
        y[keep].astype(int),
        groups[keep],
        evaluate[keep],
        channels,
        lives,
        "lives" if by_life else "assets",
    )


def health_risk(rows: Rows, t: AssetType, folds: int, fit_health, early_life) -> np.ndarray:
    """Minus the health score at the evaluation rows, from a health model fitted on the other
    folds' early lives (the score ``prognos backtest`` replays: the type's baseline, the
    window ending at the row); NaN elsewhere."""
    from sklearn.model_selection import GroupKFold

    risk = np.full(len(rows.y), np.nan)
    unit_s = t.time_unit.seconds
    f = rows.frame
    for tr, te in GroupKFold(n_splits=folds).split(f, rows.y, rows.groups):
        seen = [g for _u, g in f.iloc[tr].groupby("unit", sort=False)]
        try:
            model, _card = fit_health(early_life(seen), t)
        except Exception:  # noqa: BLE001 - a fold without enough early life has no baseline
            continue
        cols = list(model.settings) + [
            c for c in model.feature_names_in_ if c not in model.settings
        ]
        keep = max(model.window, 1) * 3  # the window ``ForecastService.health`` scores
        windows, labels, where = [], [], []
        for unit, g in f.iloc[te].assign(_row=te).groupby("unit", sort=False):
            g = g.sort_values("cycle")
            stamps = pd.Timestamp(rows.lives[unit].start) + pd.to_timedelta(
                g["cycle"] * unit_s, unit="s"
            )
            ready = g[cols].set_index(pd.DatetimeIndex(stamps))
            at = g["_row"].to_numpy()
            for j in np.flatnonzero(rows.evaluate[at]):
                windows.append(ready.iloc[max(0, j - keep + 1) : j + 1])
                labels += [len(where)] * len(windows[-1])
                where.append(at[j])
        if windows:  # every window scored in one pass (``health_many``)
            hs = model.health_many(pd.concat(windows), np.asarray(labels))
            risk[np.asarray(where)] = [-h.score for h in hs]
    return risk


def cross_validate(
    rows: Rows, t: AssetType, folds: int, fit_health, early_life, seed: int = 0
) -> dict[str, Any]:
    """Out-of-fold AUC and Brier of each candidate and AUC of the baselines, on the same rows;
    which candidate is best and whether it beats every baseline."""
    n_groups = len(set(rows.groups))
    folds = min(folds, n_groups)
    if folds < 2:
        raise ModelError(
            "a classifier needs labelled rows of two assets (or lives) to validate over",
            hint="load more failure events (`prognos events load`); rows in the last "
            "PROGNOS_FAILURE_HORIZON of a life without a failure are unknown and left out",
        )
    if len(np.unique(rows.y)) < 2:
        raise ModelError(
            "every labelled row has the same label: no failure within the horizon",
            hint="set PROGNOS_FAILURE_HORIZON in the type's time unit (now "
            f"{rows.frame['cycle'].max():.3g} is the longest life seen)",
        )
    ev = rows.evaluate
    y = rows.y
    out: dict[str, Any] = {"candidates": {}, "baselines": {}}
    for kind in KINDS:
        oof = out_of_fold(rows.X, y, rows.groups, kind, folds, seed)
        out["candidates"][kind] = {
            "auc": scores(y[ev], oof[ev])["auc"],
            "brier": brier(y[ev], oof[ev]),
            "auc_all_rows": scores(y, oof)["auc"],
        }
    out["baselines"]["age"] = scores(y[ev], rows.frame["cycle"].to_numpy(dtype=float)[ev])["auc"]
    out["baselines"]["health"] = scores(
        y[ev], health_risk(rows, t, folds, fit_health, early_life)[ev]
    )["auc"]
    prevalence = float(y[ev].mean())
    out["brier_prevalence"] = float(np.mean((y[ev] - prevalence) ** 2))
    ranked = [k for k in KINDS if out["candidates"][k]["auc"] is not None]
    best = max(ranked, key=lambda k: out["candidates"][k]["auc"], default=None)
    bar = max([v for v in out["baselines"].values() if v is not None] + [MIN_AUC])
    out.update(
        chosen=best,
        auc=out["candidates"][best]["auc"] if best else None,
        brier=out["candidates"][best]["brier"] if best else None,
        beats_baselines=bool(best and out["candidates"][best]["auc"] > bar),
        folds=folds,
        folds_over=rows.folds_over,
        rows=len(y),
        evaluated_rows=int(ev.sum()),
        positive_share=prevalence,
        lives=len(rows.lives),
    )
    return out


def censored_lives(
    readings: ReadingsPort,
    assets: dict[str, Asset],
    lives: list[Life],
    events: dict[str, list[dict[str, Any]]],
) -> list[Life]:
    """Lives that did not end in failure: those a replacement alone ended, and each asset's
    life in progress from its last reset to its newest reading (the whole history of an
    asset without events). ``lives`` (``EventService.lives``) end the life in progress at
    the newest of the type's ``events``; here it runs to the asset's newest reading."""
    until = max((_utc(e["at"]) for evs in events.values() for e in evs), default=None)
    own = [x for x in lives if x.component is None]
    out = [x for x in own if not x.failed and x.end != until]
    for a in assets.values():
        mine = [x for x in own if x.asset_id == a.id and x.end != until]
        start = max([x.end for x in mine], default=a.installed_at)
        last = readings.telemetry_span(a.id)[1]
        if last is not None and last > start:
            out.append(Life(a.id, None, start, last, False, "", len(mine)))
    return out


def fit_classifier(
    readings: ReadingsPort,
    assets: dict[str, Asset],
    t: AssetType,
    failed: list[Life],
    censored: list[Life],
    *,
    horizon: float,
    folds: int,
    fit_health,
    early_life,
    seed: int = 0,
) -> tuple[FailureWithinModel, dict[str, Any]]:
    """Validate the candidates over folds, then fit the best on every row; its card."""
    rows = labelled_rows(readings, assets, t, failed, censored, horizon)
    card = cross_validate(rows, t, folds, fit_health, early_life, seed)
    kind = card["chosen"] or KINDS[0]
    model = FailureWithinModel(horizon=horizon, channels=rows.channels, kind=kind,
                               random_state=seed).fit_features(rows.X, rows.y)  # fmt: skip
    card.update(horizon=horizon, channels=rows.channels, time_unit=t.time_unit.value)
    return model, card


def _utc(at: str) -> datetime:
    t = datetime.fromisoformat(at)
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t
