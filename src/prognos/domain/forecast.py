"""What prognostics promises the planner: time to failure as a distribution, and health now.

A ``FailureForecast`` is the only thing the planner consumes. It holds the distribution of the
time to failure as monotone quantiles (in the asset type's time unit, counted from ``as_of``);
``survival`` and ``prob_fail_before`` interpolate its CDF linearly between them. Beyond the
outermost quantiles the tails are extended so every question has an answer:

* below the lowest quantile ``t0`` (at level ``p0``) the CDF is the power law
  ``p0 * (t / t0) ** lower_tail_shape``. Shape 1 (the default, and the meaning of every forecast
  stored before the field existed) is a straight line from CDF 0 at time 0; wear-out failures
  start slower, like ``t ** k`` with ``k > 1`` (a Weibull of shape ``k`` near zero), and a
  straight line would overstate the risk of failing soon by orders of magnitude at small ``t``;
* above the last quantile the CDF rises linearly to 1 at ``upper_tail`` times that quantile.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

import numpy as np

DEFAULT_LEVELS: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)


@dataclass(frozen=True)
class FailureForecast:
    """Distribution of one asset's (or component's) time to failure, as of a moment."""

    asset_id: str
    as_of: datetime
    levels: tuple[float, ...]
    values: tuple[float, ...]
    time_unit: str = "cycles"
    model: str = ""
    model_version: str = ""
    component: str | None = None
    upper_tail: float = 1.5
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    # last, so that positional construction up to ``extra`` keeps working
    lower_tail_shape: float = 1.0

    def __post_init__(self) -> None:
        lv, vv = self.levels, self.values
        # a fleet makes thousands of these from plain floats: the same checks and repair in
        # Python cost a tenth of numpy's calls on seven numbers (and give the same floats)
        plain = _plain_floats(lv) and _plain_floats(vv)
        lv, vv = _checked_plain(lv, vv) if plain else _checked_arrays(lv, vv)
        try:
            k = float(self.lower_tail_shape)
        except (TypeError, ValueError):
            k = float("nan")
        if not (math.isfinite(k) and k > 0):
            raise ValueError(
                f"lower_tail_shape must be finite and > 0, not {self.lower_tail_shape!r}"
            )
        object.__setattr__(self, "levels", lv)
        object.__setattr__(self, "values", vv)
        object.__setattr__(self, "lower_tail_shape", k)

    @classmethod
    def from_quantiles(
        cls, asset_id: str, as_of: datetime, quantiles: dict[float, float], **kw: Any
    ) -> FailureForecast:
        items = sorted(quantiles.items())
        return cls(asset_id, as_of, tuple(k for k, _ in items), tuple(v for _, v in items), **kw)

    @classmethod
    def from_samples(
        cls,
        asset_id: str,
        as_of: datetime,
        samples: Sequence[float],
        levels: Sequence[float] = DEFAULT_LEVELS,
        **kw: Any,
    ) -> FailureForecast:
        q = np.quantile(np.asarray(samples, dtype=float), list(levels))
        return cls(asset_id, as_of, tuple(levels), tuple(q), **kw)

    # -- the distribution -------------------------------------------------------------------
    def _knots(self) -> tuple[np.ndarray, np.ndarray]:
        return self._knot_arrays

    @cached_property
    def _knot_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        # once per forecast (read-only): saving one asks for p10, p50, p90, point and the cdf
        last = self.values[-1]
        hi = max(last * self.upper_tail, last + 1e-9)
        xs = np.array([0.0, *self.values, hi], dtype=float)
        ps = np.array([0.0, *self.levels, 1.0], dtype=float)
        xs.setflags(write=False)
        ps.setflags(write=False)
        return xs, ps

    def cdf(self, t: float | np.ndarray) -> float | np.ndarray:
        """P(time to failure <= t)."""
        xs, ps = self._cdf_knots
        tt = np.asarray(t, dtype=float)
        out = np.interp(tt, xs, ps, left=0.0, right=1.0)
        t0 = self.values[0]
        if self.lower_tail_shape != 1.0 and t0 > 0:  # shape 1 is the line np.interp already drew
            low = (tt > 0) & (tt < t0)
            out = np.where(low, ps[1] * (np.where(low, tt, 0.0) / t0) ** self.lower_tail_shape, out)
        return float(out) if np.ndim(out) == 0 else out

    @cached_property
    def _cdf_knots(self) -> tuple[np.ndarray, np.ndarray]:
        xs, ps = self._knots()
        # duplicate knots (equal quantiles) are fine for np.interp with increasing xs; make them so
        xs = np.maximum.accumulate(xs + np.arange(len(xs)) * 1e-12)
        xs.setflags(write=False)
        return xs, ps

    def prob_fail_before(self, t: float | np.ndarray) -> float | np.ndarray:
        """Probability of failure within ``t`` time units of ``as_of``."""
        return self.cdf(t)

    def survival(self, t: float | np.ndarray) -> float | np.ndarray:
        """Probability the asset still runs ``t`` time units after ``as_of``."""
        c = self.cdf(t)
        return 1.0 - c

    def quantile(self, q: float) -> float:
        """The time by which the asset has failed with probability ``q`` (inverse of ``cdf``)."""
        xs, ps = self._knots()
        if self.lower_tail_shape != 1.0 and 0.0 < q < ps[1]:
            return float(xs[1] * (q / ps[1]) ** (1.0 / self.lower_tail_shape))
        return float(np.interp(q, ps, xs))

    @cached_property
    def _summary(self) -> tuple[float, float, float]:
        """p10, p50, p90 in one ``np.interp`` call (element by element the same as ``quantile``),
        once per forecast: saving one reads them five times."""
        xs, ps = self._knots()
        qs = (0.1, 0.5, 0.9)
        lines = np.interp(np.array(qs), ps, xs).tolist()
        return tuple(  # type: ignore[return-value]
            self.quantile(q) if self.lower_tail_shape != 1.0 and 0.0 < q < ps[1] else v
            for q, v in zip(qs, lines, strict=True)
        )

    @property
    def p10(self) -> float:
        return self._summary[0]

    @property
    def p50(self) -> float:
        return self._summary[1]

    @property
    def p90(self) -> float:
        return self._summary[2]

    @property
    def point(self) -> float:
        """The point estimate: the median."""
        return self.p50

    def shifted(self, elapsed: float, as_of: datetime) -> FailureForecast:
        """The same belief ``elapsed`` units later, ignoring the news that it has not failed yet."""
        return FailureForecast(
            self.asset_id,
            as_of,
            self.levels,
            tuple(max(v - elapsed, 0.0) for v in self.values),
            self.time_unit,
            self.model,
            self.model_version,
            self.component,
            self.upper_tail,
            dict(self.extra),
            self.lower_tail_shape,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "asset_id": self.asset_id,
            "component": self.component,
            "as_of": self.as_of.isoformat(),
            "time_unit": self.time_unit,
            "model": self.model,
            "model_version": self.model_version,
            "quantiles": {f"{lv:g}": v for lv, v in zip(self.levels, self.values, strict=True)},
            "upper_tail": self.upper_tail,
            "lower_tail_shape": self.lower_tail_shape,
            "p10": self.p10,
            "p50": self.p50,
            "p90": self.p90,
            "point": self.point,
            "extra": self.extra,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FailureForecast:
        q = {float(k): float(v) for k, v in d["quantiles"].items()}
        as_of = d["as_of"]
        if isinstance(as_of, str):
            as_of = datetime.fromisoformat(as_of)
        tails = {k: float(d[k]) for k in ("upper_tail", "lower_tail_shape") if d.get(k) is not None}
        return cls.from_quantiles(
            d["asset_id"],
            as_of,
            q,
            time_unit=d.get("time_unit", "cycles"),
            model=d.get("model", ""),
            model_version=d.get("model_version", ""),
            component=d.get("component"),
            extra=d.get("extra") or {},
            **tails,
        )


def _plain_floats(xs: Any) -> bool:
    return type(xs) in (tuple, list) and all(type(x) is float for x in xs)


def _checked_plain(
    lv: Sequence[float], vv: Sequence[float]
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """``_checked_arrays`` for sequences of Python floats, comparison for comparison."""
    if len(lv) != len(vv) or len(lv) == 0:
        raise ValueError("levels and values must be equal-length, non-empty sequences")
    if any(b - a <= 0 for a, b in zip(lv[:-1], lv[1:], strict=True)) or lv[0] <= 0 or lv[-1] >= 1:
        raise ValueError("levels must be strictly increasing inside (0, 1)")
    if not all(math.isfinite(v) for v in vv):
        raise ValueError("quantile values must be finite")
    # as np.maximum(np.sort(v), 0.0): -0.0 becomes 0.0 too
    return tuple(lv), tuple(sorted(v if v > 0.0 else 0.0 for v in vv))


def _checked_arrays(lv: Any, vv: Any) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Levels and values checked, the values sorted and clipped at 0 (anything numpy reads)."""
    lv = np.asarray(lv, dtype=float)
    vv = np.asarray(vv, dtype=float)
    if lv.shape != vv.shape or lv.ndim != 1 or len(lv) == 0:
        raise ValueError("levels and values must be equal-length, non-empty sequences")
    if np.any(np.diff(lv) <= 0) or lv[0] <= 0 or lv[-1] >= 1:
        raise ValueError("levels must be strictly increasing inside (0, 1)")
    if not np.all(np.isfinite(vv)):
        raise ValueError("quantile values must be finite")
    # Quantile crossing is a modelling artefact; sorting is the standard repair.
    vv = np.maximum(np.sort(vv), 0.0)
    return tuple(float(x) for x in lv), tuple(float(x) for x in vv)


@dataclass(frozen=True)
class HealthScore:
    """0-100 health of an asset now, with the channels that pulled it down and anomaly flags.

    ``extra`` says how the score came about (the anomaly model's own scores, the failure
    forecast's probability and the rule that reconciled them, the baseline used: see
    docs/health.md)."""

    asset_id: str
    as_of: datetime
    score: float
    drivers: dict[str, float] = field(default_factory=dict)  # channel -> contribution
    anomalies: dict[str, float] = field(default_factory=dict)  # channel -> how unusual (z)
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "asset_id": self.asset_id,
            "as_of": self.as_of.isoformat(),
            "score": self.score,
            "drivers": self.drivers,
            "anomalies": self.anomalies,
            "extra": self.extra,
        }
