"""The MQTT 5 subscriber's packets, byte for byte against the specification (OASIS MQTT 5.0).

The worker's integration tests run these against a real Mosquitto; here each packet is checked
by hand, including the awkward cases a broker can produce: lengths of several bytes, a packet
cut anywhere by the socket, properties of every kind.
"""

from __future__ import annotations

import struct

import pytest

from prognos.ingest import mqtt_packets as mp


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (0, b"\x00"),
        (127, b"\x7f"),
        (128, b"\x80\x01"),
        (16_383, b"\xff\x7f"),
        (16_384, b"\x80\x80\x01"),
        (2_097_151, b"\xff\xff\x7f"),
        (2_097_152, b"\x80\x80\x80\x01"),
        (268_435_455, b"\xff\xff\xff\x7f"),
    ],
)
def test_variable_byte_integers_match_the_specification_table(value, encoded):
    # the boundary values of table 1-1 (1.5.5)
    assert mp.encode_varint(value) == encoded
    assert mp.decode_varint(encoded, 0) == (value, len(encoded))
    assert mp.decode_varint(encoded[:-1], 0) is None  # cut short: wait for more


def test_a_variable_byte_integer_over_four_bytes_is_a_protocol_error():
    with pytest.raises(ValueError):
        mp.encode_varint(268_435_456)
    with pytest.raises(mp.ProtocolError, match="four bytes"):
        mp.decode_varint(b"\xff\xff\xff\xff\x01", 0)


def test_connect_carries_protocol_5_flags_keepalive_properties_and_credentials():
    packet = mp.encode_connect(
        "ingest-1",
        keepalive_s=30,
        clean_start=False,
        session_expiry_s=0xFFFFFFFF,
        receive_maximum=4000,
        username="plant",
        password="s3cret",
    )
    props = b"\x11\xff\xff\xff\xff" + b"\x21" + struct.pack("!H", 4000)
    body = (
        b"\x00\x04MQTT\x05"
        + bytes([0x80 | 0x40])  # user name and password, no clean start
        + b"\x00\x1e"
        + bytes([len(props)])
        + props
        + b"\x00\x08ingest-1"
        + b"\x00\x05plant"
        + b"\x00\x06s3cret"
    )
    assert packet == bytes([0x10, len(body)]) + body


def test_connect_with_clean_start_and_no_login():
    packet = mp.encode_connect(
        "c", keepalive_s=5, clean_start=True, session_expiry_s=0, receive_maximum=20
    )
    assert packet[9] == 0x02  # connect flags: clean start only
    assert packet.endswith(b"\x00\x01c")


def test_subscribe_asks_for_qos_1_on_one_filter():
    packet = mp.encode_subscribe(7, "$share/g/prognos/+/+/telemetry")
    topic = b"$share/g/prognos/+/+/telemetry"
    body = b"\x00\x07" + b"\x00" + struct.pack("!H", len(topic)) + topic + b"\x01"
    assert packet == bytes([0x82, len(body)]) + body
    with pytest.raises(ValueError):
        mp.encode_subscribe(1, "x", qos=2)


def test_pubacks_for_a_batch_are_one_block_of_four_byte_packets():
    assert mp.encode_pubacks([1, 258, 65535]) == (
        b"\x40\x02\x00\x01" + b"\x40\x02\x01\x02" + b"\x40\x02\xff\xff"
    )
    assert mp.encode_pubacks([]) == b""


def publish(topic: str, payload: bytes, *, qos: int, pid: int = 0, props: bytes = b"", dup=False):
    t = topic.encode()
    body = struct.pack("!H", len(t)) + t
    if qos:
        body += struct.pack("!H", pid)
    body += mp.encode_varint(len(props)) + props + payload
    first = 0x30 | (qos << 1) | (0x08 if dup else 0)
    return bytes([first]) + mp.encode_varint(len(body)) + body


@pytest.mark.parametrize("qos", [0, 1])
def test_publish_is_read_as_topic_payload_qos_packet_id_and_dup(qos):
    props = b"\x01\x01" + b"\x03\x00\x10application/json" + b"\x0b\x05"
    raw = publish("prognos/c/a/telemetry", b'{"v": 1}', qos=qos, pid=42, props=props, dup=True)
    packets, used = mp.split_packets(bytearray(raw))
    assert used == len(raw) and len(packets) == 1
    first, start, end = packets[0]
    topic, payload, got_qos, pid, dup = mp.decode_publish(raw, first, start, end)
    assert (topic, payload, got_qos, dup) == ("prognos/c/a/telemetry", b'{"v": 1}', qos, True)
    assert pid == (42 if qos else 0)


def test_publish_at_qos_2_is_refused():
    raw = bytearray(publish("t", b"x", qos=1, pid=1))
    raw[0] = 0x34  # QoS 2
    packets, _ = mp.split_packets(raw)
    with pytest.raises(mp.ProtocolError, match="QoS 2"):
        mp.decode_publish(raw, *packets[0])


def test_a_stream_cut_anywhere_gives_the_whole_packets_and_keeps_the_rest():
    # a large payload (three length bytes), small ones, and a PINGRESP, back to back
    stream = (
        publish("a/1", b"x" * 20_000, qos=1, pid=1)
        + publish("a/2", b"small", qos=1, pid=2)
        + b"\xd0\x00"
        + publish("a/3", b"", qos=0)
    )
    whole, used = mp.split_packets(bytearray(stream))
    assert used == len(stream) and len(whole) == 4
    for cut in range(len(stream) + 1):
        head = bytearray(stream[:cut])
        packets, used = mp.split_packets(head)
        # only complete packets, and exactly the prefix they cover
        assert [p for p in whole if p[2] <= cut] == packets
        assert used == (packets[-1][2] if packets else 0)


def test_connack_gives_session_present_reason_and_server_keepalive():
    props = b"\x13\x00\x0a" + b"\x21\x00\x14" + b"\x12\x00\x03abc" + b"\x26\x00\x01k\x00\x01v"
    body = b"\x01\x00" + bytes([len(props)]) + props
    ack = mp.decode_connack(body)
    assert ack.session_present and ack.reason == 0
    assert ack.server_keepalive == 10 and ack.receive_maximum == 20
    assert ack.properties[0x12] == "abc" and ack.properties[0x26] == [("k", "v")]


def test_a_refusal_names_its_reason():
    ack = mp.decode_connack(b"\x00\x86\x00")
    assert ack.reason == 0x86
    err = mp.BrokerRefused("the broker refused the connection", ack.reason)
    assert "bad user name or password" in str(err) and "0x86" in str(err)


def test_suback_lists_one_code_per_filter():
    assert mp.decode_suback(b"\x00\x01\x00\x01") == (1, [1])
    assert mp.decode_suback(b"\x00\x02\x00\x87") == (2, [0x87])


def test_disconnect_from_the_broker_carries_reason_and_reason_string():
    props = b"\x1f\x00\x04busy"
    assert mp.decode_disconnect(b"\x8e" + bytes([len(props)]) + props) == (0x8E, "busy")
    assert mp.decode_disconnect(b"") == (0, None)


def test_unknown_or_overlong_properties_are_protocol_errors():
    with pytest.raises(mp.ProtocolError, match="unknown property"):
        mp.decode_properties(b"\x02\x7f\x00", 0)
    with pytest.raises(mp.ProtocolError, match="past the packet"):
        mp.decode_properties(b"\x09\x01\x01", 0)
