"""Prognostics inside the platform: train from stored telemetry, forecast, refresh on new data."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

import httpx
import numpy as np
import pandas as pd
import pytest

from prognos.analytics.cmapss import SENSORS, SETTINGS, load_subset
from prognos.api import create_app
from prognos.config import Settings
from prognos.demo.turbofans import load_cmapss_fleet
from prognos.domain import ReadingBatch
from prognos.domain.keys import MANUFACTURER
from prognos.errors import Conflict, ModelError
from prognos.service.alarm_desk import AlarmQuery
from prognos.service.platform import open_platform
from prognos.service.workers import RefreshWorker

SMALL = {"n_estimators": 40, "n_folds": 3, "num_leaves": 7}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A DuckDB platform with 30 train + 30 in-service engines of FD001 and a small trained model."""
    folder = tmp_path_factory.mktemp("prog")
    p = open_platform(Settings(db=str(folder / "p.duckdb"), artifacts_dir=folder / "artifacts"))
    # histories end 60 days ago, so the streaming test can send the "next" cycles without
    # them lying in the future
    load_cmapss_fleet(p, "FD001", max_units=30, now=datetime.now(UTC) - timedelta(days=60))
    steps: dict[str, list[tuple[int, int]]] = {}
    card = p.training.train(
        MANUFACTURER,
        "turbofan",
        estimator_params=SMALL,
        progress=lambda step, done, total: steps.setdefault(step, []).append((done, total)),
    )
    card["_progress"] = steps
    yield p, card
    p.close()


def test_every_step_training_reports_ends_full(trained):
    """A progress bar per step: none may stay at "0/2" once training is done."""
    steps = trained[1]["_progress"]
    assert {"validating on held-out units", "training on all units"} <= set(steps)
    assert all(reports[-1][0] == reports[-1][1] for reports in steps.values()), steps


def test_training_writes_a_versioned_model_card_with_metrics(trained):
    p, card = trained
    assert card["units"] == 30 and card["version"] == 1
    assert card["metrics"]["val_cases"] > 0 and 0 < card["metrics"]["val_rmse"] < 60
    assert p.store.latest_model("turbofan")["id"] == card["id"]
    assert card["data_start"] < card["data_end"]


def test_a_trained_model_loads_on_another_host_from_the_database(trained, tmp_path):
    """The card's file path is this host's; another process elsewhere reads the same database."""
    p, card = trained
    Path(card["path"]).unlink()  # the copy on the training host's disk is not what loads
    elsewhere = open_platform(p.settings.model_copy(update={"artifacts_dir": tmp_path / "none"}))
    try:
        meta, model = elsewhere.forecasts.model_for("turbofan")
        assert meta["id"] == card["id"] and hasattr(model, "predict_quantiles_last")
        moved = {**meta, "id": "gone", "path": str(tmp_path / "missing.pkl")}
        with pytest.raises(ModelError, match="train it again"):
            elsewhere.forecasts._artifact(moved)
    finally:
        elsewhere.close()


def test_too_few_failures_is_a_clear_error(tmp_path):
    from prognos.errors import ModelError

    p = open_platform(Settings(db=str(tmp_path / "x.duckdb")))
    try:
        load_cmapss_fleet(p, "FD001", max_units=3)
        with pytest.raises(ModelError, match="a sensor RUL model needs at least 5"):
            p.training.train(MANUFACTURER, "turbofan")
    finally:
        p.close()


def test_fleet_forecasts_are_distributions_and_sensible(trained):
    p, _ = trained
    out = p.scoring.score_fleet(MANUFACTURER)
    assert out["assets"] == 60
    data = load_subset("FD001")
    truth = np.minimum(data.test_rul[:30], 125)
    pred = np.array([p.store.latest_forecast(f"fd001-e{u:03d}").p50 for u in range(1, 31)])
    # a small model on 30 engines: far from the benchmark, but clearly better than guessing the mean
    assert np.sqrt(np.mean((pred - truth) ** 2)) < np.std(truth) * 1.1
    f = p.store.latest_forecast("fd001-e001")
    assert f.p10 <= f.p50 <= f.p90 and 0.0 <= f.prob_fail_before(f.p50) <= 1.0
    # the model's wear-out lower tail reaches the store, by fleet scoring and one at a time
    model = p.forecasts.model_for("turbofan")[1]
    assert f.lower_tail_shape == model.lower_tail_shape == 2.0
    one = p.forecasts.forecast(MANUFACTURER, "fd001-e002")
    assert one.lower_tail_shape == 2.0 == p.store.latest_forecast("fd001-e002").lower_tail_shape


def test_fleet_scoring_reads_in_chunks_but_agrees_with_one_asset_at_a_time(trained):
    p, _ = trained
    if p.forecasts.model_for("turbofan:health") is None:
        p.training.train_health(MANUFACTURER, "turbofan")
    ids = [f"fd001-e{u:03d}" for u in (3, 7, 11, 20)] + ["fd001-r005"]
    p.scoring.score_fleet(MANUFACTURER, ids, chunk=3)  # chunks of three: one query and pivot each
    for aid in ids:
        f, h = p.forecasts.assess(p.store.get_asset(aid))  # its own query and pivot
        stored = p.store.latest_forecast(aid)
        np.testing.assert_allclose(stored.values, f.values, rtol=1e-12, err_msg=aid)
        assert stored.as_of == f.as_of
        assert p.store.latest_health(aid).score == pytest.approx(h.score, rel=1e-12), aid


def test_fleet_scoring_raises_the_alarms_of_one_asset_at_a_time_in_one_batch_per_chunk(trained):
    """Each chunk's health and forecasts go to the alarm lifecycle in one ``observe`` call, and
    the alarms are the ones scoring each asset on its own keeps: scoring them again one at a
    time counts another occurrence of the same alarms and raises no other."""
    p, _ = trained
    if p.forecasts.model_for("turbofan:health") is None:
        p.training.train_health(MANUFACTURER, "turbofan")
    ids = [f"fd001-e{u:03d}" for u in (5, 6)] + [f"fd001-r{u:03d}" for u in (2, 3, 4)]
    with mock.patch.object(p.alarms, "observe", wraps=p.alarms.observe) as observe:
        p.scoring.score_fleet(MANUFACTURER, ids, chunk=3)
    batches = [c.kwargs for c in observe.call_args_list if list(c.kwargs["healths"])]
    assert [sorted(h.asset_id for h in b["healths"]) for b in batches] == [ids[:3], ids[3:]]
    assert [len(b["forecasts"]) for b in batches] == [3, 2]  # chunks in id order

    def alarms_of(aid):
        return {a.id: a for a in p.alarms.page(MANUFACTURER, AlarmQuery(asset=aid)).items}

    fleet = {aid: alarms_of(aid) for aid in ids}
    anomalous = [aid for aid in ids if p.store.latest_health(aid).anomalies]
    assert anomalous, "engines at their failure should show anomalous channels"
    for aid in anomalous:
        if p.store.get_asset(aid).retired:  # run-to-failure history: scored, never alarmed
            assert fleet[aid] == {}
            continue
        [zscore] = [a for a in fleet[aid].values() if a.cause == "zscore"]
        assert zscore.details["channels"] == p.store.latest_health(aid).anomalies
    for aid in ids:
        p.forecasts.forecast(MANUFACTURER, aid)  # one asset: its own read, save and alarms
        again = alarms_of(aid)
        assert set(again) == set(fleet[aid]), aid
        assert all(again[i].count == fleet[aid][i].count + 1 for i in again), aid


def test_streamed_telemetry_changes_the_stored_forecast(trained):
    p, _ = trained
    asset = p.store.get_asset("fd001-e002")
    refresher = RefreshWorker(p.telemetry, p.registry, p.forecasts, interval=0.2).start()
    try:
        before = p.forecasts.forecast(MANUFACTURER, asset.id)
        # stream the last 40 cycles of a failing training engine's history as this engine's next cycles
        data = load_subset("FD001").train
        tail = data[data["unit"] == 1].iloc[-40:]
        _, _, n = p.store.telemetry_span(asset.id)
        last_cycle = int(load_subset("FD001").test.query("unit == 2")["cycle"].max())
        results = []
        for k, (_, row) in enumerate(tail.iterrows()):
            t = np.datetime64(
                asset.installed_at.replace(tzinfo=None) + timedelta(days=last_cycle + k + 1), "us"
            )
            cols = [*SETTINGS, *SENSORS]
            results.append(
                p.telemetry.ingest_batch(
                    MANUFACTURER,
                    ReadingBatch(
                        np.array([asset.id] * len(cols), dtype=object),
                        np.array(cols, dtype=object),
                        np.array([t] * len(cols)),
                        row[cols].to_numpy(dtype=float),
                    ),
                    source="test-stream",
                )
            )
        assert sum(r.accepted for r in results) == 40 * len(cols) and not any(
            r.rejected for r in results
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            latest = p.store.latest_forecast(asset.id)
            if latest.as_of > before.as_of + timedelta(days=30):
                break
            time.sleep(0.1)
        assert latest.as_of > before.as_of + timedelta(days=30), "no refreshed forecast within 20 s"
        assert latest.p50 < before.p50  # a failing engine's last cycles pull the RUL down
        assert len(p.store.forecast_history(asset.id)) >= 2
    finally:
        refresher.stop()


def _one_more_cycle(p, aid):
    """The asset's last reading of every channel again, a day later (a fresh cycle)."""
    long = p.store.read_telemetry(aid)
    last = long[long["ts"] == long["ts"].max()]
    t = np.datetime64(
        pd.Timestamp(last["ts"].iloc[0]).tz_localize(None) + pd.Timedelta(days=1), "us"
    )
    n = len(last)
    return ReadingBatch(
        np.array([aid] * n, dtype=object),
        last["channel"].to_numpy(dtype=object),
        np.array([t] * n),
        last["value"].to_numpy(dtype=float),
    )


def test_the_refresher_forecasts_a_chunk_in_one_read_and_agrees_with_one_asset_at_a_time(trained):
    """New readings of several engines cost one read and one call of each model, not one per
    engine, and each stored forecast and score is what the engine gets on its own; a chunk whose
    read fails is forecast one engine at a time (one bad history costs its own forecast only)."""
    p, _ = trained
    if p.forecasts.model_for("turbofan:health") is None:
        p.training.train_health(MANUFACTURER, "turbofan")
    ids = [f"fd001-e{u:03d}" for u in (12, 13, 14)]
    refresher = RefreshWorker(p.telemetry, p.registry, p.forecasts, activity=p.store)
    p.store.take_fresh_assets()  # what other tests left fresh is theirs: not refreshed here
    for fails in (False, True):
        for aid in ids:
            p.telemetry.ingest_batch(MANUFACTURER, _one_more_cycle(p, aid), source="test")
        coded = mock.patch.object(
            p.store,
            "read_telemetry_coded",
            side_effect=OSError("a read that failed") if fails else None,
            wraps=None if fails else p.store.read_telemetry_coded,
        )
        one = mock.patch.object(p.store, "read_telemetry", wraps=p.store.read_telemetry)
        with coded as batched, one as single:
            assert refresher.refresh_now() == len(ids)
        assert batched.call_count == 1  # one read for the three engines
        assert single.called == fails  # the fallback reads each engine on its own
        for aid in ids:
            f, h = p.forecasts.assess(p.store.get_asset(aid))
            stored = p.store.latest_forecast(aid)
            assert stored.as_of == f.as_of, aid
            np.testing.assert_allclose(stored.values, f.values, rtol=1e-12, err_msg=aid)
            assert p.store.latest_health(aid).score == pytest.approx(h.score, rel=1e-12), aid


def test_a_part_replaced_while_the_refresher_worked_gets_no_forecast_of_the_old_part(trained):
    """Results read from the old part's life up to the new part's first readings are stamped
    after the replacement: saved, they would pass for the new part's (an elevator fitted two
    hours before was "failing in nine days" and was replaced again). They are dropped, and the
    asset is forecast again in the next round, from the new part's readings alone."""
    p, _ = trained
    aid, other = "fd001-e016", "fd001-e017"
    refresher = RefreshWorker(
        p.telemetry, p.registry, p.forecasts, activity=p.store, scoring=p.scoring
    )
    p.store.take_fresh_assets()
    before = p.store.latest_forecast(aid)
    for a in (aid, other):
        p.telemetry.ingest_batch(MANUFACTURER, _one_more_cycle(p, a), source="test")
    asset = p.store.get_asset(aid)
    fitted = asset.installed_at + timedelta(days=400)  # after the cycle just sent

    def replaced_meanwhile(assets):
        out = real(assets)
        p.registry.restart_life(MANUFACTURER, asset, fitted)  # a crew, while it computed
        return out

    real = p.scoring.assess
    with mock.patch.object(p.scoring, "assess", side_effect=replaced_meanwhile):
        assert refresher.refresh_now() == 1  # the other engine's
    latest = p.store.latest_forecast(aid)
    assert (latest and latest.as_of) == (before and before.as_of)  # nothing new saved for it
    assert p.store.latest_forecast(other).as_of > p.store.get_asset(other).installed_at
    assert refresher.details()["pending"] == 1  # forecast again next round
    p.registry.restart_life(MANUFACTURER, p.store.get_asset(aid), asset.installed_at)


async def test_forecast_api_respects_tenancy(trained):
    p, _ = trained
    p.scoring.score_fleet(MANUFACTURER, ["fd001-e001", "fd001-e002"])
    app = create_app(platform=p)
    key, _ = p.keys.create(MANUFACTURER, "aerolinea")  # owns engines 1, 4, 7, ...
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t", headers={"X-API-Key": key}
    ) as c:
        r = await c.get("/api/v1/assets/fd001-e001/forecast", params={"history": 5})
        assert r.status_code == 200
        body = r.json()
        assert body["p10"] <= body["p50"] <= body["p90"] and body["survival"]["p"][
            0
        ] == pytest.approx(1.0)
        assert (await c.get("/api/v1/assets/fd001-e002/forecast")).status_code == 404
        fleet = (await c.get("/api/v1/fleet/forecasts", params={"horizon": 30})).json()
        assert fleet["items"] and {i["customer_id"] for i in fleet["items"]} == {"aerolinea"}
        assert all(0 <= i["prob_fail_within_horizon"] <= 1 for i in fleet["items"])


async def test_health_api_gives_the_newest_score_and_on_request_its_history(trained):
    from prognos.domain import HealthScore

    p, _ = trained
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    for k, score in enumerate([97.0, 93.5, 80.0, 61.0]):
        p.store.save_health(HealthScore("fd001-e004", t0 + timedelta(days=k), score, {"T50": 1.0}))
    p.store.save_health(HealthScore("fd001-e005", t0, 50.0))  # another customer's engine
    app = create_app(platform=p)
    key, _ = p.keys.create(MANUFACTURER, "aerolinea")  # owns engines 1, 4, 7, ...
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t", headers={"X-API-Key": key}
    ) as c:
        now = (await c.get("/api/v1/assets/fd001-e004/health")).json()
        assert now["score"] == 61.0 and now["drivers"] == {"T50": 1.0} and "history" not in now
        hist = (await c.get("/api/v1/assets/fd001-e004/health", params={"history": 3})).json()
        assert [h["score"] for h in hist["history"]] == [61.0, 80.0, 93.5]
        assert (await c.get("/api/v1/assets/fd001-e005/health")).status_code == 404  # not theirs


@pytest.mark.integration
def test_fleet_scoring_on_a_dask_cluster_reads_and_scores_on_the_workers(trained, tmp_path):
    from distributed import LocalCluster

    p, _ = trained
    if p.forecasts.model_for("turbofan:health") is None:
        p.training.train_health(MANUFACTURER, "turbofan")
    ids = [f"fd001-e{u:03d}" for u in range(1, 11)]
    p.scoring.score_fleet(MANUFACTURER, ids)  # one chunk in-process, four-asset chunks on Dask
    local = {a: p.store.latest_forecast(a).values for a in ids}
    local_health = {a: p.store.latest_health(a).score for a in ids}
    # this process holds the DuckDB file for writing: the workers read a copy
    copy = p.scoring.copy_for_workers(MANUFACTURER, tmp_path)
    with (
        mock.patch.object(p.store, "read_telemetry_coded", side_effect=AssertionError("client")),
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # a free port: None still takes 8787
            host="127.0.0.1",
        ) as cluster,
    ):
        out = p.scoring.score_fleet(
            MANUFACTURER, ids, dask_address=cluster.scheduler_address, chunk=4, read_from=copy
        )
    assert out["engine"] == "dask" and out["assets"] == 10
    for a in ids:
        np.testing.assert_allclose(
            p.store.latest_forecast(a).values, local[a], rtol=1e-12, err_msg=a
        )
        assert p.store.latest_health(a).score == pytest.approx(local_health[a], rel=1e-12)


@pytest.mark.integration
def test_dask_workers_read_postgresql_themselves(pg_server, tmp_path):
    from distributed import LocalCluster

    url = pg_server.create_database("dask_scoring")
    p = open_platform(Settings(db=url, artifacts_dir=tmp_path / "artifacts"))
    try:
        load_cmapss_fleet(p, "FD001", max_units=6)
        p.training.train(MANUFACTURER, "turbofan", estimator_params=SMALL)
        p.training.train_health(MANUFACTURER, "turbofan")
        ids = [f"fd001-e{u:03d}" for u in range(1, 7)]
        p.scoring.score_fleet(MANUFACTURER, ids)
        local = {
            a: (p.store.latest_forecast(a).values, p.store.latest_health(a).score) for a in ids
        }
        assert p.scoring.copy_for_workers(MANUFACTURER, tmp_path) is None  # they read it as it is
        with (
            mock.patch.object(
                p.store, "read_telemetry_coded", side_effect=AssertionError("client")
            ),
            LocalCluster(
                n_workers=2,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",  # a free port: None still takes 8787
                host="127.0.0.1",
            ) as cluster,
        ):
            out = p.scoring.score_fleet(
                MANUFACTURER, ids, dask_address=cluster.scheduler_address, chunk=2
            )
        assert out["engine"] == "dask" and out["assets"] == 6
        for a in ids:
            np.testing.assert_allclose(p.store.latest_forecast(a).values, local[a][0], rtol=1e-12)
            assert p.store.latest_health(a).score == pytest.approx(local[a][1], rel=1e-12)
    finally:
        p.close()


def test_dask_workers_cannot_read_the_duckdb_file_this_process_writes(trained):
    p, _ = trained
    with pytest.raises(Conflict, match="holds it for writing") as e:
        p.scoring.score_fleet(MANUFACTURER, ["fd001-e001"], dask_address="tcp://127.0.0.1:9")
    assert "PostgreSQL" in e.value.hint and "copy" in e.value.hint


def test_prognos_forecast_on_dask_from_the_duckdb_store_itself_says_what_to_do(
    trained, tmp_path, capsys
):
    from prognos.cli import main

    p, _ = trained
    # the command opens its store itself: a copy of the file, which nobody holds
    copy = p.scoring.copy_for_workers(MANUFACTURER, tmp_path)
    with pytest.raises(SystemExit) as e:
        main(["forecast", "--dask", "tcp://127.0.0.1:9", "--db", copy])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "Traceback" not in err
    assert "Dask workers cannot read the DuckDB file" in err and "--dask-db" in err


def test_health_model_scores_assets_and_names_drivers(trained):
    p, _ = trained
    card = p.training.train_health(MANUFACTURER, "turbofan")
    assert card["assets"] == 60 and card["version"] >= 1
    # a run-to-failure engine at its end is less healthy than a young in-service engine
    worn = p.forecasts.score_health(MANUFACTURER, "fd001-r001")
    young = p.forecasts.score_health(MANUFACTURER, "fd001-e003")
    assert worn.score < young.score
    assert worn.drivers and abs(sum(worn.drivers.values()) - 1) < 0.05
    assert p.store.latest_health("fd001-r001").score == worn.score
    # a retired run-to-failure engine is history: scored, but it raises no alarm
    assert p.store.get_asset("fd001-r001").lifecycle == "retired"
    assert p.alarms.page(MANUFACTURER, AlarmQuery(asset="fd001-r001")).items == []
    # back in service, its anomalous channels raise one alarm (the z-score rule), naming the
    # worst channel; scoring it again counts another occurrence of the same alarm
    p.lifecycle.reinstate(MANUFACTURER, "fd001-r001")
    worn = p.forecasts.score_health(MANUFACTURER, "fd001-r001")
    assert worn.anomalies, "an engine at its failure should show anomalous channels"
    alarms = p.alarms.page(MANUFACTURER, AlarmQuery(asset="fd001-r001")).items
    assert len(alarms) == 1 and alarms[0].cause == "zscore"
    assert alarms[0].details["channels"] == worn.anomalies
    assert alarms[0].channel == max(worn.anomalies, key=lambda c: abs(worn.anomalies[c]))
    p.forecasts.score_health(MANUFACTURER, "fd001-r001")
    again = p.alarms.page(MANUFACTURER, AlarmQuery(asset="fd001-r001")).items
    assert [a.id for a in again] == [alarms[0].id] and again[0].count == 2
    p.lifecycle.retire(MANUFACTURER, "fd001-r001")


def test_wear_trend_assets_are_forecast_from_their_own_history(platform):
    from prognos.domain import Asset, AssetType, Channel, Customer, Site

    platform.registry.add_asset_type(
        MANUFACTURER,
        AssetType(
            id="chain_drive",
            time_unit="days",
            failure_threshold={"elongation": 3.0},
            channels=[Channel(name="elongation", unit="%", min=0, max=10)],
        ),
    )
    platform.registry.add_customer(MANUFACTURER, Customer(id="bottler", name="Bottler"))
    platform.registry.add_site(
        MANUFACTURER, Site(id="line-1", customer_id="bottler", name="Line 1")
    )
    start = datetime(2026, 1, 1, tzinfo=UTC)
    platform.registry.add_assets(
        MANUFACTURER,
        [
            Asset(
                id="chain-1",
                customer_id="bottler",
                site_id="line-1",
                type_id="chain_drive",
                installed_at=start,
            )
        ],
    )
    rng = np.random.default_rng(3)
    days = np.arange(0, 200)
    elong = 0.01 * days + rng.normal(0, 0.02, len(days))  # reaches 3 % at day 300
    ts = np.array(
        [np.datetime64(start.replace(tzinfo=None) + timedelta(days=int(d)), "us") for d in days]
    )
    platform.telemetry.ingest_batch(
        MANUFACTURER,
        ReadingBatch(
            np.array(["chain-1"] * len(days), dtype=object),
            np.array(["elongation"] * len(days), dtype=object),
            ts,
            elong,
        ),
    )
    out = platform.scoring.score_fleet(MANUFACTURER)
    assert out["assets"] == 1
    f = platform.store.latest_forecast("chain-1")
    assert f.model.startswith("wear-trend") and f.time_unit == "days"
    assert f.p10 <= 100 <= f.p90  # 100 days left after day 199
