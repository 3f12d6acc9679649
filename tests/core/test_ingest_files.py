"""File ingestion on real data: the elevator series whose spreadsheet-garbled cells must be quarantined."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from prognos.data import dataset_dir
from prognos.domain import Asset, AssetType, Channel, Customer, Site
from prognos.domain.keys import MANUFACTURER

ELEVATOR = AssetType(
    id="elevator-door",
    name="Elevator car door drive",
    time_unit="hours",
    channels=[
        Channel(name="ball-bearing", unit="rev", min=0, max=500),
        Channel(name="humidity", unit="%", min=0, max=100),
        Channel(name="vibration", unit="dB", min=0, max=200),
    ],
)


@pytest.fixture
def elevator(platform):
    platform.registry.add_asset_type(MANUFACTURER, ELEVATOR)
    platform.registry.add_customer(MANUFACTURER, Customer(id="tower", name="Tower Co"))
    platform.registry.add_site(
        MANUFACTURER,
        Site(id="tower-hq", customer_id="tower", name="HQ", timezone="Europe/Berlin"),
    )
    platform.registry.add_assets(
        MANUFACTURER,
        [
            Asset(
                id="lift-7",
                customer_id="tower",
                site_id="tower-hq",
                type_id="elevator-door",
                installed_at=datetime(2019, 1, 1, tzinfo=UTC),
            )
        ],
    )
    return platform


def test_garbled_elevator_cells_are_quarantined_and_the_rest_stored(elevator):
    path = dataset_dir("elevator") / "predictive-maintenance-dataset.csv.gz"
    raw = pd.read_csv(path, sep=";", dtype=str)
    garbled = int(sum(pd.to_numeric(raw[c], errors="coerce").isna().sum() for c in raw.columns))
    assert garbled == 5777  # as the dataset's README counts them

    res = elevator.files.ingest(
        MANUFACTURER,
        path,
        asset_id="lift-7",
        start=datetime(2020, 2, 3, 16, 30, tzinfo=UTC),
        interval_s=0.25,
        chunk_rows=40_000,
    )
    assert res.accepted == raw.size - garbled
    assert len(res.rejected) == garbled
    assert elevator.store.count_readings() == raw.size - garbled
    # the quarantine names the file row and column, and the garbled text
    r = next(r for r in res.rejected if r.field == "vibration")
    assert "not a number" in r.reason and raw.loc[r.index, "vibration"] in r.reason
    first_bb = raw.index[pd.to_numeric(raw["ball-bearing"], errors="coerce").isna()][0]
    assert any(x.index == first_bb and x.field == "ball-bearing" for x in res.rejected)
    assert elevator.store.count_quarantine() == garbled


def test_rows_are_placed_at_start_plus_interval(elevator, tmp_path):
    f = tmp_path / "lift.csv"
    f.write_text("ball-bearing;humidity;vibration\n40;70;10\n41;71;11\n")
    elevator.files.ingest(
        MANUFACTURER, f, asset_id="lift-7", start=datetime(2024, 1, 1, tzinfo=UTC), interval_s=0.5
    )
    df = elevator.store.read_telemetry("lift-7", ["humidity"])
    assert list(df["ts"]) == [
        pd.Timestamp("2024-01-01T00:00:00Z"),
        pd.Timestamp("2024-01-01T00:00:00.5Z"),
    ]


def test_parquet_long_file(elevator, tmp_path):
    f = tmp_path / "t.parquet"
    pd.DataFrame(
        {
            "asset_id": ["lift-7"] * 2,
            "ts": ["2024-01-01T00:00:00Z", "2024-01-01T00:00:01Z"],
            "channel": ["humidity", "humidity"],
            "value": [70.0, 170.0],
        }
    ).to_parquet(f)
    res = elevator.files.ingest(MANUFACTURER, f)
    assert (
        res.accepted == 1
        and res.rejected[0].index == 1
        and "above the channel's valid maximum" in res.rejected[0].reason
    )
