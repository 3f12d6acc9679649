"""``prognos plan`` as a plant manager reads it: names, not ids; no job in the past when the
data ended weeks ago (the demo before its catch-up); "emergency" only where failure is likely."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from prognos.cli import app
from prognos.cli.plan import window_word
from prognos.config import Settings
from prognos.domain import FailureForecast
from prognos.domain.keys import MANUFACTURER
from prognos.domain.planning import CostModel, Crew, PartStock, SiteCalendar, Window
from prognos.service.platform import open_platform
from support import seed

TODAY = datetime.now(UTC).date()
DATA_END = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=28)


def _calendar(site: str) -> SiteCalendar:
    """Two shifts a day and a stop each night, from five weeks back to ten weeks ahead."""
    start = datetime.combine(TODAY - timedelta(days=35), datetime.min.time(), tzinfo=UTC)
    windows = []
    for d in range(110):
        day = start + timedelta(days=d)
        windows.append(Window(start=day + timedelta(hours=6), end=day + timedelta(hours=22),
                              kind="shift"))  # fmt: skip
        windows.append(Window(start=day + timedelta(hours=22), end=day + timedelta(hours=30),
                              kind="stop"))  # fmt: skip
    return SiteCalendar(site_id=site, timezone="UTC", windows=windows)


@pytest.fixture(scope="module")
def stale_db(tmp_path_factory) -> str:
    """Pumps whose readings and forecasts ended four weeks ago; acme-p1 wears out soon."""
    d = tmp_path_factory.mktemp("stale")
    db = str(d / "prognos.duckdb")
    p = open_platform(Settings(db=db, artifacts_dir=d / "artifacts"))
    try:
        seed(p)
        for aid in ("acme-p1", "acme-p2", "globex-p1", "globex-p2"):
            for h in range(12):  # hourly readings ending four weeks ago
                body = {
                    "asset_id": aid,
                    "ts": (DATA_END - timedelta(hours=h)).isoformat(),
                    "values": {"temp": 60.0, "vibration": 2.0},
                }
                p.telemetry.ingest_payload(
                    MANUFACTURER, json.dumps(body).encode(), "application/json"
                )
            p50 = 160.0 if aid == "acme-p1" else 20_000.0
            p.store.save_forecast(
                FailureForecast.from_quantiles(
                    aid,
                    DATA_END,
                    {0.001: p50 * 0.3, 0.1: p50 * 0.6, 0.5: p50, 0.9: p50 * 1.4},
                    time_unit="hours",
                    model="test",
                )
            )
        for site in ("acme-plant", "globex-plant"):
            p.calendars.put(MANUFACTURER, _calendar(site))
        p.resources.put_crew(
            MANUFACTURER,
            Crew(id="crew-1", skills={"pump"}, home_region="default",
                 working_weekdays={0, 1, 2, 3, 4, 5, 6}),
        )  # fmt: skip
        p.resources.put_stock(
            MANUFACTURER,
            PartStock(depot_id="d1", part="seal", on_hand=5, lead_time_days=1, regions={"default"}),
        )
        p.resources.put_cost_model(
            MANUFACTURER,
            "pump",
            CostModel(asset_type="pump", part="seal", unplanned_stoppage_cost_per_hour=5000,
                      unplanned_repair_hours=12, planned_job_hours=3, part_cost=400,
                      labour_cost_per_hour=80, wasted_life_cost_per_unit=1.0),
        )  # fmt: skip
    finally:
        p.close()
    return db


def _plan(db: str, *args: str) -> str:
    r = CliRunner(env={"COLUMNS": "250"}).invoke(app, ["plan", "--dry-run", "--db", db, *args])
    assert r.exit_code == 0, r.output
    return r.stdout


def test_a_plan_from_weeks_old_data_puts_no_job_in_the_past(stale_db):
    out = json.loads(_plan(stale_db, "--json"))
    days = [date.fromisoformat(j["day"]) for j in out["plan"]["jobs"]]
    assert days, "the wearing pump is planned"
    assert min(days) >= TODAY
    assert datetime.fromisoformat(out["now"]) > DATA_END + timedelta(days=27)


def test_the_table_names_customer_site_and_asset_and_says_the_data_is_old(stale_db):
    text = _plan(stale_db)
    row = next(line for line in text.splitlines() if "SN-acme-1" in line)  # the serial
    assert "Acme" in row and "acme plant" in row  # the customer's and the site's names
    assert "acme-p1" not in row and "acme-plant" not in row  # not their ids
    assert f"the newest readings are from {DATA_END:%Y-%m-%d %H:%M} UTC, 28 days ago" in text


@pytest.mark.parametrize(
    ("in_window", "urgent", "word"),
    [
        (True, True, "yes"),
        (False, False, "no: stops production"),
        (False, True, "no: EMERGENCY, stops production"),
    ],
)
def test_a_job_outside_windows_is_an_emergency_only_when_the_planner_says_it_could_not_wait(
    in_window, urgent, word
):
    job = {"in_window": in_window, "explanation": {"prob_fail_before": 0.01, "emergency": urgent}}
    assert window_word(job) == word


def test_assets_whose_orders_changed_while_planning_are_named_by_serial_and_customer():
    from prognos.cli.plan import Names, deferred_line

    names = Names(
        {"acme-p1": ("SN-acme-1", "acme"), "globex-p2": ("SN-globex-2", "globex")},
        {},
        {"acme": "Acme Corp", "globex": "Globex"},
    )
    line = deferred_line(["acme-p1", "globex-p2"], names)
    assert line is not None and line.startswith("2 assets changed while the plan was being made")
    assert "next plan" in line
    assert line.endswith(": SN-acme-1 (Acme Corp), SN-globex-2 (Globex)")  # names, not ids
    assert "acme-p1" not in line
    assert deferred_line([], names) is None  # nothing said when nothing waited


def test_through_a_running_server_the_plan_starts_today_and_reads_names(stale_db):
    """The server holds the store: the CLI plans through the API, which keeps the same rules."""
    import os
    import subprocess
    import sys

    from prognos.server import create_server_app
    from support import running_app

    p = open_platform(Settings(db=stale_db, artifacts_dir=Path(stale_db).parent / "artifacts"))
    try:
        key, _ = p.keys.create(MANUFACTURER, None, "cli through the server")
        with running_app(create_server_app(platform=p)) as url:
            env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
            env.update(PROGNOS_DB=stale_db, PROGNOS_API_URL=url, PROGNOS_API_KEY=key,
                       COLUMNS="250")  # fmt: skip
            run = subprocess.run(
                [sys.executable, "-m", "prognos", "plan", "--dry-run"],
                env=env, capture_output=True, text=True, timeout=120,
            )  # fmt: skip
    finally:
        p.close()
    assert run.returncode == 0, run.stderr
    rows = [line for line in run.stdout.splitlines() if "SN-acme-1" in line]
    assert rows and "Acme" in rows[0] and "acme plant" in rows[0]
    days = [date.fromisoformat(d) for d in re.findall(r"\b(\d{4}-\d\d-\d\d)\b", rows[0])]
    assert days and min(days) >= TODAY
