"""A scripted MQTT 5 broker for what Mosquitto will not do: grant QoS 0 to a QoS 1
subscription, set keep-alive to 0, send malformed or oversized packets.

It answers CONNECT with a CONNACK carrying ``connack_props``, SUBSCRIBE with a SUBACK carrying
``suback_codes`` and then ``after_suback`` (raw bytes, sent as they are), PINGREQ with PINGRESP,
and records every packet the client sends as (connection number, packet type, body).
"""

from __future__ import annotations

import asyncio
import struct
import threading

from prognos.ingest import mqtt_packets as mp


def publish_packet(topic: bytes, payload: bytes, pid: int = 1, props: bytes = b"") -> bytes:
    """A QoS 1 PUBLISH; ``topic`` as raw bytes, so a test can make it anything."""
    body = struct.pack("!H", len(topic)) + topic + struct.pack("!H", pid)
    body += mp.encode_varint(len(props)) + props + payload
    return bytes([0x32]) + mp.encode_varint(len(body)) + body


class FakeBroker:
    def __init__(
        self,
        *,
        connack_props: bytes = b"",
        suback_codes: bytes = b"\x01",
        after_suback: bytes = b"",
    ):
        self.connack_props = connack_props
        self.suback_codes = suback_codes
        self.after_suback = after_suback
        self.received: list[tuple[int, int, bytes]] = []
        self.connections = 0
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, daemon=True)

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def of_type(self, kind: int) -> list[bytes]:
        """Bodies of the packets of ``kind`` the client sent, in order."""
        return [body for _, k, body in list(self.received) if k == kind]

    def __enter__(self) -> FakeBroker:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        self._loop.call_soon_threadsafe(self._done.set)
        self._thread.join(10)

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._run())
        finally:
            self._loop.close()

    async def _run(self) -> None:
        self._done = asyncio.Event()
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        await self._done.wait()
        server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        conn = self.connections
        buf = bytearray()
        try:
            while data := await reader.read(1 << 16):
                buf += data
                packets, used = mp.split_packets(buf)
                for first, start, end in packets:
                    body = bytes(buf[start:end])
                    kind = first >> 4
                    self.received.append((conn, kind, body))
                    if kind == mp.CONNECT:
                        props = mp.encode_varint(len(self.connack_props)) + self.connack_props
                        writer.write(bytes([0x20]) + mp.encode_varint(2 + len(props)))
                        writer.write(b"\x00\x00" + props)
                    elif kind == mp.SUBSCRIBE:
                        suback = body[:2] + b"\x00" + self.suback_codes
                        writer.write(bytes([0x90]) + mp.encode_varint(len(suback)) + suback)
                        writer.write(self.after_suback)
                    elif kind == mp.PINGREQ:
                        writer.write(b"\xd0\x00")
                del buf[:used]
                await writer.drain()
        except (ConnectionError, mp.ProtocolError):
            pass
        finally:
            writer.close()


def connect_properties(body: bytes) -> dict:
    """The properties of a CONNECT body (after protocol name, level, flags and keep-alive)."""
    props, _ = mp.decode_properties(body, 10)
    return props


def keepalive_of(body: bytes) -> int:
    return struct.unpack("!H", body[8:10])[0]
