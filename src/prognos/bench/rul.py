"""Benchmark: rul -- sensor-driven RUL on a C-MAPSS subset, under the standard protocol.

Train on the train units only (cross-fitting and conformal calibration use held-out *train*
units), predict at the last cycle of every test unit, score against the RUL file capped at 125.
Metrics are means over ``--seeds`` runs that differ only in the random seed.

``lower_tail`` checks the forecast's tail below its 5 % quantile ``q05`` on every cycle of every
test unit (the true RUL there is the test truth plus the cycles still to come): the share of
rows with ``RUL <= x * q05`` beside what a forecast claims, ``0.05 * x ** k``, for the model's
shape ``k`` and for the straight line (``k = 1``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

CAP = 125.0
TAIL_X = (0.25, 0.5, 0.75, 1.0)


def phm08_score(pred, true) -> float:
    """PHM08 challenge score: late predictions cost more than early ones (summed, lower is better)."""
    import numpy as np

    d = np.asarray(pred, dtype=float) - np.asarray(true, dtype=float)
    return float(np.sum(np.where(d < 0, np.exp(-d / 13.0) - 1.0, np.exp(d / 10.0) - 1.0)))


def run_once(subset, seed: int, n_jobs: int, params: dict | None = None) -> dict[str, float]:
    """Train on ``subset.train`` with one seed, score at the last cycle of each test unit."""
    import numpy as np

    from prognos.analytics.rul import RulEstimator, SensorRulModel

    truth = np.minimum(subset.test_rul, CAP)
    t0, c0 = time.perf_counter(), time.process_time()
    est = RulEstimator(n_jobs=n_jobs, **(params or {}))
    model = SensorRulModel(cap=CAP, estimator=est, random_state=seed).fit(subset.train)
    train_s, train_cpu = time.perf_counter() - t0, time.process_time() - c0
    t1 = time.perf_counter()
    q = model.predict_quantiles_last(subset.test, (0.05, 0.5, 0.95))
    pred = model.predict_last(subset.test).to_numpy()
    predict_s = time.perf_counter() - t1
    n_units = len(pred)
    lo, hi = q[0.05].to_numpy(), q[0.95].to_numpy()
    tail = lower_tail(model, subset)
    return {
        "tail_empirical": tail,
        "rmse": float(np.sqrt(np.mean((pred - truth) ** 2))),
        "phm08_score": phm08_score(pred, truth),
        "coverage_90": float(np.mean((truth >= lo) & (truth <= hi))),
        "width_90": float(np.mean(hi - lo)),
        "train_seconds": train_s,
        "train_cpu_seconds": train_cpu,
        "predict_ms_per_unit": 1000.0 * predict_s / n_units,
        "regimes": float(model.normalizer_.n_regimes_),
        "inner_oof_rmse": model.estimator_.oof_rmse_,
    }


def cv_rmse(train, seed: int, n_jobs: int, params: dict | None, folds: int = 5) -> float:
    """RMSE of the median RUL forecast on the train units by ``folds``-fold cross-validation
    over units: each unit's every cycle forecast by a model (as deployed: the ensemble of its
    cross-fitted boosters) that never saw it; truth capped at ``CAP``. This is what
    ``prognos backtest`` reports as ``rul_rmse`` for the same units loaded into the platform."""
    import numpy as np

    from prognos.analytics.cmapss import run_to_failure_rul
    from prognos.analytics.rul import RulEstimator, SensorRulModel

    units = np.unique(train["unit"])
    fold = dict(zip(np.random.default_rng(seed).permutation(units), np.arange(len(units)) % folds,
                    strict=True))  # fmt: skip
    errors = []
    for k in range(folds):
        held = train["unit"].map(fold) == k
        est = RulEstimator(n_jobs=n_jobs, **(params or {}))
        model = SensorRulModel(cap=CAP, estimator=est, random_state=seed).fit(train[~held])
        test = train[held].sort_values(["unit", "cycle"], kind="stable")  # as features sorts
        feats = model.features(test)
        q = model.estimator_.predict_quantiles(feats[model.feature_names_].to_numpy(), (0.5,))
        truth = np.minimum(run_to_failure_rul(test), CAP)
        errors.append(q[:, 0] - truth)
    err = np.concatenate(errors)
    return float(np.sqrt(np.mean(err**2)))


def lower_tail(model, subset) -> list[float]:
    """Share of test rows (every cycle) whose true RUL is at most ``x`` times their 5 % quantile."""
    import numpy as np

    feats = model.features(subset.test)
    units = feats[model.unit_col]
    end = dict(zip(np.unique(subset.test[model.unit_col]), subset.test_rul, strict=True))
    cycle = feats[model.time_col]
    truth = units.map(end).to_numpy(float) + (cycle.groupby(units).transform("max") - cycle)
    q05 = model.estimator_.predict_quantiles(feats[model.feature_names_].to_numpy(), (0.05,))
    return [float(np.mean(truth.to_numpy() <= x * q05[:, 0])) for x in TAIL_X]


def run(
    subset_name: str = "FD001",
    data_dir: Path | None = None,
    seeds: int = 3,
    n_jobs: int = 1,
    on_seed=None,
    params: dict | None = None,
) -> dict[str, Any]:
    """Mean metrics over ``seeds`` seeds on one subset (``params``: RulEstimator settings).

    ``oof_rmse_train_units`` is the cross-validated RMSE on the train units (``cv_rmse``)."""
    import numpy as np

    from prognos.analytics.cmapss import load_subset
    from prognos.analytics.rul import SensorRulModel

    subset = load_subset(subset_name, data_dir)
    runs = []
    for seed in range(seeds):
        runs.append(run_once(subset, seed, n_jobs, params))
        if on_seed is not None:
            on_seed(seed)
    keys = (
        "rmse",
        "phm08_score",
        "coverage_90",
        "width_90",
        "train_seconds",
        "predict_ms_per_unit",
    )
    out: dict[str, Any] = {"subset": subset_name}
    out.update({k: round(float(np.mean([r[k] for r in runs])), 4) for k in keys})
    out["seeds"] = seeds
    out["train_cpu_seconds"] = round(float(np.mean([r["train_cpu_seconds"] for r in runs])), 2)
    out["per_seed_rmse"] = [round(r["rmse"], 3) for r in runs]
    # the boosters' own cross-fitting residuals (single fold models, what calibrates the
    # quantiles), and the deployed model's error on units it never saw (seed 0 only: 5 fits)
    out["inner_oof_rmse"] = round(float(np.mean([r["inner_oof_rmse"] for r in runs])), 4)
    out["oof_rmse_train_units"] = round(cv_rmse(subset.train, 0, n_jobs, params), 4)
    out["regimes"] = int(runs[0]["regimes"])
    k = SensorRulModel().lower_tail_shape
    out["lower_tail"] = {
        "x": list(TAIL_X),
        "empirical": [round(float(v), 4) for v in np.mean([r["tail_empirical"] for r in runs], 0)],
        f"claimed_k{k:g}": [round(0.05 * x**k, 4) for x in TAIL_X],
        "claimed_k1": [round(0.05 * x, 4) for x in TAIL_X],
        "test_rows": int(len(subset.test)),
    }
    out["n_test_units"] = len(subset.test_rul)
    out["estimator_params"] = params or {}
    return out
