"""The worker's own MQTT 5 client against a real Mosquitto: logins, keep-alive, a broker that
hangs, refusals, and stopping at any moment.

``test_mqtt.py`` proves the ingest guarantees (ack after commit, crashes, restarts, groups) on
top of this client; these tests pin the connection behaviour beneath them.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from prognos import devservers
from prognos.ingest.mqtt import MqttWorker
from prognos.ingest.mqtt_subscriber import Message, Subscriber
from support import wait_until

pytestmark = pytest.mark.integration


def publish(port: int, messages: list[tuple[str, bytes]], *, user=None, password=None, qos=1):
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}")
    if user:
        c.username_pw_set(user, password)
    c.connect("127.0.0.1", port)
    c.loop_start()
    try:
        infos = [c.publish(t, p, qos=qos) for t, p in messages]
        for info in infos:
            info.wait_for_publish(30)
    finally:
        c.disconnect()
        c.loop_stop()


class Inbox:
    """A subscriber's deliveries, acknowledged at once unless ``auto_ack`` is off."""

    def __init__(self, auto_ack: bool = True):
        self.auto_ack = auto_ack
        self.messages: list[Message] = []
        self.generations: list[int] = []
        self.packet_ids: list[int] = []
        self.subscribed = threading.Event()
        self.sub: Subscriber | None = None

    def __call__(self, generation: int, messages: list[Message], packet_ids: list[int]) -> None:
        self.messages.extend(messages)
        self.generations.append(generation)
        self.packet_ids.extend(packet_ids)
        if self.auto_ack and self.sub is not None:
            self.sub.ack(generation, [p for p in packet_ids if p])


@pytest.fixture
def subscriber() -> Iterator:
    started: list[Subscriber] = []

    def make(port: int, auto_ack: bool = True, **options) -> tuple[Subscriber, Inbox]:
        inbox = Inbox(auto_ack)
        options.setdefault("client_id", f"sub-{uuid.uuid4().hex[:8]}")
        sub = Subscriber(
            "127.0.0.1",
            port,
            options.pop("topic", "t/#"),
            on_messages=inbox,
            on_subscribed=inbox.subscribed.set,
            **options,
        )
        inbox.sub = sub
        started.append(sub)
        sub.start()
        return sub, inbox

    yield make
    for s in started:
        s.stop(5)


@pytest.fixture
def locked_broker() -> Iterator[devservers.Mosquitto]:
    with devservers.mosquitto(users={"plant": "s3cret"}) as b:
        yield b


def test_a_worker_logs_in_with_the_credentials_in_its_broker_url(locked_broker):
    got: list[Message] = []
    url = f"mqtt://plant:s3cret@127.0.0.1:{locked_broker.port}"
    w = MqttWorker(url, got.extend, topic="t/+/+/x", group=None, client_id="login")
    w.start()
    try:
        assert w.wait_subscribed(10)
        publish(locked_broker.port, [("t/c/a/x", b"1"), ("t/c/b/x", b"2")], user="plant",
                password="s3cret")  # fmt: skip
        wait_until(lambda: w.stats.acked == 2, 10, "two acknowledged messages")
    finally:
        w.stop()
    assert sorted(m.payload for m in got) == [b"1", b"2"]


@pytest.mark.parametrize("password", ["wrong", None], ids=["wrong-password", "anonymous"])
def test_a_refused_login_is_reported_by_name_and_retried(locked_broker, password):
    userinfo = f"plant:{password}@" if password else ""
    w = MqttWorker(
        f"mqtt://{userinfo}127.0.0.1:{locked_broker.port}",
        lambda messages: None,
        client_id="refused",
        reconnect_delay_s=(0.1, 0.2),
    )
    w.start()
    try:
        wait_until(lambda: w.status()["last_error"], 10, "the refusal to be reported")
        error = w.status()["last_error"]
        assert "refused the connection" in error
        assert "bad user name or password" in error or "not authorized" in error
        assert not w.connected and not w.wait_subscribed(0.5)
        assert w.stats.connects == 0
    finally:
        t0 = time.monotonic()
        w.stop()
        assert time.monotonic() - t0 < 5  # stopping does not wait out the backoff


def test_keep_alive_pings_hold_an_idle_connection_open(subscriber):
    with devservers.mosquitto() as broker:
        sub, inbox = subscriber(broker.port, keepalive_s=1)
        assert inbox.subscribed.wait(10)
        time.sleep(3.5)  # the broker drops a client silent for 1.5 keep-alives
        assert sub.connected and sub.generation == 1
        publish(broker.port, [("t/after-idle", b"still here")])
        wait_until(lambda: inbox.messages, 10, "a message after the idle spell")
    assert inbox.messages[0].payload == b"still here" and inbox.generations == [1]


def test_a_hung_broker_is_noticed_by_keep_alive_and_left_for_a_new_connection(subscriber):
    with devservers.mosquitto() as broker:
        sub, inbox = subscriber(broker.port, keepalive_s=1, reconnect_delay_s=(0.1, 0.5))
        assert inbox.subscribed.wait(10)
        inbox.subscribed.clear()
        assert broker.process is not None
        os.kill(broker.process.pid, signal.SIGSTOP)  # alive but silent, as behind a dead link
        try:
            wait_until(lambda: not sub.connected, 10, "the client to give the broker up")
            assert "no word from the broker" in (sub.last_error or "")
        finally:
            os.kill(broker.process.pid, signal.SIGCONT)
        wait_until(lambda: sub.connected and sub.generation >= 2, 20, "a new connection")
        assert inbox.subscribed.wait(10)
        publish(broker.port, [("t/back", b"1")])
        wait_until(lambda: inbox.messages, 10, "a message on the new connection")
    assert sub.generation >= 2


def test_acks_for_a_connection_that_is_gone_are_not_sent(subscriber):
    with devservers.mosquitto(persistence=True) as broker:
        sub, inbox = subscriber(
            broker.port, auto_ack=False, client_id="keeps-session", reconnect_delay_s=(0.1, 0.5)
        )
        assert inbox.subscribed.wait(10)
        publish(broker.port, [("t/1", b"a"), ("t/2", b"b")])
        wait_until(lambda: len(inbox.messages) == 2, 10, "two messages")
        broker.restart()  # a new connection: generation 2
        wait_until(lambda: sub.connected and sub.generation >= 2, 20, "a new connection")
        assert inbox.generations[0] == 1
        assert not sub.ack(1, inbox.packet_ids[:2])  # refused: they belong to connection 1
        # unacknowledged, the persistent session hands them over again on connection 2
        wait_until(lambda: len(inbox.messages) == 4, 20, "the two messages again")
    assert sorted(m.payload for m in inbox.messages) == [b"a", b"a", b"b", b"b"]
    assert inbox.generations[-1] == sub.generation >= 2


def test_qos_0_messages_arrive_with_no_packet_id_to_acknowledge(subscriber):
    with devservers.mosquitto() as broker:
        sub, inbox = subscriber(broker.port, auto_ack=False)
        assert inbox.subscribed.wait(10)
        publish(broker.port, [("t/q0", b"fire and forget")], qos=0)
        wait_until(lambda: inbox.messages, 10, "the QoS 0 message")
    assert inbox.packet_ids == [0] and inbox.messages[0].payload == b"fire and forget"


def test_stopping_while_the_broker_is_unreachable_returns_at_once():
    port = devservers.free_port()  # nothing listens here
    sub = Subscriber(
        "127.0.0.1", port, "t/#", client_id="nowhere", on_messages=lambda *a: None,
        reconnect_delay_s=(5, 30),
    )  # fmt: skip
    sub.start()
    wait_until(lambda: sub.last_error, 10, "the failed connection to be reported")
    assert "Connect" in sub.last_error or "refused" in sub.last_error.lower()
    t0 = time.monotonic()
    sub.stop()
    assert time.monotonic() - t0 < 2
