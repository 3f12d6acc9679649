"""The shipped Azure PdM failures and maintenance, loaded as events through the generic path:
`prognos reliability fit` reproduces the library's per-component Weibull fits, and a machine
without sensor lives is forecast from them."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from prognos.analytics.azure_pdm import weibull_by_component
from prognos.config import Settings
from prognos.data import dataset_dir
from prognos.domain.keys import MANUFACTURER
from prognos.service.platform import open_platform

END = pd.Timestamp("2016-01-01 06:00:00", tz="UTC")  # the end of the data


@pytest.fixture(scope="module")
def library():
    return weibull_by_component()


def registry(tmp_path):
    machines = pd.read_csv(dataset_dir("azure_pdm") / "PdM_machines.csv.gz")
    doc = {
        "customers": [{"id": "contoso", "name": "Contoso"}],
        "sites": [{"id": "plant", "customer_id": "contoso", "name": "Plant", "timezone": "UTC"}],
        "asset_types": [{"id": "machine", "time_unit": "days", "channels": [{"name": "volt"}]}],
        "assets": [
            {"id": f"m{r.machineID}", "customer_id": "contoso", "site_id": "plant",
             "type_id": "machine", "model": r.model,
             # the machine's age in years is its age at the end of the data
             "installed_at": (END - pd.Timedelta(days=365.25 * r.age)).isoformat()}
            for r in machines.itertuples()
        ],
    }  # fmt: skip
    path = tmp_path / "registry.json"
    path.write_text(json.dumps(doc))
    return path


def test_reliability_from_events_reproduces_the_library(cli, tmp_path, library):
    data = dataset_dir("azure_pdm")
    assert cli("registry", "load", registry(tmp_path))[0] == 0
    common = ("--asset-column", "machineID", "--asset-prefix", "m")
    code, out, _ = cli(
        "events", "load", data / "PdM_maint.csv.gz", "--kind", "replacement", *common
    )
    assert code == 0 and "stored 3286 events" in out
    code, out, _ = cli("events", "load", data / "PdM_failures.csv.gz", "--kind", "failure",
                       "--component-column", "failure", *common)  # fmt: skip
    assert code == 0 and "stored 761 events" in out
    # records began long after the machines were installed: each part's first life is unknown
    code, out, err = cli("reliability", "fit", "--asset-type", "machine", "--from-first-event",
                         "--covariate", "age", "--json")  # fmt: skip
    assert code == 0, err
    card = json.loads(out)
    assert card["until"] == END.isoformat() and card["time_unit"] == "days"
    for comp, lib in library["components"].items():
        mine = card["components"][comp]
        for k in ("n_lives", "n_events", "n_censored"):
            assert mine[k] == lib[k], (comp, k)
        for k in ("shape", "scale", "mean_life", "aic_weibull", "km_max_abs_dev"):
            assert mine[k] == pytest.approx(lib[k], abs=1e-3), (comp, k)
        ratio = mine["life_ratio"]["age_years"]
        assert ratio == pytest.approx(lib["life_ratio_per_machine_year"], abs=1e-3), comp
        assert mine["aic_with_covariates"] == pytest.approx(lib["aic_weibull_age"], abs=0.1)

    code, out, _ = cli("forecast", "--json")
    (row,) = json.loads(out)["types"]
    assert code == 0 and row["forecast_by"] == "reliability" and row["forecasts"] == 400
    p = open_platform(Settings())
    try:
        stored = [f for f in p.store.forecast_history("m1", limit=10) if f.model == "weibull-aft"]
        assert sorted(f.component for f in stored) == ["comp1", "comp2", "comp3", "comp4"]
        f = next(f for f in stored if f.component == "comp2")
        _, fitted = p.forecasts.model_for("machine:reliability")
        model = fitted["models"]["comp2"]
        age = f.extra["age"]
        installed = pd.Timestamp(p.store.get_asset("m1").installed_at)
        x = np.array([[(END - installed).total_seconds() / (365.25 * 86400)]])
        expect = model.remaining_life_quantiles(age, f.levels, x)[0]
        np.testing.assert_allclose(f.values, expect, rtol=1e-9)
        assert f.as_of == END.to_pydatetime()
        evs = p.events.of_asset(MANUFACTURER, "m1")
        last = max(e["at"] for e in evs if e.get("component") == "comp2")
        assert age == pytest.approx((END - pd.Timestamp(last)).total_seconds() / 86400)
    finally:
        p.close()
