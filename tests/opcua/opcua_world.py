"""Helpers shared by the OPC UA tests."""

from __future__ import annotations

import asyncio

import numpy as np


def items(*specs: tuple[str, str, str]) -> list[dict]:
    """Mapping items from (node id, asset, channel)."""
    return [{"node": n, "asset": a, "channel": c} for n, a, c in specs]


async def wait_for(predicate, timeout: float = 30.0, step: float = 0.05) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(step)


PUMPS = items(
    ("ns=2;s=Pump1.Temperature", "acme-p1", "temp"),
    ("ns=2;s=Pump1.Vibration", "acme-p1", "vibration"),
    ("ns=2;s=Pump2.Temperature", "acme-p2", "temp"),
    ("ns=2;s=Pump2.Vibration", "acme-p2", "vibration"),
)


class Proxy:
    """A TCP relay in front of a server whose 'network' can be cut and restored."""

    def __init__(self, port: int, target_port: int):
        self.port, self.target_port = port, target_port
        self.cut = False
        self._streams: list[asyncio.StreamWriter] = []
        self._tasks: set[asyncio.Task] = set()

    async def __aenter__(self) -> Proxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        return self

    async def __aexit__(self, *exc) -> None:
        self.disconnect()
        self._server.close()
        await self._server.wait_closed()
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def disconnect(self) -> None:
        """Drop every relayed connection and refuse new ones until ``reconnect``."""
        self.cut = True
        for w in self._streams:
            w.transport.abort()
        self._streams.clear()

    def reconnect(self) -> None:
        self.cut = False

    async def _handle(self, reader, writer) -> None:
        if self.cut:
            writer.transport.abort()
            return
        up_r, up_w = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._streams += [writer, up_w]
        for a, b in ((reader, up_w), (up_r, writer)):
            t = asyncio.create_task(self._pipe(a, b))
            self._tasks.add(t)
            t.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _pipe(reader, writer) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.transport.abort()


def stored(platform, asset: str, channel: str) -> list[tuple[int, float]]:
    df = platform.store.read_telemetry(asset, [channel])
    ts = df["ts"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().astype("datetime64[us]")
    ts = ts.astype(np.int64)
    return list(zip(ts.tolist(), df["value"].tolist(), strict=True))
