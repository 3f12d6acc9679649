"""A synthetic connected fleet for ingest benchmarks and tests: registry plus its telemetry stream.

``setup_fleet`` registers customers, sites, one asset type with ``n_channels`` channels and
``n_assets`` assets; ``fleet_messages`` yields what those assets would publish over MQTT, one
wide record per asset and tick, on ``prognos/<customer>/<asset>/telemetry``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from prognos.domain import Asset, AssetType, Channel, Customer, Site
from prognos.domain.keys import MANUFACTURER

FLEET_TYPE = "fleet-pump"
START = datetime(2026, 1, 1, tzinfo=UTC)


def channel_names(n_channels: int) -> list[str]:
    return [f"ch{i:02d}" for i in range(n_channels)]


def asset_id(i: int) -> str:
    return f"unit-{i:05d}"


def customer_of(i: int, n_customers: int) -> str:
    return f"cust-{i % n_customers:02d}"


def setup_fleet(platform, n_assets: int = 1000, n_channels: int = 20, n_customers: int = 10):
    """Register the fleet in ``platform`` (a ``prognos.service.platform.Platform``)."""
    platform.registry.add_asset_type(
        MANUFACTURER,
        AssetType(
            id=FLEET_TYPE,
            name="Fleet pump",
            channels=[Channel(name=c, min=-1e6, max=1e6) for c in channel_names(n_channels)],
        ),
    )
    for c in range(min(n_customers, n_assets)):
        cid = customer_of(c, n_customers)
        platform.registry.add_customer(MANUFACTURER, Customer(id=cid, name=cid))
        platform.registry.add_site(
            MANUFACTURER, Site(id=f"{cid}-site", customer_id=cid, name="plant")
        )
    platform.registry.add_assets(
        MANUFACTURER,
        [
            Asset(
                id=asset_id(i),
                customer_id=customer_of(i, n_customers),
                site_id=f"{customer_of(i, n_customers)}-site",
                type_id=FLEET_TYPE,
                serial=f"SN{i:05d}",
                installed_at=START - timedelta(days=365),
            )
            for i in range(n_assets)
        ],
    )


def reading_value(i: int, tick: int, k: int) -> float:
    """The value asset ``i`` reports on channel ``k`` at ``tick``: exact in binary, checkable."""
    return float((i * 31 + tick * 7 + k) % 1000) / 4


def fleet_messages(
    n_assets: int = 1000,
    n_channels: int = 20,
    ticks: int = 1,
    n_customers: int = 10,
    first_tick: int = 0,
) -> Iterator[tuple[str, bytes]]:
    """(topic, payload) per asset and tick; ticks are one second apart from ``START``."""
    chans = channel_names(n_channels)
    for tick in range(first_tick, first_tick + ticks):
        ts = (START + timedelta(seconds=tick)).isoformat().replace("+00:00", "Z")
        for i in range(n_assets):
            values = {c: reading_value(i, tick, k) for k, c in enumerate(chans)}
            topic = f"prognos/{customer_of(i, n_customers)}/{asset_id(i)}/telemetry"
            yield topic, json.dumps({"ts": ts, "values": values}).encode()


def expected_sum(n_assets: int, n_channels: int, ticks: int, first_tick: int = 0) -> float:
    return sum(
        reading_value(i, t, k)
        for t in range(first_tick, first_tick + ticks)
        for i in range(n_assets)
        for k in range(n_channels)
    )
