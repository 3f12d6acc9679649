"""The CLI's output survives any terminal: user data prints as given (brackets stay brackets,
no markup, no emoji codes), and in a pipe or file every row and path is one whole line, whatever
COLUMNS says (unset, 40, 200). Plan costs carry their currency."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from prognos.cli import app
from prognos.config import Settings
from prognos.domain.keys import MANUFACTURER
from prognos.domain.planning import Explanation, Plan, PlannedJob
from prognos.service.platform import open_platform
from support import seed

NAME = "[red]line 3[/red] :warning: gateway"  # markup and an emoji code, as a user may type
CHANNEL = "[bold]spindle_bearing_temperature_front_left[/bold]"
COLUMNS = pytest.mark.parametrize("columns", [None, "40", "200"], ids=["unset", "40", "200"])


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("a-folder-whose-name-is-long-enough-to-pass-forty-columns")
    db = str(folder / "prognos.duckdb")
    p = open_platform(Settings(db=db, artifacts_dir=folder / "artifacts"))
    try:
        seed(p)
        _, key = p.keys.create(MANUFACTURER, "acme", NAME)
        body = {"asset_id": "acme-p1", "ts": "2025-06-01T00:00:00Z", "values": {CHANNEL: 1.0}}
        p.telemetry.ingest_payload(MANUFACTURER, json.dumps(body).encode(), "application/json")
    finally:
        p.close()
    return {"db": db, "key_id": key.key_id}


def cli(db: str, *args: str, columns: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "PROGNOS_API_KEY")}
    env.update(PROGNOS_DB=db, **({"COLUMNS": columns} if columns else {}))
    run = subprocess.run(
        [sys.executable, "-m", "prognos", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in run.stderr, run.stderr
    return run


def line_with(text: str, needle: str) -> str:
    found = [line for line in text.splitlines() if needle in line]
    assert found, f"no line holds {needle!r}:\n{text}"
    return found[0]


@COLUMNS
def test_keys_list_prints_the_name_as_given_and_each_key_on_one_line(world, columns):
    run = cli(world["db"], "keys", "list", columns=columns)
    assert run.returncode == 0, run.stderr
    row = line_with(run.stdout, world["key_id"])
    assert NAME in row and "acme" in row  # id, name and owner on one line, the name untouched
    assert "⚠" not in run.stdout and "\x1b[" not in run.stdout  # no emoji, no colour codes
    assert "a key reads pk_<id>_<secret>; times in UTC" in run.stdout


@COLUMNS
def test_quarantine_prints_each_rejection_on_one_line(world, columns):
    run = cli(world["db"], "quarantine", columns=columns)
    assert run.returncode == 0, run.stderr
    row = line_with(run.stdout, "acme-p1")
    assert f"unknown channel for this asset type: {CHANNEL}" in row and "http" in row


@COLUMNS
def test_an_error_keeps_the_path_and_the_next_step_whole(world, columns):
    holder = open_platform(Settings(db=world["db"]))  # the file is held: the command says so
    try:
        run = cli(world["db"], "keys", "list", columns=columns)
    finally:
        holder.close()
    assert run.returncode == 2
    error = line_with(run.stderr, "error: ")
    assert f"the database {world['db']} is held by a running prognos server" in error
    assert "PROGNOS_API_KEY" in line_with(run.stderr, "next: ")


def test_plan_costs_are_shown_with_their_currency(tmp_path, monkeypatch):
    from prognos.service.planning import PlanningService

    job = PlannedJob(
        asset_id="[b]acme-p1[/b]", site_id="acme-plant", day=date(2026, 3, 2), in_window=True,
        crew_id="crew-1", part="bearing", hours=4,
        explanation=Explanation(prob_fail_before=0.12, expected_cost=900.0,
                                expected_cost_avoided=12_345.0, why_not_earlier="",
                                why_not_later=""),
    )  # fmt: skip
    plan = Plan(created_at=datetime(2026, 3, 1, tzinfo=UTC), horizon_days=56, jobs=[job],
                objective=23_456.0, lower_bound=21_000.0, status="optimal", solve_seconds=0.4)  # fmt: skip
    done = {"plan": plan.as_dict(), "committed": False, "created": [], "moved": [], "cancelled": []}
    monkeypatch.setattr(PlanningService, "plan", lambda *a, **k: done)
    db = str(tmp_path / "p.duckdb")
    open_platform(Settings(db=db, artifacts_dir=tmp_path / "a")).close()
    r = CliRunner(env={"COLUMNS": "40"}).invoke(app, ["plan", "--dry-run", "--db", db])
    assert r.exit_code == 0, r.output
    assert "expected cost EUR 23,456 (lower bound EUR 21,000)" in r.stdout
    row = line_with(r.stdout, "[b]acme-p1[/b]")
    assert "12,345" in row and "12.0%" in row
    assert "cost avoided (EUR)" in r.stdout


def test_every_command_module_prints_through_the_one_output_module():
    cli_dir = Path(__file__).resolve().parents[2] / "src" / "prognos" / "cli"
    for path in cli_dir.rglob("*.py"):
        if path.name != "_output.py":
            text = path.read_text()
            assert "Console(" not in text and "from rich" not in text, path.name


def test_a_benchmark_table_prints_values_as_given(capsys):
    from prognos.cli.bench._common import emit

    result = {"store": "/tmp/[runs]/bench.duckdb", "labels": {"best": "[bold]x", "rate": 1.5}}
    emit(result, as_json=False, title="[red]bench[/red]")
    out = capsys.readouterr().out
    assert "/tmp/[runs]/bench.duckdb" in line_with(out, "store")
    assert "[bold]x" in line_with(out, "labels.best")
    assert "1.5" in line_with(out, "labels.rate")
    assert "[red]bench[/red]" in out
