"""Alarms and the rules that raise them: typed objects, no I/O.

An alarm is one condition of one asset, named by its *cause*: the rule's kind, and the channel
where the rule watches one (``threshold:T50:above``, ``rate:T50``, ``zscore``, ``no_data``,
``probability:30d``). While it lasts there is one alarm per asset and cause; each new
occurrence updates it (count, last seen, a worse severity) instead of adding another::

    raised ─┬─> active ──acknowledge──> acknowledged ──(escalates)──> active
            └─> silenced (inside a maintenance window) ──(occurs outside one)──> active
    active | silenced | acknowledged ──(normal period, replacement, work order, by hand)──> cleared

A cleared alarm stays cleared: the same condition later raises a new alarm. Severity only
rises while an alarm lasts (warning -> critical, recorded in its history).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from prognos.domain.assets import AssetType
from prognos.errors import ValidationFailed


class Severity(StrEnum):
    warning = "warning"
    critical = "critical"

    @property
    def rank(self) -> int:
        return 2 if self is Severity.critical else 1


class AlarmState(StrEnum):
    active = "active"
    silenced = "silenced"
    acknowledged = "acknowledged"
    cleared = "cleared"


OPEN_STATES = (AlarmState.active, AlarmState.silenced, AlarmState.acknowledged)


class AlarmEvent(StrEnum):
    """What notifications are sent about."""

    raised = "raised"
    escalated = "escalated"
    cleared = "cleared"


class Alarm(BaseModel):
    """One alarm as stored, listed and sent: its lifecycle in columns, its history in a list."""

    id: str
    asset_id: str
    customer_id: str
    site_id: str
    type_id: str
    cause: str = Field(description="rule kind, and channel where the rule watches one")
    rule: str = Field(description="threshold, rate, zscore, probability, no_data or reported")
    channel: str | None = None
    severity: Severity
    state: AlarmState
    message: str
    details: dict[str, Any] = Field(default_factory=dict)
    first_seen: datetime
    last_seen: datetime
    count: int = Field(1, description="occurrences while the alarm lasted")
    touched_at: datetime = Field(description="server time of the newest occurrence")
    clear_after_s: float | None = Field(None, description="normal period before it clears itself")
    silenced_because: str | None = None
    escalated_at: datetime | None = None
    acked_at: datetime | None = None
    acked_by: str | None = None
    ack_note: str | None = None
    cleared_at: datetime | None = None
    cleared_by: str | None = None
    history: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.state is not AlarmState.cleared


@dataclass(frozen=True)
class Condition:
    """What one evaluation of a rule found for one asset: the input of the lifecycle."""

    asset_id: str
    cause: str
    rule: str
    severity: Severity
    at: datetime  # the data's time of the occurrence
    message: str
    channel: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    occurrences: int = 1
    clear_after_s: float | None = None
    since: datetime | None = None  # the first of several occurrences found at once


# -- rules -----------------------------------------------------------------------------------------
class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field("", description="a label people give the rule")
    severity: Severity = Severity.warning
    clear_after_s: float | None = Field(
        None, gt=0, description="normal period before its alarm clears itself (default: the set's)"
    )
    enabled: bool = True


class ThresholdRule(_Rule):
    """A channel above (or below) a value; ``critical`` is the value beyond which it is critical."""

    kind: Literal["threshold"] = "threshold"
    channel: str
    op: Literal["above", "below"] = "above"
    value: float
    critical: float | None = None

    @model_validator(mode="after")
    def _critical_beyond(self) -> ThresholdRule:
        if self.critical is not None and (
            self.critical <= self.value if self.op == "above" else self.critical >= self.value
        ):
            side = "above" if self.op == "above" else "below"
            raise ValueError(f"critical must lie {side} value {self.value:g}")
        return self

    @property
    def cause(self) -> str:
        return f"threshold:{self.channel}:{self.op}"


PER_SECONDS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}


class RateRule(_Rule):
    """A channel moving faster than ``rate`` per ``per`` between consecutive readings."""

    kind: Literal["rate"] = "rate"
    channel: str
    rate: float = Field(gt=0)
    per: Literal["second", "minute", "hour", "day"] = "hour"
    direction: Literal["up", "down", "either"] = "either"
    critical: float | None = None

    @model_validator(mode="after")
    def _critical_faster(self) -> RateRule:
        if self.critical is not None and self.critical <= self.rate:
            raise ValueError(f"critical must be a faster rate than {self.rate:g}")
        return self

    @property
    def cause(self) -> str:
        return f"rate:{self.channel}"


class ZScoreRule(_Rule):
    """The health model's anomalies: channels whose z-score reaches ``z`` (today's rule)."""

    kind: Literal["zscore"] = "zscore"
    z: float = Field(4.0, gt=0)
    critical_z: float | None = None
    critical_health: float | None = Field(
        40.0, ge=0, le=100, description="critical while the health score is below this"
    )
    channels: list[str] = Field(default_factory=list, description="only these (empty: all)")

    @model_validator(mode="after")
    def _critical_stronger(self) -> ZScoreRule:
        if self.critical_z is not None and self.critical_z <= self.z:
            raise ValueError(f"critical_z must be larger than z {self.z:g}")
        return self

    @property
    def cause(self) -> str:
        return "zscore"


class ProbabilityRule(_Rule):
    """The newest forecast: P(failure within ``horizon_days``) at least ``p``."""

    kind: Literal["probability"] = "probability"
    horizon_days: float = Field(30.0, gt=0)
    p: float = Field(0.5, gt=0, lt=1)
    critical_p: float | None = Field(None, gt=0, le=1)

    @model_validator(mode="after")
    def _critical_likelier(self) -> ProbabilityRule:
        if self.critical_p is not None and self.critical_p <= self.p:
            raise ValueError(f"critical_p must be larger than p {self.p:g}")
        return self

    @property
    def cause(self) -> str:
        return f"probability:{self.horizon_days:g}d"


class NoDataRule(_Rule):
    """Offline: no reading for ``intervals`` times the asset's reporting ``interval_s``."""

    kind: Literal["no_data"] = "no_data"
    interval_s: float = Field(gt=0, description="how often the asset reports, seconds")
    intervals: float = Field(3.0, ge=1)
    critical_intervals: float | None = None

    @model_validator(mode="after")
    def _critical_longer(self) -> NoDataRule:
        if self.critical_intervals is not None and self.critical_intervals <= self.intervals:
            raise ValueError(f"critical_intervals must be more than intervals {self.intervals:g}")
        return self

    @property
    def cause(self) -> str:
        return "no_data"

    @property
    def silent_s(self) -> float:
        return self.interval_s * self.intervals


Rule = Annotated[
    ThresholdRule | RateRule | ZScoreRule | ProbabilityRule | NoDataRule,
    Field(discriminator="kind"),
]
BATCH_KINDS = ("threshold", "rate")  # evaluated on each committed batch of readings
DEFAULT_CLEAR_AFTER_S = 3600.0


class AlarmRules(BaseModel):
    """The rules of one asset type; ``clear_after_s`` is the normal period of those that set none."""

    model_config = ConfigDict(extra="forbid")

    clear_after_s: float = Field(DEFAULT_CLEAR_AFTER_S, gt=0)
    rules: list[Rule] = Field(default_factory=list)

    def of_kind(self, *kinds: str) -> list[Any]:
        return [r for r in self.rules if r.enabled and r.kind in kinds]

    def clear_after(self, rule: Any) -> float:
        return rule.clear_after_s or self.clear_after_s


DEFAULT_RULES = AlarmRules(rules=[ZScoreRule()])


def parse_rules(body: Any, t: AssetType) -> AlarmRules:
    """Validate a rules document for asset type ``t``: every error names the rule and field."""
    problems: list[dict[str, str]] = []
    raw = body.get("rules") if isinstance(body, dict) else None
    try:
        rules = AlarmRules.model_validate(body)
    except ValidationError as e:
        for err in e.errors():
            problems.append(_problem(err["loc"], err["msg"], raw))
        raise _failed(t, problems) from None
    known = set(t.channel_names)
    seen: dict[str, int] = {}
    for i, r in enumerate(rules.rules):
        chans = [r.channel] if hasattr(r, "channel") else list(getattr(r, "channels", []))
        for ch in chans:
            if known and ch not in known:
                problems.append(
                    {
                        "rule": _rule_name(i, r.kind, raw),
                        "field": "channel" if hasattr(r, "channel") else "channels",
                        "reason": f"{t.id} has no channel {ch!r} (it has {', '.join(sorted(known))})",
                    }
                )
        if r.cause in seen:
            problems.append(
                {
                    "rule": _rule_name(i, r.kind, raw),
                    "field": "kind",
                    "reason": f"rules[{seen[r.cause]}] already watches {r.cause}: one rule per cause",
                }
            )
        seen.setdefault(r.cause, i)
    if problems:
        raise _failed(t, problems)
    return rules


def _rule_name(i: int, kind: Any, raw: Any) -> str:
    label = ""
    if isinstance(raw, list) and i < len(raw) and isinstance(raw[i], dict):
        label = " ".join(str(raw[i].get(k)) for k in ("kind", "channel") if raw[i].get(k))
    return f"rules[{i}]" + (f" ({label})" if label else f" ({kind})" if kind else "")


_KINDS = (ThresholdRule, RateRule, ZScoreRule, ProbabilityRule, NoDataRule)
_FIELDS = {f for m in _KINDS for f in m.model_fields}


def _problem(loc: tuple, msg: str, raw: Any) -> dict[str, str]:
    msg = msg.removeprefix("Value error, ")
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        rest = [str(x) for x in loc[2:]]
        if rest and rest[0] in ("threshold", "rate", "zscore", "probability", "no_data"):
            rest = rest[1:]
        if not rest and msg.split(" ", 1)[0] in _FIELDS:  # a check across fields names its own
            rest = [msg.split(" ", 1)[0]]
        return {
            "rule": _rule_name(loc[1], None, raw),
            "field": ".".join(rest) or "kind",
            "reason": msg,
        }
    return {"rule": "(the set)", "field": ".".join(str(x) for x in loc) or "body", "reason": msg}


def _failed(t: AssetType, problems: list[dict[str, str]]) -> ValidationFailed:
    first = problems[0]
    return ValidationFailed(
        f"alarm rules of {t.id}: {first['rule']} {first['field']}: {first['reason']}"
        + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
        hint="see details for each rule and field; docs/alarms.md lists the rules",
        details=problems,
    )
