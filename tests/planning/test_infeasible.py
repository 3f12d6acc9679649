"""Committed orders that cannot be kept fail with an error that names the broken constraint."""

from __future__ import annotations

from datetime import date

import pytest
from planning_world import NOW, asset, calendar, cost_model, crew, forecast

from prognos.domain.planning import PartStock, WorkOrder
from prognos.errors import Infeasible, ValidationFailed
from prognos.planning.optimizer import plan


def order(aid: str, day: date, crew_id: str = "c1", status: str = "dispatched") -> WorkOrder:
    return WorkOrder(
        id=f"wo-{aid}", asset_id=aid, site_id="s1", day=day, crew_id=crew_id, status=status
    )


def run(orders, crews=None, stock=(), cal=None, n=2):
    keys = [f"a{k}" for k in range(n)]
    return plan(
        {k: forecast(k, 11, 12, 13) for k in keys},
        [asset(k) for k in keys],
        {"s1": cal or calendar()},
        crews or [crew()],
        stock,
        {"pump": cost_model()},
        orders,
        now=NOW,
        horizon_days=21,
        time_limit_s=2.0,
    )


def test_crew_without_the_skill():
    with pytest.raises(Infeasible, match="lacks the skill pump"):
        run([order("a0", date(2026, 1, 14))], crews=[crew(skills=("chain",))])


def test_crew_capacity():
    # two 4 h jobs, a crew with 6 h of which 2 h are travel
    with pytest.raises(Infeasible, match="crew capacity"):
        run(
            [order("a0", date(2026, 1, 14)), order("a1", date(2026, 1, 14))],
            crews=[crew(hours=6.0)],
        )


def test_blackout_day():
    with pytest.raises(Infeasible, match="blackout"):
        run([order("a0", date(2026, 1, 14))], cal=calendar(blackout_days=(9,)))


def test_parts_on_hand():
    stock = [PartStock(depot_id="d1", part="P1", on_hand=1, lead_time_days=30, regions={"r1"})]
    with pytest.raises(Infeasible, match="parts on hand"):
        run([order("a0", date(2026, 1, 14)), order("a1", date(2026, 1, 14))], stock=stock)


def test_crew_not_working_that_day():
    lazy = crew().model_copy(update={"working_weekdays": {0, 1}})  # 2026-01-14 is a Wednesday
    with pytest.raises(Infeasible, match="working hours"):
        run([order("a0", date(2026, 1, 14))], crews=[lazy])


def test_unknown_crew_and_unknown_asset_are_named():
    with pytest.raises(Infeasible, match="crew ghost"):
        run([order("a0", date(2026, 1, 14), crew_id="ghost")])
    with pytest.raises(ValidationFailed, match="zz"):
        run([order("zz", date(2026, 1, 14))])


def test_feasible_dispatched_order_is_kept_and_a_clearly_worse_one_released():
    p = run([order("a0", date(2026, 1, 14))], n=1)
    assert [(j.day, j.committed) for j in p.jobs] == [(date(2026, 1, 14), True)]
    # dispatched for day 16, after the component has almost surely failed: released, moved
    p = run([order("a0", date(2026, 1, 21))], n=1)
    assert p.released_orders == ["wo-a0"]
    assert [(j.day, j.committed) for j in p.jobs] == [(date(2026, 1, 14), False)]


def test_scheduled_orders_may_move_but_in_progress_ones_stay():
    p = run([order("a0", date(2026, 1, 21), status="scheduled")], n=1)
    assert [j.day for j in p.jobs] == [date(2026, 1, 14)]
    p = run([order("a0", date(2026, 1, 21), status="in_progress")], n=1)
    assert [(j.day, j.committed) for j in p.jobs] == [(date(2026, 1, 21), True)]
