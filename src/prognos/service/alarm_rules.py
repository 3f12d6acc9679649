"""The alarm rules of each asset type, and what they find in plain inputs.

Rules live in one document per asset type (``Kind.alarm_rules``, set through
``PUT /api/v1/asset-types/{id}/alarm-rules``); a type without one has ``DEFAULT_RULES``.
Each evaluator takes plain inputs and returns ``Condition``s, so whoever computes those inputs
(the health model, the forecaster, ingest, an asset's lifecycle) plugs in without the rules
knowing them:

    readings_conditions  a committed batch (threshold, rate of change): ``alarm_readings``
    health_conditions    a health score (z-score)
    forecast_conditions  a failure forecast (P(fail within H) >= p)
    no_data_conditions   when each asset last reported (offline)
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Any

from prognos.domain import AssetType, FailureForecast, HealthScore
from prognos.domain.alarms import (
    DEFAULT_RULES,
    AlarmRules,
    Condition,
    NoDataRule,
    ProbabilityRule,
    Severity,
    parse_rules,
)
from prognos.store.ports import DocumentsPort, Kind

RULES_TTL_S = 30.0  # another process's change of a type's rules is seen within this


class RulesBook:
    """Each asset type's rules, cached (a batch of readings must not read documents)."""

    def __init__(self, documents: DocumentsPort):
        self._docs = documents
        self._cache: dict[str, tuple[float, AlarmRules, bool]] = {}
        self._lock = threading.Lock()

    def of(self, type_id: str) -> AlarmRules:
        return self.stored(type_id)[0]

    def stored(self, type_id: str) -> tuple[AlarmRules, bool]:
        """The rules of a type and whether they are its own (False: the defaults)."""
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(type_id)
            if hit is not None and now - hit[0] < RULES_TTL_S:
                return hit[1], hit[2]
        body = self._docs.get_document(Kind.alarm_rules, type_id)
        rules = AlarmRules.model_validate(body) if body is not None else DEFAULT_RULES
        with self._lock:
            self._cache[type_id] = (now, rules, body is not None)
        return rules, body is not None

    def put(self, t: AssetType, body: Any) -> AlarmRules:
        """Validate and store a type's rules (errors name the rule and the field)."""
        rules = parse_rules(body, t)
        self._docs.put_document(Kind.alarm_rules, t.id, rules.model_dump(mode="json"))
        with self._lock:
            self._cache[t.id] = (time.monotonic(), rules, True)
        return rules

    def reset(self, type_id: str) -> None:
        """Back to the defaults."""
        self._docs.delete_document(Kind.alarm_rules, type_id)
        with self._lock:
            self._cache.pop(type_id, None)


# -- health, forecasts, silence ----------------------------------------------------------------
def health_conditions(h: HealthScore, rules: AlarmRules) -> list[Condition]:
    """The z-score rule: channels whose |z| reaches the rule's ``z``; worst channel named."""
    out = []
    for r in rules.of_kind("zscore"):
        chans = {
            c: z
            for c, z in h.anomalies.items()
            if abs(z) >= r.z and (not r.channels or c in r.channels)
        }
        if not chans:
            continue
        worst = max(chans, key=lambda c: abs(chans[c]))
        crit = (r.critical_z is not None and abs(chans[worst]) >= r.critical_z) or (
            r.critical_health is not None and h.score < r.critical_health
        )
        out.append(
            Condition(
                asset_id=h.asset_id,
                cause=r.cause,
                rule=r.kind,
                severity=Severity.critical if crit else r.severity,
                at=h.as_of,
                message=f"{worst} unusual (z {chans[worst]:+.1f}); health {h.score:.0f}/100",
                channel=worst,
                details={"channels": chans, "health": h.score},
                clear_after_s=rules.clear_after(r),
            )
        )
    return out


def forecast_conditions(
    f: FailureForecast, rules: AlarmRules, unit_seconds: float
) -> list[Condition]:
    """The probability rule: P(fail within the horizon) from the newest forecast (a
    component's forecast is a cause of its own)."""
    out = []
    part = f":{f.component}" if f.component else ""
    for r in rules.of_kind("probability"):
        assert isinstance(r, ProbabilityRule)
        p = float(f.prob_fail_before(r.horizon_days * 86400.0 / unit_seconds))
        if p < r.p:
            continue
        crit = r.critical_p is not None and p >= r.critical_p
        out.append(
            Condition(
                asset_id=f.asset_id,
                cause=r.cause + part,
                rule=r.kind,
                severity=Severity.critical if crit else r.severity,
                at=f.as_of,
                message=f"P(failure within {r.horizon_days:g} d) {p:.0%}",
                details={"probability": p, "horizon_days": r.horizon_days, "p50": f.p50,
                         "time_unit": f.time_unit, "limit": r.critical_p if crit else r.p},
                clear_after_s=rules.clear_after(r),
            )
        )  # fmt: skip
    return out


def no_data_conditions(
    asset_rules: dict[str, AlarmRules],
    seen: dict[str, tuple[datetime, datetime]],
    now: datetime,
) -> list[Condition]:
    """Assets (with a no-data rule) whose newest reading arrived too long ago; assets that never
    reported are not flagged (they were never connected)."""
    out = []
    for asset_id, rules in asset_rules.items():
        for r in rules.of_kind("no_data"):
            assert isinstance(r, NoDataRule)
            if asset_id not in seen:
                continue
            last_ts, received = seen[asset_id]
            silent = (now - received).total_seconds()
            if silent <= r.silent_s:
                continue
            crit = r.critical_intervals is not None and silent > r.interval_s * r.critical_intervals
            out.append(
                Condition(
                    asset_id=asset_id,
                    cause=r.cause,
                    rule=r.kind,
                    severity=Severity.critical if crit else r.severity,
                    at=now,
                    message=f"no readings for {_span(silent)}",
                    details={"last_reading": last_ts.isoformat(), "silent_s": round(silent),
                             "last_received": received.isoformat(),
                             "expected_every_s": r.interval_s},
                )
            )  # fmt: skip
    return out


def _span(seconds: float) -> str:
    td = timedelta(seconds=int(seconds))
    if td.days:
        return f"{td.days} d {td.seconds // 3600} h"
    if td.seconds >= 3600:
        return f"{td.seconds // 3600} h {td.seconds % 3600 // 60} min"
    return f"{td.seconds // 60} min"
