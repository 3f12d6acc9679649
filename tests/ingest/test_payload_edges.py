"""Payloads at the edges: whatever a device sends becomes readings or named rejections, the
quarantine stays as large as the payload at most, and what docs/mqtt.md shows is accepted."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from prognos.domain.keys import MANUFACTURER
from prognos.ingest import records

DOCS = Path(__file__).resolve().parents[2] / "docs"
TS = "2025-06-01T00:00:00Z"
MAX_PER_RECORD = 20  # "a record lists at most 20 rejections" (docs/mqtt.md)

POISON = {
    "a 400-digit number": b'{"ts": "%s", "values": {"temp": %s}}' % (TS.encode(), b"9" * 400),
    "JSON nested 3,000 deep": b"[" * 3000 + b"]" * 3000,
    "a channel named by a lone surrogate": b'{"ts": "%s", "values": {"\\ud800": 1}}' % TS.encode(),
    "an asset named by a lone surrogate": b'{"asset_id": "\\udfff", "ts": "%s", "temp": 1}'
    % TS.encode(),
    "a cycle of 400 digits": b'{"cycle": %s, "values": {"temp": 1}}' % (b"9" * 400),
    "a cycle no clock can place": b'{"cycle": 1e300, "values": {"temp": 1}}',
    "not UTF-8": b'{"ts": "\xff\xfe", "values": {"temp": 1}}',
    "a number as payload": b"1e999",
}


@pytest.mark.parametrize("poison", POISON.values(), ids=POISON.keys())
def test_a_poison_message_is_rejected_and_the_messages_behind_it_are_stored(seeded, poison):
    behind = [
        (
            "acme-p2",
            json.dumps({"ts": f"2025-06-01T00:{m:02d}:00Z", "values": {"temp": m}}).encode(),
        )
        for m in range(20)
    ]
    result = seeded.telemetry.ingest_messages(MANUFACTURER, [("acme-p1", poison), *behind])
    assert result.accepted == 20 and seeded.store.telemetry_span("acme-p2")[2] == 20
    assert result.rejected and all(r.index == 0 for r in result.rejected)
    assert not any("could not be read" in r.reason for r in result.rejected)  # no catch-all
    assert len(seeded.store.list_quarantine()) == len(result.rejected)


def test_a_time_in_nanoseconds_is_read_to_the_microsecond(seeded):
    body = b'{"ts": "2025-06-01T00:00:00.123456789Z", "values": {"temp": 1}}'
    result = seeded.telemetry.ingest_messages(MANUFACTURER, [("acme-p1", body)])
    assert result.accepted == 1 and result.rejected == []


def test_a_record_with_2000_bad_values_quarantines_a_bounded_summary(seeded):
    values = {f"ch{i:04d}": "broken" for i in range(2000)}
    body = json.dumps({"asset_id": "acme-p1", "ts": TS, "values": values}).encode()
    assert len(body) > 36_000
    result = seeded.telemetry.ingest_payload(MANUFACTURER, body, "application/json")
    assert len(result.rejected) == MAX_PER_RECORD + 1
    assert "1,980 more rejections of this record" in result.rejected[-1].reason
    rows = seeded.store.list_quarantine(limit=10_000)
    assert len(rows) == MAX_PER_RECORD + 1
    # the record is kept once, not once per bad value: linear in the payload, not quadratic
    assert sum(len(r["raw"]) for r in rows) < 2 * len(body)
    assert sum('"ch1999"' in r["raw"] for r in rows) == 1


@pytest.mark.parametrize("n_channels", [100, 2000])
def test_quarantine_grows_linearly_with_a_records_unknown_channels(seeded, n_channels):
    # numbers, so the record passes parsing; validation refuses each channel
    record = {"ts": TS, "values": {f"nope{i}": 1.0 for i in range(n_channels)}}
    result = seeded.telemetry.ingest_messages(
        MANUFACTURER, [("acme-p1", json.dumps(record).encode())]
    )
    assert result.accepted == 0 and len(result.rejected) == MAX_PER_RECORD + 1
    assert result.rejected[0].reason == "unknown channel for this asset type: nope0"
    extra = n_channels - MAX_PER_RECORD
    assert result.rejected[-1].reason.startswith(f"{extra:,} more rejections of this record")
    rows = seeded.store.list_quarantine(limit=10_000)
    assert len(rows) == MAX_PER_RECORD + 1 and sum(len(r["raw"]) for r in rows) < 10_000


def test_a_ragged_csv_row_is_rejected_by_its_row_not_read_into_the_wrong_columns():
    body = (
        b"asset_id,ts,temp,vibration\n"
        b"acme-p1,2025-06-01T00:00:00Z,20,1\n"
        b"acme-p1,2025-06-01T00:01:00Z,21\n"  # one short
        b"\n"
        b"acme-p1,2025-06-01T00:02:00Z,22,2,99\n"  # one too many
        b"acme-p1,2025-06-01T00:03:00Z,23,3\n"
    )
    df, rej = records.from_csv_bytes(body)
    assert [(r.index, r.field, r.asset_id) for r in rej] == [
        (1, "row", "acme-p1"),
        (2, "row", "acme-p1"),
    ]
    assert "3 fields but the header has 4 (line 3)" in rej[0].reason
    assert "5 fields but the header has 4 (line 5)" in rej[1].reason
    assert df[["record", "channel", "value"]].values.tolist() == [
        [0, "temp", 20.0],
        [0, "vibration", 1.0],
        [3, "temp", 23.0],
        [3, "vibration", 3.0],
    ]


def test_every_row_one_field_longer_than_the_header_is_rejected_not_shifted():
    # pandas would take the first column as an index and shift every value one to the left
    body = b"asset_id,ts,temp\nacme-p1,2025-06-01T00:00:00Z,1,2\nacme-p1,2025-06-01T00:01:00Z,3,4\n"
    df, rej = records.from_csv_bytes(body)
    assert df.empty and [(r.index, r.field) for r in rej] == [(0, "row"), (1, "row")]


def test_a_csv_with_a_column_named_twice_is_rejected_whole():
    df, [rej] = records.from_csv_bytes(b"asset_id,ts,temp,temp\na,2025-06-01T00:00:00Z,1,2\n")
    assert df.empty and rej.field == "header" and "temp" in rej.reason


def doc_payloads() -> list[str]:
    text = (DOCS / "mqtt.md").read_text()
    blocks = re.findall(r"```json\n(.*?)```", text, re.S)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def test_docs_show_payloads():
    assert len(doc_payloads()) >= 2


def readings_shown(record: dict) -> int:
    """How many readings a record of the documented forms holds."""
    if "values" in record:
        return len(record["values"])
    if "channel" in record:
        return 1
    return len(set(record) - {"asset_id", "ts", "cycle"})


@pytest.mark.parametrize("payload", doc_payloads())
def test_every_payload_docs_mqtt_shows_is_read_without_a_rejection(payload):
    df, rej = records.from_json_messages([("acme-p1", payload.encode())])
    assert rej == []
    doc = json.loads(payload)
    shown = doc if isinstance(doc, list) else [doc]
    assert len(df) == sum(map(readings_shown, shown)) > 0
