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

import struct
from dataclasses import dataclass, field
from typing import Any

# Control packet types (first byte >> 4)
CONNECT, CONNACK, PUBLISH, PUBACK = 1, 2, 3, 4
SUBSCRIBE, SUBACK, PINGREQ, PINGRESP, DISCONNECT = 8, 9, 12, 13, 14

PINGREQ_PACKET = b"\xc0\x00"
DISCONNECT_PACKET = b"\xe0\x00"  # normal disconnection: the session stays for its expiry

MAX_REMAINING_LENGTH = 268_435_455  # four length bytes


class ProtocolError(Exception):
    """The broker sent bytes that are not the MQTT 5 we speak; the connection must go."""


class BrokerRefused(Exception):
    """The broker answered with a failure reason code (bad login, not authorised, ...)."""

    def __init__(self, what: str, code: int):
        super().__init__(f"{what}: {reason_name(code)} (reason code 0x{code:02X})")
        self.code = code


# A few reason codes a person will meet, by name (MQTT 5, 2.4); others print as numbers.
REASONS = {
    0x00: "success",
    0x04: "disconnect with will message",
    0x80: "unspecified error",
    0x81: "malformed packet",
    0x82: "protocol error",
    0x83: "implementation specific error",
    0x84: "unsupported protocol version",
    0x85: "client identifier not valid",
    0x86: "bad user name or password",
    0x87: "not authorized",
    0x88: "server unavailable",
    0x89: "server busy",
    0x8A: "banned",
    0x8B: "server shutting down",
    0x8D: "keep alive timeout",
    0x8E: "session taken over",
    0x8F: "topic filter invalid",
    0x93: "receive maximum exceeded",
    0x95: "packet too large",
    0x97: "quota exceeded",
    0x9A: "retain not supported",
    0x9B: "QoS not supported",
    0x9C: "use another server",
    0x9D: "server moved",
    0x9E: "shared subscriptions not supported",
    0xA2: "wildcard subscriptions not supported",
}


def reason_name(code: int) -> str:
    return REASONS.get(code, f"reason 0x{code:02X}")


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
    username: str | None = None,
    password: str | None = None,
) -> bytes:
    """CONNECT (3.1): protocol 5, the session's expiry and how many unacknowledged QoS 1
    messages the broker may send at once (Receive Maximum)."""
    if not 1 <= receive_maximum <= 0xFFFF:
        raise ValueError("receive maximum must be 1..65535")
    flags = 0x02 if clean_start else 0x00
    if username is not None:
        flags |= 0x80
    if password is not None:
        flags |= 0x40
    props = (
        b"\x11" + struct.pack("!I", session_expiry_s) + b"\x21" + struct.pack("!H", receive_maximum)
    )
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
        raise ProtocolError("a variable byte integer runs over four bytes")
    return None


# Property identifier -> how its value is written (2.2.2.2)
_BYTE, _U16, _U32, _VARINT, _STR, _BIN, _PAIR = range(7)
_PROPERTY_KINDS = {
    0x01: _BYTE,  # payload format indicator
    0x02: _U32,  # message expiry interval
    0x03: _STR,  # content type
    0x08: _STR,  # response topic
    0x09: _BIN,  # correlation data
    0x0B: _VARINT,  # subscription identifier
    0x11: _U32,  # session expiry interval
    0x12: _STR,  # assigned client identifier
    0x13: _U16,  # server keep alive
    0x15: _STR,  # authentication method
    0x16: _BIN,  # authentication data
    0x17: _BYTE,  # request problem information
    0x18: _U32,  # will delay interval
    0x19: _BYTE,  # request response information
    0x1A: _STR,  # response information
    0x1C: _STR,  # server reference
    0x1F: _STR,  # reason string
    0x21: _U16,  # receive maximum
    0x22: _U16,  # topic alias maximum
    0x23: _U16,  # topic alias
    0x24: _BYTE,  # maximum QoS
    0x25: _BYTE,  # retain available
    0x26: _PAIR,  # user property
    0x27: _U32,  # maximum packet size
    0x28: _BYTE,  # wildcard subscription available
    0x29: _BYTE,  # subscription identifier available
    0x2A: _BYTE,  # shared subscription available
}


def decode_properties(buf: bytes | bytearray, pos: int) -> tuple[dict[int, Any], int]:
    """Properties at ``pos`` (length, then identifier/value pairs): ({id: value}, end)."""
    got = decode_varint(buf, pos)
    if got is None:
        raise ProtocolError("properties cut short")
    length, pos = got
    end = pos + length
    if end > len(buf):
        raise ProtocolError("properties run past the packet")
    props: dict[int, Any] = {}
    while pos < end:
        pid = buf[pos]
        kind = _PROPERTY_KINDS.get(pid)
        pos += 1
        if kind == _BYTE:
            value, pos = buf[pos], pos + 1
        elif kind == _U16:
            value, pos = (buf[pos] << 8) | buf[pos + 1], pos + 2
        elif kind == _U32:
            value, pos = int.from_bytes(buf[pos : pos + 4], "big"), pos + 4
        elif kind == _VARINT:
            got = decode_varint(buf, pos)
            if got is None:
                raise ProtocolError("property cut short")
            value, pos = got
        elif kind in (_STR, _BIN):
            n = (buf[pos] << 8) | buf[pos + 1]
            raw = bytes(buf[pos + 2 : pos + 2 + n])
            value, pos = (raw.decode("utf-8", "replace") if kind == _STR else raw), pos + 2 + n
        elif kind == _PAIR:
            pair = []
            for _ in range(2):
                n = (buf[pos] << 8) | buf[pos + 1]
                pair.append(bytes(buf[pos + 2 : pos + 2 + n]).decode("utf-8", "replace"))
                pos += 2 + n
            props.setdefault(pid, []).append(tuple(pair))
            continue
        else:
            raise ProtocolError(f"unknown property identifier 0x{pid:02X}")
        props[pid] = value
    if pos != end:
        raise ProtocolError("a property runs past the property length")
    return props, end


@dataclass(frozen=True)
class Connack:
    session_present: bool
    reason: int
    properties: dict[int, Any] = field(default_factory=dict)

    @property
    def server_keepalive(self) -> int | None:
        return self.properties.get(0x13)

    @property
    def receive_maximum(self) -> int:
        return self.properties.get(0x21, 65535)


def decode_connack(body: bytes | bytearray) -> Connack:
    if len(body) < 2:
        raise ProtocolError("CONNACK shorter than its header")
    props, _ = decode_properties(body, 2) if len(body) > 2 else ({}, 2)
    return Connack(bool(body[0] & 0x01), body[1], props)


def decode_suback(body: bytes | bytearray) -> tuple[int, list[int]]:
    """(packet id, one reason code per filter: 0/1/2 granted QoS, >= 0x80 refused)."""
    if len(body) < 3:
        raise ProtocolError("SUBACK shorter than its header")
    _, pos = decode_properties(body, 2)
    return (body[0] << 8) | body[1], list(body[pos:])


def decode_disconnect(body: bytes | bytearray) -> tuple[int, str | None]:
    """(reason code, reason string if the broker gave one)."""
    if not body:
        return 0, None
    props, _ = decode_properties(body, 1) if len(body) > 1 else ({}, 1)
    return body[0], props.get(0x1F)


def split_packets(buf: bytearray) -> tuple[list[tuple[int, int, int]], int]:
    """The complete packets at the start of ``buf``: ([(first byte, body start, body end)],
    bytes consumed). What is left is the start of a packet still on its way."""
    out = []
    pos, n = 0, len(buf)
    while n - pos >= 2:
        b = buf[pos + 1]
        if b < 0x80:  # the usual case: a body under 128 bytes
            length, start = b, pos + 2
        else:
            got = decode_varint(buf, pos + 1)
            if got is None:
                break
            length, start = got
        end = start + length
        if end > n:
            break
        out.append((buf[pos], start, end))
        pos = end
    return out, pos


def decode_publish(buf: bytes | bytearray, first: int, start: int, end: int) -> tuple:
    """A PUBLISH (3.3) in ``buf[start:end]``: (topic, payload, qos, packet id or 0, dup).

    Properties are skipped: the subscriber sets no Topic Alias Maximum, so the broker sends
    full topics, and nothing else in them changes what the payload means to prognos.
    """
    qos = (first >> 1) & 0x03
    if qos > 1:
        raise ProtocolError(f"PUBLISH at QoS {qos}; this subscriber asked for at most 1")
    tlen = (buf[start] << 8) | buf[start + 1]
    pos = start + 2 + tlen
    topic = bytes(buf[start + 2 : pos]).decode("utf-8")
    pid = 0
    if qos:
        pid = (buf[pos] << 8) | buf[pos + 1]
        pos += 2
    plen = buf[pos]
    if plen < 0x80:
        pos += 1 + plen
    else:
        got = decode_varint(buf, pos)
        if got is None:
            raise ProtocolError("PUBLISH properties cut short")
        plen, pos = got
        pos += plen
    if pos > end:
        raise ProtocolError("PUBLISH header runs past the packet")
    return topic, bytes(buf[pos:end]), qos, pid, bool(first & 0x08)
