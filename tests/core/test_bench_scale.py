"""`prognos bench ingest --workers N` measures 1..N worker processes in one run."""

from __future__ import annotations

import pytest

from prognos.bench.ingest_scale import run_scale

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_bench_ingest_with_workers_reports_each_count_and_the_scaling():
    out = run_scale("postgres-temp", assets=20, channels=2, ticks=3, workers=2, publisher="raw")
    assert [r["workers"] for r in out["runs"]] == [1, 2]
    assert all(r["readings_per_s"] > 0 for r in out["runs"])
    assert out["runs"][0]["scaling"] == 1.0
    assert out["scaling_ratio"] == out["runs"][1]["scaling"] > 0
    assert out["readings_per_run"] == 20 * 3 * 2
