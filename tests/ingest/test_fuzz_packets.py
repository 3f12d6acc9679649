"""Property: whatever bytes a broker sends, the packet reader yields packets or raises the
protocol's own error (``MalformedPacket``, or ``ProtocolError`` for a well-formed packet the
subscriber did not ask for), never an IndexError or UnicodeDecodeError that would pass for a
bug of ours. Valid packets, cut anywhere, read back as they were built."""

from __future__ import annotations

import contextlib
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prognos.ingest import mqtt_packets as mp

FUZZ = settings(
    max_examples=500, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def read(buf: bytearray, max_size: int | None = None) -> list[tuple]:
    """What the subscriber does with what it read: split, check each fixed header, decode."""
    out = []
    packets, _ = mp.split_packets(buf, max_size)
    for first, start, end in packets:
        if first >> 4 == mp.PUBLISH:
            out.append(mp.decode_publish(buf, first, start, end))
            continue
        kind, body = mp.check_flags(first), bytes(buf[start:end])
        if kind == mp.CONNACK:
            out.append(mp.decode_connack(body))
        elif kind == mp.SUBACK:
            out.append(mp.decode_suback(body))
        elif kind == mp.DISCONNECT:
            out.append(mp.decode_disconnect(body))
        else:
            out.append(kind)
    return out


def utf8(s: str) -> bytes:
    b = s.encode()
    return struct.pack("!H", len(b)) + b


TOPICS = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00+#"),
    min_size=1,
    max_size=20,
)
PROPERTIES = st.lists(
    st.one_of(
        st.integers(0, 1).map(lambda v: bytes([0x01, v])),
        st.integers(0, 2**32 - 1).map(lambda v: b"\x02" + struct.pack("!I", v)),
        st.text(max_size=10).filter(lambda t: "\x00" not in t).map(lambda t: b"\x03" + utf8(t)),
        st.tuples(st.text(max_size=5), st.text(max_size=5))
        .filter(lambda kv: "\x00" not in kv[0] + kv[1])
        .map(lambda kv: b"\x26" + utf8(kv[0]) + utf8(kv[1])),
    ),
    max_size=3,
    unique_by=lambda p: p[0] if p[0] != 0x26 else p,
).map(b"".join)


@st.composite
def publish(draw) -> tuple[bytes, tuple]:
    topic, payload = draw(TOPICS), draw(st.binary(max_size=300))
    qos, pid, dup = draw(st.integers(0, 1)), draw(st.integers(1, 0xFFFF)), draw(st.booleans())
    props = draw(PROPERTIES)
    body = utf8(topic) + (struct.pack("!H", pid) if qos else b"")
    body += mp.encode_varint(len(props)) + props + payload
    first = 0x30 | (qos << 1) | (0x08 if dup else 0)
    raw = bytes([first]) + mp.encode_varint(len(body)) + body
    return raw, (topic, payload, qos, pid if qos else 0, dup)


OTHER = st.sampled_from(
    [
        b"\x20\x03\x01\x00\x00",  # CONNACK, session present
        b"\x20\x06\x00\x00\x03\x13\x00\x0a",  # CONNACK, server keep alive 10
        b"\x90\x04\x00\x01\x00\x01",  # SUBACK granting QoS 1
        b"\xd0\x00",  # PINGRESP
        b"\xe0\x08\x8e\x06\x1f\x00\x03bye",  # DISCONNECT with a reason string
    ]
)
VALID = st.lists(st.one_of(publish(), OTHER.map(lambda b: (b, None))), min_size=1, max_size=5)


@st.composite
def mutated(draw) -> bytes:
    body = bytearray(b"".join(raw for raw, _ in draw(VALID)))
    for _ in range(draw(st.integers(1, 5))):
        at = draw(st.integers(0, len(body)))
        op = draw(st.sampled_from(["flip", "set", "cut", "insert", "drop"]))
        if op in ("flip", "set") and at < len(body):
            body[at] = (
                body[at] ^ (1 << draw(st.integers(0, 7)))
                if op == "flip"
                else draw(st.sampled_from([0x00, 0x7F, 0x80, 0xFF, 0xC0, 0xED]))
            )
        elif op == "cut":
            del body[at:]
        elif op == "insert":
            body[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif at < len(body):
            del body[at]
    return bytes(body)


@FUZZ
@given(stream=st.one_of(st.binary(max_size=400), mutated()), max_size=st.sampled_from([None, 64]))
def test_any_bytes_read_as_packets_or_a_protocol_error(stream, max_size):
    with contextlib.suppress(mp.ProtocolError):  # MalformedPacket, PacketTooLarge, QoS 2
        read(bytearray(stream), max_size)


@FUZZ
@given(stream=st.one_of(st.binary(max_size=200), mutated()), pos=st.integers(0, 50))
def test_properties_anywhere_read_or_are_malformed(stream, pos):
    with contextlib.suppress(mp.ProtocolError):
        mp.decode_properties(stream, pos)


@FUZZ
@given(packets=VALID, cut=st.integers(0, 2000))
def test_valid_packets_cut_anywhere_read_back_as_built(packets, cut):
    stream = b"".join(raw for raw, _ in packets)
    cut = min(cut, len(stream))
    whole = len(read(bytearray(stream[:cut])))
    got = read(bytearray(stream))
    assert len(got) == len(packets) and whole <= len(packets)
    for (_, expected), value in zip(packets, got, strict=True):
        if expected is not None:
            assert value == expected
