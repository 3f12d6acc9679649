"""The connector's bookkeeping without a server: each sample once, bad ones counted, not stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from asyncua import ua

from prognos.ingest.opcua import OpcUaConnector
from prognos.ingest.opcua_mapping import Mapping

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def dv(value, seconds: float, status=ua.StatusCodes.Good) -> ua.DataValue:
    return ua.DataValue(
        Value=ua.Variant(value),
        StatusCode=ua.StatusCode(status),
        SourceTimestamp=T0 + timedelta(seconds=seconds),
    )


def connector(batches: list, **kw) -> OpcUaConnector:
    mapping = Mapping.from_dict(
        {
            "items": [
                {"node": "ns=2;i=1", "asset": "acme-p1", "channel": "temp"},
                {"node": "ns=2;i=2", "asset": "acme-p1", "channel": "vibration"},
            ]
        },
        env={},
    )
    return OpcUaConnector("opc.tcp://127.0.0.1:1/", mapping, batches.append, **kw)


async def test_each_sample_is_handed_over_once_in_order_with_its_source_timestamp():
    batches: list = []
    c = connector(batches)
    for idx, d in [
        (0, dv(20.5, 0)),
        (1, dv(3, 0)),  # integers become floats
        (0, dv(20.5, 0)),  # the same sample again (initial value after a resubscription)
        (0, dv(19.0, -1)),  # older than what was delivered (a replay)
        (0, dv(21.0, 0.1)),
        (0, dv(99.0, 0.2, ua.StatusCodes.BadSensorFailure)),
        (1, dv("n/a", 0.3)),
        (1, dv(True, 0.4)),  # Boolean counts as 0/1
    ]:
        c._accept(idx, d)
    await c._flush()
    (b,) = batches
    assert list(b.asset_id) == ["acme-p1"] * 4
    assert list(b.channel) == ["temp", "vibration", "temp", "vibration"]
    assert list(b.value) == [20.5, 3.0, 21.0, 1.0]
    assert b.ts[0] == np.datetime64("2026-01-01T00:00:00.000000")
    assert b.ts[2] == np.datetime64("2026-01-01T00:00:00.100000")
    s = c.status()
    assert s["samples_delivered"] == 4 and s["batches_delivered"] == 1
    assert s["duplicates_dropped"] == 2 and s["bad_quality"] == 1 and s["not_numeric"] == 1


async def test_resume_points_drop_what_the_store_already_has():
    batches: list = []
    c = connector(batches, resume={0: T0 + timedelta(seconds=5)})
    assert not c._accept(0, dv(1.0, 5)) and c._accept(0, dv(1.0, 5.000001))
    assert c._accept(1, dv(1.0, 0))  # no resume point for this channel


async def test_a_failed_delivery_is_retried_with_the_same_batch():
    seen: list = []

    def flaky(batch):
        seen.append(batch)
        if len(seen) == 1:
            raise RuntimeError("store busy")

    c = connector([])
    c.on_batch = flaky
    c._accept(0, dv(20.0, 0))
    await c._flush()
    assert len(seen) == 2 and seen[0] is seen[1]
    s = c.status()
    assert s["delivery_errors"] == 1 and s["samples_delivered"] == 1
    assert "store busy" in s["last_error"]
