"""The panel's view models and routes, in process (no browser): tenancy, order, paging,
summaries, work-order moves, alarm silencing, calendars, login, languages, the live hub."""

from __future__ import annotations

import asyncio
import re
import threading
from datetime import UTC, datetime, timedelta

import numpy as np
import panel_world as pw
import pytest
from loop_client import LoopClient
from panel_world import new_order

from prognos.config import Settings
from prognos.domain import Asset, Customer, ReadingBatch, Site
from prognos.domain.keys import MANUFACTURER
from prognos.errors import Conflict, Forbidden, NotFound, ValidationFailed
from prognos.server import create_server_app
from prognos.service.alarm_desk import AlarmQuery
from prognos.service.fleet import SORTS, FleetQuery
from prognos.service.platform import open_platform
from prognos.web.live import Hub
from prognos.web.views import asset as asset_views
from prognos.web.views import calendar as calendar_views


def who(platform, key):
    return platform.keys.authenticate(key)


def platform_alarm_ids(platform, asset_id: str) -> list[str]:
    return [a.id for a in platform.alarms.page(MANUFACTURER, AlarmQuery(asset=asset_id)).items]


# -- fleet -----------------------------------------------------------------------------------
def test_customer_sees_only_its_engines(platform, aerolinea):
    page = platform.fleet.page(aerolinea, FleetQuery())
    assert page.total == 4 and {r["customer_id"] for r in page.rows} == {"aerolinea"}
    assert platform.fleet.page(aerolinea, FleetQuery(customer="nordjet")).total == 0
    assert platform.fleet.page(MANUFACTURER, FleetQuery()).total == 12  # no components


def test_rows_join_health_forecast_next_job_and_alarms(platform):
    rows = {r["id"]: r for r in platform.fleet.page(MANUFACTURER, FleetQuery()).rows}
    e01 = rows["aerolinea-e01"]
    fc = platform.store.latest_forecast("aerolinea-e01")
    assert e01["health"] == 31.0 and e01["band"] == "critical"
    assert e01["p10"] == pytest.approx(fc.p10) and e01["p90"] == pytest.approx(fc.p90)
    assert e01["p50"] == pytest.approx(fc.p50) and e01["time_unit"] == "cycles"
    assert e01["next_service"] == pw.ORDER_DAY and e01["alarms"] == 1
    assert rows["aerolinea-e02"]["alarms"] == 0  # its alarm came during work: silenced
    assert rows["pacific-air-e01"]["next_service"] is None  # only a proposed order


@pytest.mark.parametrize("sort", list(SORTS))
@pytest.mark.parametrize("desc", [False, True])
def test_sorting_and_paging_agree_with_one_big_page(platform, sort, desc):
    everything = platform.fleet.page(MANUFACTURER, FleetQuery(sort=sort, desc=desc, size=500))
    col = "p50" if sort == "rul" else SORTS[sort]
    values = [r[col] for r in everything.rows]
    present = [v for v in values if v is not None]
    assert values[: len(present)] == present  # missing values last, either way
    assert present == sorted(present, reverse=desc)
    paged = []
    for n in range(1, 4):
        paged += platform.fleet.page(
            MANUFACTURER, FleetQuery(sort=sort, desc=desc, page=n, size=5)
        ).rows
    assert [r["id"] for r in paged] == [r["id"] for r in everything.rows]


def test_filters_and_search(platform):
    q = FleetQuery(band="critical")
    assert {r["id"] for r in platform.fleet.page(MANUFACTURER, q).rows} == {
        "aerolinea-e01",
        "nordjet-e01",
        "pacific-air-e01",
    }
    assert platform.fleet.page(MANUFACTURER, FleetQuery(q="ESN-NOR-00")).total == 4
    assert platform.fleet.page(MANUFACTURER, FleetQuery(site="nordjet-hangar", q="e02")).total == 1
    with pytest.raises(ValidationFailed, match="cannot sort"):
        FleetQuery(sort="price")


def test_summary_counts_the_whole_selection(platform):
    s = platform.fleet.page(MANUFACTURER, FleetQuery(size=2)).summary
    assert s["assets"] == 12
    assert s["bands"] == {"good": 6, "watch": 3, "critical": 3, "unknown": 0}
    assert s["open_alarms"] == 2  # e01 and nordjet-e01; e02's came during work: silenced
    assert s["jobs_30d"] == 4  # wo-1001 to wo-1004 (1002 runs today)
    assert sum(h["n"] for h in s["rul_hist"]) == 12
    assert s["rul_hist"][0]["urgency"] == "soon"


# -- one asset -------------------------------------------------------------------------------
def test_asset_view_has_components_orders_and_anomalies(platform, aerolinea):
    v = asset_views.asset_view(platform, aerolinea, "aerolinea-e01")
    assert [c["id"] for c in v["components"]] == ["aerolinea-e01-hpc"]
    assert v["components"][0]["forecast"]["p50"] > 0
    assert v["next_order"].id == "wo-1001"
    assert v["anomalies"][0] == ("T50", 4.2) and v["default_channels"][:2] == ["T50", "T30"]
    with pytest.raises(NotFound):
        asset_views.asset_view(platform, aerolinea, "nordjet-e01")


def test_forecast_chart_is_the_stored_history_and_the_latest_cdf(platform):
    d = asset_views.forecast_chart(platform, MANUFACTURER, "aerolinea-e01")
    stamps = [f["as_of"] for f in d["fan"]]
    assert len(stamps) == 8 and stamps == sorted(stamps)
    last = platform.store.latest_forecast("aerolinea-e01")
    assert d["fan"][-1]["q"]["0.5"] == pytest.approx(last.p50, abs=1e-3)
    p = np.array(d["curve"]["p"])
    assert p[0] == 0.0 and np.all(np.diff(p) >= 0) and p[-1] <= 1.0
    job = d["job"]
    assert job["id"] == "wo-1001"
    start = datetime.combine(pw.ORDER_DAY, datetime.min.time(), tzinfo=UTC)
    t = (start - last.as_of).total_seconds() / 86400
    assert job["t"] == pytest.approx(t, abs=1e-3)
    assert job["prob"] == pytest.approx(last.prob_fail_before(t), abs=1e-4)


def test_forecast_chart_without_forecasts(platform):
    platform.store.put_document("x", "y", {})  # unrelated document, nothing breaks
    d = asset_views.forecast_chart(platform, MANUFACTURER, "aerolinea-e01-hpc")
    assert len(d["fan"]) == 1 and d["job"] is None


# -- work orders -----------------------------------------------------------------------------
def test_lifecycle_through_the_panel(platform, fleet):
    nordjet = who(platform, fleet[1]["nordjet"])
    new_order(platform, "wo-t1")
    with pytest.raises(Forbidden):
        platform.orders.act(nordjet, "wo-t1", "dispatch")
    with pytest.raises(Conflict, match="from scheduled to in_progress"):
        platform.orders.act(MANUFACTURER, "wo-t1", "start")
    platform.orders.act(MANUFACTURER, "wo-t1", "dispatch")
    platform.orders.act(MANUFACTURER, "wo-t1", "start")
    done = platform.orders.complete(MANUFACTURER, "wo-t1", " worn seal ", 1.25, failure_found=True)
    assert done.status == "done" and done.finding.condition == "worn seal"
    stored = platform.store.get_document("workorder", "wo-t1")
    assert stored["status"] == "done" and stored["finding"]["measured_wear"] == 1.25
    event = platform.store.get_document("event", "wo-t1-finding")
    assert event["kind"] == "failure" and event["asset_id"] == "nordjet-e03"
    assert [o.id for o in platform.orders.list_orders(nordjet, status="done")] == ["wo-t1"]


def test_orders_of_other_customers_are_not_found(platform, aerolinea):
    with pytest.raises(NotFound):
        platform.orders.get(aerolinea, "wo-1003")
    assert all(o.asset_id.startswith("aerolinea") for o in platform.orders.list_orders(aerolinea))


# -- alarms ----------------------------------------------------------------------------------
def test_alarms_in_maintenance_windows_are_silenced(platform):
    new_order(
        platform,
        "wo-t2",
        asset="pacific-air-e03",
        status=("scheduled", "dispatched", "in_progress"),
    )
    during_job = platform.alarms.report(MANUFACTURER, "pacific-air-e03", "spike", "spike")
    assert during_job.state == "silenced" and "wo-t2" in during_job.silenced_because
    stop = datetime.combine(pw.ORDER_DAY, datetime.min.time(), tzinfo=UTC) + timedelta(hours=5)
    in_stop = platform.alarms.report(MANUFACTURER, "aerolinea-e04", "drift", "drift", at=stop)
    assert in_stop.state == "silenced" and in_stop.silenced_because.startswith("stop")
    # the same condition a day later, outside the stop: the alarm is news now
    later = platform.alarms.report(
        MANUFACTURER, "aerolinea-e04", "drift", "drift", at=stop + timedelta(days=1)
    )
    assert later.id == in_stop.id and later.state == "active" and later.count == 2
    assert [h["event"] for h in later.history] == ["raised", "silenced", "unsilenced"]


def test_acknowledge_is_for_the_owner_and_the_manufacturer(platform, aerolinea, fleet):
    al = platform.alarms.report(
        MANUFACTURER, "aerolinea-e03", "hot", "hot", at=pw.NOW - timedelta(days=2)
    )
    with pytest.raises(NotFound):
        platform.alarms.acknowledge(who(platform, fleet[1]["nordjet"]), al.id)
    acked = platform.alarms.acknowledge(aerolinea, al.id, "seen, crew informed")
    assert acked.state == "acknowledged" and acked.acked_by == "test aerolinea"
    assert acked.ack_note == "seen, crew informed"
    active = platform.alarms.page(aerolinea, AlarmQuery(state="active")).items
    assert al.id not in [a.id for a in active]
    assert platform.alarms.counts(aerolinea)["acknowledged"] >= 1


# -- calendars -------------------------------------------------------------------------------
def test_calendar_days_and_jobs(platform, aerolinea):
    cal = calendar_views.calendar_view(
        platform, aerolinea, "nordjet"
    )  # a customer gets its own anyway
    assert cal["customer_id"] == "aerolinea" and cal["start"].weekday() == 0
    (site,) = cal["sites"]
    day = {c["day"]: c for c in site["days"]}
    assert day[pw.ORDER_DAY]["kind"] == "stop"
    assert [o.id for o in day[pw.ORDER_DAY]["jobs"]] == ["wo-1001"]
    assert day[pw.TODAY + timedelta(days=17)]["kind"] == "blackout"
    assert {r["crew"].id for r in cal["crews"]} == {"crew-south"}  # crews with its jobs only
    maker = calendar_views.calendar_view(platform, MANUFACTURER, "nordjet")
    assert {r["crew"].id for r in maker["crews"]} == {"crew-north", "crew-south"}
    with pytest.raises(NotFound):
        calendar_views.calendar_view(platform, MANUFACTURER, "nobody")


# -- routes ----------------------------------------------------------------------------------
def test_pages_need_a_login(client):
    r = client.get("/calendar?start=2026-01-05")
    assert (
        r.status_code == 303
        and r.headers["location"] == "/login?next=/calendar%3Fstart%3D2026-01-05"
    )
    r = client.get("/panel/data/assets/aerolinea-e01/forecast")
    assert r.status_code == 401 and r.json()["error"]["code"] == "access_denied"
    assert (client.get("/static/charts.js")).status_code == 200


def _token(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def test_login_sets_a_signed_httponly_lax_session_and_logout_ends_it(client, fleet):
    token = _token(client.get("/login").text)  # the first visit gets an anonymous session
    r = client.post("/login", data={"key": "pk_nope", "next": "/", "csrf": token})
    assert r.status_code == 401 and "not accepted" in r.text
    key = fleet[1]["nordjet"]
    r = client.post("/login", data={"key": key, "next": "//evil.example/", "csrf": token})
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("prognos_session=") and "HttpOnly" in cookie
    assert "SameSite=lax" in cookie and "Max-Age=" in cookie
    assert key not in cookie and key.split("_", 2)[2] not in cookie  # the id, never the secret
    page = client.get("/")
    assert page.status_code == 200
    r = client.post("/logout", data={"csrf": _token(page.text)})
    assert r.status_code == 303
    assert (client.get("/")).status_code == 303  # back to the login


def test_a_page_past_the_end_goes_to_the_last(client, fleet):
    client.log_in(fleet[1]["maker"])
    r = client.get("/?size=5&page=99&sort=health")
    assert r.status_code == 303 and r.headers["location"] == "/?sort=health&page=3&size=5"
    assert "sort=health" in client.get("/?sort=health&desc=1").text  # sort links keep it


def test_customer_cannot_reach_other_customers_things(client, fleet):
    client.log_in(fleet[1]["aerolinea"])
    page = client.get("/")
    assert "aerolinea-e01" in page.text and "nordjet-e01" not in page.text
    assert (client.get("/assets/nordjet-e01")).status_code == 404
    for chart in ("telemetry", "forecast", "health"):
        r = client.get(f"/panel/data/assets/nordjet-e01/{chart}")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert "wo-1003" not in (client.get("/workorders")).text
    r = client.post("/workorders/wo-1001/dispatch", data={"csrf": client.csrf})
    assert r.status_code == 303 and "error=" in r.headers["location"]
    nordjets = platform_alarm_ids(fleet[0], "nordjet-e01")
    r = client.post(f"/alarms/{nordjets[0]}/ack", data={"csrf": client.csrf})
    assert r.status_code == 404
    r = client.post("/alarms/ack", data={"one": nordjets[0], "csrf": client.csrf})
    assert r.status_code == 404


def test_data_endpoints_serve_the_charts(client, fleet):
    client.log_in(fleet[1]["maker"])
    r = client.get(
        "/panel/data/assets/aerolinea-e01/telemetry?channels=T50,Nc&max_points=50&range=7d"
    )
    d = r.json()
    assert set(d["channels"]) == {"T50", "Nc"} and d["downsampled"] and d["range"] == "7d"
    assert 40 <= len(d["channels"]["T50"]["mean"]) <= 50
    assert datetime.fromisoformat(d["channels"]["T50"]["ts"][0]) >= pw.NOW - timedelta(
        days=7, hours=1
    )
    f = (client.get("/panel/data/assets/aerolinea-e01/forecast")).json()
    assert f["time_unit"] == "cycles" and len(f["fan"]) == 8
    h = (client.get("/panel/data/assets/aerolinea-e01/health")).json()
    assert len(h["ts"]) == len(h["score"]) == 8 and h["ts"] == sorted(h["ts"])
    assert h["score"][-1] == pw.HEALTH[0] and h["bands"] == {"good": 70.0, "watch": 40.0}


def test_language_switch_and_query_parameter(client, fleet):
    client.log_in(fleet[1]["maker"])
    r = client.get("/lang/zh-CN?next=/alarms")
    assert (
        r.status_code == 303
        and r.headers["location"] == "/alarms"
        and "lang=zh-CN" in r.headers["set-cookie"]
    )
    client.cookies.set("lang", "zh-CN")
    assert "告警" in (client.get("/alarms")).text
    assert "Alarms" in (client.get("/alarms?lang=en")).text


# -- live hub --------------------------------------------------------------------------------
def batch(asset: str, n: int, start: datetime) -> ReadingBatch:
    ts = np.array([np.datetime64(start.replace(tzinfo=None), "us")] * n) + np.arange(n).astype(
        "timedelta64[s]"
    )
    return ReadingBatch(
        np.full(n, asset, dtype=object),
        np.array(["a", "b"] * (n // 2), dtype=object),
        ts,
        np.arange(n, dtype=float),
    )


def run_on_own_loop(coro_fn) -> None:
    """Run a coroutine on a fresh loop in a thread (the main thread may hold Playwright's)."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coro_fn())
        except BaseException as e:  # re-raised in the test's thread
            errors.append(e)

    th = threading.Thread(target=target)
    th.start()
    th.join(30)
    if errors:
        raise errors[0]


def test_hub_hands_batches_across_threads_and_drops_the_oldest():
    run_on_own_loop(_hub_round_trip)


async def _hub_round_trip():
    hub = Hub(queue_size=2)
    mine, other = hub.subscribe("m1"), hub.subscribe("m2")
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    for k in range(3):
        th = threading.Thread(target=hub.publish, args=(batch("m1", 4, t0 + timedelta(minutes=k)),))
        th.start()
        th.join()
    await asyncio.sleep(0.05)
    got = [mine.queue.get_nowait() for _ in range(mine.queue.qsize())]
    assert [g["first"][:16] for g in got] == ["2026-01-01T00:01", "2026-01-01T00:02"]
    assert got[-1]["count"] == 4 and got[-1]["latest"] == {"a": 2.0, "b": 3.0}
    assert hub.dropped == 1 and other.queue.empty()
    hub.unsubscribe(mine)
    assert hub.subscribers == 1
    hub.close()
    await asyncio.sleep(0.01)
    assert other.queue.get_nowait() is None and hub.subscribers == 0


def test_pages_render_before_any_forecast_plan_or_calendar(tmp_path):
    """A fresh install (registry and telemetry only) shows empty states, not errors."""
    p = open_platform(Settings(db=str(tmp_path / "bare.duckdb"), artifacts_dir=tmp_path / "a"))
    try:
        p.registry.add_asset_type(MANUFACTURER, pw.ENGINE)
        p.registry.add_customer(MANUFACTURER, Customer(id="solo", name="Solo"))
        p.registry.add_site(MANUFACTURER, Site(id="solo-1", customer_id="solo", name="Solo plant"))
        p.registry.add_assets(
            MANUFACTURER,
            [
                Asset(
                    id="solo-e1",
                    customer_id="solo",
                    site_id="solo-1",
                    type_id="turbofan",
                    installed_at=pw.NOW,
                )
            ],
        )
        key, _ = p.keys.create(MANUFACTURER, None, "bare")
        c = LoopClient(create_server_app(platform=p))
        try:
            c.log_in(key)
            fleet_page = c.get("/")
            assert fleet_page.status_code == 200 and "No forecasts yet" in fleet_page.text
            assert "solo-e1" in fleet_page.text
            for url in ("/assets/solo-e1", "/calendar", "/workorders", "/alarms"):
                assert c.get(url).status_code == 200, url
            assert c.get("/panel/data/assets/solo-e1/forecast").json()["fan"] == []
            assert c.get("/panel/data/assets/solo-e1/telemetry").json()["channels"] == {}
            assert c.get("/panel/data/assets/solo-e1/health").json()["ts"] == []
        finally:
            c.close()
    finally:
        p.close()


@pytest.mark.integration
def test_the_same_views_on_postgresql(pg_server, tmp_path):
    """The panel's SQL is the stores' common subset: the fleet, a page, the summary, an asset."""
    p = open_platform(Settings(db=pg_server.create_database("panel_views"), artifacts_dir=tmp_path))
    try:
        keys = pw.build(p, hours=48)
        page = p.fleet.page(MANUFACTURER, FleetQuery(sort="health", desc=True, size=5, page=2))
        assert page.total == 12 and len(page.rows) == 5
        assert [r["health"] for r in page.rows] == sorted(
            (r["health"] for r in page.rows), reverse=True
        )
        s = page.summary
        assert s["bands"] == {"good": 6, "watch": 3, "critical": 3, "unknown": 0}
        assert (
            s["open_alarms"] == 2
            and s["jobs_30d"] == 4
            and sum(h["n"] for h in s["rul_hist"]) == 12
        )
        e01 = p.fleet.page(MANUFACTURER, FleetQuery(q="aerolinea-e01")).rows[0]
        assert e01["p10"] < e01["p50"] < e01["p90"] and e01["next_service"] == pw.ORDER_DAY
        assert len(asset_views.forecast_chart(p, MANUFACTURER, "aerolinea-e01")["fan"]) == 8
        assert asset_views.asset_view(p, MANUFACTURER, "aerolinea-e01")["components"]
        assert p.alarms.counts(MANUFACTURER) == {
            "active": 2,
            "silenced": 1,
            "acknowledged": 1,
            "cleared": 4,
        }
        assert len(asset_views.health_chart(p, MANUFACTURER, "aerolinea-e01")["score"]) == 8
        aerolinea = p.keys.authenticate(keys["aerolinea"])
        assert p.fleet.stamp(aerolinea) != p.fleet.stamp(MANUFACTURER)
    finally:
        p.close()


# runs last: it changes the module's shared fleet
def test_the_fleet_stamp_moves_with_the_callers_own_assets_only(platform, aerolinea):
    from prognos.domain import HealthScore

    mine, everyone = (
        platform.fleet.stamp(aerolinea),
        platform.fleet.stamp(MANUFACTURER),
    )
    later = pw.NOW + timedelta(minutes=30)
    platform.store.save_health(HealthScore("nordjet-e03", later, 50.0))
    assert platform.fleet.stamp(aerolinea) == mine  # another customer's engine
    assert platform.fleet.stamp(MANUFACTURER) != everyone
    platform.store.save_health(HealthScore("aerolinea-e03", later, 50.0))
    assert platform.fleet.stamp(aerolinea) != mine
    before_forecast = platform.fleet.stamp(aerolinea)
    platform.store.save_forecast(pw.forecast("aerolinea-e03", later, 40.0))
    assert platform.fleet.stamp(aerolinea) != before_forecast
