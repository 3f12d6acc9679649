"""MQTT ingest as a use case: topic tenancy, validation, quarantine, poison messages and the
acknowledgement rule, over the in-memory source."""

from __future__ import annotations

import json

from prognos.domain import Principal
from prognos.domain.keys import MANUFACTURER


def msg(ts: str, **values) -> bytes:
    return json.dumps({"ts": ts, "values": values}).encode()


def test_messages_are_stored_and_acknowledged_after_commit(platform, ingest):
    worker, source = ingest
    for minute in range(10):
        source.publish(
            "prognos/acme/acme-p1/telemetry",
            msg(f"2025-06-01T00:{minute:02d}:00Z", temp=40.0 + minute),
        )
    assert source.drain(10)
    assert len(source.acked) == 10
    df = platform.telemetry.history(MANUFACTURER, "acme-p1")
    assert len(df) == 10 and df["value"].max() == 49.0
    assert worker.status()["accepted"] == 10 and worker.status()["acked"] == 10


def test_a_device_of_one_customer_cannot_write_into_another_customers_asset(platform, ingest):
    _, source = ingest
    source.publish("prognos/globex/acme-p1/telemetry", msg("2025-06-01T00:00:00Z", temp=1.0))
    assert source.drain(10) and len(source.acked) == 1  # quarantined, so acknowledged
    assert platform.telemetry.history(MANUFACTURER, "acme-p1").empty
    rows = platform.telemetry.quarantined(MANUFACTURER)
    assert len(rows) == 1 and "not registered to customer 'globex'" in rows[0]["reason"]
    assert platform.telemetry.quarantined(Principal("k", "globex")) == []  # acme's asset


def test_bad_records_are_quarantined_and_the_good_ones_stored(platform, ingest):
    _, source = ingest
    source.publish(
        "prognos/acme/acme-p1/telemetry", msg("2025-06-01T00:00:00Z", temp=20.0, vibration=999.0)
    )
    source.publish("prognos/acme/acme-p9/telemetry", msg("2025-06-01T00:00:00Z", temp=20.0))
    source.publish("prognos/acme/acme-p2/telemetry", b"{not json")
    assert source.drain(10) and len(source.acked) == 3
    assert len(platform.telemetry.history(MANUFACTURER, "acme-p1")) == 1  # temp kept
    reasons = " | ".join(r["reason"] for r in platform.telemetry.quarantined(MANUFACTURER))
    assert "out of range" in reasons or "above" in reasons
    assert "unknown asset" in reasons


def test_a_message_that_breaks_the_store_alone_is_set_aside_and_the_rest_go_on(
    platform, ingest, monkeypatch
):
    worker, source = ingest
    store = platform.store
    write = store.write_readings

    def picky(batch):
        if (batch.value == 13.0).any():
            raise RuntimeError("the store refuses this reading")
        return write(batch)

    monkeypatch.setattr(store, "write_readings", picky)
    for k, v in enumerate((1.0, 13.0, 2.0)):
        source.publish("prognos/acme/acme-p1/telemetry", msg(f"2025-06-01T00:0{k}:00Z", temp=v))
    assert source.drain(20)
    assert sorted(platform.telemetry.history(MANUFACTURER, "acme-p1")["value"]) == [1.0, 2.0]
    assert worker.status()["dead_letters"] == 1
    kept = [r for r in platform.telemetry.quarantined(MANUFACTURER) if "refuses" in r["reason"]]
    assert len(kept) == 1 and "13.0" in kept[0]["raw"]


def test_nothing_is_acknowledged_while_the_store_is_away(platform, ingest, monkeypatch):
    _, source = ingest
    store = platform.store
    down = [True]

    def away(method):
        def call(*args, **kw):
            if down[0]:
                raise ConnectionError("store away")
            return method(*args, **kw)

        return call

    # the database is gone: neither readings nor quarantine rows can be written, and it does
    # not answer a round trip either (so ingest never takes the message for poison)
    monkeypatch.setattr(store, "ping", away(store.ping))
    monkeypatch.setattr(store, "write_readings", away(store.write_readings))
    monkeypatch.setattr(store, "quarantine", away(store.quarantine))
    monkeypatch.setattr(store, "commit_ingest", away(store.commit_ingest))
    source.publish("prognos/acme/acme-p1/telemetry", msg("2025-06-01T00:00:00Z", temp=5.0))
    assert not source.drain(0.3)  # retried, not acknowledged, not set aside yet
    assert source.acked == []
    down[0] = False
    assert source.drain(10) and len(source.acked) == 1
    assert len(platform.telemetry.history(MANUFACTURER, "acme-p1")) == 1


def test_a_store_back_before_the_dead_letter_stores_the_message_not_quarantines_it(
    platform, ingest, monkeypatch
):
    """The race the outage test found: every write of the message failed while the store was
    away, and the store came back just before the message would have been set aside."""
    _, source = ingest
    store = platform.store
    write, failures = store.write_readings, [0]

    def away_three_times(batch):
        if failures[0] < 3:  # the message's own attempts, all during the outage
            failures[0] += 1
            raise ConnectionError("store away")
        return write(batch)

    monkeypatch.setattr(store, "write_readings", away_three_times)
    source.publish("prognos/acme/acme-p1/telemetry", msg("2025-06-01T00:00:00Z", temp=5.0))
    assert source.drain(10) and len(source.acked) == 1
    assert len(platform.telemetry.history(MANUFACTURER, "acme-p1")) == 1
    assert not [
        r for r in platform.telemetry.quarantined(MANUFACTURER) if "store away" in r["reason"]
    ]
