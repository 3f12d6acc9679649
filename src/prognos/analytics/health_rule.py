"""The rule that keeps an asset's health consistent with its failure forecast.

The anomaly model says how unusual the readings are; the failure forecast says how likely the
part fails soon. A plant manager reads one number, so they must not contradict each other:
no "critical" when failure within the horizon is negligible, no "good" when it is imminent.
With ``P`` the forecast's probability of failure within ``horizon_days`` (calendar days):

* ``P <= p_negligible``: the score is the anomaly score of the channels the forecast does not
  explain (``HealthModel.explained_``: those that drift with wear, which the forecast already
  reads), and at least 40: "watch" at worst. Anomalies on explained channels are left out: wear
  the forecast has priced in is not news.
* ``p_negligible < P < p_imminent``: the anomaly score of the unexplained channels, at most
  ``70 - 30 (P - p_negligible) / (p_imminent - p_negligible)``: "watch" at best. Explained
  channels are left out here too: the forecast's own probability (and its alarm rule) speaks
  for that wear, so the score is critical only for unexplained anomalies it shows.
* ``P >= p_imminent``: the anomaly score of every channel, at most
  ``40 (1 - P) / (1 - p_imminent)``: "critical"; every anomaly is kept.

Without a forecast the anomaly score of every channel stands alone. Bands (``service.fleet``):
good >= 70 > watch >= 40 > critical. The rule is idempotent: it reads the anomaly model's own
scores from ``HealthScore.extra``, so applying it again with a newer forecast is safe.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any

from prognos.domain.forecast import FailureForecast, HealthScore

GOOD, WATCH = 70.0, 40.0
_UNIT_SECONDS = {"hours": 3600.0, "days": 86400.0, "cycles": 86400.0}


@dataclass(frozen=True)
class RuleParams:
    horizon_days: float = 14.0
    p_negligible: float = 0.05
    p_imminent: float = 0.5

    def as_dict(self) -> dict[str, float]:
        return dataclasses.asdict(self)

    @classmethod
    def of(cls, d: dict[str, Any] | None) -> RuleParams:
        try:  # a fleet's scores share a handful of rules: read each once
            return _rule_of(tuple((d or {}).items()))
        except TypeError:  # a value that cannot be a cache key: read it as it is
            return _rule_of.__wrapped__(tuple((d or {}).items()))


@functools.lru_cache(maxsize=256)
def _rule_of(items: tuple[tuple[str, Any], ...]) -> RuleParams:
    fields = RuleParams.__dataclass_fields__
    return RuleParams(**{k: float(v) for k, v in items if k in fields})


def bounds(p: float, r: RuleParams) -> tuple[float, float]:
    """(lowest, highest) health score the forecast allows at failure probability ``p``."""
    if p <= r.p_negligible:
        return WATCH, 100.0
    if p < r.p_imminent:
        span = (p - r.p_negligible) / (r.p_imminent - r.p_negligible)
        return 0.0, GOOD - (GOOD - WATCH) * span
    return 0.0, WATCH * (1.0 - p) / (1.0 - r.p_imminent) - 1e-6


def prob_within(f: FailureForecast, days: float) -> float:
    """P(failure within ``days`` calendar days) of a forecast in any time unit."""
    unit = _UNIT_SECONDS.get(f.time_unit, 86400.0)
    return float(f.prob_fail_before(days * 86400.0 / unit))


def consistent(h: HealthScore, f: FailureForecast | None) -> HealthScore:
    """``h`` with its score and anomalies made consistent with forecast ``f`` (see module)."""
    x = h.extra
    if "anomaly_score" not in x:  # a score from an older model: as it is
        return h
    r = RuleParams.of(x.get("rule"))
    every = dict(x.get("anomalies_all", h.anomalies))
    if f is None:
        extra = {**x, "anomalies_all": every, "p_fail": None, "band_rule": "no forecast"}
        return dataclasses.replace(h, score=x["anomaly_score"], anomalies=every, extra=extra)
    p = prob_within(f, r.horizon_days)
    lo, hi = bounds(p, r)
    if p <= r.p_negligible:
        raw = float(x.get("unexplained_score", x["anomaly_score"]))
        explained = set(x.get("explained", []))
        anomalies = {c: v for c, v in every.items() if c not in explained}
        why = f"failure within {r.horizon_days:g} d negligible (P {p:.0%}): not critical"
    elif p < r.p_imminent:
        # wear the forecast reads is news only when the forecast says failure is imminent
        raw = float(x.get("unexplained_score", x["anomaly_score"]))
        explained = set(x.get("explained", []))
        anomalies = {c: v for c, v in every.items() if c not in explained}
        why = f"failure within {r.horizon_days:g} d possible (P {p:.0%}): not good"
    else:
        raw = float(x["anomaly_score"])
        anomalies = every
        why = f"failure within {r.horizon_days:g} d imminent (P {p:.0%}): critical"
    score = round(min(max(raw, lo), hi), 2)
    extra = {**x, "anomalies_all": every, "p_fail": round(p, 4), "band_rule": why}
    return dataclasses.replace(h, score=max(score, 0.0), anomalies=anomalies, extra=extra)
