"""Mapping files are checked before any connection: shape first, then against the registry."""

from __future__ import annotations

import pytest

from prognos.errors import ConfigError, ValidationFailed
from prognos.ingest.opcua_mapping import Mapping, same_unit
from prognos.service.workers.opcua import OpcUaIngest

ENDPOINT = "opc.tcp://127.0.0.1:4840/"


def mapping(*items, **top) -> Mapping:
    return Mapping.from_dict({"items": list(items), **top}, source="m.yaml", env={})


def test_a_valid_mapping_reads_node_ids_and_browse_paths(tmp_path):
    f = tmp_path / "m.yaml"
    f.write_text(
        "endpoint: opc.tcp://plc:4840\nuser: operator\nitems:\n"
        '  - {node: "ns=2;s=Pump1.Temperature", asset: acme-p1, channel: temp, unit: degC}\n'
        '  - {browse_path: "0:Objects/2:Pump1/2:Vibration", asset: acme-p1, channel: vibration}\n'
    )
    m = Mapping.from_dict(
        __import__("yaml").safe_load(f.read_text()), env={"PROGNOS_OPCUA_PASSWORD": "pw"}
    )
    assert m.endpoint == "opc.tcp://plc:4840" and m.user == "operator" and m.password == "pw"
    assert m.items[0].node == "ns=2;s=Pump1.Temperature" and m.items[0].unit == "degC"
    assert m.items[1].browse_path == "0:Objects/2:Pump1/2:Vibration"


@pytest.mark.parametrize(
    ("item", "words"),
    [
        (
            {"node": "Pump1.Temp", "asset": "a", "channel": "c"},
            "items[0]: 'Pump1.Temp' is not a node id",
        ),
        ({"node": "ns=2;i=abc", "asset": "a", "channel": "c"}, "'ns=2;i=abc' is not a node id"),
        ({"browse_path": "Objects/Pump1", "asset": "a", "channel": "c"}, "browse path"),
        ({"asset": "a", "channel": "c"}, "exactly one of 'node' or 'browse_path'"),
        ({"node": "ns=2;i=5", "channel": "c"}, "'asset' is missing"),
        ({"node": "ns=2;i=5", "asset": "a", "channel": "c", "scale": 2}, "unknown keys ['scale']"),
    ],
)
def test_malformed_entries_are_named(item, words):
    with pytest.raises(ValidationFailed) as e:
        mapping(item)
    assert "m.yaml: items[0]" in str(e.value) and words in str(e.value)


def test_two_nodes_for_one_channel_are_refused():
    a = {"node": "ns=2;i=5", "asset": "acme-p1", "channel": "temp"}
    b = {"node": "ns=2;i=6", "asset": "acme-p1", "channel": "temp"}
    with pytest.raises(ValidationFailed, match=r"items\[1\].*same channel as items\[0\]"):
        mapping(a, b)


def test_security_needs_existing_certificate_files(tmp_path):
    sec = {
        "policy": "Basic256Sha256",
        "mode": "SignAndEncrypt",
        "certificate": "c.der",
        "private_key": "k.pem",
    }
    with pytest.raises(ConfigError, match="security.certificate .*c.der does not exist"):
        Mapping.from_dict(
            {"items": [{"node": "ns=2;i=5", "asset": "a", "channel": "c"}], "security": sec},
            base=tmp_path,
        )
    with pytest.raises(ValidationFailed, match="security.policy 'Basic128'"):
        Mapping.from_dict(
            {
                "items": [{"node": "ns=2;i=5", "asset": "a", "channel": "c"}],
                "security": {**sec, "policy": "Basic128"},
            },
            base=tmp_path,
        )


def test_missing_mapping_file_says_how_to_start(tmp_path):
    with pytest.raises(ConfigError, match="does not exist") as e:
        Mapping.from_file(tmp_path / "nope.yaml")
    assert "prognos opcua browse" in e.value.hint


def test_units_compare_by_meaning():
    assert same_unit("degC", "°C") and same_unit("CEL", "degC") and same_unit("mm/s", "C16")
    assert not same_unit("degC", "degF") and not same_unit("rpm", "degC")


@pytest.mark.parametrize(
    ("item", "words"),
    [
        ({"asset": "nope-1", "channel": "temp"}, "unknown asset 'nope-1'"),
        (
            {"asset": "acme-p1", "channel": "pressure"},
            "asset type 'pump' has no channel 'pressure' (it has: temp, vibration)",
        ),
        (
            {"asset": "acme-p1", "channel": "temp", "unit": "degF"},
            "unit 'degF' does not match the channel's unit 'degC'",
        ),
    ],
)
def test_entries_are_checked_against_the_registry_at_start_up(seeded, item, words):
    good = {"node": "ns=2;i=1", "asset": "acme-p2", "channel": "temp"}
    with pytest.raises(ValidationFailed) as e:
        OpcUaIngest(seeded, mapping(good, {"node": "ns=2;i=9", **item}), endpoint=ENDPOINT)
    assert f"m.yaml: items[1] (ns=2;i=9 -> {item['asset']}/{item['channel']}): {words}" in str(
        e.value
    )


def test_the_channel_unit_fills_in_a_missing_unit(seeded):
    w = OpcUaIngest(
        seeded,
        mapping({"node": "ns=2;i=9", "asset": "acme-p1", "channel": "vibration"}),
        endpoint=ENDPOINT,
    )
    assert w.mapping.items[0].unit == "mm/s"
    assert w.status()["state"] == "idle"


def test_no_endpoint_is_a_config_error(seeded):
    with pytest.raises(ConfigError, match="no OPC UA endpoint"):
        OpcUaIngest(seeded, mapping({"node": "ns=2;i=9", "asset": "acme-p1", "channel": "temp"}))
