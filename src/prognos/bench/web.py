"""Benchmark: web. Server time of the control panel's fleet, asset and alarm pages at fleet scale.

    prognos bench web --json     # 10,000 assets, a year of hourly telemetry (4 channels) for one

A temporary DuckDB file gets 10,000 assets over 5 customers and 20 sites, the latest health of
each, ``--history`` forecasts each (3 by default; a year of daily ones for the asset under
test), 2,000 planned work orders and 10,000 alarms of 90 days (a fifth of the newest active);
the asset under test gets 8,760 hourly
readings of 4 channels through the normal ingest path. Registry, forecasts, health, work
orders and alarms go in through the use cases, bulk where those are (setup time is reported,
not measured against a target). Then the whole server app answers in process (httpx ``ASGITransport``):

* fleet page: the HTML of one page of 50 rows with the summary over every asset, cycling
  through sort keys and pages;
* asset page: its HTML plus the two data requests its scripts make (downsampled telemetry of
  the 4 default channels, the forecast fan and failure curve), summed per visit;
* alarm desk: the HTML of one page of 50 alarms with its state counts and filter options,
  cycling through the active alarms, a filtered list, a deep page and the groups by asset and
  cause (target: p95 under 300 ms).

Each is timed ``--requests`` times after a few warm-ups; p50/p95 in milliseconds.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from prognos.domain.keys import MANUFACTURER
from prognos.web.session import session_for

CUSTOMERS = 5
SITES_PER_CUSTOMER = 4
CHANNELS = ("T30", "T50", "P30", "Nc")
ALARMS = 10_000  # the alarm desk's table
LEVELS = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
Z = (-1.645, -1.2816, -0.6745, 0.0, 0.6745, 1.2816, 1.645)


def _bulk_load(platform, n_assets: int, target: str, now, seed: int, history: int = 3) -> dict:
    """Registry, health, forecasts, work orders and alarms for ``n_assets``, through the use
    cases a user's data would go through (bulk where they are bulk)."""
    from datetime import timedelta

    import numpy as np

    from prognos.domain import (
        Asset,
        AssetType,
        Channel,
        Customer,
        FailureForecast,
        HealthScore,
        Site,
    )
    from prognos.domain.planning import WorkOrder

    p = MANUFACTURER
    rng = np.random.default_rng(seed)
    customers = [Customer(id=f"cust{c:02d}", name=f"Customer {c:02d}") for c in range(CUSTOMERS)]
    sites = [
        Site(id=f"{c.id}-s{s}", customer_id=c.id, name=f"{c.name} plant {s}", region=c.id)
        for c in customers
        for s in range(SITES_PER_CUSTOMER)
    ]
    platform.registry.add_asset_type(
        p,
        AssetType(
            id="turbofan",
            name="Turbofan engine",
            time_unit="cycles",
            channels=[Channel(name=c) for c in CHANNELS],
        ),
    )
    for c in customers:
        platform.registry.add_customer(p, c)
    for st in sites:
        platform.registry.add_site(p, st)
    idx = np.arange(n_assets)
    site_of = [sites[i % len(sites)] for i in idx]
    ids = [target] + [f"tf-{i:05d}" for i in idx[1:]]
    ages = rng.integers(200, 3000, n_assets)
    platform.registry.add_assets(
        p,
        [
            Asset(
                id=ids[i],
                customer_id=site_of[i].customer_id,
                site_id=site_of[i].id,
                type_id="turbofan",
                serial=f"ESN-{i:06d}",
                model="CFM-sim 7B" if i % 3 == 0 else "CFM-sim 5A",
                installed_at=now - timedelta(days=int(ages[i])),
            )
            for i in idx
        ],
    )
    median = rng.gamma(2.0, 60.0, n_assets) + 2
    health = np.clip(100 - 4000 / (median + 40) + rng.normal(0, 6, n_assets), 1, 100)
    healths = [
        HealthScore(a, now, float(h), {}, {"T50": 3.5} if h < 40 else {})
        for a, h in zip(ids, health, strict=True)
    ]
    spread = np.exp(0.35 * np.asarray(Z))
    forecasts = []
    for i, a in enumerate(ids):
        for k in range(365 if a == target else history):
            m = median[i] + k * (1 + 0.05 * np.sin(k / 9))
            forecasts.append(
                FailureForecast.from_quantiles(
                    a,
                    now - timedelta(days=k),
                    dict(zip(LEVELS, (m * spread).round(4).tolist(), strict=True)),
                    time_unit="cycles",
                    model="lgbm-rul",
                )
            )
    platform.forecasts.backfill(p, forecasts, healths)
    planned = rng.choice(n_assets, size=min(2000, n_assets), replace=False)
    platform.orders.save_many(
        p,
        [
            WorkOrder(
                id=f"wo-{n:05d}",
                asset_id=ids[i],
                site_id=site_of[i].id,
                day=(now + timedelta(days=int(rng.integers(0, 90)))).date(),
                crew_id=f"crew-{n % 50:02d}",
                part="HPT-blades",
            ).transition("scheduled", now)
            for n, i in enumerate(planned)
        ],
    )
    alarms = _alarms(ids, site_of, now, rng, ALARMS)
    platform.alarms.import_alarms(p, alarms)
    return {
        "assets": n_assets,
        "forecasts": len(forecasts),
        "documents": len(planned),
        "alarms": len(alarms),
    }


def _alarms(ids, site_of, now, rng, n: int) -> list:
    """``n`` alarms of the last 90 days on the first 1,000 assets, four causes each, so the
    groups by asset and cause hold up to three alarms; only the newest of a group may be open
    (a fifth active, some silenced or acknowledged, the rest cleared)."""
    from datetime import timedelta

    from prognos.domain.alarms import Alarm

    causes = ["zscore", "threshold:T50:above", "rate:Nc", "no_data"]
    hosts = min(1000, len(ids))
    out = []
    for k in range(n):
        i, cause = k % hosts, causes[(k // hosts) % len(causes)]
        newest = k + hosts * len(causes) >= n
        roll = rng.random()
        state = (
            "cleared" if not newest or roll < 0.6 else
            "active" if roll < 0.85 else "acknowledged" if roll < 0.95 else "silenced"
        )  # fmt: skip
        first = now - timedelta(minutes=int((n - k) * 90 * 1440 / n))
        out.append(
            Alarm(
                id=f"al-{k:06d}", asset_id=ids[i], customer_id=site_of[i].customer_id,
                site_id=site_of[i].id, type_id="turbofan", cause=cause, rule=cause.split(":")[0],
                channel="T50", severity="critical" if rng.random() < 0.2 else "warning",
                state=state, message="T50 unusual (z +4.4); health 35/100",
                details={"channels": {"T50": 4.4}, "health": 35.0}, first_seen=first,
                last_seen=first + timedelta(minutes=30), count=int(rng.integers(1, 40)),
                touched_at=first, acked_by="bench" if state == "acknowledged" else None,
                acked_at=first if state == "acknowledged" else None,
                cleared_by="auto" if state == "cleared" else None,
                cleared_at=first + timedelta(hours=2) if state == "cleared" else None,
            )
        )  # fmt: skip
    return out


def _hourly_year(asset_id: str, now, hours: int, seed: int):
    import numpy as np

    from prognos.domain import ReadingBatch

    rng = np.random.default_rng(seed)
    end = np.datetime64(now.replace(tzinfo=None, minute=0, second=0, microsecond=0), "us")
    ts = end - np.arange(hours)[::-1].astype("timedelta64[h]")
    k = np.arange(hours)
    base = {"T30": 1590.0, "T50": 1405.0, "P30": 553.0, "Nc": 9060.0}
    vals = [
        v
        + 0.004 * v * np.sin(2 * np.pi * k / 24)
        + 0.01 * v * k / hours
        + rng.normal(0, 0.6, hours)
        for v in base.values()
    ]
    n = len(base)
    return ReadingBatch(
        np.full(hours * n, asset_id, dtype=object),
        np.repeat(np.array(list(base), dtype=object), hours),
        np.tile(ts, n),
        np.concatenate(vals),
    )


def _pct(xs: list[float], q: float) -> float:
    import numpy as np

    return round(float(np.percentile(np.asarray(xs) * 1000.0, q)), 1)


async def _measure(
    app, key: str, target: str, requests: int, warmup: int, n_assets: int
) -> dict[str, Any]:
    import httpx

    sorts = ["rul", "health", "next_service", "alarms", "id"]
    last = max(1, n_assets // 50)  # 50 rows a page: the first, a middle and the last pages
    pages = sorted({1, min(2, last), max(1, last // 5), last})
    fleet, asset, parts = [], [], {"html": [], "telemetry": [], "forecast": []}
    desk_urls = {
        "active": "/alarms",
        "filtered": "/alarms?state=all&severity=critical&customer=cust01&cause=zscore",
        "paged": "/alarms?state=all&page=101",
        "grouped": "/alarms?state=all&group=1&page=7",
    }
    desk: list[float] = []
    desk_parts: dict[str, list[float]] = {k: [] for k in desk_urls}
    transport = httpx.ASGITransport(app=app)
    name, value, _ = session_for(app.state.panel.platform, key)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://bench", cookies={name: value}
    ) as c:
        cpu = {"fleet": [], "asset": [], "alarms": []}

        async def timed(url: str) -> float:
            t0 = time.perf_counter()
            r = await c.get(url)
            dt = time.perf_counter() - t0
            if r.status_code != 200:
                raise RuntimeError(f"GET {url} answered {r.status_code}: {r.text[:300]}")
            return dt

        for i in range(warmup + requests):
            url = f"/?sort={sorts[i % len(sorts)]}&page={pages[i % len(pages)]}"
            c0 = time.process_time()
            f_dt = await timed(url)
            c1 = time.process_time()
            html = await timed(f"/assets/{target}")
            tel = await timed(
                f"/panel/data/assets/{target}/telemetry?max_points=300&range=all"
                f"&channels={','.join(CHANNELS)}"
            )
            fc = await timed(f"/panel/data/assets/{target}/forecast")
            c2 = time.process_time()
            kind = list(desk_urls)[i % len(desk_urls)]
            d_dt = await timed(desk_urls[kind])
            c3 = time.process_time()
            if i >= warmup:
                cpu["alarms"].append(c3 - c2)
                desk.append(d_dt)
                desk_parts[kind].append(d_dt)
                cpu["fleet"].append(c1 - c0)
                cpu["asset"].append(c2 - c1)
                fleet.append(f_dt)
                asset.append(html + tel + fc)
                for k, v in (("html", html), ("telemetry", tel), ("forecast", fc)):
                    parts[k].append(v)
    return {
        "fleet_p50_ms": _pct(fleet, 50),
        "fleet_p95_ms": _pct(fleet, 95),
        "asset_p50_ms": _pct(asset, 50),
        "asset_p95_ms": _pct(asset, 95),
        "asset_parts_p50_ms": {k: _pct(v, 50) for k, v in parts.items()},
        "alarms_p50_ms": _pct(desk, 50),
        "alarms_p95_ms": _pct(desk, 95),
        "alarms_parts_p50_ms": {k: _pct(v, 50) for k, v in desk_parts.items() if v},
        # CPU seconds of this process (all its threads) per visit: the work itself, apart from
        # waiting for a core on a shared machine.
        "fleet_cpu_p50_ms": _pct(cpu["fleet"], 50),
        "asset_cpu_p50_ms": _pct(cpu["asset"], 50),
        "alarms_cpu_p50_ms": _pct(cpu["alarms"], 50),
    }


def run(
    n_assets: int = 10_000,
    hours: int = 24 * 365,
    requests: int = 50,
    warmup: int = 5,
    seed: int = 7,
    history: int = 3,
    folder: Path | None = None,
) -> dict[str, Any]:
    import asyncio
    import os
    import platform as pyplatform
    import tempfile
    from datetime import UTC, datetime

    from prognos.config import Settings
    from prognos.server import create_server_app
    from prognos.service.platform import open_platform

    tmp = tempfile.TemporaryDirectory(prefix="prognos-bench-web-")
    base = Path(folder or tmp.name)
    base.mkdir(parents=True, exist_ok=True)
    db = base / "bench.duckdb"
    db.unlink(missing_ok=True)
    now = datetime.now(UTC).replace(microsecond=0)
    target = "tf-target"
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    p = open_platform(Settings(db=str(db), artifacts_dir=base / "artifacts"))
    try:
        loaded = _bulk_load(p, n_assets, target, now, seed, history)
        res = p.telemetry.ingest_batch(
            MANUFACTURER, _hourly_year(target, now, hours, seed), source="bench"
        )
        if res.rejected:
            raise RuntimeError(f"bench telemetry rejected: {res.rejected[0].reason}")
        key, _ = p.keys.create(MANUFACTURER, None, "bench")
        setup_s = time.perf_counter() - t0
        app = create_server_app(platform=p)
        out = asyncio.run(_measure(app, key, target, requests, warmup, n_assets))
    finally:
        p.close()
        tmp.cleanup()
    return {
        **out,
        "assets": loaded["assets"],
        "forecasts": loaded["forecasts"],
        "documents": loaded["documents"],
        "alarms": loaded["alarms"],
        "forecasts_per_asset": history,
        "readings_for_asset": res.accepted,
        "channels": len(CHANNELS),
        "requests": requests,
        "setup_s": round(setup_s, 1),
        "store": "duckdb",
        "cpus": os.cpu_count(),
        "load_avg_1m_before": round(load_before, 2),
        "python": pyplatform.python_version(),
    }
