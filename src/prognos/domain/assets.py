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

    @field_validator("installed_at")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        from datetime import UTC

        return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)
