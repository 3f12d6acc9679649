"""The work-order lifecycle as a pure state machine, and the feedback of findings."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from prognos.domain.planning import TRANSITIONS, Finding, WorkOrder, WorkOrderStatus
from prognos.errors import Conflict

AT = datetime(2026, 1, 14, 9, tzinfo=UTC)


def new() -> WorkOrder:
    return WorkOrder(
        id="wo-1",
        asset_id="E-7",
        component="bearing",
        site_id="s1",
        day=date(2026, 1, 14),
        crew_id="c1",
        part="P1",
    )


def test_happy_path_records_each_step():
    o = new()
    for s in ("scheduled", "dispatched", "in_progress"):
        o = o.transition(s, AT)
    o = o.complete(Finding(measured_wear=2.7, condition="worn", failure_found=False, at=AT))
    assert o.status is WorkOrderStatus.done
    assert [s for s, _ in o.history] == ["scheduled", "dispatched", "in_progress", "done"]
    assert new().status is WorkOrderStatus.proposed  # transitions return new objects


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        ((), "in_progress"),
        ((), "done"),
        (("scheduled",), "done"),
        (("cancelled",), "scheduled"),
        (("scheduled", "dispatched", "in_progress"), "scheduled"),
    ],
)
def test_illegal_moves_raise_conflict_naming_the_states(path, bad):
    o = new()
    for s in path:
        o = o.transition(s, AT)
    with pytest.raises(Conflict, match=f"from {o.status} to {bad}"):
        o.transition(bad, AT)


def test_done_and_cancelled_are_final():
    assert TRANSITIONS[WorkOrderStatus.done] == frozenset()
    assert TRANSITIONS[WorkOrderStatus.cancelled] == frozenset()
    every = set(WorkOrderStatus)
    assert all(v <= every for v in TRANSITIONS.values())


def test_completion_needs_in_progress():
    with pytest.raises(Conflict):
        new().transition("scheduled", AT).complete(Finding(at=AT))


@pytest.mark.parametrize(
    ("failure", "replaced", "kind"),
    [(False, True, "replacement"), (True, True, "failure"), (False, False, "replacement")],
)
def test_finding_becomes_a_labelled_event(failure, replaced, kind):
    o = new()
    assert o.feedback_event() is None
    for s in ("scheduled", "dispatched", "in_progress"):
        o = o.transition(s, AT)
    o = o.complete(
        Finding(
            measured_wear=3.1,
            condition="cracked",
            failure_found=failure,
            part_replaced=replaced,
            at=AT,
        )
    )
    ev = o.feedback_event()
    assert ev == {
        "asset_id": "E-7",
        "component": "bearing",
        "at": AT.isoformat(),
        "kind": kind,
        "failure_found": failure,
        "measured_wear": 3.1,
        "condition": "cracked",
        "resets_age": replaced,
    }


def test_orders_serialise_and_round_trip():
    o = new().transition("scheduled", AT)
    again = WorkOrder.model_validate(o.model_dump(mode="json"))
    assert again == o
