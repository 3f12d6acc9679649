"""Wear-trend forecasts of a part from its own readings: none while it is too young to tell, and
a lower tail that follows wear that sped up late in the life."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from prognos.domain import Asset, AssetType, Channel, Customer, ReadingBatch, Site
from prognos.domain.keys import MANUFACTURER

START = datetime(2026, 1, 1, tzinfo=UTC)


def _chain(platform, elongation: np.ndarray, per_day: int = 1) -> Asset:
    platform.registry.add_asset_type(
        MANUFACTURER,
        AssetType(
            id="chain_drive",
            time_unit="days",
            failure_threshold={"elongation": 3.0},
            channels=[Channel(name="elongation", unit="%", min=-1, max=10)],
        ),
    )
    platform.registry.add_customer(MANUFACTURER, Customer(id="bottler", name="Bottler"))
    platform.registry.add_site(
        MANUFACTURER, Site(id="line-1", customer_id="bottler", name="Line 1")
    )
    a = Asset(
        id="chain-1", customer_id="bottler", site_id="line-1", type_id="chain_drive",
        installed_at=START,
    )  # fmt: skip
    platform.registry.add_assets(MANUFACTURER, [a])
    n = len(elongation)
    ts = np.datetime64(START.replace(tzinfo=None), "us") + (
        (np.arange(n) + 1) * np.timedelta64(86400 // per_day, "s")
    ).astype("timedelta64[us]")
    platform.telemetry.ingest_batch(
        MANUFACTURER,
        ReadingBatch(
            np.array(["chain-1"] * n, dtype=object),
            np.array(["elongation"] * n, dtype=object),
            ts,
            elongation,
        ),
    )
    return platform.registry.asset(MANUFACTURER, "chain-1")


def test_a_new_part_has_no_forecast_until_its_wear_says_something(platform):
    # three days of a new chain, every 10 minutes: 0.01 %/day under 0.03 % noise
    rng = np.random.default_rng(1)
    n = 3 * 144
    e = 0.05 + 0.01 * np.arange(n) / 144 + rng.normal(0, 0.03, n)
    asset = _chain(platform, e, per_day=144)
    assert platform.forecasts.forecast(MANUFACTURER, asset.id) is None


def test_wear_that_sped_up_late_pulls_the_lower_tail_in(platform):
    # the simulator's chain "a1" (seed 1) wears faster once its lubrication fails; a week before
    # its end the whole life's trend alone said a month (P10 29.6 days)
    from prognos.sim.live import CHAIN_DRIVE, LiveAsset, LiveFleet

    fleet = LiveFleet([LiveAsset("a1", "bottler", CHAIN_DRIVE, START)], seed=1)
    left = 7.0
    [s] = fleet.advance_wide(START + timedelta(days=fleet.life("a1") - left), 10**6)
    elongation = s.values[:, 0]
    asset = _chain(platform, elongation, per_day=144)
    f = platform.forecasts.forecast(MANUFACTURER, asset.id)
    assert f is not None and f.p10 <= left + 2.0
