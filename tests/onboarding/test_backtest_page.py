"""The asset page shows what prognos would have said about a failure it knew of: the backtest's
replay of that asset (``prognos backtest``) as a chart, with the lead times of its warnings."""

from __future__ import annotations

import asyncio
import json

import httpx
from test_training_own_data import SMALL, build

from prognos.config import Settings
from prognos.domain.keys import MANUFACTURER
from prognos.server import create_server_app
from prognos.service.platform import open_platform
from prognos.web.session import session_for


def get(app, cookie: tuple[str, str], *urls: str) -> list[httpx.Response]:
    async def fetch():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            c.cookies.set(*cookie)
            return [await c.get(u) for u in urls]

    return asyncio.run(fetch())


def test_the_asset_page_charts_the_backtest_of_a_failed_asset(cli, tmp_path, monkeypatch):
    db = str(tmp_path / "own.duckdb")
    monkeypatch.setenv("PROGNOS_RUL_PARAMS", json.dumps(SMALL))
    build(db, tmp_path, lives=6)
    code, out, err = cli("backtest", "--asset-type", "pump", "--folds", "2", "--json")
    assert code == 0, err
    report = {a["asset_id"]: a for a in json.loads(out)["assets"]}

    p = open_platform(Settings(db=db, artifacts_dir=tmp_path / "artifacts"))
    try:
        key = p.keys.create(MANUFACTURER, None, "test manufacturer")[0]
        name, value, _ = session_for(p, key)
        app = create_server_app(platform=p)
        page, data, page_zh = get(app, (name, value), "/assets/p0", "/panel/data/assets/p0/backtest",
                                  "/assets/p0?lang=zh-CN")  # fmt: skip
        fresh, none = get(app, (name, value), "/assets/p5", "/panel/data/assets/nope/backtest")
    finally:
        p.close()
    assert page.status_code == 200
    assert "What prognos would have said" in page.text and 'id="backtest-chart"' in page.text
    assert "prognos 当时会给出的判断" in page_zh.text
    d = data.json()
    assert d["time_unit"] == "hours" and d["failed_at"] == report["p0"]["failed_at"]
    n = len(d["ts"])
    assert n > 3 and len(d["p10"]) == len(d["p50"]) == len(d["p90"]) == len(d["rul_true"]) == n
    assert all(lo <= mid <= hi for lo, mid, hi in zip(d["p10"], d["p50"], d["p90"], strict=True))
    assert d["rul_true"] == sorted(d["rul_true"], reverse=True) and d["rul_true"][-1] >= 0
    assert fresh.status_code == 200  # every pump failed here, each has its replay
    assert none.status_code == 404
