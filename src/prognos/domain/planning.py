"""What the planner works with: calendars, crews, parts, costs, work orders and plans. No I/O.

A work order moves through a small state machine::

    proposed ──> scheduled ──> dispatched ──> in_progress ──> done
        │            │  ▲           │              │
        └────────────┴──┴───────────┴──────────────┴──> cancelled

(``dispatched -> scheduled`` is allowed: rolling re-planning may pull a dispatched order back.)
An illegal move raises :class:`prognos.errors.Conflict`. Completing an order records a
:class:`Finding`; a finding with ``part_replaced`` resets the component's age and becomes a
labelled event for the models (:meth:`Finding.as_event`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator

from prognos.errors import Conflict


def _utc(v: datetime) -> datetime:
    return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)


class WindowKind(StrEnum):
    """Production (``shift``), time open for work (``stop``, ``shutdown``), or ``blackout``."""

    shift = "shift"
    stop = "stop"
    shutdown = "shutdown"
    blackout = "blackout"


class Window(BaseModel):
    """A span of a site's calendar, in UTC."""

    start: datetime
    end: datetime
    kind: WindowKind
    label: str = ""

    @field_validator("start", "end")
    @classmethod
    def _norm(cls, v: datetime) -> datetime:
        return _utc(v)

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.end <= self.start:
            raise ValueError(f"window {self.label or self.kind} ends before it starts")
        return self

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600.0


class SiteCalendar(BaseModel):
    """A customer site's production calendar: shifts, planned stops, shutdowns, blackouts."""

    site_id: str
    timezone: str = "UTC"
    windows: list[Window] = Field(default_factory=list)

    def of_kind(self, *kinds: WindowKind) -> list[Window]:
        return [w for w in self.windows if w.kind in kinds]


class Crew(BaseModel):
    """A service crew: the asset types it may work on, where it lives, when it works."""

    id: str
    skills: set[str]
    home_region: str
    hours_per_day: float = Field(8.0, gt=0)
    working_weekdays: set[int] = Field(default_factory=lambda: {0, 1, 2, 3, 4})  # Mon=0
    cost_per_hour: float = Field(90.0, ge=0)
    callout_cost: float = Field(0.0, ge=0)


class Travel(BaseModel):
    """Travel time in hours between regions (symmetric); ``same_region`` within one."""

    hours_between: dict[str, float] = Field(default_factory=dict)  # "a|b" -> hours
    same_region: float = 1.0
    default: float = 4.0

    def hours(self, a: str, b: str) -> float:
        if a == b:
            return self.same_region
        return self.hours_between.get(f"{a}|{b}", self.hours_between.get(f"{b}|{a}", self.default))


class PartStock(BaseModel):
    """Parts of one number on hand at a depot that serves some regions; reorders take a while."""

    depot_id: str
    part: str
    on_hand: int = Field(ge=0)
    lead_time_days: int = Field(ge=0)
    regions: set[str]


class CostModel(BaseModel):
    """What a failure and a planned replacement cost for one asset type (or one asset)."""

    asset_type: str
    part: str
    unplanned_stoppage_cost_per_hour: float = Field(ge=0)
    unplanned_repair_hours: float = Field(gt=0)
    planned_job_hours: float = Field(gt=0)
    part_cost: float = Field(ge=0)
    labour_cost_per_hour: float = Field(ge=0)
    wasted_life_cost_per_unit: float = Field(0.0, ge=0)

    @property
    def unplanned_cost(self) -> float:
        """Cost of one failure: lost production during the repair, the part, the labour."""
        h = self.unplanned_repair_hours
        return (
            h * self.unplanned_stoppage_cost_per_hour
            + self.part_cost
            + h * self.labour_cost_per_hour
        )

    def planned_cost(self, in_window: bool = True) -> float:
        """Cost of one planned replacement; outside a window it also stops production."""
        h = self.planned_job_hours
        stop = 0.0 if in_window else h * self.unplanned_stoppage_cost_per_hour
        return self.part_cost + h * self.labour_cost_per_hour + stop


class PlanAsset(BaseModel):
    """An asset (component) the planner may replace: where it is and which cost model applies."""

    asset_id: str
    component: str | None = None
    site_id: str
    region: str
    asset_type: str

    @property
    def key(self) -> str:
        return f"{self.asset_id}/{self.component}" if self.component else self.asset_id


class WorkOrderStatus(StrEnum):
    proposed = "proposed"
    scheduled = "scheduled"
    dispatched = "dispatched"
    in_progress = "in_progress"
    done = "done"
    cancelled = "cancelled"


S = WorkOrderStatus
TRANSITIONS: dict[WorkOrderStatus, frozenset[WorkOrderStatus]] = {
    S.proposed: frozenset({S.scheduled, S.cancelled}),
    S.scheduled: frozenset({S.dispatched, S.proposed, S.cancelled}),
    S.dispatched: frozenset({S.in_progress, S.scheduled, S.cancelled}),
    S.in_progress: frozenset({S.done, S.cancelled}),
    S.done: frozenset(),
    S.cancelled: frozenset(),
}


class Finding(BaseModel):
    """What the crew found when the job was done."""

    measured_wear: float | None = None
    condition: str = ""
    failure_found: bool = False
    part_replaced: bool = True
    at: datetime

    @field_validator("at")
    @classmethod
    def _norm(cls, v: datetime) -> datetime:
        return _utc(v)

    def as_event(self, asset_id: str, component: str | None) -> dict[str, Any]:
        """The labelled event fed back to the models; ``resets_age`` when the part was replaced."""
        return {
            "asset_id": asset_id,
            "component": component,
            "at": self.at.isoformat(),
            "kind": "failure" if self.failure_found else "replacement",
            "failure_found": self.failure_found,
            "measured_wear": self.measured_wear,
            "condition": self.condition,
            "resets_age": self.part_replaced,
        }


class WorkOrder(BaseModel):
    """One replacement job; change its status only through :meth:`transition` / :meth:`complete`."""

    id: str
    asset_id: str
    component: str | None = None
    site_id: str
    day: date
    crew_id: str | None = None
    part: str | None = None
    depot_id: str | None = None
    status: WorkOrderStatus = WorkOrderStatus.proposed
    finding: Finding | None = None
    history: list[tuple[WorkOrderStatus, datetime]] = Field(default_factory=list)

    def transition(self, to: WorkOrderStatus | str, at: datetime | None = None) -> WorkOrder:
        """The order in status ``to``; raises ``Conflict`` for a move the lifecycle forbids."""
        to = WorkOrderStatus(to)
        if to not in TRANSITIONS[self.status]:
            allowed = ", ".join(sorted(TRANSITIONS[self.status])) or "none (final)"
            raise Conflict(
                f"work order {self.id} cannot go from {self.status} to {to}",
                hint=f"allowed from {self.status}: {allowed}",
            )
        stamp = _utc(at) if at else datetime.now(UTC)
        return self.model_copy(update={"status": to, "history": [*self.history, (to, stamp)]})

    def complete(self, finding: Finding) -> WorkOrder:
        """Mark an in-progress order done with what the crew found."""
        done = self.transition(WorkOrderStatus.done, finding.at)
        return done.model_copy(update={"finding": finding})

    def feedback_event(self) -> dict[str, Any] | None:
        """The labelled event of a done order, or None before completion."""
        if self.status is not WorkOrderStatus.done or self.finding is None:
            return None
        return self.finding.as_event(self.asset_id, self.component)

    @property
    def key(self) -> str:
        return f"{self.asset_id}/{self.component}" if self.component else self.asset_id


EMERGENCY_P = 0.5
"""A job outside the customer's windows is an emergency when waiting for the next window (or,
with none left in the horizon, not acting at all) would more likely than not see the part fail
first; outside a window at a lower risk it is just the cheaper day."""


class Explanation(BaseModel):
    """Why a job sits where it sits."""

    prob_fail_before: float
    expected_cost: float
    expected_cost_avoided: float
    why_not_earlier: str
    why_not_later: str
    emergency: bool = False


class PlannedJob(BaseModel):
    asset_id: str
    component: str | None = None
    site_id: str
    day: date
    in_window: bool
    crew_id: str
    part: str
    depot_id: str | None = None
    hours: float
    committed: bool = False
    explanation: Explanation

    @property
    def key(self) -> str:
        return f"{self.asset_id}/{self.component}" if self.component else self.asset_id


class Plan(BaseModel):
    """The planner's answer: jobs, expected cost, a lower bound, and how it was found."""

    created_at: datetime
    horizon_days: int
    jobs: list[PlannedJob]
    objective: float
    lower_bound: float
    status: str  # optimal | feasible | heuristic
    solve_seconds: float
    released_orders: list[str] = Field(default_factory=list)
    bound_method: str = (
        ""  # how lower_bound was found: lp-relaxation | cp-sat | lagrangian-by-day | ...
    )

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
