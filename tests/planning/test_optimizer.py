"""Known-optimal plans on hand-checkable worlds (see conftest for the world)."""

from __future__ import annotations

from datetime import date

import pytest
from planning_world import NOW, asset, calendar, cost_model, crew, forecast

from prognos.domain.planning import PartStock
from prognos.planning.optimizer import plan

DAY9, DAY16 = date(2026, 1, 14), date(2026, 1, 21)


def run(fcs, assets, crews=None, stock=(), cal=None, **kw):
    kw.setdefault("time_limit_s", 5.0)
    kw.setdefault("horizon_days", 21)
    return plan(
        {f.asset_id: f for f in fcs},
        assets,
        {"s1": cal or calendar()},
        crews or [crew()],
        stock,
        {"pump": cost_model()},
        now=NOW,
        **kw,
    )


def test_single_component_goes_into_the_last_stop_before_its_failure():
    # Failure between 11 and 13 cycles. Stop on day 9 comes after 9 cycles: P(fail) = 0.01*9/11,
    # cost ~ 0.008*100k + 0.992*10k + 1000*(12-9) ~ 13.7k. The stop on day 16 comes after 15
    # cycles, when it has failed for sure (100k); so has doing nothing.
    p = run([forecast("a", 11, 12, 13)], [asset("a")])
    assert [(j.asset_id, j.day, j.in_window) for j in p.jobs] == [("a", DAY9, True)]
    ex = p.jobs[0].explanation
    assert ex.prob_fail_before == pytest.approx(0.01 * 9 / 11, rel=1e-3)
    assert ex.expected_cost == pytest.approx(13_700, rel=0.02)
    assert ex.expected_cost_avoided == pytest.approx(100_000 - 13_700, rel=0.02)
    assert "2026-01-21" in ex.why_not_later and "99%" in ex.why_not_later
    assert p.status == "optimal"
    assert p.lower_bound <= p.objective + 1e-6


def test_healthy_component_gets_no_job():
    p = run([forecast("a", 150, 200, 250)], [asset("a")])
    assert p.jobs == []
    assert p.objective == pytest.approx(p.lower_bound)


@pytest.mark.parametrize(("callout", "b_day"), [(8000.0, DAY9), (2000.0, DAY16)])
def test_two_jobs_share_one_stop_only_when_the_call_out_pays_for_it(callout, b_day):
    # b fails between 19 and 21 cycles: alone it is best on day 16 (~15.7k) rather than day 9
    # (~21.4k, 6 more cycles thrown away). Riding along on a's visit on day 9 saves one call-out.
    p = run(
        [forecast("a", 11, 12, 13), forecast("b", 19, 20, 21)],
        [asset("a"), asset("b")],
        crews=[crew(callout=callout)],
        cal=calendar(stop_days=(9, 16, 23)),
        horizon_days=30,
    )
    days = {j.asset_id: j.day for j in p.jobs}
    assert days == {"a": DAY9, "b": b_day}


def test_imminent_failure_without_a_window_gets_an_emergency_job():
    # Failure in 2-4 cycles, next stop on day 9: an out-of-window job (10k part + 4 h x 9k/h of
    # stopped production = 46k) beats a failure (100k). Day 2 (after 2 cycles): P = 0.01,
    # ~0.01*100k + 0.99*46k + 1000*1 = 47.5k; day 1: P = 0.005, ~0.5k + 45.8k + 1000*2 = 48.3k.
    p = run([forecast("a", 2, 3, 4)], [asset("a")])
    assert [(j.day, j.in_window) for j in p.jobs] == [(date(2026, 1, 7), False)]
    assert p.jobs[0].explanation.emergency


def test_crew_capacity_pushes_the_second_job_out_of_the_stop():
    # The crew has 6 h, 4 h after travel: one 4 h job per visit, so only one of two twins fits
    # into the day-9 stop. The other is cheaper as an out-of-window job than as a failure, on
    # the last day before its failure band: day 12 comes after 11 cycles (day 9 does not
    # run), P = 1 %: ~0.01*100k + 0.99*46k + 1000*1 = 47.5k; day 8 wastes 3 more cycles.
    p = run(
        [forecast("a", 11, 12, 13), forecast("b", 11, 12, 13)],
        [asset("a"), asset("b")],
        crews=[crew(hours=6.0)],
    )
    days = sorted((j.day, j.in_window) for j in p.jobs)
    assert days == [(DAY9, True), (date(2026, 1, 17), False)]
    # waiting for the day-16 stop would see it fail first: an emergency, and said so
    assert [j.explanation.emergency for j in sorted(p.jobs, key=lambda j: j.day)] == [False, True]


def test_no_part_on_hand_before_the_lead_time_means_no_job():
    stock = [PartStock(depot_id="d1", part="P1", on_hand=0, lead_time_days=30, regions={"r1"})]
    p = run([forecast("a", 11, 12, 13)], [asset("a")], stock=stock)
    assert p.jobs == []
    stock = [PartStock(depot_id="d1", part="P1", on_hand=1, lead_time_days=30, regions={"r1"})]
    p = run(
        [forecast("a", 11, 12, 13), forecast("b", 11, 12, 13.5)],
        [asset("a"), asset("b")],
        stock=stock,
    )
    assert len(p.jobs) == 1 and p.jobs[0].depot_id == "d1"


def test_time_limit_zero_falls_back_to_the_greedy_plan():
    p = run([forecast("a", 11, 12, 13)], [asset("a")], time_limit_s=0.0)
    assert p.status == "heuristic"
    assert [j.day for j in p.jobs] == [DAY9]


def test_blackout_day_is_never_used():
    p = run([forecast("a", 11, 12, 13)], [asset("a")], cal=calendar(blackout_days=(9,)))
    assert all(j.day != DAY9 for j in p.jobs)


def test_capped_candidates_keep_a_valid_bound():
    # with one candidate day per component the two twins compete for the day-9 stop; the bound
    # still comes from the full model, so it stays below the (now worse) plan
    fcs = [forecast("a", 11, 12, 13), forecast("b", 11, 12, 13)]
    full = run(fcs, [asset("a"), asset("b")], crews=[crew(hours=6.0)])
    capped = run(fcs, [asset("a"), asset("b")], crews=[crew(hours=6.0)], max_candidates=1)
    assert len(capped.jobs) == 1
    assert capped.objective > full.objective
    assert capped.lower_bound <= full.objective + 1e-6
    assert full.lower_bound == pytest.approx(full.objective, rel=1e-6)
