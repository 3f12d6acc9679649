"""A small, honest fleet for the panel's tests: engines with telemetry, forecast histories,
health scores, site calendars, crews, work orders in every state, and alarms.

Everything is dated relative to ``TODAY`` (the real date) so that the pages' default windows
(the calendar's weeks, "jobs in 30 days") show it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np

from prognos.domain import (
    Asset,
    AssetType,
    Channel,
    Customer,
    FailureForecast,
    HealthScore,
    ReadingBatch,
    Site,
)
from prognos.domain.alarms import Alarm
from prognos.domain.keys import MANUFACTURER
from prognos.domain.planning import Crew, SiteCalendar, Window, WorkOrder
from prognos.service.platform import Platform

# The newest readings and forecasts are an hour old, so live readings sent by a test come after.
NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
TODAY = NOW.date()
CUSTOMERS = {"aerolinea": "Aerolínea del Sur", "nordjet": "NordJet", "pacific-air": "Pacific Air"}
ENGINE = AssetType(
    id="turbofan",
    name="Turbofan engine",
    time_unit="cycles",
    channels=[
        Channel(name="T30", unit="degR", min=1400, max=1620),  # the top limit near the data
        Channel(name="T50", unit="degR", min=1300, max=1500),
        Channel(name="P30", unit="psia", min=500, max=600),
        Channel(name="Nc", unit="rpm", min=8000, max=9500),
        Channel(name="Nf", unit="rpm", min=2000, max=2600, description="fan speed (flat)"),
    ],
    failure_threshold={"T50": 1440.0},
)
COMPRESSOR = AssetType(id="hp-compressor", name="HP compressor module", time_unit="cycles")
APU = AssetType(id="apu", name="Auxiliary power unit", time_unit="hours")  # nobody owns one
FLAT_NF = 2388.0  # like C-MAPSS sensor 8 on many engines: one value, always
LEVELS = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
# RUL medians (cycles) today per engine; the first of each customer is the one in trouble.
RUL_TODAY = [18, 95, 160, 240]
HEALTH = [31.0, 62.0, 84.0, 93.0]
HOURS = 24 * 14
ORDER_DAY = TODAY + timedelta(days=3)  # a planned stop at aerolinea's hangar


def engine_id(customer: str, i: int) -> str:
    return f"{customer}-e{i + 1:02d}"


def forecast(asset_id: str, as_of: datetime, median: float) -> FailureForecast:
    """Lognormal spread around the median, as a conformal RUL model would report it."""
    z = {
        0.05: -1.645,
        0.1: -1.2816,
        0.25: -0.6745,
        0.5: 0.0,
        0.75: 0.6745,
        0.9: 1.2816,
        0.95: 1.645,
    }
    sigma = 0.35
    q = {lv: max(median * float(np.exp(sigma * z[lv])), 0.0) for lv in LEVELS}
    return FailureForecast.from_quantiles(
        asset_id, as_of, q, time_unit="cycles", model="lgbm-rul", model_version="1"
    )


def readings(asset_id: str, end: datetime, hours: int, wear: float, seed: int) -> ReadingBatch:
    """Hourly readings with a daily cycle, noise and a temperature drift that grows with wear."""
    rng = np.random.default_rng(seed)
    ts = np.array([np.datetime64(end.replace(tzinfo=None), "us")]) - np.arange(hours)[::-1].astype(
        "timedelta64[h]"
    )
    k = np.arange(hours)
    base = {
        "T30": 1590 + 4 * np.sin(2 * np.pi * k / 24) + wear * 12 * k / hours,
        "T50": 1405 + 5 * np.sin(2 * np.pi * k / 24) + wear * 20 * k / hours,
        "P30": 553 - wear * 3 * k / hours,
        "Nc": 9060 + 10 * np.sin(2 * np.pi * k / 24 + 1),
        "Nf": np.full(hours, FLAT_NF),
    }
    chans, vals = [], []
    for ch, v in base.items():
        chans.append(np.full(hours, ch, dtype=object))
        noise = 0.0 if ch == "Nf" else rng.normal(0, 0.6, hours) * (3 if ch == "Nc" else 1)
        vals.append(v + noise)
    n = len(base)
    return ReadingBatch(
        np.full(hours * n, asset_id, dtype=object),
        np.concatenate(chans),
        np.tile(ts, n),
        np.concatenate(vals),
    )


def calendar(site_id: str) -> SiteCalendar:
    """Two shifts on weekdays for eight weeks, a planned stop on ``ORDER_DAY``, a blackout week."""
    start = TODAY - timedelta(days=21)
    windows = []
    blackout = TODAY + timedelta(days=17)
    for i in range(56):
        d = start + timedelta(days=i)
        at = datetime.combine(d, datetime.min.time(), tzinfo=UTC)
        if d == ORDER_DAY:
            windows.append(
                Window(start=at, end=at + timedelta(days=1), kind="stop", label="planned stop")
            )
        elif blackout <= d < blackout + timedelta(days=7):
            windows.append(
                Window(start=at, end=at + timedelta(days=1), kind="blackout", label="audit")
            )
        elif d.weekday() < 5:
            windows.append(
                Window(start=at + timedelta(hours=6), end=at + timedelta(hours=22), kind="shift")
            )
    return SiteCalendar(site_id=site_id, timezone="UTC", windows=windows)


def build(platform: Platform, hours: int = HOURS) -> dict[str, str]:
    """Seed the fleet; returns a manufacturer key and a key per customer."""
    platform.registry.add_asset_type(MANUFACTURER, ENGINE)
    platform.registry.add_asset_type(MANUFACTURER, COMPRESSOR)
    platform.registry.add_asset_type(MANUFACTURER, APU)
    store = platform.store
    for cid, name in CUSTOMERS.items():
        platform.registry.add_customer(MANUFACTURER, Customer(id=cid, name=name))
        platform.registry.add_site(
            MANUFACTURER,
            Site(id=f"{cid}-hangar", customer_id=cid, name=f"{name} hangar", region=cid),
        )
        engines = [
            Asset(
                id=engine_id(cid, i),
                customer_id=cid,
                site_id=f"{cid}-hangar",
                type_id="turbofan",
                serial=f"ESN-{cid[:3].upper()}-{i + 1:03d}",
                model="CFM-sim 7B",
                installed_at=NOW - timedelta(days=400 + 30 * i),
            )
            for i in range(4)
        ]
        platform.registry.add_assets(MANUFACTURER, engines)
        platform.registry.add_assets(
            MANUFACTURER,
            [
                Asset(
                    id=f"{engine_id(cid, 0)}-hpc",
                    customer_id=cid,
                    site_id=f"{cid}-hangar",
                    type_id="hp-compressor",
                    serial=f"HPC-{cid[:3].upper()}-1",
                    model="HPC stage 9",
                    installed_at=NOW - timedelta(days=400),
                    parent_id=engine_id(cid, 0),
                )
            ],
        )
        store.put_document(
            "calendar",
            f"{cid}-hangar",
            calendar(f"{cid}-hangar").model_dump(mode="json"),
            customer_id=cid,
        )
        for i, e in enumerate(engines):
            wear = (3 - i) / 3
            platform.telemetry.ingest_batch(
                MANUFACTURER, readings(e.id, NOW, hours, wear, seed=7 * len(cid) + i), source="test"
            )
            for k in range(7, -1, -1):  # one forecast a day, the newest today
                as_of = NOW - timedelta(days=k)
                noise = 1 + 0.04 * np.sin(k * 1.7 + i)
                store.save_forecast(forecast(e.id, as_of, (RUL_TODAY[i] + k) * noise))
            anomalies = {"T50": 4.2, "T30": 2.6} if i == 0 else {}
            drivers = {"T50": 0.45, "T30": 0.3, "P30": 0.1} if i < 2 else {}
            for k in range(7, 0, -1):  # a score a day before today's, drifting down to it
                store.save_health(
                    HealthScore(e.id, NOW - timedelta(days=k), min(100.0, HEALTH[i] + 3 * k))
                )
            store.save_health(HealthScore(e.id, NOW, HEALTH[i], drivers, anomalies))
        store.save_forecast(forecast(f"{engine_id(cid, 0)}-hpc", NOW, RUL_TODAY[0] * 1.3))
        store.save_health(HealthScore(f"{engine_id(cid, 0)}-hpc", NOW, 45.0))
    for crew in (
        Crew(id="crew-north", skills={"turbofan"}, home_region="nordjet"),
        Crew(id="crew-south", skills={"turbofan", "hp-compressor"}, home_region="aerolinea"),
    ):
        store.put_document("crew", crew.id, crew.model_dump(mode="json"))

    def order(oid: str, asset: str, day: date, crew: str, path: tuple[str, ...]) -> WorkOrder:
        a = store.get_asset(asset)
        o = WorkOrder(
            id=oid, asset_id=asset, site_id=a.site_id, day=day, crew_id=crew, part="HPT-blade-set"
        )
        for s in path:
            o = o.transition(s, NOW - timedelta(days=1))
        return platform.orders.save(MANUFACTURER, o)

    order("wo-1001", "aerolinea-e01", ORDER_DAY, "crew-south", ("scheduled",))
    order(
        "wo-1002", "aerolinea-e02", TODAY, "crew-south", ("scheduled", "dispatched", "in_progress")
    )
    order(
        "wo-1003",
        "nordjet-e01",
        TODAY + timedelta(days=1),
        "crew-north",
        ("scheduled", "dispatched"),
    )
    order("wo-1004", "nordjet-e02", TODAY + timedelta(days=6), "crew-north", ("scheduled",))
    order("wo-1005", "pacific-air-e01", TODAY + timedelta(days=9), "crew-north", ())
    order(
        "wo-1006",
        "aerolinea-e03",
        TODAY - timedelta(days=12),
        "crew-south",
        ("scheduled", "dispatched", "in_progress"),
    )
    platform.orders.complete(
        MANUFACTURER,
        "wo-1006",
        "blades eroded, replaced",
        0.8,
        at=NOW - timedelta(days=12),
    )
    seed_alarms(platform)
    # The seeded forecasts are those of the seeded readings: the server's refresher, which
    # forecasts assets with readings it has not seen, starts with nothing to catch up on.
    store.take_fresh_assets()
    keys = {"maker": platform.keys.create(MANUFACTURER, None, "test manufacturer")[0]}
    for cid in CUSTOMERS:
        keys[cid] = platform.keys.create(MANUFACTURER, cid, f"test {cid}")[0]
    return keys


def seed_alarms(platform: Platform) -> None:
    """Alarms of every rule and state: two active (e01's health rule, nordjet-e01's report),
    one silenced (during wo-1002), one acknowledged, four cleared (by a replacement, by a work
    order, by the normal period, by readings coming back)."""
    platform.alarms.observe(  # the z-score rule on a health score: critical below 40
        healths=[
            HealthScore(
                "aerolinea-e01", NOW - timedelta(hours=3), 31.0, {}, {"T50": 4.2, "T30": 2.6}
            )
        ]
    )
    platform.alarms.report(
        MANUFACTURER,
        "aerolinea-e02",
        "vibration",
        "vibration spike",
        "warning",
        NOW - timedelta(hours=1),
        {"Nc": 3.4},
    )  # during wo-1002: silenced
    platform.alarms.report(
        MANUFACTURER, "nordjet-e01", "P30 drop", "compressor delivery pressure drop", "warning",
        NOW - timedelta(hours=5), {"P30": 3.1},
    )  # fmt: skip

    def past(asset: str, cause: str, rule: str, details: dict, days: float, **kw) -> Alarm:
        a = platform.store.get_asset(asset)
        t = NOW - timedelta(days=days)
        return Alarm(
            id=f"al-past-{asset}-{rule}", asset_id=asset, customer_id=a.customer_id,
            site_id=a.site_id, type_id=a.type_id, cause=cause, rule=rule,
            channel=details.pop("channel", None), severity=kw.pop("severity", "warning"),
            message=kw.pop("message", cause), details=details, first_seen=t,
            last_seen=t + timedelta(hours=6), count=kw.pop("count", 4),
            touched_at=kw.pop("touched_at", t), **kw,
        )  # fmt: skip

    platform.alarms.import_alarms(
        MANUFACTURER,
        [
            past("nordjet-e02", "threshold:T50:above", "threshold",
                 {"channel": "T50", "value": 1461.0, "limit": 1450.0, "op": "above"}, 9,
                 severity="critical", state="cleared", cleared_at=NOW - timedelta(days=8),
                 cleared_by="replacement", count=12),
            past("aerolinea-e03", "rate:Nc", "rate",
                 {"channel": "Nc", "rate": 41.0, "limit": 30.0, "per": "hour"}, 13,
                 state="cleared", cleared_at=NOW - timedelta(days=12), cleared_by="work order wo-1006"),
            past("aerolinea-e04", "probability:30d", "probability",
                 {"probability": 0.56, "horizon_days": 30, "limit": 0.5}, 6,
                 state="cleared", cleared_at=NOW - timedelta(days=4), cleared_by="auto"),
            past("pacific-air-e02", "no_data", "no_data",
                 {"silent_s": 7300, "expected_every_s": 600, "last_reading": NOW.isoformat()}, 3,
                 state="cleared", cleared_at=NOW - timedelta(days=2), cleared_by="auto"),
            # acknowledged, and still going on in the asset's own readings (they end at NOW)
            past("pacific-air-e03", "threshold:T30:below", "threshold",
                 {"channel": "T30", "value": 1488.0, "limit": 1490.0, "op": "below"}, 0.25,
                 state="acknowledged", acked_at=NOW - timedelta(hours=2), acked_by="test pacific-air",
                 touched_at=datetime.now(UTC)),
        ],
    )  # fmt: skip


def new_order(
    platform: Platform, oid: str, asset="nordjet-e03", status=("scheduled",), day=None
) -> WorkOrder:
    """A work order on ``asset`` (today unless ``day``), moved along ``status``."""
    o = WorkOrder(
        id=oid,
        asset_id=asset,
        site_id=asset.rsplit("-e", 1)[0] + "-hangar",
        day=day or TODAY,
        crew_id="crew-north",
    )
    for s in status:
        o = o.transition(s)
    return platform.orders.save(MANUFACTURER, o)
