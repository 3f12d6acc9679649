"""One MQTT 5 subscription on a thread of its own: connect, subscribe, hand over what arrives,
send the acknowledgements it is given, keep the connection alive, come back after it drops.

    sub = Subscriber(address, "prognos/+/+/telemetry", client_id="ingest-1",
                     on_messages=lambda generation, messages, packet_ids: ...)
    sub.start()                         # returns at once; connects, and reconnects, in the background
    sub.ack(generation, packet_ids)     # from any thread, once the messages are safe
    sub.stop()                          # sends the acks already given, disconnects

Messages arrive in the order the broker sent them, in lists: everything one read of the socket
held. Each list comes with the connection's *generation*: after a reconnect the broker sends
unacknowledged messages again, possibly under packet ids the old connection used for others,
so an acknowledgement is sent only on the connection its messages came in on; acks for an
older generation are dropped (the broker redelivers those messages).

The protocol is the subscriber's half of MQTT 5 (``mqtt_packets``) over asyncio streams, TLS
included (``ssl_context``); asyncio runs in this object's thread only, so callers need no event loop.
Where the specification asks the client to act, it does: a broker's Server Keep Alive replaces
the client's (0 turns pings off); a broker granting less than QoS 1 is refused (at-least-once
would be lost silently); a packet that does not parse ends the connection with DISCONNECT
reason 0x81 (Malformed Packet), one over the announced Maximum Packet Size with 0x95.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import NamedTuple

from prognos.ingest import mqtt_packets as mp

log = logging.getLogger(__name__)

NEVER_EXPIRES = 0xFFFFFFFF  # session expiry interval: keep the session until the client returns
_READ_SIZE = 1 << 18


class Message(NamedTuple):
    """One received message, as a handler sees it."""

    topic: str
    payload: bytes
    dup: bool = False


OnMessages = Callable[[int, list[Message], list[int]], None]


class Subscriber:
    """An MQTT 5 client that subscribes to one filter at QoS 1 and acknowledges on request."""

    def __init__(
        self,
        host: str,
        port: int,
        topic_filter: str,
        *,
        client_id: str,
        on_messages: OnMessages,
        ssl_context: ssl.SSLContext | None = None,
        username: str | None = None,
        password: str | None = None,
        keepalive_s: int = 30,
        session_expiry_s: int = NEVER_EXPIRES,
        clean_start: bool = False,
        receive_maximum: int = 65535,
        reconnect_delay_s: tuple[float, float] = (0.5, 30.0),
        connect_timeout_s: float = 10.0,
        max_packet_bytes: int | None = None,
        on_connect: Callable[[bool], None] | None = None,
        on_subscribed: Callable[[], None] | None = None,
        on_disconnect: Callable[[str], None] | None = None,
        drain: bool = False,
    ):
        self.host, self.port, self.ssl_context = host, port, ssl_context
        self.topic_filter = topic_filter
        self.client_id = client_id
        self.username, self.password = username, password
        self.keepalive_s = keepalive_s
        self.session_expiry_s = session_expiry_s
        self.clean_start = clean_start
        self.receive_maximum = receive_maximum
        self.reconnect_delay_s = reconnect_delay_s
        self.connect_timeout_s = connect_timeout_s
        self.max_packet_bytes = max_packet_bytes
        self._on_messages = on_messages
        self._on_connect = on_connect
        self._on_subscribed = on_subscribed
        self._on_disconnect = on_disconnect
        # drain: take over another client's session once (``service/workers/takeover``):
        # UNSUBSCRIBE instead of SUBSCRIBE, no reconnect; ``stop(expire_session=True)`` ends it
        self.drain = drain
        self.session_present: bool | None = None
        self._expire = False
        self.generation = 0
        self.connected = False
        self.refused = False  # the last attempt ended in the broker's refusal (login, QoS, ...)
        self.keepalive_in_use: int | None = None  # seconds, as the broker decided (0: none)
        self.last_error: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._stopping = False
        self._wake: asyncio.Event | None = None
        self._attempt: asyncio.Task | None = None
        self._last_read = self._last_write = 0.0
        self._silence: str | None = None  # why keep-alive gave the broker up

    # -- any thread -------------------------------------------------------------------------
    def start(self) -> None:
        """Start the connection thread; it connects, and reconnects, until ``stop``."""
        if self._thread is not None:
            raise RuntimeError("this subscriber is already started")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._main, name=f"mqtt-net-{self.client_id}", daemon=True
        )
        self._thread.start()

    def ack(self, generation: int, packet_ids: list[int]) -> bool:
        """Acknowledge messages of connection ``generation``; False when that connection is
        gone (the broker will send them again)."""
        if generation != self.generation or not self.connected or self._loop is None:
            return False
        data = mp.encode_pubacks(packet_ids)
        try:
            self._loop.call_soon_threadsafe(self._write, generation, data)
        except RuntimeError:  # the loop has closed: stopped meanwhile
            return False
        return True

    def stop(self, timeout: float = 10.0, expire_session: bool = False) -> None:
        """Send what was acknowledged, disconnect (the session stays at the broker unless
        ``expire_session``), end the thread."""
        if self._thread is None or self._loop is None:
            return
        self._expire = expire_session
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._shutdown)
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("MQTT: the connection thread did not end within %.0f s", timeout)
        self._thread = None

    # -- the connection thread --------------------------------------------------------------
    def _main(self) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._run())
        finally:
            self._loop.close()

    def _shutdown(self) -> None:
        self._stopping = True
        if self._wake is not None:
            self._wake.set()
        if not self.connected and self._attempt is not None:
            self._attempt.cancel()  # still connecting: nothing to say goodbye on
        w = self._writer
        if w is not None and not w.is_closing():
            w.write(mp.encode_disconnect(0, 0) if self._expire else mp.DISCONNECT_PACKET)
            w.close()

    def _write(self, generation: int, data: bytes) -> None:
        w = self._writer
        if generation == self.generation and w is not None and not w.is_closing():
            w.write(data)
            self._last_write = time.monotonic()

    async def _run(self) -> None:
        self._wake = asyncio.Event()
        low, high = self.reconnect_delay_s
        delay = low
        while not self._stopping:
            subscribed = False
            self._attempt = asyncio.ensure_future(self._connection())
            try:
                subscribed = await self._attempt
            except asyncio.CancelledError:
                self._lost("stopped")
                break
            except mp.ProtocolError as e:  # the broker's bytes: say why, then leave
                self._goodbye(e.code)
                self._lost(f"{mp.reason_name(e.code)} from the broker: {e}")
                log.error("MQTT: %s; disconnected with reason 0x%02X", e, e.code)
            except (TimeoutError, OSError, EOFError) as e:
                self._lost(f"{type(e).__name__}: {e}" if str(e) else type(e).__name__)
            except mp.BrokerRefused as e:
                self._goodbye(0x80)
                self._lost(str(e))
                self.refused = True
                log.error("MQTT: %s", e)
            except Exception as e:  # a callback's bug must not end the connection thread
                self._lost(f"{type(e).__name__}: {e}")
                log.exception("MQTT: the connection failed")
            else:
                self._lost("disconnected")
            if self._stopping or self.drain:
                break
            delay = low if subscribed else delay
            log.info("MQTT: connecting again in %.1f s", delay)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
            delay = min(delay * 2, high)

    def _goodbye(self, reason: int) -> None:
        """DISCONNECT with ``reason`` on a connection this client ends (the broker learns why)."""
        w = self._writer
        if w is not None and not w.is_closing():
            w.write(mp.encode_disconnect(reason))

    def _lost(self, why: str) -> None:
        if not self._stopping:
            self.last_error = why  # before ``connected`` drops: a watcher reads them in order
        was = self.connected
        self.connected = self.refused = False
        w, self._writer = self._writer, None
        if w is not None and not w.is_closing():
            w.close()
        if not self._stopping and self._on_disconnect is not None and was:
            self._on_disconnect(why)

    async def _connection(self) -> bool:
        """One connection, from CONNECT until it ends; True once the subscription held."""
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port, ssl=self.ssl_context),
            self.connect_timeout_s,
        )
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.generation += 1
        generation = self.generation
        self._writer = writer
        writer.write(
            mp.encode_connect(
                self.client_id,
                keepalive_s=self.keepalive_s,
                clean_start=self.clean_start,
                session_expiry_s=self.session_expiry_s,
                receive_maximum=self.receive_maximum,
                maximum_packet_size=self.max_packet_bytes,
                username=self.username,
                password=self.password,
            )
        )
        buf = bytearray()
        connack = await asyncio.wait_for(self._connack(reader, buf), self.connect_timeout_s)
        if connack.reason >= 0x80:
            raise mp.BrokerRefused("the broker refused the connection", connack.reason)
        if connack.maximum_qos < 1:
            raise mp.QosDowngraded("(Maximum QoS in CONNACK)", connack.maximum_qos)
        # Server Keep Alive, when given, replaces the client's (3.2.2.3.14), 0 included
        server = connack.server_keepalive
        keepalive = self.keepalive_s if server is None else server
        if server is not None and server != self.keepalive_s:
            log.info(
                "MQTT: the broker sets keep-alive to %d s (asked: %d s)", server, self.keepalive_s
            )
        self.keepalive_in_use = keepalive
        self.connected = True
        self.refused = False
        self.last_error = None
        self.session_present = connack.session_present
        if self._on_connect is not None:
            self._on_connect(connack.session_present)
        if not self.drain:
            writer.write(mp.encode_subscribe(1, self.topic_filter, qos=1))
        elif connack.session_present:
            writer.write(mp.encode_unsubscribe(1, self.topic_filter))
        self._last_read = self._last_write = time.monotonic()
        self._silence = None
        pinger = asyncio.create_task(self._keep_alive(writer, keepalive))
        try:
            return await self._receive(reader, buf, generation)
        finally:
            pinger.cancel()

    async def _connack(self, reader: asyncio.StreamReader, buf: bytearray) -> mp.Connack:
        while True:
            chunk = await reader.read(_READ_SIZE)
            if not chunk:
                raise ConnectionError("the broker closed the connection before CONNACK")
            buf += chunk
            packets, _ = mp.split_packets(buf, self.max_packet_bytes)
            if packets:
                first, start, end = packets[0]
                if mp.check_flags(first) != mp.CONNACK:
                    raise mp.ProtocolError(f"expected CONNACK, got packet type {first >> 4}")
                connack = mp.decode_connack(bytes(buf[start:end]))
                del buf[:end]
                return connack

    async def _receive(self, reader: asyncio.StreamReader, buf: bytearray, generation: int) -> bool:
        subscribed = False
        on_messages = self._on_messages
        decode = mp.decode_publish
        limit = self.max_packet_bytes
        while True:
            if buf:
                packets, used = mp.split_packets(buf, limit)
            else:
                packets, used = [], 0
            messages: list[Message] = []
            packet_ids: list[int] = []
            for first, start, end in packets:
                kind = first >> 4
                if kind != mp.PUBLISH:
                    kind = mp.check_flags(first)
                if kind == mp.PUBLISH:
                    topic, payload, _, pid, dup = decode(buf, first, start, end)
                    messages.append(Message(topic, payload, dup))
                    packet_ids.append(pid)
                elif kind == mp.PINGRESP:
                    pass
                elif kind == mp.UNSUBACK:  # drain: no new messages come to this session
                    subscribed = True
                    if self._on_subscribed is not None:
                        self._on_subscribed()
                elif kind == mp.SUBACK:
                    _, codes = mp.decode_suback(bytes(buf[start:end]))
                    bad = [c for c in codes if c >= 0x80]
                    if bad:
                        raise mp.BrokerRefused(
                            f"the broker refused the subscription to {self.topic_filter!r}",
                            bad[0],
                        )
                    if min(codes) < 1:
                        where = f"for {self.topic_filter!r} (SUBACK)"
                        raise mp.QosDowngraded(where, min(codes))
                    subscribed = True
                    if self._on_subscribed is not None:
                        self._on_subscribed()
                elif kind == mp.DISCONNECT:
                    code, why = mp.decode_disconnect(bytes(buf[start:end]))
                    raise ConnectionError(
                        f"the broker disconnected: {mp.reason_name(code)}"
                        + (f" ({why})" if why else "")
                    )
                else:
                    raise mp.ProtocolError(f"unexpected packet type {kind} from the broker")
            if used:
                del buf[:used]
            if messages:
                on_messages(generation, messages, packet_ids)
            if used and buf:
                continue  # a split stops before a broken packet: meet it before reading more
            chunk = await reader.read(_READ_SIZE)
            if not chunk:
                if self._stopping:
                    return subscribed
                raise ConnectionError(self._silence or "the broker closed the connection")
            self._last_read = time.monotonic()
            buf += chunk

    async def _keep_alive(self, writer: asyncio.StreamWriter, keepalive: int) -> None:
        """PINGREQ when nothing went out for half the keep-alive; a broker silent for one and
        a half keep-alives (no PINGRESP either) is gone: close, and the reader reconnects."""
        if keepalive <= 0:
            return
        tick = max(keepalive / 4, 0.05)
        while not writer.is_closing():
            await asyncio.sleep(tick)
            now = time.monotonic()
            if now - self._last_read > 1.5 * keepalive:
                self._silence = f"no word from the broker for {now - self._last_read:.0f} s"
                log.warning("MQTT: %s; reconnecting", self._silence)
                writer.close()
                return
            if now - self._last_write >= keepalive / 2:
                writer.write(mp.PINGREQ_PACKET)
                self._last_write = now
