"""The installed base: customers (tenants), their sites, asset types and assets."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field, field_validator

_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"


class TimeUnit(StrEnum):
    """The unit an asset type's life is counted in; forecasts speak in it."""

    hours = "hours"
    days = "days"
    cycles = "cycles"

    @property
    def seconds(self) -> float:
        """Wall-clock seconds per unit; a cycle is taken as one operating day."""
        return {"hours": 3600.0, "days": 86400.0, "cycles": 86400.0}[self.value]


class Lifecycle(StrEnum):
    """Where an asset stands: ``in_service`` (reporting, or expected to), ``offline`` (an
    in-service asset that missed its expected readings: derived from when it was last seen, never
    stored), ``retired`` (taken out of service: kept with its history, which training still
    reads, but out of the live KPIs, alarms and plans)."""

    in_service = "in_service"
    offline = "offline"
    retired = "retired"


class Customer(BaseModel):
    """A tenant: one of the manufacturer's customers."""

    id: str = Field(pattern=_ID_PATTERN)
    name: str


class Site(BaseModel):
    """A customer location; calendars and crews' travel are per site."""

    id: str = Field(pattern=_ID_PATTERN)
    customer_id: str
    name: str
    timezone: str = "UTC"
    region: str = "default"
    latitude: float | None = None
    longitude: float | None = None


class Channel(BaseModel):
    """One sensor channel of an asset type, with the range a healthy sensor can report."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    unit: str = ""
    min: float | None = None
    max: float | None = None
    description: str = ""

    def out_of_range(self, value: float) -> str | None:
        """Reason the value lies outside the valid range, or None."""
        if self.min is not None and value < self.min:
            return f"{value} is below the channel minimum {self.min} {self.unit}".rstrip()
        if self.max is not None and value > self.max:
            return f"{value} is above the channel maximum {self.max} {self.unit}".rstrip()
        return None


class AssetType(BaseModel):
    """A product line (elevator, chain_drive, turbofan) and the channels its units report."""

    id: str = Field(pattern=_ID_PATTERN)
    name: str = ""
    time_unit: TimeUnit = TimeUnit.hours
    channels: list[Channel] = Field(default_factory=list)
    failure_threshold: dict[str, float] = Field(
        default_factory=dict,
        description="Wear channels and the value at which the part counts as failed.",
    )
    sample_interval_s: float | None = Field(
        None,
        gt=0,
        description="How often an asset of this type reports, in seconds (declared); when "
        "unset it is learned from the readings. An asset silent for several of these intervals "
        "is offline.",
    )

    def channel(self, name: str) -> Channel | None:
        for c in self.channels:
            if c.name == name:
                return c
        return None

    @property
    def channel_names(self) -> list[str]:
        return [c.name for c in self.channels]


class Asset(BaseModel):
    """One sold unit, or a component of one (``parent_id`` set)."""

    id: str = Field(pattern=_ID_PATTERN)
    customer_id: str
    site_id: str
    type_id: str
    serial: str = ""
    model: str = ""
    installed_at: datetime
    parent_id: str | None = None
    lifecycle: Lifecycle = Field(
        Lifecycle.in_service,
        description="in_service or retired as stored; offline is derived from when the asset "
        "was last seen (see the API's `state`)",
    )
    retired_at: datetime | None = None

    @field_validator("installed_at", "retired_at")
    @classmethod
    def _utc(cls, v: datetime | None) -> datetime | None:
        from datetime import UTC

        if v is None:
            return None
        return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)

    @field_validator("lifecycle")
    @classmethod
    def _stored(cls, v: Lifecycle) -> Lifecycle:
        if v is Lifecycle.offline:
            raise ValueError("offline is derived from the readings, not set: use in_service")
        return v

    @property
    def retired(self) -> bool:
        return self.lifecycle is Lifecycle.retired
