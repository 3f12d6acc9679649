"""C-MAPSS FD003 onboarded through the generic path only: the train file as a wide CSV with its
own column names, a mapping file, the ends of life as an events file; then `prognos train` and
`prognos backtest --json`, held against `prognos bench rul` on the same train units."""

from __future__ import annotations

import json

import pytest
import yaml

from prognos.analytics.cmapss import SENSORS, SETTINGS, load_subset

# small estimators keep the run short; both sides use the same ones
PARAMS = {"n_estimators": 40, "n_folds": 3}


@pytest.fixture
def files(tmp_path):
    train = load_subset("FD003").train
    names = {"unit": "unit_number", "cycle": "time_in_cycles"}
    names |= {f"sensor_{i}": f"s_{i}" for i in range(1, 22)}
    train.rename(columns=names).to_csv(tmp_path / "train_FD003.csv", index=False)
    ends = train.groupby("unit")["cycle"].max().rename("last_cycle").reset_index()
    ends.assign(event="failure").to_csv(tmp_path / "ends.csv", index=False)
    mapping = {
        "asset_column": "unit_number",
        "asset_prefix": "fd003-",
        "cycle_column": "time_in_cycles",
        "channels": {f"s_{i}": f"sensor_{i}" for i in range(1, 22)},
    }
    (tmp_path / "mapping.yaml").write_text(yaml.safe_dump(mapping))
    registry = {
        "customers": [{"id": "airline", "name": "Airline"}],
        "sites": [{"id": "base", "customer_id": "airline", "name": "Base"}],
        "asset_types": [{
            "id": "engine", "time_unit": "cycles",
            "channels": [{"name": c, "description": "operating setting" if c in SETTINGS else ""}
                         for c in (*SETTINGS, *SENSORS)],
        }],
        "assets": [{"id": f"fd003-{u}", "customer_id": "airline", "site_id": "base",
                    "type_id": "engine", "installed_at": "2020-01-01T00:00:00Z"}
                   for u in ends["unit"]],
    }  # fmt: skip
    (tmp_path / "registry.json").write_text(json.dumps(registry))
    return tmp_path


@pytest.mark.slow
def test_fd003_through_the_generic_path_backtests_like_the_benchmark(cli, files, monkeypatch):
    monkeypatch.setenv("PROGNOS_RUL_PARAMS", json.dumps(PARAMS))
    assert cli("registry", "load", files / "registry.json")[0] == 0
    code, out, err = cli(
        "ingest", "file", files / "train_FD003.csv", "--mapping", files / "mapping.yaml"
    )
    assert code == 0, err
    assert "stored 593,280 readings" in out  # 24,720 rows x 24 channels
    code, out, err = cli("events", "load", files / "ends.csv", "--asset-column", "unit",
                         "--asset-prefix", "fd003-", "--cycle-column", "last_cycle",
                         "--kind-column", "event")  # fmt: skip
    assert code == 0 and "stored 100 events" in out, err
    code, out, err = cli("train", "--asset-type", "engine")
    assert code == 0 and "on 100 run-to-failure histories" in out, err

    code, out, err = cli("backtest", "--asset-type", "engine", "--health-points", "10", "--json")
    assert code == 0, err
    bt = json.loads(out)
    assert bt["time_unit"] == "cycles" and len(bt["assets"]) == 100
    assert set(bt["assets"][0]) >= {"asset_id", "failed_at", "lead_time", "false_alerts",
                                    "rul_mae", "rul_rmse", "coverage_80"}  # fmt: skip
    assert bt["detected_share"] >= 0.95
    assert bt["checkpoints"] == 24_720  # every cycle of every life, as the benchmark scores

    code, out, err = cli("bench", "rul", "--subset", "FD003", "--seeds", "1", "--json",
                         "--params", json.dumps(PARAMS))  # fmt: skip
    assert code == 0, err
    oof = json.loads(out)["oof_rmse_train_units"]
    assert abs(bt["rul_rmse"] - oof) <= 0.10 * oof, (bt["rul_rmse"], oof)
