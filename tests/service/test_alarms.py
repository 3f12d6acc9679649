"""The alarm lifecycle: one alarm per asset and cause while the condition lasts, escalation,
clearing after the normal period and on replacement, silence, acknowledgement by the owner,
and each rule kind evaluated where its data arrive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from prognos.domain import FailureForecast, HealthScore, ReadingBatch
from prognos.domain.keys import MANUFACTURER
from prognos.domain.planning import WorkOrder
from prognos.errors import Forbidden, NotFound, ValidationFailed
from prognos.service.alarm_desk import AlarmQuery
from prognos.service.alarms import raises_alarms

NOW = datetime.now(UTC).replace(microsecond=0)
T0 = NOW - timedelta(hours=3)  # readings of the past three hours (none may lie in the future)
PUMP_RULES = {
    "clear_after_s": 3600,
    "rules": [
        {"kind": "threshold", "channel": "temp", "op": "above", "value": 90, "critical": 120},
        {"kind": "rate", "channel": "vibration", "rate": 6, "per": "minute", "direction": "up"},
        {"kind": "no_data", "interval_s": 60, "intervals": 3},
        {"kind": "probability", "horizon_days": 30, "p": 0.5, "critical_p": 0.9},
        {"kind": "zscore", "z": 4},
    ],
}


def readings(asset: str, channel: str, values, start: datetime, every_s: float = 60.0):
    n = len(values)
    ts = np.datetime64(start.replace(tzinfo=None), "us") + (
        np.arange(n) * int(every_s * 1e6)
    ).astype("timedelta64[us]")
    return ReadingBatch(
        np.full(n, asset, dtype=object),
        np.full(n, channel, dtype=object),
        ts,
        np.asarray(values, dtype=float),
    )


def send(platform, asset, channel, values, start, every_s=60.0):
    res = platform.telemetry.ingest_batch(
        MANUFACTURER, readings(asset, channel, values, start, every_s)
    )
    assert not res.rejected, res.rejected[0].reason


def alarms_of(platform, asset, state="all", p=MANUFACTURER, cause=None):
    return platform.alarms.page(p, AlarmQuery(state=state, asset=asset, cause=cause)).items


HOT = "threshold:temp:above"


@pytest.fixture
def pumps(seeded):
    seeded.alarms.put_rules(MANUFACTURER, "pump", PUMP_RULES)
    return seeded


def customer(platform, cid):
    key, _ = platform.keys.create(MANUFACTURER, cid, f"{cid} operator")
    return platform.keys.authenticate(key)


# -- one alarm per asset and cause -----------------------------------------------------------
def test_repeated_occurrences_update_one_alarm(pumps):
    send(pumps, "acme-p1", "temp", [80, 95, 97, 85], T0)
    send(pumps, "acme-p1", "temp", [99, 70], T0 + timedelta(minutes=10))
    send(pumps, "acme-p1", "temp", [91], T0 + timedelta(minutes=20))
    (a,) = alarms_of(pumps, "acme-p1")
    assert a.cause == "threshold:temp:above" and a.state == "active" and a.severity == "warning"
    assert a.count == 4  # four readings above 90 in three batches
    assert a.first_seen == T0 + timedelta(minutes=1)
    assert a.last_seen == T0 + timedelta(minutes=20)
    assert a.details["value"] == 91.0 and a.message == "temp 91 above 90"
    assert alarms_of(pumps, "acme-p2") == []  # only the asset that crossed


def test_escalation_is_recorded_and_undoes_an_acknowledgement(pumps):
    send(pumps, "acme-p1", "temp", [95], T0)
    pumps.alarms.acknowledge(MANUFACTURER, alarms_of(pumps, "acme-p1")[0].id, "watching it")
    send(pumps, "acme-p1", "temp", [130], T0 + timedelta(minutes=5))
    (a,) = alarms_of(pumps, "acme-p1")
    assert a.severity == "critical" and a.escalated_at == T0 + timedelta(minutes=5)
    assert a.state == "active" and a.acked_by is None  # worse than what was acknowledged
    events = [(h["event"], h.get("from"), h.get("to")) for h in a.history]
    assert ("escalated", "warning", "critical") in events
    assert ("acknowledged", None, None) in events and a.count == 2
    send(pumps, "acme-p1", "temp", [95], T0 + timedelta(minutes=6))
    assert alarms_of(pumps, "acme-p1")[0].severity == "critical"  # it does not fall back


# -- clearing --------------------------------------------------------------------------------
def test_an_alarm_clears_itself_after_the_normal_period(pumps):
    now = datetime.now(UTC)  # the server's clock (the module's NOW is from its import)

    def hot_is_active(at: datetime) -> bool:
        pumps.alarms.sweep(at)  # other causes (no data while the clock jumps) may come and go
        return [x.state for x in alarms_of(pumps, "acme-p1", cause=HOT)] == ["active"]

    send(pumps, "acme-p1", "temp", [95], T0)
    (a,) = alarms_of(pumps, "acme-p1", cause=HOT)
    # normal readings for 50 minutes: not yet a normal period of an hour
    send(pumps, "acme-p1", "temp", [70] * 50, T0 + timedelta(minutes=1))
    assert hot_is_active(now + timedelta(hours=2))
    # normal for more than an hour of the asset's own time, and no occurrence for an hour
    send(pumps, "acme-p1", "temp", [70] * 30, T0 + timedelta(minutes=51))
    assert hot_is_active(now + timedelta(minutes=30))  # too soon, by clock
    assert not hot_is_active(now + timedelta(hours=2))
    (done,) = alarms_of(pumps, "acme-p1", cause=HOT)
    assert done.id == a.id and done.state == "cleared" and done.cleared_by == "auto"
    # the same condition later is a new alarm
    send(pumps, "acme-p1", "temp", [96], T0 + timedelta(minutes=90))
    again = alarms_of(pumps, "acme-p1", "active", cause=HOT)
    assert len(again) == 1 and again[0].id != a.id


def test_an_asset_that_stopped_reporting_keeps_its_alarm(pumps):
    send(pumps, "acme-p1", "temp", [95, 70], T0)
    assert pumps.alarms.sweep(NOW + timedelta(hours=5))["cleared"] == 0
    assert [x.state for x in alarms_of(pumps, "acme-p1", cause=HOT)] == ["active"]


def test_a_replacement_clears_its_alarms(pumps):
    send(pumps, "acme-p1", "temp", [95], T0)
    send(pumps, "acme-p2", "temp", [95], T0)
    for oid, asset, replaced in (("wo-1", "acme-p1", True), ("wo-2", "acme-p2", False)):
        o = WorkOrder(id=oid, asset_id=asset, site_id="acme-plant", day=NOW.date(), crew_id="c1")
        pumps.orders.save(MANUFACTURER, o.transition("scheduled").transition("dispatched"))
        pumps.orders.complete(MANUFACTURER, oid, "seal worn", part_replaced=replaced, at=NOW)
    (p1,) = alarms_of(pumps, "acme-p1")
    assert p1.state == "cleared" and p1.cleared_by == "replacement" and p1.cleared_at == NOW
    (p2,) = alarms_of(pumps, "acme-p2")
    assert p2.state == "cleared" and p2.cleared_by == "work order wo-2"
    assert alarms_of(pumps, "globex-p1") == []


def test_a_jobs_day_silences_by_the_sites_local_day(pumps):
    """globex's plant is in Berlin: 23:30 UTC is already the next day there, the job's day."""
    at = (NOW - timedelta(days=1)).replace(hour=23, minute=30, second=0)
    local_day = at.astimezone(ZoneInfo("Europe/Berlin")).date()
    assert local_day != at.date()
    o = WorkOrder(id="wo-8", asset_id="globex-p1", site_id="globex-plant", day=local_day)
    pumps.orders.save(MANUFACTURER, o.transition("scheduled").transition("dispatched"))
    send(pumps, "globex-p1", "temp", [95], at)
    (a,) = alarms_of(pumps, "globex-p1")
    assert a.state == "silenced" and "wo-8" in a.silenced_because


def test_maintenance_silences_and_the_manufacturer_may_clear(pumps):
    # the job's day is the readings' local day at the site (NOW's UTC date may be another)
    day = T0.astimezone(ZoneInfo("Europe/Berlin")).date()
    o = WorkOrder(id="wo-9", asset_id="globex-p1", site_id="globex-plant", day=day)
    pumps.orders.save(MANUFACTURER, o.transition("scheduled").transition("dispatched"))
    send(pumps, "globex-p1", "temp", [95], T0)
    (a,) = alarms_of(pumps, "globex-p1")
    assert a.state == "silenced" and "wo-9" in a.silenced_because
    globex = customer(pumps, "globex")
    with pytest.raises(Forbidden):
        pumps.alarms.clear(globex, a.id)
    cleared = pumps.alarms.clear(MANUFACTURER, a.id, "sensor cable loose")
    assert cleared.state == "cleared" and cleared.history[-1]["note"] == "sensor cable loose"


# -- acknowledging ---------------------------------------------------------------------------
def test_bulk_acknowledge_by_filter(pumps):
    send(pumps, "acme-p1", "temp", [130], T0)  # critical
    send(pumps, "acme-p2", "temp", [95], T0)  # warning
    send(pumps, "globex-p1", "temp", [125], T0)  # critical, another customer
    n = pumps.alarms.acknowledge_many(
        MANUFACTURER, q=AlarmQuery(severity="critical", customer="acme"), note="crew sent"
    )
    assert n == 1
    states = {a: alarms_of(pumps, a)[0].state for a in ("acme-p1", "acme-p2", "globex-p1")}
    assert states == {"acme-p1": "acknowledged", "acme-p2": "active", "globex-p1": "active"}
    assert alarms_of(pumps, "acme-p1")[0].ack_note == "crew sent"
    # all that match: every active one of the filter, once
    assert pumps.alarms.acknowledge_many(MANUFACTURER, q=AlarmQuery(state="active")) == 2
    assert pumps.alarms.acknowledge_many(MANUFACTURER, q=AlarmQuery(state="active")) == 0


def test_a_customer_sees_and_acknowledges_only_its_own(pumps):
    send(pumps, "acme-p1", "temp", [95], T0)
    send(pumps, "globex-p1", "temp", [95], T0)
    acme = customer(pumps, "acme")
    mine = pumps.alarms.page(acme, AlarmQuery()).items
    assert [a.asset_id for a in mine] == ["acme-p1"]
    assert pumps.alarms.page(acme, AlarmQuery(customer="globex")).total == 0
    theirs = alarms_of(pumps, "globex-p1")[0].id
    with pytest.raises(NotFound):
        pumps.alarms.get(acme, theirs)
    with pytest.raises(NotFound):
        pumps.alarms.acknowledge(acme, theirs)
    both = [mine[0].id, theirs]
    assert pumps.alarms.acknowledge_many(acme, ids=both) == 1
    assert pumps.alarms.acknowledge_many(acme, q=AlarmQuery()) == 0  # nothing else of its own
    assert alarms_of(pumps, "globex-p1")[0].state == "active"
    assert alarms_of(pumps, "acme-p1")[0].acked_by == "acme operator"
    assert pumps.alarms.counts(acme) == {"acknowledged": 1}


# -- the other rules -------------------------------------------------------------------------
def test_no_data_rule_flags_an_asset_that_stopped_reporting(pumps):
    start = t = datetime.now(UTC)  # the server's clock, from here on the test's
    pumps.alarms.clock = lambda: t
    send(pumps, "acme-p1", "temp", [50], T0)
    send(pumps, "acme-p2", "temp", [50], T0)
    t = start + timedelta(minutes=5)
    send(pumps, "acme-p1", "temp", [51], T0 + timedelta(minutes=1))  # p1 goes on, p2 stopped
    assert pumps.alarms.sweep(t) == {"raised": 1, "cleared": 0}
    (a,) = alarms_of(pumps, "acme-p2")
    assert a.cause == "no_data" and a.state == "active" and a.details["silent_s"] == 300
    assert alarms_of(pumps, "acme-p1") == [] and alarms_of(pumps, "globex-p1") == []  # never sent
    t = start + timedelta(minutes=6)
    assert pumps.alarms.sweep(t) == {"raised": 1, "cleared": 0}  # still silent: the same alarm
    assert alarms_of(pumps, "acme-p2")[0].count == 2
    send(pumps, "acme-p2", "temp", [50], T0 + timedelta(minutes=2))
    assert pumps.alarms.sweep(t)["cleared"] == 1
    assert alarms_of(pumps, "acme-p2")[0].cleared_by == "auto"


def test_rate_of_change_spans_batches(pumps):
    send(pumps, "acme-p1", "vibration", [1.0, 2.0, 3.0], T0)  # 1 per minute: fine
    send(pumps, "acme-p1", "vibration", [10.0], T0 + timedelta(minutes=3))  # +7 in a minute
    (a,) = alarms_of(pumps, "acme-p1")
    assert a.cause == "rate:vibration" and a.details["rate"] == pytest.approx(7.0)
    send(pumps, "acme-p1", "vibration", [2.0], T0 + timedelta(minutes=4))  # down: not watched
    assert alarms_of(pumps, "acme-p1")[0].count == 1


def test_health_scores_and_forecasts_raise_their_rules(pumps):
    h = HealthScore("acme-p1", T0, 35.0, {}, {"temp": 4.6, "vibration": -4.1})
    pumps.alarms.observe(healths=[h, HealthScore("acme-p2", T0, 90.0, {}, {})])
    (z,) = alarms_of(pumps, "acme-p1")
    assert z.cause == "zscore" and z.channel == "temp" and z.severity == "critical"  # health < 40
    assert z.message == "temp unusual (z +4.6); health 35/100"
    soon = FailureForecast.from_quantiles(
        "acme-p2", T0, {0.1: 100.0, 0.5: 300.0, 0.9: 900.0}, time_unit="hours"
    )  # 30 days are 720 h: about 80 % likely
    late = FailureForecast.from_quantiles(
        "globex-p2", T0, {0.1: 5000.0, 0.5: 9000.0, 0.9: 20000.0}, time_unit="hours"
    )
    pumps.alarms.observe(forecasts=[soon, late])
    (p,) = alarms_of(pumps, "acme-p2")
    assert p.cause == "probability:30d" and p.severity == "warning"
    assert p.details["probability"] == pytest.approx(float(soon.prob_fail_before(720.0)))
    assert alarms_of(pumps, "globex-p2") == []


def test_types_without_rules_of_their_own_have_the_zscore_rule(seeded):
    rules, own = seeded.alarms.rules(MANUFACTURER, "pump")
    assert not own and [r.kind for r in rules.rules] == ["zscore"] and rules.rules[0].z == 4.0
    send(seeded, "acme-p1", "temp", [149], T0)  # no threshold rule: nothing
    assert alarms_of(seeded, "acme-p1") == []


def test_retired_assets_raise_no_alarms(seeded):
    a = seeded.registry.snapshot().assets["acme-p1"]
    assert raises_alarms(a) and not raises_alarms(a.model_copy(update={"lifecycle": "retired"}))


# -- rules -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rules", "rule", "field", "reason"),
    [
        ([{"kind": "threshold", "channel": "pressure", "value": 3}], "rules[0] (threshold pressure)",
         "channel", "pump has no channel 'pressure'"),
        ([{"kind": "zscore"}, {"kind": "threshold", "channel": "temp", "value": 90, "critical": 80}],
         "rules[1] (threshold temp)", "critical", "critical must lie above value 90"),
        ([{"kind": "rate", "channel": "temp"}], "rules[0] (rate temp)", "rate", "Field required"),
        ([{"kind": "probability", "p": 1.5}], "rules[0] (probability)", "p", "less than 1"),
        ([{"kind": "no_data", "interval_s": 60, "colour": "red"}], "rules[0] (no_data)", "colour",
         "Extra inputs"),
        ([{"kind": "sms"}], "rules[0] (sms)", "kind", "does not match any of the expected tags"),
        ([{"kind": "zscore"}, {"kind": "zscore", "z": 5}], "rules[1] (zscore)", "kind",
         "rules[0] already watches zscore"),
    ],
)  # fmt: skip
def test_rules_are_validated_with_errors_naming_rule_and_field(seeded, rules, rule, field, reason):
    with pytest.raises(ValidationFailed) as e:
        seeded.alarms.put_rules(MANUFACTURER, "pump", {"rules": rules})
    (problem,) = e.value.details
    assert problem["rule"] == rule and problem["field"] == field
    assert reason.lower() in problem["reason"].lower(), problem
    assert e.value.message.startswith(f"alarm rules of pump: {rule} {field}:")
    assert not seeded.alarms.rules(MANUFACTURER, "pump")[1]  # nothing was stored


def test_only_the_manufacturer_sets_rules(seeded):
    with pytest.raises(Forbidden):
        seeded.alarms.put_rules(customer(seeded, "acme"), "pump", PUMP_RULES)
