"""The broker recipe of docs/mqtt.md, section 3, on a real Mosquitto: with its ACL (read from
the document, as written there) device A cannot publish into device B's topic, a client
without a login cannot connect, and the ingest login reads every customer's telemetry."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from prognos import devservers
from support import wait_until

pytestmark = pytest.mark.integration

DOC = Path(__file__).resolve().parents[2] / "docs" / "mqtt.md"
USERS = {"acme/acme-p1": "a-secret", "globex/globex-p1": "g-secret", "prognos-ingest": "i-secret"}


def acl_from_the_doc() -> str:
    blocks, block = [], None
    for line in DOC.read_text().splitlines():
        if line.startswith("```"):
            block = [] if block is None else blocks.append("\n".join(block)) or None
        elif block is not None:
            block.append(line)
    [acl] = [b for b in blocks if b.startswith("# /etc/mosquitto/acl")]
    return acl + "\n"


@pytest.fixture
def broker(tmp_path):
    if not Path(devservers.MOSQUITTO).exists():
        pytest.fail("mosquitto is not installed: apt-get install mosquitto")
    passwd, acl = tmp_path / "passwd", tmp_path / "acl"
    passwd.write_text("")
    for user, password in USERS.items():
        subprocess.run(
            [devservers.MOSQUITTO_PASSWD, "-b", str(passwd), user, password],
            check=True,
            capture_output=True,
        )
    acl.write_text(acl_from_the_doc())
    port = devservers.free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(
        f"user root\nlistener {port} 127.0.0.1\npersistence false\nlog_dest stderr\n"
        f"allow_anonymous false\npassword_file {passwd}\nacl_file {acl}\n"
    )
    with (tmp_path / "log").open("wb") as log:
        proc = subprocess.Popen([devservers.MOSQUITTO, "-c", str(conf)], stdout=log, stderr=log)
        try:
            devservers.wait_for_port(port)
            yield port
        finally:
            proc.terminate()
            proc.wait(10)


class Client:
    """A paho MQTT 5 client that records what it receives and its PUBACK reason codes."""

    def __init__(self, port: int, user: str | None):
        self.received: list[tuple[str, bytes]] = []
        self.acks: dict[int, int] = {}
        self.connect_rc: int | None = None
        self.subscribed = threading.Event()
        self.c = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        if user:
            self.c.username_pw_set(user, USERS[user])
        self.c.on_connect = self._connected
        self.c.on_message = lambda c, u, m: self.received.append((m.topic, m.payload))
        self.c.on_publish = lambda c, u, mid, rc, props: self.acks.__setitem__(mid, rc.value)
        self.c.on_subscribe = lambda c, u, mid, rcs, props: self.subscribed.set()
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()
        wait_until(lambda: self.connect_rc is not None, 10, f"{user}'s CONNACK")

    def _connected(self, c, userdata, flags, rc, props):
        self.connect_rc = rc.value

    def publish(self, topic: str, payload: bytes) -> int:
        """Publish at QoS 1 and wait for the broker's PUBACK; returns its reason code."""
        info = self.c.publish(topic, payload, qos=1, properties=Properties(PacketTypes.PUBLISH))
        wait_until(lambda: info.mid in self.acks, 10, f"PUBACK on {topic}")
        return self.acks[info.mid]

    def close(self) -> None:
        self.c.loop_stop()
        self.c.disconnect()


def test_a_device_writes_only_its_own_topic_and_the_ingest_login_reads_all(broker):
    ingest = Client(broker, "prognos-ingest")
    acme = Client(broker, "acme/acme-p1")
    globex = Client(broker, "globex/globex-p1")
    try:
        assert ingest.connect_rc == acme.connect_rc == globex.connect_rc == 0
        ingest.c.subscribe("$share/prognos-ingest/prognos/+/+/telemetry", qos=1)
        assert ingest.subscribed.wait(10)

        assert acme.publish("prognos/acme/acme-p1/telemetry", b'{"temp": 1}') == 0
        assert globex.publish("prognos/globex/globex-p1/telemetry", b'{"temp": 2}') == 0
        # into another customer's asset, another asset of its own customer, or elsewhere
        for topic in (
            "prognos/globex/globex-p1/telemetry",
            "prognos/acme/acme-p2/telemetry",
            "prognos/acme/acme-p1/commands",
        ):
            assert acme.publish(topic, b'{"temp": 666}') == 135, topic  # not authorised
        wait_until(lambda: len(ingest.received) >= 2, 10, "the devices' own readings")
        acme.publish("prognos/acme/acme-p1/telemetry", b'{"temp": 3}')  # a marker after them
        wait_until(lambda: len(ingest.received) >= 3, 10, "the marker")
        assert sorted(ingest.received) == [
            ("prognos/acme/acme-p1/telemetry", b'{"temp": 1}'),
            ("prognos/acme/acme-p1/telemetry", b'{"temp": 3}'),
            ("prognos/globex/globex-p1/telemetry", b'{"temp": 2}'),
        ]
    finally:
        for c in (ingest, acme, globex):
            c.close()


def test_a_client_without_a_login_is_refused(broker):
    anonymous = Client(broker, None)
    try:
        assert anonymous.connect_rc in (134, 135)  # bad user name or password / not authorised
    finally:
        anonymous.close()
