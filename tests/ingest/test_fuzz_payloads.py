"""Property: whatever bytes arrive as a payload, parsing and validation give readings and named
rejections, never an exception, and nothing the store could not write.

Hypothesis builds JSON-ish payloads from the pieces that broke ingest before (numbers of
hundreds of digits, deep nesting, lone surrogates, NaN, nanosecond times, huge cycles), mutates
valid payloads byte by byte, and sends plain random bytes. A valid message in the same batch
must come through every time.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prognos.domain import Asset, Registry
from prognos.domain.keys import MANUFACTURER
from prognos.ingest import records
from prognos.ingest.validate import validate
from support import INSTALLED, PUMP

REGISTRY = Registry.build(
    [
        Asset(
            id=a, customer_id="acme", site_id="s", type_id="pump", serial=a, installed_at=INSTALLED
        )
        for a in ("acme-p1", "acme-p2")
    ],
    [PUMP],
)
NOW = datetime(2025, 7, 1, tzinfo=UTC)
GOOD = b'{"ts": "2025-06-01T00:00:00Z", "values": {"temp": 40.0, "vibration": 1.0}}'
FUZZ = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

SURROGATES = st.sampled_from(["\ud800", "\udfff", "a\udbffb"])
WORDS = st.sampled_from(
    ["asset_id", "ts", "timestamp", "time", "cycle", "values", "channel", "value", "readings"]
    + ["temp", "vibration", "acme-p1", "acme-p2", "", "nan", "2025-06-01T00:00:00Z"]
    + ["2025-06-01T00:00:00.123456789Z", "2025-13-01", "1748736000", "9" * 30, "-1"]
)
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**450), max_value=10**450),
    st.floats(),
    st.text(max_size=8),
    WORDS,
    SURROGATES,
)
KEYS = st.one_of(WORDS, st.text(max_size=6), SURROGATES)
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(KEYS, inner, max_size=6),
    max_leaves=40,
)


def deep(n: int, inner: bytes = b"1") -> bytes:
    return b"[" * n + inner + b"]" * n


JSON_PAYLOADS = st.one_of(
    VALUES.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(KEYS, VALUES, max_size=8).map(lambda v: json.dumps(v).encode()),
    st.integers(1, 5000).map(deep),
    st.integers(1, 3000).map(
        lambda n: b'{"ts": "2025-06-01T00:00:00Z", "values": {"x": %s}}' % deep(n)
    ),
    st.integers(1, 5000).map(lambda n: b'{"ts": 1, "cycle": %s, "temp": 1}' % (b"9" * n)),
)


@st.composite
def mutated(draw) -> bytes:
    """A valid payload with a few bytes flipped, cut, inserted or dropped."""
    body = bytearray(draw(st.sampled_from([GOOD, b'[{"cycle": 1, "temp": 1}]', b'{"temp": 1}'])))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(body)))
        op = draw(st.sampled_from(["flip", "cut", "insert", "drop"]))
        if op == "flip" and at < len(body):
            body[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "cut":
            del body[at:]
        elif op == "insert":
            body[at:at] = draw(st.binary(min_size=1, max_size=6))
        elif at < len(body):
            del body[at]
    return bytes(body)


PAYLOADS = st.one_of(JSON_PAYLOADS, mutated(), st.binary(max_size=200))


def storable(text: object) -> None:
    """What the store writes must be text PostgreSQL and DuckDB accept: UTF-8, no surrogates."""
    if text is not None:
        (text if isinstance(text, str) else json.dumps(text, default=str)).encode("utf-8")


@FUZZ
@given(payload=PAYLOADS)
def test_any_payload_gives_readings_or_rejections_and_the_good_message_beside_it_passes(payload):
    df, rejected = records.from_json_messages([("acme-p1", payload), ("acme-p2", GOOD)])
    batch, refused = validate(df, REGISTRY, MANUFACTURER, now=NOW, source="mqtt")
    good = [i for i, a in enumerate(batch.asset_id) if a == "acme-p2"]
    assert sorted(batch.channel[i] for i in good) == ["temp", "vibration"]
    for r in rejected + refused:
        assert r.field and r.reason and "could not be read" not in r.reason
        for text in (r.field, r.reason, r.asset_id, r.raw):
            storable(text)
    for text in [*batch.asset_id, *batch.channel]:
        storable(text)


@FUZZ
@given(payload=PAYLOADS)
def test_any_single_payload_over_http_gives_rejections_not_exceptions(payload):
    df, rejected = records.from_json_bytes(payload, "http")
    validate(df, REGISTRY, MANUFACTURER, now=NOW, source="http")
    assert all(r.reason for r in rejected)


CELLS = st.one_of(
    WORDS, st.text(max_size=6), st.sampled_from(['"', '""', "a,b", "1e999", "9" * 400, "inf"])
)


@FUZZ
@given(
    header=st.lists(st.one_of(WORDS, st.text(max_size=5)), min_size=0, max_size=6),
    rows=st.lists(st.lists(CELLS, max_size=7), max_size=6),
    sep=st.sampled_from([",", ";"]),
    noise=st.binary(max_size=30),
)
def test_any_csv_gives_readings_or_rejections(header, rows, sep, noise):
    text = "\n".join(sep.join(r) for r in [header, *rows])
    for body in (text.encode("utf-8", "surrogatepass"), noise, text.encode() + noise):
        df, rejected = records.from_csv_bytes(body)
        validate(df, REGISTRY, MANUFACTURER, now=NOW, source="csv")
        for r in rejected:
            assert r.reason
            storable(r.raw)
