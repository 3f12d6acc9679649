"""A tabular machine-failure set (a row per observation, a failure flag, no time), onboarded as
the guide says: the rows as readings of one machine numbered by a cycle column, the flagged rows
as failure events; `train` copes with lives of a few rows, and `backtest` folds one machine's
lives (there are no other assets to fold over) and says so."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

FLAGS = ["Machine failure", "TWF", "HDF"]


@pytest.fixture
def mill(tmp_path, monkeypatch):
    monkeypatch.setenv("PROGNOS_RUL_PARAMS", json.dumps({"n_estimators": 20, "n_folds": 2}))
    rng = np.random.default_rng(3)
    wear, w, fail = [], 0, []
    for _ in range(900):
        w += int(rng.integers(2, 6))
        wear.append(w)
        failed = w > 200 and rng.random() < 0.2
        fail.append(int(failed))
        if failed and rng.random() < 0.4:  # else the tool stays in: lives of a few rows
            w = 0
    n = len(wear)
    df = pd.DataFrame({
        "UDI": np.arange(1, n + 1), "Product ID": [f"L{47000 + i}" for i in range(n)],
        "Type": rng.choice(list("LMH"), n), "Air temperature [K]": 298 + rng.normal(0, 2, n),
        "Torque [Nm]": 40 + 0.05 * np.array(wear) + rng.normal(0, 3, n), "Tool wear [min]": wear,
        "Machine failure": fail, "TWF": fail, "HDF": 0,
    })  # fmt: skip
    df.to_csv(tmp_path / "ai4i.csv", index=False)
    registry = {
        "customers": [{"id": "c", "name": "C"}],
        "sites": [{"id": "s", "customer_id": "c", "name": "S"}],
        "asset_types": [{"id": "mill", "time_unit": "cycles", "channels": [
            {"name": c} for c in ("air_temperature_k", "torque_nm", "tool_wear_min")]}],
        # a cycle is an operating day after installed_at: 900 of them end in the past
        "assets": [{"id": "mill", "customer_id": "c", "site_id": "s", "type_id": "mill",
                    "installed_at": "2020-01-01T00:00:00Z"}],
    }  # fmt: skip
    (tmp_path / "registry.json").write_text(json.dumps(registry))
    return tmp_path, int(sum(fail))


def test_a_tabular_failure_set_trains_and_backtests_over_lives(cli, mill):
    files, failures = mill
    assert cli("registry", "load", files / "registry.json")[0] == 0
    ingest = ["ingest", "file", files / "ai4i.csv", "--asset", "mill", "--cycle-column", "UDI"]
    code, _, err = cli(*ingest, "--dry-run")
    assert code == 2 and "'Product ID'" in err and "--ignore COLUMN" in err
    ignore = [a for c in ("Product ID", "Type", *FLAGS) for a in ("--ignore", c)]
    code, out, err = cli(*ingest, *ignore)
    assert code == 0 and "stored 2,700 readings" in out, err
    code, out, err = cli("events", "load", files / "ai4i.csv", "--asset", "mill", "--cycle-column",
                         "UDI", "--kind", "failure", "--where", "Machine failure=1")  # fmt: skip
    assert code == 0 and f"stored {failures} events" in out, err
    code, out, err = cli("train", "--asset-type", "mill")
    assert code == 0 and "run-to-failure histories" in out, err
    code, out, err = cli("backtest", "--asset-type", "mill", "--folds", "2", "--json")
    assert code == 0, err
    bt = json.loads(out)
    assert bt["settings"]["folds_over"] == "lives"
    assert len(bt["assets"]) == failures and bt["detected_share"] is not None
    code, out, err = cli("backtest", "--asset-type", "mill", "--folds", "2")
    assert code == 0 and "2 folds over lives" in out, err
