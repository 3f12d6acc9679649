"""Telemetry files as they come from the field, loaded with a mapping: many assets per file,
a time column without a name, local times, channel names with blanks, units, columns to leave
out; checked against the registry before anything is stored."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from prognos.domain import Asset, AssetType, Channel, Customer, Site
from prognos.domain.keys import MANUFACTURER, Principal
from prognos.errors import AccessDenied, ValidationFailed
from prognos.service.file_mapping import ColumnMap, FileMapping

RIG = AssetType(
    id="bearing",
    time_unit="hours",
    channels=[
        Channel(name="bearing_1", unit="g", min=0, max=50),
        Channel(name="bearing_2", unit="g", min=0, max=50),
        Channel(name="temp", unit="degC", min=-40, max=150),
    ],
)
EXPORT = (  # what a test rig's export looks like: no name over the time, blanks in names
    ",rig,Bearing 1,Bearing 2,Temp F,comment\n"
    "2024-03-01 08:00:00,b1,0.1,0.2,68,ok\n"
    "2024-03-01 09:00:00,b1,0.1,0.3,70,ok\n"
    "2024-03-01 08:00:00,b2,0.5,0.4,72,noisy\n"
)


@pytest.fixture
def rig(platform):
    platform.registry.add_asset_type(MANUFACTURER, RIG)
    platform.registry.add_customer(MANUFACTURER, Customer(id="lab", name="Lab"))
    for site, tz in (("berlin", "Europe/Berlin"), ("tokyo", "Asia/Tokyo")):
        platform.registry.add_site(
            MANUFACTURER, Site(id=site, customer_id="lab", name=site, timezone=tz)
        )
    platform.registry.add_assets(
        MANUFACTURER,
        [
            Asset(id=a, customer_id="lab", site_id=s, type_id="bearing",
                  installed_at=datetime(2024, 1, 1, tzinfo=UTC))
            for a, s in (("b1", "berlin"), ("b2", "tokyo"))
        ],
    )  # fmt: skip
    return platform


MAPPING = FileMapping(
    asset_column="rig",
    time_column="column_1",
    ignore=["comment"],
    channels={"Temp F": ColumnMap(channel="temp", unit="degF", scale=5 / 9, offset=-160 / 9)},
)


def test_many_assets_local_times_and_renames(rig, tmp_path):
    f = tmp_path / "rig.csv"
    f.write_text(EXPORT)
    res = rig.files.ingest(MANUFACTURER, f, MAPPING)
    assert res.accepted == 9 and not res.rejected
    b1 = rig.store.read_telemetry("b1", ["bearing_1", "temp"])
    # 08:00 in Berlin in March is 07:00 UTC; Bearing 1 found bearing_1 by itself
    assert b1["ts"].iloc[0] == pd.Timestamp("2024-03-01T07:00:00Z")
    assert b1.query("channel == 'temp'")["value"].round(6).tolist() == [20.0, 21.111111]
    b2 = rig.store.read_telemetry("b2", ["bearing_2"])  # the same wall time in Tokyo
    assert b2["ts"].tolist() == [pd.Timestamp("2024-02-29T23:00:00Z")]


def test_a_column_that_is_no_channel_stops_the_load_with_the_fix(rig, tmp_path):
    f = tmp_path / "rig.csv"
    f.write_text(EXPORT)
    with pytest.raises(ValidationFailed) as e:
        rig.files.ingest(MANUFACTURER, f, FileMapping(asset_column="rig", time_column="column_1"))
    msg = e.value.message
    assert "2 columns of the file are no channel of asset type bearing; nothing was stored" in msg
    assert "'Temp F' (did you mean temp?)" in msg and "'comment'" in msg
    assert "--ignore" in e.value.hint and "--channel" in e.value.hint
    assert rig.store.count_readings() == 0


def test_a_unit_other_than_the_registered_one_needs_a_conversion(rig, tmp_path):
    f = tmp_path / "rig.csv"
    f.write_text(EXPORT)
    m = MAPPING.merged(channels={"Temp F": ColumnMap(channel="temp", unit="degF")})
    with pytest.raises(ValidationFailed, match="'Temp F' is in 'degF' but channel temp is "):
        rig.files.ingest(MANUFACTURER, f, m)


def test_without_a_time_column_the_error_says_how_to_name_it(rig, tmp_path):
    f = tmp_path / "rig.csv"
    f.write_text(EXPORT)
    with pytest.raises(ValidationFailed, match="no time or cycle column") as e:
        rig.files.ingest(MANUFACTURER, f, FileMapping(asset_column="rig"))
    assert "column_1" in e.value.hint


def test_times_in_a_given_format_and_a_skipped_dst_hour(rig, tmp_path):
    f = tmp_path / "rig.csv"
    f.write_text(
        "when;asset;bearing_1\n"
        "31.03.2024 01:30;b1;0,5\n"
        "31.03.2024 02:30;b1;0,6\n"  # the clocks jump from 02:00 to 03:00 in Berlin
        "31.03.2024 03:30;b1;0,7\n"
        "2024-03-31 04:30;b1;0,8\n"
    )
    m = FileMapping(time_column="when", time_format="%d.%m.%Y %H:%M", decimal=",")
    res = rig.files.ingest(MANUFACTURER, f, m)
    assert res.accepted == 2
    reasons = {r.index: r.reason for r in res.rejected}
    assert "daylight-saving change in Europe/Berlin" in reasons[1]
    assert "expected the format '%d.%m.%Y %H:%M'" in reasons[3]
    df = rig.store.read_telemetry("b1")
    assert df["ts"].tolist() == [
        pd.Timestamp("2024-03-31T00:30Z"),
        pd.Timestamp("2024-03-31T01:30Z"),
    ]
    assert df["value"].tolist() == [0.5, 0.7]


def test_long_files_with_renamed_channels_and_ragged_rows(rig, tmp_path):
    f = tmp_path / "long.csv"
    f.write_text(
        "asset_id,timestamp,signal,reading\n"
        "b1,2024-03-01T08:00:00Z,Bearing 1,0.1\n"
        "b1,2024-03-01T08:00:00Z,Bearing 2,0.2,extra\n"
        "b1,2024-03-01T08:00:00Z,bearing_2,0.3\n"
    )
    m = FileMapping(channel_column="signal", value_column="reading")
    res = rig.files.ingest(MANUFACTURER, f, m)
    assert res.accepted == 2
    assert [(r.index, r.field) for r in res.rejected] == [(1, "row")]
    assert "row has 5 fields but the header has 4" in res.rejected[0].reason


def test_a_dry_run_shows_the_mapping_and_stores_nothing(rig, tmp_path):
    f = tmp_path / "rig.csv"
    f.write_text(EXPORT)
    out = rig.files.preview(MANUFACTURER, f, MAPPING, rows=2)
    roles = {c["column"]: c["is"] for c in out["columns"]}
    assert roles["rig"] == "asset id" and roles["Bearing 1"] == "channel bearing_1"
    assert roles["comment"] == "ignored" and roles["column_1"].startswith("time")
    assert len(out["readings"]) == 6 and out["readings"][0]["ts"] == "2024-03-01T07:00:00+00:00"
    assert rig.store.count_readings() == 0


def test_quarantine_purge_by_source_is_the_manufacturers(rig, tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("asset_id,ts,bearing_1\nb1,2024-03-01T08:00:00Z,x\nb1,2024-03-01T09:00:00Z,y\n")
    rig.files.ingest(MANUFACTURER, f)
    rig.telemetry.ingest_payload(
        MANUFACTURER, b'{"asset_id": "nope", "ts": 1, "values": {"a": 1}}', "application/json"
    )
    assert rig.store.count_quarantine() == 3
    customer = Principal(key_id="k", customer_id="lab")
    with pytest.raises(AccessDenied):
        rig.telemetry.purge_quarantine(customer, source="file:bad.csv")
    assert rig.telemetry.purge_quarantine(MANUFACTURER, source="file:bad.csv") == 2
    assert rig.store.count_quarantine() == 1
    assert rig.telemetry.purge_quarantine(MANUFACTURER, asset_id="nope") == 1


def test_everything_quarantined_is_a_failure_exit(cli, tmp_path):
    reg = tmp_path / "registry.json"
    reg.write_text(
        '{"customers": [{"id": "lab", "name": "Lab"}],'
        ' "sites": [{"id": "s", "customer_id": "lab", "name": "S"}],'
        ' "asset_types": [{"id": "bearing", "channels": [{"name": "bearing_1", "max": 1}]}],'
        ' "assets": [{"id": "b1", "customer_id": "lab", "site_id": "s", "type_id": "bearing",'
        ' "installed_at": "2024-01-01"}]}'
    )
    assert cli("registry", "load", reg)[0] == 0
    f = tmp_path / "hot.csv"
    f.write_text(
        "asset_id,ts,bearing_1\n" + "".join(f"b1,2024-03-01T0{i}:00:00Z,5\n" for i in range(5))
    )
    code, out, err = cli("ingest", "file", f)
    assert code == 1
    assert "nothing was stored from hot.csv: every reading was rejected" in err
    assert "5 x value: above the channel's valid maximum 1.0: 5.0" in out
    assert "prognos quarantine purge --source file:hot.csv" in err
    code, out, _ = cli("quarantine", "purge", "--source", "file:hot.csv")
    assert code == 0 and "purged 5 quarantined records" in out


def test_an_unknown_column_is_a_failure_exit_naming_it(cli, tmp_path):
    reg = tmp_path / "registry.json"
    reg.write_text(
        '{"customers": [{"id": "lab", "name": "Lab"}],'
        ' "sites": [{"id": "s", "customer_id": "lab", "name": "S"}],'
        ' "asset_types": [{"id": "bearing", "channels": [{"name": "bearing_1"}]}],'
        ' "assets": [{"id": "b1", "customer_id": "lab", "site_id": "s", "type_id": "bearing",'
        ' "installed_at": "2024-01-01"}]}'
    )
    cli("registry", "load", reg)
    f = tmp_path / "x.csv"
    f.write_text("asset_id,ts,bearing_1,vibration\nb1,2024-03-01T00:00:00Z,1,2\n")
    code, _, err = cli("ingest", "file", f)
    assert code == 2 and "'vibration'" in err and "nothing was stored" in err
    code, out, _ = cli("ingest", "file", f, "--ignore", "vibration")
    assert code == 0 and "stored 1 readings" in out
