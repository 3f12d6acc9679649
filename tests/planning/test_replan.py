"""Rolling re-planning when forecasts change."""

from __future__ import annotations

from datetime import date

from planning_world import NOW, asset, calendar, cost_model, crew, forecast

from prognos.domain.planning import WorkOrder, WorkOrderStatus
from prognos.planning.replan import replan

DAY9, DAY16 = date(2026, 1, 14), date(2026, 1, 21)


def order(aid, day, status):
    o = WorkOrder(id=f"wo-{aid}", asset_id=aid, site_id="s1", day=day, crew_id="c1")
    path = {"scheduled": ["scheduled"], "dispatched": ["scheduled", "dispatched"]}[status]
    for s in path:
        o = o.transition(s, NOW)
    return o


def run(orders, fcs):
    return replan(
        orders,
        {f.asset_id: f for f in fcs},
        [asset(f.asset_id) for f in fcs],
        {"s1": calendar()},
        [crew(hours=14.0)],  # 12 h after travel: three 4 h jobs fit into one visit
        [],
        {"pump": cost_model()},
        now=NOW,
        horizon_days=21,
        time_limit_s=2.0,
    )


def test_orders_follow_the_new_forecasts():
    orders = [
        order("worse", DAY16, "scheduled"),  # forecast now says it fails before day 16: move
        order("better", DAY9, "scheduled"),  # forecast now says it lasts: cancel
        order("kept", DAY9, "dispatched"),  # dispatched and still sensible: stays
    ]
    fcs = [
        forecast("worse", 11, 12, 13),
        forecast("better", 150, 200, 250),
        forecast("kept", 11.5, 12.5, 13.5),
        forecast("new", 10.5, 12, 13),
    ]
    res = run(orders, fcs)
    by = {o.asset_id: o for o in res.orders}
    assert res.moved == ["wo-worse"] and by["worse"].day == DAY9
    assert by["worse"].status is WorkOrderStatus.scheduled
    assert res.cancelled == ["wo-better"] and by["better"].status is WorkOrderStatus.cancelled
    assert by["kept"].status is WorkOrderStatus.dispatched and by["kept"].day == DAY9
    assert len(res.created) == 1 and by["new"].status is WorkOrderStatus.scheduled


def test_a_dispatched_order_that_became_clearly_worse_is_pulled_back():
    res = run([order("a", DAY16, "dispatched")], [forecast("a", 11, 12, 13)])
    (o,) = res.orders
    assert res.plan.released_orders == ["wo-a"]
    assert o.status is WorkOrderStatus.scheduled and o.day == DAY9
    assert [s for s, _ in o.history] == ["scheduled", "dispatched", "scheduled"]
