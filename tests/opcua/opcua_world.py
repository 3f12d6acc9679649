"""Helpers shared by the OPC UA tests."""

from __future__ import annotations

import asyncio


def items(*specs: tuple[str, str, str]) -> list[dict]:
    """Mapping items from (node id, asset, channel)."""
    return [{"node": n, "asset": a, "channel": c} for n, a, c in specs]


async def wait_for(predicate, timeout: float = 30.0, step: float = 0.05) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(step)
