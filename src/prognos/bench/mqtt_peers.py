"""The MQTT benchmark's peers: a publisher in its own process (paho, or pre-built QoS 1
packets at the broker's pace), bare subscribers to compare the platform with, and the stream
timer. ``python -m prognos.bench.mqtt_peers PORT ASSETS CHANNELS TICKS FIRST [paho|raw]`` is the
publisher process."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid


def forget_session(port: int, client_id: str) -> None:
    """Connect once with a clean start and no session expiry: the broker drops the session."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    connected = threading.Event()
    c.on_connect = lambda *a: connected.set()
    c.connect("127.0.0.1", port, clean_start=True)
    c.loop_start()
    connected.wait(10)
    c.disconnect()
    c.loop_stop()


class BareSubscriber:
    """A subscriber at QoS 1 that only counts what arrives and acknowledges it at once: the
    platform worker's own MQTT client (``prognos.ingest.mqtt_subscriber``) with nothing behind
    it, so the ratio is what parsing, validating, storing and acking after commit cost."""

    def __init__(self, port: int):
        from prognos.ingest.mqtt_subscriber import Subscriber

        self.count = 0
        self._subscribed = threading.Event()
        self.client = Subscriber(
            "127.0.0.1",
            port,
            "prognos/+/+/telemetry",
            client_id=f"bench-bare-{uuid.uuid4().hex[:6]}",
            on_messages=self._on_messages,
            clean_start=True,
            session_expiry_s=0,
            receive_maximum=4000,  # the worker's own setting
            on_subscribed=self._subscribed.set,
        )
        self.client.start()
        if not self._subscribed.wait(10):
            raise RuntimeError("the bare subscriber did not subscribe")

    def _on_messages(self, generation: int, messages: list, packet_ids: list[int]) -> None:
        self.client.ack(generation, packet_ids)
        self.count += len(messages)

    def close(self) -> None:
        self.client.stop()


class PahoSubscriber:
    """The same, with paho-mqtt (what the worker used before its own client): for reference."""

    def __init__(self, port: int):
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        self.count = 0
        self._subscribed = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"bench-paho-{uuid.uuid4().hex[:6]}",
            protocol=mqtt.MQTTv5,
        )
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe("prognos/+/+/telemetry", qos=1)
        self.client.on_subscribe = lambda *a: self._subscribed.set()
        self.client.on_message = self._on_message
        props = Properties(PacketTypes.CONNECT)
        props.ReceiveMaximum = 4000
        self.client.connect("127.0.0.1", port, properties=props)
        self.client.loop_start()
        if not self._subscribed.wait(10):
            raise RuntimeError("the paho subscriber did not subscribe")

    def _on_message(self, client, userdata, msg) -> None:
        self.count += 1

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def timed_stream(
    port: int, assets: int, channels: int, ticks: int, first: int, done, publisher: str = "paho"
) -> tuple[float, float]:
    """Seconds from the publisher's start signal until ``done()`` holds, and the CPU seconds
    this process used meanwhile."""
    pub = subprocess.Popen(
        [sys.executable, "-m", "prognos.bench.mqtt_peers", str(port), str(assets)]
        + [str(channels), str(ticks), str(first), publisher],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        if pub.stdout.readline().strip() != "ready":
            raise RuntimeError("the publisher did not start")
        t0, cpu0 = time.perf_counter(), time.process_time()
        pub.stdin.write("go\n")
        pub.stdin.flush()
        deadline = t0 + 600
        while not done():
            if time.perf_counter() > deadline:
                raise RuntimeError("the stream did not arrive within 600 s")
            time.sleep(0.002)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        pub.stdin.close()
        pub.wait(60)
        return elapsed, cpu
    finally:
        if pub.poll() is None:
            pub.kill()
            pub.wait()
        pub.stdout.close()
        if not pub.stdin.closed:
            pub.stdin.close()


def _publisher_main(argv: list[str]) -> None:
    """The publisher process: build the stream, say ready, publish it at QoS 1 on 'go'."""
    from prognos.bench import fleet

    port, assets, channels, ticks, first = map(int, argv[:5])
    kind = argv[5] if len(argv) > 5 else "paho"
    messages = list(fleet.fleet_messages(assets, channels, ticks, first_tick=first))
    if kind == "raw":
        _publish_raw(port, messages)
    elif kind == "paho":
        _publish_paho(port, messages)
    else:
        raise SystemExit(f"unknown publisher {kind!r}: use paho or raw")


def _publish_paho(port: int, messages: list[tuple[str, bytes]]) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{uuid.uuid4().hex[:6]}")
    client.max_inflight_messages_set(1000)
    client.connect("127.0.0.1", port)
    client.loop_start()
    print("ready", flush=True)
    sys.stdin.readline()
    infos = [client.publish(topic, payload, qos=1) for topic, payload in messages]
    for info in infos:
        info.wait_for_publish(120)
    client.disconnect()
    client.loop_stop()


def _publish_raw(port: int, messages: list[tuple[str, bytes]], window: int = 2000) -> None:
    """MQTT 3.1.1 QoS 1 publishing as fast as the broker takes it: the packets are built before
    'go', written in blocks, with up to ``window`` awaiting their PUBACK. A Python publisher
    through paho spends more CPU per message than the subscribers being measured, which then
    all wait for it and look alike."""
    import select
    import socket

    from prognos.ingest.mqtt_packets import encode_varint

    def utf8(s: str) -> bytes:
        b = s.encode()
        return len(b).to_bytes(2, "big") + b

    packets = []
    for i, (topic, payload) in enumerate(messages):
        body = utf8(topic) + (i % 65535 + 1).to_bytes(2, "big") + payload
        packets.append(b"\x32" + encode_varint(len(body)) + body)
    cid = f"bench-pub-{uuid.uuid4().hex[:6]}"
    connect = utf8("MQTT") + b"\x04\x02\x00\x3c" + utf8(cid)  # 3.1.1, clean session, 60 s
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(b"\x10" + encode_varint(len(connect)) + connect)
    connack = sock.recv(4)
    if len(connack) != 4 or connack[0] != 0x20 or connack[3] != 0:
        raise RuntimeError(f"the broker refused the publisher: {connack!r}")
    print("ready", flush=True)
    sys.stdin.readline()
    n, sent, received = len(packets), 0, 0
    pending = memoryview(b"")
    sock.setblocking(False)
    while received < 4 * n:  # every PUBACK of 3.1.1 is four bytes
        acked = received // 4
        if not pending and sent < n and sent - acked < window:
            upto = min(n, acked + window)
            pending, sent = memoryview(b"".join(packets[sent:upto])), upto
        readable, writable, _ = select.select([sock], [sock] if pending else [], [], 60)
        if not readable and not writable:
            raise RuntimeError(f"the broker stopped acknowledging after {acked} of {n}")
        if readable:
            data = sock.recv(1 << 16)
            if not data:
                raise RuntimeError("the broker closed the publisher's connection")
            received += len(data)
        if writable and pending:
            pending = pending[sock.send(pending) :]
    sock.setblocking(True)
    sock.sendall(b"\xe0\x00")
    sock.close()


# -- HTTP -------------------------------------------------------------------------------------


if __name__ == "__main__":
    _publisher_main(sys.argv[1:])
