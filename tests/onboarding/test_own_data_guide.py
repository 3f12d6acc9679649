"""docs/own-data.md runs as written: every ```bash block in order, in one folder on a fresh
store, each exiting 0 (or the code its first line `# expect exit N` names, with the error lines
of the ```text block after it printed word for word)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from prognos.config import Settings
from prognos.domain.keys import MANUFACTURER
from prognos.service.platform import open_platform

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "own-data.md"
FENCE = re.compile(r"```(\w+)\n(.*?)```", re.S)


def blocks() -> list[tuple[str, str, str | None]]:
    """(language, body, the text block right after it or None) for every bash block."""
    found = [(m.group(1), m.group(2), m.end()) for m in FENCE.finditer(GUIDE.read_text())]
    out = []
    for i, (lang, body, end) in enumerate(found):
        if lang != "bash":
            continue
        nxt = found[i + 1] if i + 1 < len(found) else None
        gap = GUIDE.read_text()[end : end + 3]
        follows = nxt[1] if nxt and nxt[0] == "text" and gap.strip() == "" else None
        out.append((lang, body, follows))
    return out


def test_the_guide_has_its_commands():
    bodies = "\n".join(b for _, b, _ in blocks())
    for command in ("registry load", "ingest file", "events load", "train", "backtest",
                    "forecast", "reliability fit", "plan"):  # fmt: skip
        assert f"prognos {command}" in bodies, command


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_every_command_of_the_guide_runs(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROGNOS_")}
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        PROGNOS_DB=str(tmp_path / "guide.duckdb"),
        PROGNOS_ARTIFACTS_DIR=str(tmp_path / "artifacts"),
        # small estimators keep the test short; the guide's commands are the same
        PROGNOS_RUL_PARAMS='{"n_estimators": 40, "n_folds": 3}',
        COLUMNS="200",
    )
    for _, body, text in blocks():
        want = re.match(r"# expect exit (\d+)", body)
        run = subprocess.run(["bash", "-euo", "pipefail", "-c", body], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=900)  # fmt: skip
        assert "Traceback" not in run.stderr, (body, run.stderr)
        code = int(want.group(1)) if want else 0
        assert run.returncode == code, (body, run.stdout[-3000:], run.stderr[-3000:])
        if want and text:
            for line in text.splitlines():
                if line.startswith(("error:", "next:", "  ")):
                    assert line in run.stderr, (line, run.stderr)
    # what the steps left behind: a replay of every failed engine, forecasts of the flying ones
    p = open_platform(Settings(db=env["PROGNOS_DB"]))
    try:
        replays = [p.backtests.of_asset(MANUFACTURER, f"r{u:03d}") for u in range(1, 41)]
        assert all(r and r["failed_at"] for r in replays)
        flying = p.forecasts.latest_of(MANUFACTURER, [f"e{u:03d}" for u in range(31, 41)])
        assert len(flying) == 10
        machine = p.forecasts.latest_of(MANUFACTURER, ["m1"])["m1"]
        assert machine.model == "weibull-aft"
    finally:
        p.close()
