"""Calibration check of ``WearTrendModel``: simulated wear series with a known crossing time.

Each series wears as ``w0 + (L - w0) * (t / life) ** p`` (``p = 1`` for the linear form, ``p``
log-uniform in 0.5-2 for the power form) and reaches the threshold ``L`` at ``t = life``. It is
measured from new (``t = 0``) up to 30-70 % of its life, 15-300 readings, with white noise of
1-5 % of the wear range (the simulated fleet's chains have about 1 %, its elevator bearings 2.6 %).
The truth is the time the *trend* has left at the last reading, what the model forecasts.

    python tests/analytics/wear_calibration.py --n 200          # JSON: coverage and width per form
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass

import numpy as np

from prognos.analytics.wear import WearTrendModel

THRESHOLD = 3.0


@dataclass(frozen=True)
class Series:
    t: np.ndarray
    wear: np.ndarray
    truth: float  # time left from t[-1] until the trend reaches THRESHOLD
    power: float


def simulate(form: str, rng: np.random.Generator, noise: str = "drift") -> Series:
    """One wear series of ``form`` ("linear" or "power") up to a random share of its life.

    ``noise="white"``: independent readings. ``"drift"`` (default): part of the noise (0-80 % of
    its variance) drifts slowly, an AR(1) with a correlation time of 1-5 % of the life (load,
    temperature, lubricant film), so neighbouring readings err alike, as real wear readings do."""
    life = float(np.exp(rng.normal(np.log(1000.0), 0.5)))
    p = 1.0 if form == "linear" else float(np.exp(rng.uniform(np.log(0.5), np.log(2.0))))
    w0 = rng.uniform(0.0, 0.5)
    seen = rng.uniform(0.3, 0.7)
    n = int(np.exp(rng.uniform(np.log(15), np.log(300))))
    t = np.linspace(0.0, seen * life, n)
    sd = rng.uniform(0.01, 0.05) * (THRESHOLD - w0)
    share = rng.uniform(0.0, 0.8) if noise == "drift" else 0.0
    rho = np.exp(
        -np.diff(t, prepend=t[0]) / (np.exp(rng.uniform(np.log(0.01), np.log(0.05))) * life)
    )
    slow = np.empty(n)
    z = rng.standard_normal(n)
    slow[0] = z[0]
    for i in range(1, n):  # stationary AR(1) on the (even) grid: variance 1
        slow[i] = rho[i] * slow[i - 1] + np.sqrt(1.0 - rho[i] ** 2) * z[i]
    white = rng.standard_normal(n)
    err = sd * (np.sqrt(share) * slow + np.sqrt(1.0 - share) * white)
    wear = w0 + (THRESHOLD - w0) * (t / life) ** p + err
    return Series(t, wear, life - t[-1], p)


def calibration(
    form: str, n: int = 200, seed: int = 0, noise: str = "drift", n_samples: int = 2000
) -> dict:
    """Share of truths inside P10-P90 and P5-P95 over ``n`` series, and interval widths relative
    to the truth (median), for the model ``form`` fitted to series of the same form."""
    rng = np.random.default_rng(seed)
    rows, fit_s = [], 0.0
    for i in range(n):
        s = simulate(form, rng, noise)
        m = WearTrendModel(threshold=THRESHOLD, form=form, n_samples=n_samples, random_state=i)
        t0 = time.perf_counter()
        m.fit(s.t[:, None], s.wear)
        fit_s += time.perf_counter() - t0
        never = 1e18  # drawn trends that never cross: beyond any truth, and finite for quantile
        samples = np.nan_to_num(m.crossing_time_samples(), posinf=never)
        q = np.quantile(samples, [0.05, 0.1, 0.5, 0.9, 0.95])
        rows.append((s.truth, *q))
    truth, q05, q10, q50, q90, q95 = np.array(rows).T
    return {
        "form": form,
        "noise": noise,
        "n": n,
        "seed": seed,
        "cover_80": float(np.mean((q10 <= truth) & (truth <= q90))),
        "cover_90": float(np.mean((q05 <= truth) & (truth <= q95))),
        "below_p10": float(np.mean(truth < q10)),
        "above_p90": float(np.mean(truth > q90)),
        "width_80_rel": float(np.median((q90 - q10) / truth)),
        "width_90_rel": float(np.median((q95 - q05) / truth)),
        "median_abs_err_rel": float(np.median(np.abs(q50 - truth) / truth)),
        "fit_ms": 1000.0 * fit_s / n,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--forms", default="linear,power")
    ap.add_argument("--noise", default="white,drift")
    args = ap.parse_args()
    for noise in args.noise.split(","):
        for form in args.forms.split(","):
            res = calibration(form, args.n, args.seed, noise)
            print(
                json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in res.items()})
            )


if __name__ == "__main__":
    main()
