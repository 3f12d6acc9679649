"""Labelled events: what happened to an asset (or one of its components) and when.

Failures, replacements, repairs and inspections are the labels prognos learns from. A failure
or a replacement ends the life of what it names and starts the next one (``resets_age``); a
repair or an inspection does not, unless it says so. An event without an ``id`` is named by
what it says (asset, component, kind, time), so loading the same file twice stores it once.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from prognos.domain.assets import _ID_PATTERN

MAX_AGE = 1_000_000.0  # an age beyond this is a unit mix-up, and no date can hold it


class EventKind(StrEnum):
    failure = "failure"
    replacement = "replacement"
    repair = "repair"
    inspection = "inspection"


# words exports use for the kinds (compared in lower case)
KIND_WORDS = {
    "fail": "failure",
    "failed": "failure",
    "breakdown": "failure",
    "fault": "failure",
    "replace": "replacement",
    "replaced": "replacement",
    "renewal": "replacement",
    "maintenance": "replacement",
    "maint": "replacement",
    "repaired": "repair",
    "fix": "repair",
    "check": "inspection",
    "inspected": "inspection",
}
RESETS = {EventKind.failure, EventKind.replacement}


class LabelledEvent(BaseModel):
    """One event as an API body or a row of an events file."""

    model_config = ConfigDict(extra="forbid")
    asset_id: str
    kind: EventKind
    at: datetime | None = Field(None, description="When (ISO 8601; without a zone: UTC).")
    cycle: float | None = Field(
        None,
        ge=0,
        le=MAX_AGE,
        description="Or: the asset's age in its type's unit (at most a million: a century of hours).",
    )
    component: str | None = Field(None, description="The part it concerns (none: the asset).")
    failure_mode: str = ""
    note: str = ""
    id: str | None = Field(None, pattern=_ID_PATTERN, description="Default: from its content.")
    resets_age: bool | None = Field(
        None, description="Starts a new life (default: failures and replacements do)."
    )

    @field_validator("kind", mode="before")
    @classmethod
    def _kind_words(cls, v: Any) -> Any:
        if isinstance(v, str):
            w = v.strip().lower()
            return KIND_WORDS.get(w, w)
        return v

    @field_validator("at")
    @classmethod
    def _utc(cls, v: datetime | None) -> datetime | None:
        if v is None:
            return None
        return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)

    @field_validator("component", mode="before")
    @classmethod
    def _no_blank(cls, v: Any) -> Any:
        return None if isinstance(v, str) and not v.strip() else v

    @model_validator(mode="after")
    def _when(self) -> LabelledEvent:
        if self.at is None and self.cycle is None:
            raise ValueError("an event needs a time (at) or a cycle")
        return self

    @property
    def resets(self) -> bool:
        return self.kind in RESETS if self.resets_age is None else self.resets_age

    def event_id(self) -> str:
        """The given id, or one derived from what the event says (the same event, the same id)."""
        if self.id:
            return self.id
        when = self.at.isoformat() if self.at is not None else f"cycle {self.cycle:g}"
        key = "|".join([self.asset_id, self.component or "", self.kind.value, when])
        return f"ev-{hashlib.sha1(key.encode()).hexdigest()[:16]}"

    def document(self, at: datetime) -> dict[str, Any]:
        """The stored body (what training and the API read), placed at ``at``."""
        return {
            "id": self.event_id(),
            "asset_id": self.asset_id,
            "component": self.component,
            "kind": self.kind.value,
            "at": at.isoformat(),
            "cycle": self.cycle,
            "failure_mode": self.failure_mode,
            "note": self.note,
            "resets_age": self.resets,
            "failure_found": self.kind is EventKind.failure,
        }
