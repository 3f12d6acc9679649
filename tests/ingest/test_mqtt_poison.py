"""One poison message must not stop MQTT ingest: a message that fails alone is set aside (the
quarantine, with its raw payload once) and acknowledged; the messages around it are stored; a
store that fails for a moment is retried, not mistaken for poison."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from prognos import devservers
from prognos.domain.keys import MANUFACTURER
from prognos.ingest.mqtt import Message, MqttWorker
from prognos.service.workers import mqtt as mqtt_ingest
from prognos.service.workers import mqtt_worker
from support import wait_until

pytestmark = pytest.mark.integration
TS = "2025-06-01T00:00:00Z"


@pytest.fixture
def broker() -> Iterator[devservers.Mosquitto]:
    with devservers.mosquitto(persistence=True) as b:
        yield b


def publish(port: int, messages: list[tuple[str, bytes]]) -> None:
    """Publish at QoS 1, in order, and return once the broker has every message."""
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}")
    c.connect("127.0.0.1", port)
    c.loop_start()
    try:
        for info in [c.publish(t, p, qos=1) for t, p in messages]:
            info.wait_for_publish(30)
    finally:
        c.disconnect()
        c.loop_stop()


def valid(n: int) -> list[tuple[str, bytes]]:
    return [
        ("prognos/acme/acme-p2/telemetry",
         json.dumps({"ts": f"2025-06-01T00:{m:02d}:00Z", "values": {"temp": m}}).encode())
        for m in range(n)
    ]  # fmt: skip


class Picky:
    """A handler whose commit fails for any batch holding b"poison", and ``flaky`` times for
    anything at first (a store that is down for a moment)."""

    def __init__(self, flaky: int = 0):
        self.stored: list[bytes] = []
        self.dead: list[tuple[Message, str]] = []
        self.flaky = flaky
        self.lock = threading.Lock()

    def prepare(self, messages: list[Message]) -> list[Message]:
        return messages

    def commit(self, messages: list[Message]) -> None:
        with self.lock:
            if self.flaky:
                self.flaky -= 1
                raise ConnectionError("store down for a moment")
            if any(b"poison" in m.payload for m in messages):
                raise ValueError("cannot store this")
            self.stored += [m.payload for m in messages]

    def dead_letter(self, message: Message, reason: str) -> None:
        self.dead.append((message, reason))


def worker(url: str, handler, client_id: str = "poison") -> MqttWorker:
    return MqttWorker(url, handler, topic="prognos/+/+/telemetry", group=None,
                      client_id=client_id, max_wait_s=0.2, retry_delay_s=(0.05, 0.2))  # fmt: skip


def test_a_message_that_fails_alone_is_set_aside_and_the_twenty_behind_it_stored(broker):
    handler = Picky()
    messages = [("prognos/acme/acme-p1/telemetry", b"poison"), *valid(20)]
    w = worker(broker.url, handler)
    w.start()
    try:
        assert w.wait_subscribed(10)
        publish(broker.port, messages)
        wait_until(lambda: w.stats.acked == 21, 30, "all 21 messages acknowledged")
        status = w.status()
    finally:
        w.stop()
    assert sorted(handler.stored) == sorted(p for _, p in valid(20))
    [(message, reason)] = handler.dead
    assert message.payload == b"poison" and "ValueError: cannot store this" in reason
    assert status["dead_letters"] == 1 and "cannot store this" in status["last_dead_letter"]
    # acknowledged: the same session has nothing to deliver again
    again = Picky()
    w2 = worker(broker.url, again)
    w2.start()
    try:
        assert w2.wait_subscribed(10)
        publish(broker.port, valid(1))
        wait_until(lambda: again.stored, 10, "the next message")
    finally:
        w2.stop()
    assert again.stored == [valid(1)[0][1]] and w2.stats.received == 1


def test_a_store_down_for_a_moment_is_retried_not_taken_for_poison(broker):
    handler = Picky(flaky=2)  # within the three attempts a batch gets
    w = worker(broker.url, handler)
    w.start()
    try:
        assert w.wait_subscribed(10)
        publish(broker.port, valid(5))
        wait_until(lambda: w.stats.acked == 5, 30, "five messages acknowledged")
    finally:
        w.stop()
    assert len(handler.stored) == 5 and handler.dead == [] and w.stats.handler_errors == 2


POISON = [
    b'{"ts": "%s", "values": {"temp": %s}}' % (TS.encode(), b"9" * 400),
    b"[" * 3000 + b"]" * 3000,
    b'{"ts": "%s", "values": {"\\ud800": 1}}' % TS.encode(),
]


def test_the_poison_payloads_of_issue_14_are_quarantined_and_the_rest_stored(seeded, broker):
    messages = [("prognos/acme/acme-p1/telemetry", p) for p in POISON] + valid(20)
    w = mqtt_worker(seeded, broker=broker.url, client_id="issue-14", max_wait_s=0.2)
    w.start()
    try:
        assert w.wait_subscribed(10)
        publish(broker.port, messages)
        wait_until(lambda: w.stats.acked == len(messages), 30, "every message acknowledged")
        assert w.status()["errors"] == 0  # rejected on parsing: nothing had to be retried
    finally:
        w.stop()
    assert seeded.store.count_readings() == 20
    rows = seeded.telemetry.quarantined(MANUFACTURER)
    assert len(rows) == 3 and {r["field"] for r in rows} == {"payload", "value"}


def test_a_dead_letter_goes_to_the_quarantine_with_its_raw_payload_once(
    seeded, broker, monkeypatch
):
    parse = mqtt_ingest.records.from_json_messages

    def breaks_on_poison(messages, *args):
        if any(b"poison" in body for _, body in messages):
            raise RuntimeError("a parser bug")
        return parse(messages, *args)

    monkeypatch.setattr(mqtt_ingest.records, "from_json_messages", breaks_on_poison)
    poison = b'{"poison": true, "ts": "%s"}' % TS.encode()
    messages = [*valid(10), ("prognos/acme/acme-p1/telemetry", poison), *valid(20)[10:]]
    w = mqtt_worker(seeded, broker=broker.url, client_id="dead", retry_delay_s=(0.05, 0.2))
    w.start()
    try:
        assert w.wait_subscribed(10)
        publish(broker.port, messages)
        wait_until(lambda: w.stats.acked == 21, 30, "all 21 messages acknowledged")
        assert w.status()["dead_letters"] == 1
    finally:
        w.stop()
    assert seeded.store.count_readings() == 20
    [row] = seeded.telemetry.quarantined(MANUFACTURER)
    assert row["raw"] == poison.decode() and row["field"] == "message"
    assert row["asset_id"] == "acme-p1" and row["customer_id"] == "acme"
    assert "RuntimeError: a parser bug" in row["reason"]
