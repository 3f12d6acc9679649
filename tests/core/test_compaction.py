"""Compaction: readings that arrived interleaved are laid out by asset again, and nothing else
changes: the same readings, idempotent writes, appends going on. On DuckDB and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta

import httpx
import numpy as np
import pytest
from typer.testing import CliRunner

from prognos.api import create_app
from prognos.cli import app
from prognos.config import Settings
from prognos.domain import ReadingBatch
from prognos.domain.keys import MANUFACTURER
from prognos.errors import Forbidden
from prognos.service.platform import open_platform
from support import running_app, seed

ASSETS = ("acme-p1", "acme-p2", "globex-p1", "globex-p2")


def _ticks(first: int, n: int) -> ReadingBatch:
    """``n`` ticks of every asset, in time order: the assets interleave, as a live fleet's do."""
    start = datetime(2025, 6, 1)
    rows = [
        (a, ch, start + timedelta(minutes=t), float(t))
        for t in range(first, first + n)
        for a in ASSETS
        for ch in ("temp", "vibration")
    ]
    a, c, ts, v = zip(*rows, strict=True)
    return ReadingBatch(
        np.array(a, dtype=object),
        np.array(c, dtype=object),
        np.array(ts, dtype="datetime64[us]"),
        np.array(v),
    )


def _runs_of_assets(store) -> int:
    """How many runs of one asset the table holds in its physical order (a scan, no ORDER BY)."""
    seq = [r[0] for r in store._rows("SELECT asset_id FROM telemetry")]
    return 1 + sum(x != y for x, y in zip(seq, seq[1:], strict=False))


def test_compaction_groups_each_assets_readings_and_keeps_everything(seeded):
    s = seeded.store
    for first in range(0, 300, 30):  # ten batches of 30 ticks
        assert s.write_readings(_ticks(first, 30)) == 30 * len(ASSETS) * 2
    before = {a: s.read_telemetry(a) for a in ASSETS}
    assert _runs_of_assets(s) > 100  # interleaved

    out = seeded.telemetry.compact(MANUFACTURER)

    assert out["readings"] == s.count_readings() == 300 * len(ASSETS) * 2
    assert _runs_of_assets(s) == len(ASSETS)
    for a in ASSETS:
        after = s.read_telemetry(a)
        cols = ["ts", "channel", "value"]
        key = ["ts", "channel"]
        assert (
            after.sort_values(key)[cols]
            .reset_index(drop=True)
            .equals(before[a].sort_values(key)[cols].reset_index(drop=True))
        ), a
    # the key still makes resent readings idempotent, and new ones still append
    assert s.write_readings(_ticks(290, 20)) == 10 * len(ASSETS) * 2
    assert s.count_readings() == 310 * len(ASSETS) * 2


def test_only_the_manufacturer_compacts(seeded):
    customer = seeded.keys.authenticate(seeded.keys.create(MANUFACTURER, "acme")[0])
    with pytest.raises(Forbidden):
        seeded.telemetry.compact(customer)


def test_the_command_compacts_the_store_or_goes_through_the_server(tmp_path):
    db = str(tmp_path / "plant.duckdb")
    p = open_platform(Settings(db=db, artifacts_dir=tmp_path / "a"))
    seed(p)
    p.store.write_readings(_ticks(0, 50))
    maker, _ = p.keys.create(MANUFACTURER, None, "cron")
    acme, _ = p.keys.create(MANUFACTURER, "acme", "gateway")
    p.close()

    r = CliRunner().invoke(app, ["store", "compact", "--db", db, "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["readings"] == 50 * len(ASSETS) * 2

    p = open_platform(Settings(db=db, artifacts_dir=tmp_path / "a"))
    try:
        with running_app(create_app(platform=p)) as url:
            r = httpx.post(f"{url}/api/v1/store/compact", headers={"X-API-Key": acme})
            assert r.status_code == 403
            env = {k: v for k, v in os.environ.items() if k != "PROGNOS_API_KEY"}
            env.update(PROGNOS_DB=db, PROGNOS_API_URL=url, PROGNOS_API_KEY=maker)
            done = subprocess.run(
                [sys.executable, "-m", "prognos", "store", "compact"],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert done.returncode == 0, done.stderr
            assert "compacted 400 readings (duckdb)" in done.stdout
    finally:
        p.close()
