"""The subscriber against a scripted broker, where the MQTT 5 specification asks the client to
act and Mosquitto cannot be made to misbehave: a QoS 0 grant, a Server Keep Alive, malformed
and oversized packets, and the Maximum Packet Size it announces."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import pytest
from fake_broker import FakeBroker, connect_properties, keepalive_of, publish_packet

from prognos.ingest import mqtt_packets as mp
from prognos.ingest.mqtt import MqttWorker
from prognos.ingest.mqtt_subscriber import Message, Subscriber
from support import wait_until


@pytest.fixture
def subscriber() -> Iterator:
    started: list[Subscriber] = []

    def make(broker: FakeBroker, **options) -> tuple[Subscriber, list[Message], threading.Event]:
        got: list[Message] = []
        subscribed = threading.Event()
        sub = Subscriber(
            "127.0.0.1",
            broker.port,
            "t/#",
            client_id="spec",
            on_messages=lambda gen, msgs, pids: got.extend(msgs),
            on_subscribed=subscribed.set,
            reconnect_delay_s=options.pop("reconnect_delay_s", (0.2, 0.5)),
            **options,
        )
        started.append(sub)
        sub.start()
        return sub, got, subscribed

    yield make
    for s in started:
        s.stop(5)


@pytest.mark.parametrize(
    ("props", "codes", "where"),
    [(b"", b"\x00", "(SUBACK)"), (b"\x24\x00", b"\x01", "(Maximum QoS in CONNACK)")],
    ids=["suback-grants-qos-0", "connack-maximum-qos-0"],
)
def test_a_broker_granting_only_qos_0_is_refused_and_left(props, codes, where):
    with FakeBroker(connack_props=props, suback_codes=codes) as broker:
        w = MqttWorker(broker.url, lambda messages: None, topic="t/+/+/x", group=None,
                       client_id="qos", reconnect_delay_s=(0.2, 0.5))  # fmt: skip
        w.start()
        try:
            wait_until(lambda: w.status()["state"] == "refused", 10, "the refusal")
            status = w.status()
            assert "grants only QoS 0" in status["last_error"] and where in status["last_error"]
            assert not w.wait_subscribed(0.1)
            # it told the broker before leaving
            wait_until(lambda: broker.of_type(mp.DISCONNECT), 10, "a DISCONNECT")
            assert broker.of_type(mp.DISCONNECT)[0] == b"\x80"
        finally:
            w.stop()


def test_a_server_keep_alive_replaces_the_clients(subscriber):
    with FakeBroker(connack_props=b"\x13\x00\x01") as broker:  # the broker wants 1 s
        sub, _, subscribed = subscriber(broker, keepalive_s=60)
        assert subscribed.wait(10)
        assert keepalive_of(broker.of_type(mp.CONNECT)[0]) == 60
        assert sub.keepalive_in_use == 1
        wait_until(lambda: broker.of_type(mp.PINGREQ), 3, "a ping within the broker's 1 s")


def test_a_server_keep_alive_of_0_turns_pings_off(subscriber):
    with FakeBroker(connack_props=b"\x13\x00\x00") as broker:
        sub, _, subscribed = subscriber(broker, keepalive_s=1)
        assert subscribed.wait(10)
        assert sub.keepalive_in_use == 0
        time.sleep(2.0)  # absence can only be waited out: at 1 s it would have pinged 3 times
        assert broker.of_type(mp.PINGREQ) == []
        assert sub.connected and sub.generation == 1


MALFORMED = {
    "topic not UTF-8": publish_packet(b"t/\xff\xfe", b"{}"),
    "topic with a lone surrogate": publish_packet(b"t/\xed\xa0\x80", b"{}"),
    "topic past the packet": b"\x32\x05\x00\x40t/x\x00",
    "property cut short": publish_packet(b"t/a", b"", props=b"\x03\x00\x09ab"),
    "unknown property": publish_packet(b"t/a", b"x", props=b"\x7f\x00"),
    "QoS bits both set": b"\x36\x06\x00\x01t\x00\x01\x00",
    "PINGRESP with flags": b"\xd1\x00",
    "length over four bytes": b"\x30\xff\xff\xff\xff\x01",
}


@pytest.mark.parametrize("packet", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_packet_ends_the_connection_with_reason_0x81(subscriber, caplog, packet):
    good = publish_packet(b"t/ok", b"fine", pid=7)
    with FakeBroker(after_suback=packet + good) as broker:
        sub, got, subscribed = subscriber(broker)
        assert subscribed.wait(10)
        wait_until(lambda: broker.of_type(mp.DISCONNECT), 10, "the client's DISCONNECT")
        assert broker.of_type(mp.DISCONNECT)[0][:1] == b"\x81"
        wait_until(lambda: "malformed packet" in (sub.last_error or ""), 10, "the reason")
        wait_until(lambda: broker.connections >= 2, 10, "a new connection")
    # nothing after the broken packet was taken for a message, and it is no bug of ours
    assert all(m.payload != b"fine" for m in got)
    assert not [r for r in caplog.records if r.exc_info and r.name.startswith("prognos")]


def test_connect_announces_a_maximum_packet_size_and_a_larger_packet_ends_it(subscriber):
    big = publish_packet(b"t/big", b"x" * 2000)
    with FakeBroker(after_suback=big) as broker:
        sub, got, subscribed = subscriber(broker, max_packet_bytes=1000)
        assert subscribed.wait(10)
        assert connect_properties(broker.of_type(mp.CONNECT)[0])[0x27] == 1000
        wait_until(lambda: broker.of_type(mp.DISCONNECT), 10, "the client's DISCONNECT")
        assert broker.of_type(mp.DISCONNECT)[0] == b"\x95"
        wait_until(lambda: "packet too large" in (sub.last_error or ""), 10, "the reason")
        assert got == []


def test_the_worker_announces_room_for_a_payload_over_the_limit(caplog):
    with FakeBroker() as broker:
        caplog.set_level(logging.INFO)
        w = MqttWorker(broker.url, lambda m: None, topic="t/+/+/x", group=None, client_id="w")
        w.start()
        try:
            assert w.wait_subscribed(10)
        finally:
            w.stop()
        size = connect_properties(broker.of_type(mp.CONNECT)[0])[0x27]
        assert size == 32 * 1024 * 1024
