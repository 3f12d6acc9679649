"""MQTT 5's numbers by name: the reason codes a person will meet, how each property is written,
and the errors that end a connection (each with the reason the subscriber's DISCONNECT carries)."""

from __future__ import annotations


class ProtocolError(Exception):
    """The broker sent bytes that are not the MQTT 5 we speak; the connection must go, with
    ``code`` as the reason of the DISCONNECT the subscriber sends first."""

    code = 0x82  # protocol error: well-formed, but not what the protocol allows here


class MalformedPacket(ProtocolError):
    """Bytes that do not parse as the packet they claim to be (MQTT 5, 1.5 and 2.1)."""

    code = 0x81


class PacketTooLarge(ProtocolError):
    """A packet over the Maximum Packet Size the subscriber announced in CONNECT (3.1.2.11.4)."""

    code = 0x95


class BrokerRefused(Exception):
    """The broker answered with a failure reason code (bad login, not authorised, ...)."""

    def __init__(self, what: str, code: int):
        super().__init__(f"{what}: {reason_name(code)} (reason code 0x{code:02X})")
        self.code = code


class QosDowngraded(BrokerRefused):
    """The broker grants less than QoS 1 (Maximum QoS in CONNACK, or the SUBACK's code): its
    messages would then be lost on any disconnect, silently, so the subscriber refuses them."""

    def __init__(self, where: str, granted: int):
        Exception.__init__(
            self,
            f"the broker grants only QoS {granted} {where}; prognos needs QoS 1 (at least once) "
            "and disconnected: allow QoS 1 on the broker (Mosquitto: max_qos)",
        )
        self.code = granted


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


# Property identifier -> how its value is written (2.2.2.2)
BYTE, U16, U32, VARINT, STR, BIN, PAIR = range(7)
PROPERTY_KINDS = {
    0x01: BYTE,  # payload format indicator
    0x02: U32,  # message expiry interval
    0x03: STR,  # content type
    0x08: STR,  # response topic
    0x09: BIN,  # correlation data
    0x0B: VARINT,  # subscription identifier
    0x11: U32,  # session expiry interval
    0x12: STR,  # assigned client identifier
    0x13: U16,  # server keep alive
    0x15: STR,  # authentication method
    0x16: BIN,  # authentication data
    0x17: BYTE,  # request problem information
    0x18: U32,  # will delay interval
    0x19: BYTE,  # request response information
    0x1A: STR,  # response information
    0x1C: STR,  # server reference
    0x1F: STR,  # reason string
    0x21: U16,  # receive maximum
    0x22: U16,  # topic alias maximum
    0x23: U16,  # topic alias
    0x24: BYTE,  # maximum QoS
    0x25: BYTE,  # retain available
    0x26: PAIR,  # user property
    0x27: U32,  # maximum packet size
    0x28: BYTE,  # wildcard subscription available
    0x29: BYTE,  # subscription identifier available
    0x2A: BYTE,  # shared subscription available
}
