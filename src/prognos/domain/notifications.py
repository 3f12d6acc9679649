"""Where alarm news goes: one owner's webhooks and e-mail targets (the manufacturer's hear about
every alarm, a customer's about its own assets' only), each choosing events and a severity."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from prognos.domain.alarms import Alarm, AlarmEvent, Severity

EVENTS = tuple(e.value for e in AlarmEvent)


class _Target(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    events: list[Literal["raised", "escalated", "cleared"]] = Field(
        default_factory=lambda: list(EVENTS)
    )
    min_severity: Severity = Severity.warning

    def wants(self, event: AlarmEvent, a: Alarm) -> bool:
        return event.value in self.events and a.severity.rank >= self.min_severity.rank


class Webhook(_Target):
    url: HttpUrl
    secret: str = Field("", description="HMAC-SHA256 key; empty: one is made and shown once")


class EmailTarget(_Target):
    to: list[str] = Field(min_length=1)


class Targets(BaseModel):
    """Where one owner's alarm news goes."""

    model_config = ConfigDict(extra="forbid")

    webhooks: list[Webhook] = Field(default_factory=list)
    email: list[EmailTarget] = Field(default_factory=list)

    def masked(self) -> Targets:
        """As shown after it was stored: the secrets' last four characters only."""
        hooks = [w.model_copy(update={"secret": "…" + w.secret[-4:]}) for w in self.webhooks]
        return self.model_copy(update={"webhooks": hooks})
