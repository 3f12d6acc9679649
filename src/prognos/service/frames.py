"""An asset's stored history as the models read it: one life, time down, a column per channel.

A life starts at the asset's installation or last part replacement, and its age is counted in
the asset type's time unit. Fleet scoring reads many assets in one query and one pivot: per
asset, the query and the pivot cost more than the model.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from prognos.domain import Asset, AssetType
from prognos.store.ports import ReadingsPort


def setting_channels(t: AssetType) -> list[str]:
    """Channels that describe operating conditions, not health (used to find regimes)."""
    return [
        c.name
        for c in t.channels
        if c.name.startswith("setting") or "operating setting" in c.description
    ]


def wide(long: pd.DataFrame) -> pd.DataFrame:
    """Readings as a table: time down, a column per channel (the last reading of a repeat)."""
    return long.pivot_table(
        index="ts", columns="channel", values="value", aggfunc="last"
    ).sort_index()


def life_frame(
    wide: pd.DataFrame, asset: Asset, t: AssetType, start: datetime | None = None
) -> pd.DataFrame:
    """``asset_frame`` from readings already pivoted (``wide_frames``)."""
    start = start or asset.installed_at
    wide = wide.ffill().dropna()
    if wide.empty:
        return pd.DataFrame()
    age = (wide.index - pd.Timestamp(start)).total_seconds() / t.time_unit.seconds
    wide.insert(0, "cycle", np.round(np.asarray(age, dtype=float), 6))
    wide.insert(0, "unit", asset.id)
    return wide.reset_index(drop=True)


def asset_frame(
    readings: ReadingsPort,
    asset: Asset,
    t: AssetType,
    start: datetime | None = None,
    end: datetime | None = None,
) -> pd.DataFrame:
    """One life of an asset as a wide frame: ``unit``, ``cycle`` (age in the type's unit), channels.

    The life starts at ``start`` (default: the asset's installation or last part replacement).
    """
    start = start or asset.installed_at
    long = readings.read_telemetry(asset.id, start=start, end=end)
    if long.empty:
        return pd.DataFrame()
    return life_frame(wide(long), asset, t, start)


def wide_frames(readings: ReadingsPort, assets: list[Asset]) -> dict[str, pd.DataFrame]:
    """Each asset's readings since its installation, pivoted (``wide``), from one query and
    one pivot for all of them."""
    long = readings.read_telemetry_many([a.id for a in assets])
    if long.empty:
        return {}
    starts = {a.id: pd.Timestamp(a.installed_at) for a in assets}
    long = long[long["ts"] >= long["asset_id"].map(starts)]
    both = long.pivot_table(
        index=["asset_id", "ts"], columns="channel", values="value", aggfunc="last"
    ).sort_index()
    # an asset lacking a channel the others have must not get an all-empty column for it
    return {
        str(aid): w.droplevel(0).dropna(axis=1, how="all")
        for aid, w in both.groupby(level=0, sort=False)
    }
