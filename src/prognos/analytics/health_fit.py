"""Fitting a type's health model from its lives, and choosing its anomaly detector.

A *life* is one part's readings from installation to failure (or to now), in time order, indexed
by time (a DatetimeIndex, or a TimedeltaIndex of ages) or by position. Its healthy period is
what scoring takes as its baseline (``HealthModel.baseline_cut``): its first ``baseline_rows``
readings and all of its first ``baseline_span_hours`` (the count alone for a life without
times), thinned to at most ``baseline_max_rows``. From the healthy periods of every life:

* the shared parts of ``HealthModel`` (regimes, pooled centres and spreads, resolutions, the
  channels worth scoring);
* each life's own baseline, and its readings as z-scores against it;
* the healthy reference: windows of the second half of each healthy period, scored against a
  baseline from its first half (so the reference is never the data a baseline was made of);
* the *explained* channels: those whose z-score at the end of failed lives (the last
  ``end_share``) sits ``explained_z`` or more from their baseline in the median failed life.
  They drift with wear; the failure forecast reads that drift.

Each detector of ``anomaly.DETECTORS`` is fitted on the healthy readings of a share of the
lives and validated on the others: the AUC between healthy windows and end-of-life windows of
failed lives. The better one is kept (the robust z-score one on a tie within 0.005), refitted on
every life, and its validation is kept on the model (``validation_``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from prognos.analytics.anomaly import DETECTORS, auc, make_detector
from prognos.analytics.baseline_rows import row_times
from prognos.analytics.health import HealthModel, rolling_means
from prognos.errors import ModelError


def fit_health(
    lives: Sequence[pd.DataFrame],
    failed: Sequence[bool],
    *,
    settings: Sequence[str] = (),
    baseline_rows: int = 50,
    end_share: float = 0.1,
    explained_z: float = 2.0,
    validation_share: float = 0.3,
    choose: bool = True,
    random_state: int = 0,
    **params,
) -> HealthModel:
    """A ``HealthModel`` fitted from ``lives`` (frames of settings and channels, rows in time
    order; ``failed[i]``: life ``i`` ended in a failure). ``params`` go to ``HealthModel``;
    ``choose=False`` keeps its ``detector`` instead of choosing by validation."""
    model = HealthModel(
        settings=tuple(settings), baseline_rows=baseline_rows, random_state=random_state, **params
    )
    kept = [
        (lf, bool(f))
        for lf, f in zip(lives, failed, strict=True)
        if len(lf) >= model.min_baseline_rows
    ]
    lives, failed = [lf for lf, _ in kept], [f for _, f in kept]
    if not lives:
        raise ModelError(
            f"no life has {model.min_baseline_rows} readings to learn healthy behaviour from"
        )
    cuts = [_healthy_rows(model, lf) for lf in lives]
    pooled = pd.concat([lf.iloc[c] for lf, c in zip(lives, cuts, strict=True)], ignore_index=True)
    values, s = model._split(pooled, reset=True)
    model.fit_shared(values, s)
    parts = [_life_parts(model, lf, c, end_share) for lf, c in zip(lives, cuts, strict=True)]
    explained = _explained(
        model, [p for p, f in zip(parts, failed, strict=False) if f], explained_z
    )
    chosen, validation = (
        _choose(model, parts, failed, validation_share, random_state)
        if choose
        else (model.detector, {"note": f"detector {model.detector!r} set, not chosen"})
    )
    healthy = np.vstack([p["healthy"] for p in parts])
    reference = np.vstack([p["reference"] for p in parts])
    model.set_detectors(healthy, reference, explained, chosen)
    model.detector = chosen
    model.validation_ = validation
    return model


def _healthy_rows(model: HealthModel, life: pd.DataFrame) -> np.ndarray:
    """Positions of the life's healthy period: the rows its baseline is made of."""
    return model.baseline_cut(row_times(life), np.zeros(len(life), dtype=int))[0]


def _life_parts(model: HealthModel, life: pd.DataFrame, cut: np.ndarray, end_share: float) -> dict:
    """z-scores of the life against its own baseline (``cut``: its rows; as it is, not widened
    when the life is short: training learns from what healthy parts do); the reference: the
    readings after the first half of those rows, up to the last, against the first half's."""
    own = model.own_baselines(life.iloc[cut], np.zeros(len(cut), dtype=int))[0]
    z, r = model.z(life, own)
    ok = model.settled(r)
    half = max(max(len(cut), model.baseline_rows) // 2, model.min_baseline_rows)
    if len(cut) > half:
        first = model.own_baselines(life.iloc[cut[:half]], np.zeros(half, dtype=int))[0]
        zh, rh = model.z(life.iloc[cut[half] : cut[-1] + 1], first)
    else:  # a life too short to hold out part of its healthy period
        zh, rh = np.zeros((0, len(model.channels_))), np.zeros(0, dtype=int)
    tail = max(int(len(life) * end_share), 1)
    end = z[-tail:][ok[-tail:]]
    healthy = np.zeros(len(life), dtype=bool)
    healthy[cut] = True
    return {
        "healthy": z[healthy & ok],
        "reference": rolling_means(zh[model.settled(rh)], model.window),
        "end": rolling_means(end, model.window),
        "end_median": np.median(end, axis=0) if len(end) else np.zeros(z.shape[1]),
    }


def _explained(model: HealthModel, failed_parts: list[dict], explained_z: float) -> list[str]:
    """Channels that sit ``explained_z`` or more from baseline at the end of failed lives."""
    if len(failed_parts) < 2:
        return []
    shift = np.median(np.vstack([p["end_median"] for p in failed_parts]), axis=0)
    return [c for c, v in zip(model.channels_, shift, strict=True) if abs(v) >= explained_z]


def _choose(
    model: HealthModel,
    parts: list[dict],
    failed: list[bool],
    validation_share: float,
    random_state: int,
) -> tuple[str, dict]:
    """The detector with the best validation AUC, and every detector's validation."""
    fails = [i for i, f in enumerate(failed) if f]
    if len(fails) < 2:
        return model.detector, {"note": "fewer than 2 failed lives: nothing to validate on"}
    rng = np.random.default_rng(random_state)
    held = set(
        rng.choice(len(parts), size=max(1, int(len(parts) * validation_share)), replace=False)
    )
    if not any(i in held for i in fails):
        held.add(fails[0])
    train = [p for i, p in enumerate(parts) if i not in held]
    test = [p for i, p in enumerate(parts) if i in held]
    test_end = [p["end"] for i, p in enumerate(parts) if i in held and failed[i]]
    if not train or not test_end:
        return model.detector, {"note": "too few lives to hold some out"}
    out: dict = {"held_out_lives": len(test), "held_out_failed": len(test_end)}
    best, best_auc = model.detector, -1.0
    for name in DETECTORS:
        d = make_detector(name).fit(np.vstack([p["healthy"] for p in train]))
        d.calibrate(np.vstack([p["reference"] for p in train]), model.reference_quantile)
        healthy = d.distance(np.vstack([p["reference"] for p in test]))
        ending = d.distance(np.vstack(test_end))
        a = auc(healthy, ending)
        out[name] = {
            "auc": round(a, 4),
            "false_rate": round(float(np.mean(healthy > d.reference_)), 4),
            "detection_rate": round(float(np.mean(ending > d.reference_)), 4),
        }
        better = a > best_auc + 0.005 or (abs(a - best_auc) <= 0.005 and name == "robust-z")
        if np.isfinite(a) and better:
            best, best_auc = name, a
    out["chosen"] = best
    return best, out
