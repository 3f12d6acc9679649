"""The MQTT 5 packets a subscriber needs, as bytes: built, split out of a stream and read.

Only the subscriber's half of the protocol is here: CONNECT, SUBSCRIBE, PUBACK, PINGREQ and
DISCONNECT going out; CONNACK, SUBACK, PUBLISH (QoS 0 and 1), PINGRESP and DISCONNECT coming
in. Functions take and return plain values, so the connection code (``mqtt_subscriber``) holds
no byte twiddling and every packet can be checked here against the specification (OASIS MQTT
Version 5.0, section 3) without a broker.

Why not paho for receiving: paho builds an object, decodes every property and takes several
locks per message; at 20 readings a message that cost more CPU than parsing, validating and
storing the readings (``docs/bench/ingest.md``). Splitting a read buffer into PUBLISH packets
here is a few slices per message, and a batch's acknowledgements go out in one write.
"""

from __future__ import annotations

import functools
import struct
from dataclasses import dataclass, field
from typing import Any

from prognos.ingest.mqtt_codes import (
    BIN,
    BYTE,
    PAIR,
    PROPERTY_KINDS,
    REASONS,
    STR,
    U16,
    U32,
    VARINT,
    BrokerRefused,
    MalformedPacket,
    PacketTooLarge,
    ProtocolError,
    QosDowngraded,
    reason_name,
)

# Control packet types (first byte >> 4)
CONNECT, CONNACK, PUBLISH, PUBACK = 1, 2, 3, 4
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK = 8, 9, 10, 11
PINGREQ, PINGRESP, DISCONNECT = 12, 13, 14

PINGREQ_PACKET = b"\xc0\x00"
DISCONNECT_PACKET = b"\xe0\x00"  # normal disconnection: the session stays for its expiry

MAX_REMAINING_LENGTH = 268_435_455  # four length bytes
# re-exported: callers name them mp.ProtocolError, mp.reason_name, ...
__all__ = ["REASONS", "BrokerRefused", "MalformedPacket", "PacketTooLarge"]
__all__ += ["ProtocolError", "QosDowngraded", "reason_name"]


# -- encoding ---------------------------------------------------------------------------------
def encode_varint(n: int) -> bytes:
    """Variable byte integer (1.5.5): seven bits a byte, high bit set while more follow."""
    if not 0 <= n <= MAX_REMAINING_LENGTH:
        raise ValueError(f"{n} does not fit an MQTT variable byte integer")
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | 0x80 if n else byte)
        if not n:
            return bytes(out)


def _utf8(s: str) -> bytes:
    b = s.encode("utf-8")
    if len(b) > 0xFFFF:
        raise ValueError(f"string of {len(b)} bytes is longer than MQTT allows (65535)")
    return struct.pack("!H", len(b)) + b


def _binary(b: bytes) -> bytes:
    if len(b) > 0xFFFF:
        raise ValueError(f"binary field of {len(b)} bytes is longer than MQTT allows (65535)")
    return struct.pack("!H", len(b)) + b


def _packet(first_byte: int, body: bytes) -> bytes:
    return bytes([first_byte]) + encode_varint(len(body)) + body


def encode_connect(
    client_id: str,
    *,
    keepalive_s: int,
    clean_start: bool,
    session_expiry_s: int,
    receive_maximum: int,
    maximum_packet_size: int | None = None,
    username: str | None = None,
    password: str | None = None,
) -> bytes:
    """CONNECT (3.1): protocol 5, the session's expiry, how many unacknowledged QoS 1
    messages the broker may send at once (Receive Maximum) and the largest packet this
    client takes (Maximum Packet Size; the broker discards larger messages, 3.1.2.11.4)."""
    if not 1 <= receive_maximum <= 0xFFFF:
        raise ValueError("receive maximum must be 1..65535")
    if maximum_packet_size is not None and not 1 <= maximum_packet_size <= 0xFFFFFFFF:
        raise ValueError("maximum packet size must be 1..4294967295")
    flags = 0x02 if clean_start else 0x00
    if username is not None:
        flags |= 0x80
    if password is not None:
        flags |= 0x40
    props = (
        b"\x11" + struct.pack("!I", session_expiry_s) + b"\x21" + struct.pack("!H", receive_maximum)
    )
    if maximum_packet_size is not None:
        props += b"\x27" + struct.pack("!I", maximum_packet_size)
    body = (
        _utf8("MQTT")
        + b"\x05"
        + bytes([flags])
        + struct.pack("!H", keepalive_s)
        + encode_varint(len(props))
        + props
        + _utf8(client_id)
    )
    if username is not None:
        body += _utf8(username)
    if password is not None:
        body += _binary(password.encode("utf-8"))
    return _packet(CONNECT << 4, body)


def encode_subscribe(packet_id: int, topic_filter: str, qos: int = 1) -> bytes:
    """SUBSCRIBE (3.8) to one filter at ``qos``; retained messages are sent as usual."""
    if qos not in (0, 1):
        raise ValueError("this subscriber takes QoS 0 or 1")
    body = struct.pack("!H", packet_id) + b"\x00" + _utf8(topic_filter) + bytes([qos])
    return _packet((SUBSCRIBE << 4) | 0x02, body)


def encode_unsubscribe(packet_id: int, topic_filter: str) -> bytes:
    """UNSUBSCRIBE (3.10) from one filter: the broker routes no new messages to the session
    and still sends what it had queued for it."""
    return _packet(
        (UNSUBSCRIBE << 4) | 0x02, struct.pack("!H", packet_id) + b"\x00" + _utf8(topic_filter)
    )


def encode_disconnect(reason: int, session_expiry_s: int | None = None) -> bytes:
    """DISCONNECT (3.14) with a reason code; ``session_expiry_s=0`` ends the session with the
    connection (3.14.2.2.2), properties left out otherwise (3.14.2.2: they may be)."""
    if session_expiry_s is not None:
        return _packet(
            DISCONNECT << 4, bytes([reason, 5, 0x11]) + struct.pack("!I", session_expiry_s)
        )
    return bytes([DISCONNECT << 4, 1, reason]) if reason else DISCONNECT_PACKET


_PUBACK = struct.Struct("!BBH")


def encode_pubacks(packet_ids: list[int]) -> bytes:
    """PUBACKs (3.4) for ``packet_ids``, success, back to back: one write for a whole batch.
    With reason Success and no properties a PUBACK is just its packet id (3.4.2.1)."""
    pack = _PUBACK.pack
    return b"".join([pack(PUBACK << 4, 2, pid) for pid in packet_ids])


# -- decoding ---------------------------------------------------------------------------------
def decode_varint(buf: bytes | bytearray | memoryview, pos: int) -> tuple[int, int] | None:
    """(value, position after it), or None when ``buf`` ends inside the integer."""
    value, shift = 0, 0
    for i in range(pos, min(pos + 4, len(buf))):
        b = buf[i]
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, i + 1
        shift += 7
    if len(buf) - pos >= 4:
        raise MalformedPacket("a variable byte integer runs over four bytes")
    return None


def _text(raw: bytes) -> str:
    """A UTF-8 string field (1.5.4): well-formed UTF-8 without U+0000, else malformed."""
    text = raw.decode("utf-8")  # strict: a surrogate or a broken sequence raises
    if "\x00" in text:
        raise MalformedPacket("a string holds U+0000")
    return text


def _malformed(fn):
    """Decoders turn any slip on short or broken bytes into ``MalformedPacket``: the bytes
    came from the broker, so a parse failure is the broker's, never a bug to log as ours."""

    @functools.wraps(fn)
    def decode(*args: Any) -> Any:
        try:
            return fn(*args)
        except ProtocolError:
            raise
        except (IndexError, ValueError, struct.error) as e:  # UnicodeDecodeError included
            raise MalformedPacket(f"{fn.__name__.removeprefix('decode_')}: {e}") from None

    return decode


@_malformed
def decode_properties(buf: bytes | bytearray, pos: int) -> tuple[dict[int, Any], int]:
    """Properties at ``pos`` (length, then identifier/value pairs): ({id: value}, end)."""
    got = decode_varint(buf, pos)
    if got is None:
        raise MalformedPacket("properties cut short")
    length, pos = got
    end = pos + length
    if end > len(buf):
        raise MalformedPacket("properties run past the packet")
    props: dict[int, Any] = {}
    while pos < end:
        pid = buf[pos]
        kind = PROPERTY_KINDS.get(pid)
        pos += 1
        if kind == BYTE:
            value, pos = buf[pos], pos + 1
        elif kind == U16:
            value, pos = (buf[pos] << 8) | buf[pos + 1], pos + 2
        elif kind == U32:
            value, pos = int.from_bytes(buf[pos : pos + 4], "big"), pos + 4
        elif kind == VARINT:
            got = decode_varint(buf, pos)
            if got is None:
                raise MalformedPacket("property cut short")
            value, pos = got
        elif kind in (STR, BIN):
            n = (buf[pos] << 8) | buf[pos + 1]
            raw = bytes(buf[pos + 2 : pos + 2 + n])
            value, pos = (_text(raw) if kind == STR else raw), pos + 2 + n
        elif kind == PAIR:
            pair = []
            for _ in range(2):
                n = (buf[pos] << 8) | buf[pos + 1]
                pair.append(_text(bytes(buf[pos + 2 : pos + 2 + n])))
                pos += 2 + n
            props.setdefault(pid, []).append(tuple(pair))
            continue
        else:
            raise MalformedPacket(f"unknown property identifier 0x{pid:02X}")
        if pos > end:
            raise MalformedPacket("a property runs past the property length")
        if pid in props and pid != 0x0B:  # only subscription identifiers may repeat
            raise ProtocolError(f"property 0x{pid:02X} given twice")
        props[pid] = value
    if pos != end:
        raise MalformedPacket("a property runs past the property length")
    return props, end


@dataclass(frozen=True)
class Connack:
    session_present: bool
    reason: int
    properties: dict[int, Any] = field(default_factory=dict)

    @property
    def server_keepalive(self) -> int | None:
        """The keep-alive the broker wants instead of the client's (0: none), if it said."""
        return self.properties.get(0x13)

    @property
    def receive_maximum(self) -> int:
        return self.properties.get(0x21, 65535)

    @property
    def maximum_qos(self) -> int:
        """The highest QoS the broker supports (0 or 1; absent means 2)."""
        return self.properties.get(0x24, 2)


def _exact(got: int, body: bytes | bytearray, what: str) -> None:
    if got != len(body):
        raise MalformedPacket(f"{what} has {len(body) - got} bytes after its properties")


@_malformed
def decode_connack(body: bytes | bytearray) -> Connack:
    if len(body) < 2:
        raise MalformedPacket("CONNACK shorter than its header")
    if body[0] & 0xFE:
        raise MalformedPacket("CONNACK sets reserved acknowledge flags")
    props, end = decode_properties(body, 2) if len(body) > 2 else ({}, 2)
    _exact(end, body, "CONNACK")
    return Connack(bool(body[0] & 0x01), body[1], props)


@_malformed
def decode_suback(body: bytes | bytearray) -> tuple[int, list[int]]:
    """(packet id, one reason code per filter: 0/1/2 granted QoS, >= 0x80 refused)."""
    if len(body) < 3:
        raise MalformedPacket("SUBACK shorter than its header")
    _, pos = decode_properties(body, 2)
    if pos >= len(body):
        raise MalformedPacket("SUBACK without a reason code")
    return (body[0] << 8) | body[1], list(body[pos:])


@_malformed
def decode_disconnect(body: bytes | bytearray) -> tuple[int, str | None]:
    """(reason code, reason string if the broker gave one)."""
    if not body:
        return 0, None
    props, end = decode_properties(body, 1) if len(body) > 1 else ({}, 1)
    _exact(end, body, "DISCONNECT")
    return body[0], props.get(0x1F)


# packets whose fixed-header flags are reserved and must be 0 (2.1.3)
_ZERO_FLAGS = frozenset((CONNACK, PUBACK, SUBACK, UNSUBACK, PINGRESP, DISCONNECT))


def check_flags(first: int) -> int:
    """The packet type of a fixed header's first byte; malformed if it sets reserved flags."""
    kind = first >> 4
    if kind in _ZERO_FLAGS and first & 0x0F:
        raise MalformedPacket(f"packet type {kind} sets reserved flags 0x{first & 0x0F:X}")
    return kind


def split_packets(
    buf: bytearray, max_size: int | None = None
) -> tuple[list[tuple[int, int, int]], int]:
    """The complete packets at the start of ``buf``: ([(first byte, body start, body end)],
    bytes consumed). What is left is the start of a packet still on its way. A packet over
    ``max_size`` bytes raises ``PacketTooLarge`` as soon as its length is known, a broken length
    ``MalformedPacket``; both once the packets before it are handed over."""
    out = []
    pos, n = 0, len(buf)
    while n - pos >= 2:
        b = buf[pos + 1]
        if b < 0x80:  # the usual case: a body under 128 bytes
            length, start = b, pos + 2
        else:
            try:
                got = decode_varint(buf, pos + 1)
            except MalformedPacket:
                if out:
                    break
                raise
            if got is None:
                break
            length, start = got
        end = start + length
        if max_size is not None and end - pos > max_size:
            if out:
                break
            raise PacketTooLarge(f"a packet of {end - pos} bytes, over the {max_size} announced")
        if end > n:
            break
        out.append((buf[pos], start, end))
        pos = end
    return out, pos


def decode_publish(buf: bytes | bytearray, first: int, start: int, end: int) -> tuple:
    """A PUBLISH (3.3) in ``buf[start:end]``: (topic, payload, qos, packet id or 0, dup).

    Properties are checked, not kept: the subscriber sets no Topic Alias Maximum, so the broker
    sends full topics, and nothing else in them changes what the payload means to prognos.
    """
    qos = (first >> 1) & 0x03
    if qos == 3:
        raise MalformedPacket("PUBLISH with both QoS bits set")
    if qos == 2:
        raise ProtocolError("PUBLISH at QoS 2; this subscriber asked for at most 1")
    try:
        tlen = (buf[start] << 8) | buf[start + 1]
        pos = start + 2 + tlen
        if pos > end:
            raise MalformedPacket("PUBLISH topic runs past the packet")
        topic = bytes(buf[start + 2 : pos]).decode("utf-8")
        pid = 0
        if qos:
            pid = (buf[pos] << 8) | buf[pos + 1]
            if not pid:
                raise MalformedPacket("PUBLISH at QoS 1 with packet id 0")
            pos += 2
        if buf[pos] == 0:  # no properties, the usual case
            pos += 1
        else:  # read, so that broken ones end the connection as the specification asks
            _, pos = decode_properties(buf, pos)
    except (IndexError, UnicodeDecodeError) as e:
        raise MalformedPacket(f"PUBLISH: {e}") from None
    if pos > end:
        raise MalformedPacket("PUBLISH header runs past the packet")
    if not topic or "\x00" in topic or "+" in topic or "#" in topic:
        raise MalformedPacket(f"PUBLISH topic {topic!r} is empty or holds U+0000 or a wildcard")
    return topic, bytes(buf[pos:end]), qos, pid, bool(first & 0x08)
