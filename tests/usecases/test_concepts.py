"""One check per use case of the service layer, through ``Platform``: who may do what, and the
path each concept's data takes."""

from __future__ import annotations

import inspect
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from prognos.domain import Asset, AssetType, Channel, Principal, ReadingBatch, Site
from prognos.domain.keys import MANUFACTURER
from prognos.domain.planning import CostModel, Crew, SiteCalendar, Window, WorkOrder
from prognos.errors import AccessDenied, Forbidden, NotFound
from prognos.service.platform import Platform

ACME = Principal("k-acme", "acme", "acme")
GLOBEX = Principal("k-globex", "globex", "globex")


def test_every_use_case_method_takes_the_principal_first_and_never_defaults_it():
    platform_attrs = inspect.signature(Platform.__init__)
    assert platform_attrs  # the composition root builds them; check each concept's public methods
    from prognos.service import (
        alarms,
        calendars,
        fleet,
        forecasts,
        keys,
        notifications,
        planning,
        registry,
        resources,
        telemetry,
        training,
        workorders,
    )

    services = [
        alarms.AlarmService,
        calendars.CalendarService,
        fleet.FleetService,
        forecasts.ForecastService,
        keys.KeyService,
        notifications.NotificationService,
        planning.PlanningService,
        registry.RegistryService,
        resources.ResourceService,
        telemetry.TelemetryService,
        training.TrainingService,
        workorders.WorkOrderService,
    ]
    for cls in services:
        for name, fn in inspect.getmembers(cls, inspect.isfunction):
            params = list(inspect.signature(fn).parameters.values())[1:]
            if name.startswith("_") or not params or params[0].name != "p":
                continue  # internal, or not tenant-facing (worker inputs)
            assert params[0].default is inspect.Parameter.empty, f"{cls.__name__}.{name}"


def test_registry_answers_another_customers_asset_as_not_found(platform):
    assert platform.registry.asset(ACME, "acme-p1").customer_id == "acme"
    with pytest.raises(NotFound) as other:
        platform.registry.asset(ACME, "globex-p1")
    with pytest.raises(NotFound) as none:
        platform.registry.asset(ACME, "nothing-here")
    assert str(other.value).replace("globex-p1", "X") == str(none.value).replace(
        "nothing-here", "X"
    )
    assets, total = platform.registry.assets(ACME)
    assert total == 2 and {a.customer_id for a in assets} == {"acme"}
    with pytest.raises(Forbidden):
        platform.registry.add_customer(ACME, platform.registry.customers(ACME)[0])


def test_keys_are_shown_once_stored_hashed_and_revocable(platform):
    key, who = platform.keys.create(MANUFACTURER, "acme", "gateway")
    assert platform.keys.authenticate(key) == who and who.customer_id == "acme"
    assert all(key not in k.model_dump_json() for k in platform.keys.list_keys(MANUFACTURER))
    with pytest.raises(Forbidden):
        platform.keys.create(who, None, "escalate")
    platform.keys.revoke(MANUFACTURER, who.key_id)
    with pytest.raises(AccessDenied):
        platform.keys.authenticate(key)


def test_telemetry_batches_validate_and_queries_are_tenant_scoped(platform):
    ts = np.datetime64("2025-06-01T00:00", "us") + np.arange(4) * np.timedelta64(60, "s")
    batch = ReadingBatch(
        np.array(["acme-p1"] * 4, dtype=object),
        np.array(["temp", "temp", "temp", "nope"], dtype=object),
        ts,
        np.array([1.0, 2.0, 3.0, 4.0]),
    )
    res = platform.telemetry.ingest_batch(MANUFACTURER, batch)
    assert res.accepted == 3 and len(res.rejected) == 1
    series = platform.telemetry.series(ACME, "acme-p1", max_points=2)
    assert series["downsampled"] and sum(series["channels"]["temp"]["count"]) == 3
    with pytest.raises(NotFound):
        platform.telemetry.series(GLOBEX, "acme-p1")


def _world_for_planning(platform) -> None:
    """Two shifts a day in June 2025 and one planned stop, on the 3rd; a crew; pump costs."""
    day = datetime(2025, 6, 1, tzinfo=UTC)
    shifts = [
        Window(
            kind="shift",
            start=day + timedelta(days=d, hours=6),
            end=day + timedelta(days=d, hours=22),
        )
        for d in range(30)
        if d != 2
    ]
    stop = Window(
        kind="stop",
        start=datetime(2025, 6, 3, 6, tzinfo=UTC),
        end=datetime(2025, 6, 3, 18, tzinfo=UTC),
        label="planned stop",
    )
    platform.calendars.put(
        MANUFACTURER, SiteCalendar(site_id="acme-plant", windows=[*shifts, stop])
    )
    platform.resources.put_crew(MANUFACTURER, Crew(id="c1", skills={"pump"}, home_region="default"))
    platform.resources.put_cost_model(
        MANUFACTURER,
        "pump",
        CostModel(
            asset_type="pump",
            part="seal",
            unplanned_stoppage_cost_per_hour=1000,
            unplanned_repair_hours=10,
            planned_job_hours=2,
            part_cost=100,
            labour_cost_per_hour=50,
        ),
    )


def test_a_work_order_completed_with_a_replacement_feeds_back_and_starts_a_new_life(platform):
    before = platform.registry.asset(MANUFACTURER, "acme-p1").installed_at
    o = WorkOrder(
        id="wo-1",
        asset_id="acme-p1",
        site_id="acme-plant",
        day=date(2025, 6, 3),
        crew_id="c1",
        part="seal",
    ).transition("scheduled")
    platform.orders.save(MANUFACTURER, o)
    with pytest.raises(Forbidden):
        platform.orders.act(ACME, "wo-1", "dispatch")
    platform.orders.act(MANUFACTURER, "wo-1", "dispatch")
    at = datetime(2025, 6, 3, 10, tzinfo=UTC)
    done = platform.orders.complete(MANUFACTURER, "wo-1", "seal worn", failure_found=True, at=at)
    assert done.status == "done"
    events = platform.orders.events(ACME, "acme-p1")
    assert [e["kind"] for e in events] == ["failure"] and events[0]["work_order"] == "wo-1"
    after = platform.registry.asset(MANUFACTURER, "acme-p1").installed_at
    assert after == at > before
    assert platform.orders.list_orders(GLOBEX) == []


def test_an_alarm_in_a_planned_stop_is_silenced_and_only_its_owner_acknowledges_it(platform):
    _world_for_planning(platform)
    in_stop = platform.alarms.report(
        MANUFACTURER, "acme-p1", "hot", "hot", at=datetime(2025, 6, 3, 9, tzinfo=UTC)
    )
    assert in_stop.state == "silenced" and "planned stop" in in_stop.silenced_because
    live = platform.alarms.report(
        MANUFACTURER, "acme-p2", "hot", "hot", at=datetime(2025, 6, 4, tzinfo=UTC)
    )
    with pytest.raises(NotFound):
        platform.alarms.acknowledge(GLOBEX, live.id)
    assert platform.alarms.acknowledge(ACME, live.id).state == "acknowledged"


def test_wear_trend_assets_are_forecast_and_planned_into_the_customers_window(platform):
    platform.registry.add_asset_type(
        MANUFACTURER,
        AssetType(
            id="pump",
            time_unit="days",
            failure_threshold={"temp": 100.0},
            channels=[
                Channel(name="temp", min=-40, max=150),
                Channel(name="vibration", min=0, max=50),
            ],
        ),
    )
    _world_for_planning(platform)
    start = datetime(2025, 5, 1, tzinfo=UTC)
    platform.registry.add_site(
        MANUFACTURER, Site(id="acme-plant", customer_id="acme", name="acme plant", timezone="UTC")
    )
    platform.registry.add_assets(
        MANUFACTURER,
        [
            Asset(
                id="acme-p1",
                customer_id="acme",
                site_id="acme-plant",
                type_id="pump",
                installed_at=start,
            )
        ],
    )
    days = np.arange(30)
    ts = np.datetime64("2025-05-01T12:00", "us") + days * np.timedelta64(1, "D")
    platform.telemetry.ingest_batch(
        MANUFACTURER,
        ReadingBatch(
            np.array(["acme-p1"] * 30, dtype=object),
            np.array(["temp"] * 30, dtype=object),
            ts,
            65.0 + days + np.random.default_rng(0).normal(0, 0.3, 30),
        ),
    )
    f = platform.forecasts.forecast(MANUFACTURER, "acme-p1")
    assert f is not None and 3 < f.p50 < 9  # 94 degC on May 30, the threshold of 100 six days on
    out = platform.planning.plan(
        MANUFACTURER, now=datetime(2025, 6, 1, tzinfo=UTC), horizon_days=10, time_limit_s=2
    )
    jobs = out["plan"]["jobs"]
    assert [j["asset_id"] for j in jobs] == ["acme-p1"] and jobs[0]["day"] == "2025-06-03"
    assert out["created"] and platform.orders.list_orders(ACME)[0].day == date(2025, 6, 3)


def test_fleet_states_are_kept_between_polls_but_follow_a_retirement_at_once(platform):
    """The fleet page asks for every asset's state on each poll; the answer is kept while the
    registry and the last-seen times stay the same, never past a change, and per customer."""
    first = platform.lifecycle.states(MANUFACTURER)
    assert first["acme-p1"].state.value == "in_service"
    assert platform.lifecycle.states(MANUFACTURER) == first
    platform.lifecycle.retire(MANUFACTURER, "acme-p1")
    assert platform.lifecycle.states(MANUFACTURER)["acme-p1"].state.value == "retired"
    assert set(platform.lifecycle.states(ACME)) == {"acme-p1", "acme-p2"}
    assert "acme-p1" not in platform.lifecycle.states(GLOBEX)
    mine = platform.lifecycle.states(ACME)
    mine.clear()  # a caller's copy: clearing it leaves the kept answer alone
    assert set(platform.lifecycle.states(ACME)) == {"acme-p1", "acme-p2"}
