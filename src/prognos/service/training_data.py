"""Run-to-failure lives as the table a RUL model learns from, on the channels most lives have.

Fleets are seldom uniform: one asset lacks a sensor, another lost a channel for a year. A model
needs the same columns on every row, so the channels reported in more than half of the lives
are kept; a life lacking one of them is left out, and both are named on the model card (a
channel a few assets lack is not worth losing most lives for, and a life that cannot fill a
column would otherwise fill it with guesses).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from prognos.analytics.life_events import Life
from prognos.domain import Asset, AssetType
from prognos.service.frames import life_frame, setting_channels, wide
from prognos.store.ports import ReadingsPort

MIN_CHANNEL_SHARE = 0.5  # a channel is kept when more than this share of lives reports it


@dataclass
class LifeTable:
    """Rows (``unit``, ``cycle``, channels, ``rul``) of the lives used, and what was left out."""

    data: pd.DataFrame
    settings: list[str]
    sensors: list[str]
    lives: list[Life]
    left_out_channels: list[str] = field(default_factory=list)
    left_out_lives: dict[str, str] = field(default_factory=dict)

    def left_out(self) -> dict[str, object]:
        return {"channels": self.left_out_channels, "lives": self.left_out_lives}


def in_window(lives: list[Life], since: datetime | None, until: datetime | None) -> list[Life]:
    """The lives that ended inside [since, until]."""
    return [
        x for x in lives if (since is None or x.end >= since) and (until is None or x.end <= until)
    ]


def life_table(
    readings: ReadingsPort,
    assets: dict[str, Asset],
    t: AssetType,
    lives: list[Life],
    channels: list[str] | None = None,
) -> LifeTable:
    """The lives' readings from start to end with RUL per row; ``channels`` (a trained model's)
    instead of the majority rule."""
    unit_s = t.time_unit.seconds
    wides: dict[str, pd.DataFrame] = {}
    skipped: dict[str, str] = {}
    for life in lives:
        long = readings.read_telemetry(life.asset_id, start=life.start, end=life.end)
        if long.empty:
            skipped[life.id] = "no readings in this life"
            continue
        wides[life.id] = wide(long).dropna(axis=1, how="all")
    if channels is None:
        counts = pd.Series([c for w in wides.values() for c in w.columns]).value_counts()
        keep = sorted(c for c, n in counts.items() if n > MIN_CHANNEL_SHARE * len(wides))
        dropped = sorted(set(counts.index) - set(keep))
    else:
        keep, dropped = list(channels), []
    frames = []
    used = []
    for life in lives:
        w = wides.get(life.id)
        if w is None:
            continue
        lacking = [c for c in keep if c not in w.columns]
        if lacking:
            skipped[life.id] = f"lacks {', '.join(lacking)}"
            continue
        f = life_frame(w[keep], assets[life.asset_id], t, start=life.start)
        if f.empty:
            skipped[life.id] = "no row with every channel"
            continue
        age = life.duration(unit_s)
        f = f[f["cycle"] <= age].assign(unit=life.id)
        f["rul"] = age - f["cycle"]
        frames.append(f)
        used.append(life)
    data = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    settings = [c for c in setting_channels(t) if c in keep]
    sensors = [c for c in keep if c not in settings]
    return LifeTable(data, settings, sensors, used, dropped, skipped)
