"""Response models: what every route answers, so OpenAPI shows real schemas.

The service layer returns domain objects and plain dictionaries; these models describe them at
the edge. Open-ended parts (a worker's own counters, a model card) allow extra keys.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from prognos.domain import Asset, AssetType, Lifecycle
from prognos.domain.alarms import Alarm, AlarmRules
from prognos.domain.events import LabelledEvent
from prognos.domain.notifications import Targets
from prognos.domain.planning import Plan


class Open(BaseModel):
    """A model that keeps keys it does not name (counters, cards that grow)."""

    model_config = ConfigDict(extra="allow")


# -- meta ----------------------------------------------------------------------------------------
class Health(BaseModel):
    status: str = Field(description="ok, or degraded when a worker or the store is down")
    version: str
    store: str
    problems: list[str] = Field(
        default_factory=list, description="what is wrong, without details (no key is needed)"
    )


class WorkerStatus(Open):
    state: str = Field(description="running, the worker's own state, backing_off, failed, stopped")
    running: bool
    restarts: int = 0
    last_error: str | None = None
    since: str | None = None


class PlatformStatus(BaseModel):
    store: str
    workers: dict[str, WorkerStatus]


# -- registry ------------------------------------------------------------------------------------
class AssetState(Asset):
    """An asset with where it stands now."""

    state: Lifecycle = Field(
        description="in_service; offline (silent for PROGNOS_OFFLINE_AFTER_INTERVALS expected "
        "sampling intervals); retired (kept with its history, out of live KPIs, alarms, plans)"
    )
    last_seen: datetime | None = Field(None, description="time of its newest reading")
    offline_after_s: float | None = Field(
        None, description="seconds of silence after which it counts as offline"
    )


class AssetPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[AssetState]


class LifecycleChange(BaseModel):
    state: Literal["in_service", "retired"]
    at: datetime | None = Field(None, description="when it was retired (default: now)")


class AssetDetail(AssetState):
    type: AssetType
    components: list[str] = Field(description="ids of the assets fitted into this one")


# -- telemetry -----------------------------------------------------------------------------------
class RejectedRecord(BaseModel):
    index: int | None = Field(description="the record's position in the payload")
    field: str
    reason: str
    asset_id: str | None = None


class IngestReply(BaseModel):
    accepted: int = Field(description="readings stored")
    duplicates: int = Field(description="readings already stored (idempotent re-sends)")
    rejected_count: int = Field(
        description="records refused, every one stored in the quarantine in the same "
        "transaction as the readings"
    )
    rejected: list[RejectedRecord] = Field(description="the first 1,000 rejected records")


class ChannelSeries(BaseModel):
    ts: list[str]
    value: list[float] | None = Field(None, description="raw readings (no max_points)")
    mean: list[float] | None = Field(None, description="bucket means (with max_points)")
    min: list[float] | None = None
    max: list[float] | None = None
    count: list[int] | None = None


class TelemetrySeries(BaseModel):
    asset_id: str
    first: str | None
    last: str | None
    downsampled: bool
    channels: dict[str, ChannelSeries]


class QuarantineRecord(Open):
    id: str
    received_at: str
    source: str
    index: int | None
    asset_id: str | None
    customer_id: str | None
    field: str
    reason: str
    raw: str | None


class QuarantinePage(BaseModel):
    items: list[QuarantineRecord]


class Compaction(BaseModel):
    readings: int
    seconds: float
    store: str


# -- prognostics ---------------------------------------------------------------------------------
class Curve(BaseModel):
    t: list[float]
    p: list[float]


class ForecastOut(Open):
    asset_id: str
    component: str | None
    as_of: str
    time_unit: str
    model: str
    model_version: str | None
    quantiles: dict[str, float]
    p10: float
    p50: float
    p90: float
    survival: Curve | None = None
    history: list[dict[str, Any]] | None = None


class HealthPoint(BaseModel):
    as_of: str
    score: float


class HealthOut(BaseModel):
    asset_id: str
    as_of: str
    score: float = Field(description="0 (failing) to 100 (as healthy as its baseline)")
    drivers: dict[str, float]
    anomalies: dict[str, float]
    extra: dict[str, Any] = Field(
        default_factory=dict,
        description="how the score came about: the anomaly model's own score, the failure "
        "forecast's probability within the horizon and the rule that reconciled them, the "
        "baseline (docs/health.md)",
    )
    history: list[HealthPoint] | None = None


class FleetForecast(BaseModel):
    asset_id: str
    customer_id: str
    site_id: str
    type_id: str
    as_of: str
    time_unit: str
    p10: float
    p50: float
    p90: float
    model_version: str | None
    prob_fail_within_horizon: float | None = None


class FleetForecasts(BaseModel):
    count: int
    assets_without_forecast: int
    items: list[FleetForecast]


# -- planning ------------------------------------------------------------------------------------
class CalendarImport(BaseModel):
    site_id: str
    windows: dict[str, int] = Field(description="windows imported, by kind")


class PlanReply(BaseModel):
    plan: Plan
    created: list[str]
    moved: list[str]
    cancelled: list[str]
    deferred: list[str] = Field(
        description="ids of assets whose work orders or part changed while this plan was being "
        "made (a crew finished a job, a failed part was repaired, someone moved an order): the "
        "plan's changes for them were not written, their orders stay as they are, and the next "
        "plan is made from what they are now",
    )
    committed: bool
    now: str | None = Field(None, description="the moment planned from (the data clock)")


class Event(Open):
    id: str
    asset_id: str
    kind: str
    at: str


# -- alarms --------------------------------------------------------------------------------------
class AlarmPage(BaseModel):
    total: int = Field(description="alarms matching the filters, all pages")
    limit: int
    offset: int
    items: list[Alarm] = Field(description="newest first")


class AlarmSelection(BaseModel):
    """Which alarms: the same filters as ``GET /alarms`` (all optional)."""

    model_config = ConfigDict(extra="forbid")

    state: str | None = Field(
        None, description="active, silenced, acknowledged, cleared, open, all"
    )
    severity: str | None = None
    customer: str | None = None
    site: str | None = None
    asset: str | None = None
    type: str | None = None
    cause: str | None = None


class AlarmChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["acknowledge", "clear"] = Field(
        description="acknowledge (the owner or the manufacturer), clear (the manufacturer)"
    )
    note: str | None = Field(None, max_length=2000)


class BulkAcknowledge(BaseModel):
    """Acknowledge these ids, or every active or silenced alarm the filter selects."""

    model_config = ConfigDict(extra="forbid")

    ids: list[str] | None = Field(None, max_length=10_000)
    filter: AlarmSelection | None = None
    note: str | None = Field(None, max_length=2000)


class Acknowledged(BaseModel):
    acknowledged: int = Field(description="alarms acknowledged by this request")


class AlarmRulesReply(BaseModel):
    type_id: str
    own: bool = Field(description="false: the type has no rules of its own, these are the defaults")
    rules: AlarmRules


class DeadLetter(BaseModel):
    id: str
    created_at: datetime
    owner: str
    channel: str = Field(description="webhook or email")
    target: str
    alarm_id: str
    event: str
    attempts: int
    last_error: str | None


class NotificationTargets(BaseModel):
    owner: str = Field(description='"manufacturer" or the customer id')
    targets: Targets = Field(description="webhook secrets are shown masked")
    new_secrets: dict[str, str] = Field(
        default_factory=dict, description="secrets made for webhooks sent without one: shown once"
    )


# -- labelled events -----------------------------------------------------------------------------
class AssetEventIn(LabelledEvent):
    """An event of the asset the path names (``asset_id`` may be left out)."""

    asset_id: str | None = None


class EventsReply(BaseModel):
    stored: int = Field(description="events new or changed")
    unchanged: int = Field(description="events stored already, exactly so (idempotent re-sends)")
    ids: list[str] = Field(description="the id of each event sent, in order")
