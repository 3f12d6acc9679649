"""Register a NASA C-MAPSS subset as a turbofan fleet and load its histories as telemetry.

Test units become engines in service (their histories end "today"); train units become engines
that already ran to failure, each with a labelled failure event at its last cycle, which is what
`prognos train` learns from: retired history, out of the live fleet, its KPIs, alarms and plans. Engines are spread over a few airline customers so that tenancy is
visible in the demo. One cycle is taken as one operating day.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from prognos.analytics.cmapss import SENSORS, SETTINGS, load_subset
from prognos.domain import Asset, AssetType, Channel, Customer, Lifecycle, ReadingBatch, Site
from prognos.domain.assets import TimeUnit
from prognos.domain.keys import MANUFACTURER
from prognos.service.platform import Platform

AIRLINES = (
    ("aerolinea", "Aerolínea del Sur", "America/Bogota", "americas"),
    ("nordjet", "NordJet", "Europe/Oslo", "europe"),
    ("pacific-air", "Pacific Air", "Asia/Shanghai", "asia"),
)
TURBOFAN = "turbofan"
TRAIN_FAILED_DAYS_AGO = 30


def turbofan_type(frames: list[pd.DataFrame], existing: AssetType | None) -> AssetType:
    """The turbofan asset type, with valid ranges wide around what the data shows."""
    chans = []
    for col in (*SETTINGS, *SENSORS):
        lo = min(float(f[col].min()) for f in frames)
        hi = max(float(f[col].max()) for f in frames)
        pad = max(hi - lo, abs(hi) * 0.05, 1e-3)
        lo, hi = lo - pad, hi + pad
        if existing and (old := existing.channel(col)) is not None:
            lo, hi = min(lo, old.min), max(hi, old.max)
        chans.append(
            Channel(
                name=col,
                min=round(lo, 6),
                max=round(hi, 6),
                description="operating setting" if col in SETTINGS else "engine sensor",
            )
        )
    return AssetType(
        id=TURBOFAN, name="Turbofan engine (C-MAPSS)", time_unit=TimeUnit.cycles, channels=chans
    )


def _batch(
    df: pd.DataFrame, asset_of: dict[int, str], installed: dict[int, datetime]
) -> ReadingBatch:
    cols = [*SETTINGS, *SENSORS]
    n = len(df)
    units = df["unit"].to_numpy()
    base = np.array([np.datetime64(installed[u].replace(tzinfo=None), "us") for u in units])
    ts = base + (df["cycle"].to_numpy().astype("int64") * 86_400_000_000).astype("timedelta64[us]")
    return ReadingBatch(
        np.repeat(np.array([asset_of[u] for u in units], dtype=object), len(cols)),
        np.tile(np.array(cols, dtype=object), n),
        np.repeat(ts, len(cols)),
        df[cols].to_numpy(dtype=float).reshape(-1),
    )


HOLD_OUT_EVERY = 5  # the demo keeps every fifth run-to-failure unit for the simulator


def held_out(units, every: int = HOLD_OUT_EVERY) -> list[int]:
    """The train units ``load_cmapss_fleet(hold_out_every=every)`` leaves out."""
    return [int(u) for u in units if every and int(u) % every == 0]


def load_cmapss_fleet(
    platform: Platform,
    subset: str = "FD001",
    data_dir: Path | str | None = None,
    now: datetime | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    max_units: int | None = None,
    hold_out_every: int = 0,
) -> dict[str, int]:
    """Register customers, sites, the turbofan type and the engines of ``subset`` (the first ``max_units``
    of each split, or all); load their telemetry. With ``hold_out_every`` every so many train
    units are not loaded (``held_out``): the simulator continues the test engines with them,
    run-to-failure lives no model trained on."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    data = load_subset(subset, data_dir)
    known = platform.registry.snapshot().types.get(TURBOFAN)
    platform.registry.add_asset_type(MANUFACTURER, turbofan_type([data.train, data.test], known))
    for cid, name, tz, region in AIRLINES:
        platform.registry.add_customer(MANUFACTURER, Customer(id=cid, name=name))
        platform.registry.add_site(
            MANUFACTURER,
            Site(
                id=f"{cid}-hangar",
                customer_id=cid,
                name=f"{name} maintenance base",
                timezone=tz,
                region=region,
            ),
        )
    sub = subset.lower()
    totals = {"assets": 0, "readings": 0, "rejected": 0}
    for split, frame in (("train", data.train), ("test", data.test)):
        if max_units is not None:  # a smaller fleet, for tests and quick looks
            frame = frame[frame["unit"] <= max_units]
        if split == "train" and hold_out_every:
            frame = frame[~frame["unit"].isin(held_out(frame["unit"].unique(), hold_out_every))]
        last = frame.groupby("unit")["cycle"].max()
        asset_of, installed, assets = {}, {}, []
        for u, last_cycle in last.items():
            cid = AIRLINES[(u - 1) % len(AIRLINES)][0]
            end = now - timedelta(days=TRAIN_FAILED_DAYS_AGO if split == "train" else 0)
            installed[u] = end - timedelta(days=int(last_cycle))
            asset_of[u] = f"{sub}-{'r' if split == 'train' else 'e'}{u:03d}"
            # a run-to-failure engine is history: retired at its failure, kept for training
            retired = split == "train"
            assets.append(
                Asset(
                    id=asset_of[u],
                    customer_id=cid,
                    site_id=f"{cid}-hangar",
                    type_id=TURBOFAN,
                    serial=f"{subset}-{split}-{u:03d}",
                    model=f"CFM-sim {subset}",
                    installed_at=installed[u],
                    lifecycle=Lifecycle.retired if retired else Lifecycle.in_service,
                    retired_at=installed[u] + timedelta(days=int(last_cycle)) if retired else None,
                )
            )
        platform.registry.add_assets(MANUFACTURER, assets)
        units = list(last.index)
        step = 20
        for i in range(0, len(units), step):
            chunk = frame[frame["unit"].isin(units[i : i + step])]
            res = platform.telemetry.ingest_batch(
                MANUFACTURER,
                _batch(chunk, asset_of, installed),
                source=f"cmapss:{subset}:{split}",
            )
            totals["readings"] += res.accepted
            totals["rejected"] += len(res.rejected)
            if progress:
                progress(split, min(i + step, len(units)), len(units))
        if split == "train":
            for u, last_cycle in last.items():
                a = asset_of[u]
                failed_at = installed[u] + timedelta(days=int(last_cycle))
                platform.orders.record_event(
                    MANUFACTURER,
                    a,
                    {
                        "id": f"{a}-failure",
                        "asset_id": a,
                        "kind": "failure",
                        "at": failed_at.isoformat(),
                        "age": int(last_cycle),
                        "source": f"C-MAPSS {subset} run-to-failure",
                    },
                )
        totals["assets"] += len(assets)
    return totals
