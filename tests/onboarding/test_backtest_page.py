"""The asset page shows what prognos would have said about a failure it knew of: the backtest's
replay of that asset (``prognos backtest``) as a chart, with the lead times of its warnings."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time

import httpx
import pytest
import uvicorn
from test_training_own_data import SMALL, build

from prognos.config import Settings
from prognos.domain.keys import MANUFACTURER
from prognos.server import create_server_app
from prognos.service.platform import Platform, open_platform
from prognos.web.session import session_for

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


def replayed(cli, tmp_path, monkeypatch) -> tuple[Platform, dict, tuple[str, str]]:
    """Six pumps run to failure, backtested; the platform, the report by asset, a session."""
    db = str(tmp_path / "own.duckdb")
    monkeypatch.setenv("PROGNOS_RUL_PARAMS", json.dumps(SMALL))
    build(db, tmp_path, lives=6)
    code, out, err = cli("backtest", "--asset-type", "pump", "--folds", "2", "--json")
    assert code == 0, err
    p = open_platform(Settings(db=db, artifacts_dir=tmp_path / "artifacts"))
    name, value, _ = session_for(p, p.keys.create(MANUFACTURER, None, "test manufacturer")[0])
    return p, {a["asset_id"]: a for a in json.loads(out)["assets"]}, (name, value)


def get(app, cookie: tuple[str, str], *urls: str) -> list[httpx.Response]:
    async def fetch():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            c.cookies.set(*cookie)
            return [await c.get(u) for u in urls]

    return asyncio.run(fetch())


def test_the_asset_page_charts_the_backtest_of_a_failed_asset(cli, tmp_path, monkeypatch):
    p, report, cookie = replayed(cli, tmp_path, monkeypatch)
    try:
        app = create_server_app(platform=p)
        page, data, page_zh = get(app, cookie, "/assets/p0", "/panel/data/assets/p0/backtest",
                                  "/assets/p0?lang=zh-CN")  # fmt: skip
        other, none = get(app, cookie, "/panel/data/assets/p3/backtest",
                          "/panel/data/assets/nope/backtest")  # fmt: skip
    finally:
        p.close()
    assert page.status_code == 200
    assert "What prognos would have said" in page.text and 'id="backtest-chart"' in page.text
    lead = report["p0"]["lead_times"]["watch"]
    assert f"watch <b>{lead:g}</b> hours" in page.text
    assert "prognos 当时会给出的判断" in page_zh.text
    d = data.json()
    assert d["time_unit"] == "hours" and d["failed_at"] == report["p0"]["failed_at"]
    n = len(d["ts"])
    assert n > 3 and len(d["p10"]) == len(d["p50"]) == len(d["p90"]) == len(d["rul_true"]) == n
    assert all(lo <= mid <= hi for lo, mid, hi in zip(d["p10"], d["p50"], d["p90"], strict=True))
    assert d["rul_true"] == sorted(d["rul_true"], reverse=True) and d["rul_true"][-1] == 0
    assert other.json()["failed_at"] == report["p3"]["failed_at"]  # each failed pump has its own
    assert none.status_code == 404


@pytest.mark.browser
@pytest.mark.integration
def test_the_browser_draws_the_replay_in_both_languages(cli, tmp_path, monkeypatch):
    from playwright.sync_api import sync_playwright

    p, _, (name, value) = replayed(cli, tmp_path, monkeypatch)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(create_server_app(platform=p), host="127.0.0.1", port=port,
                            log_level="warning", ws="none", lifespan="off")  # fmt: skip
    server = uvicorn.Server(config)
    serving = threading.Thread(target=server.run, daemon=True)
    serving.start()
    seen: dict[str, tuple[str, str, list[str]]] = {}

    def browse() -> None:  # a thread of its own: the sync API refuses a running event loop
        with sync_playwright() as pw:
            b = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
            for lang in ("en", "zh-CN"):
                ctx = b.new_context(viewport={"width": 1280, "height": 1200})
                ctx.add_cookies([{"name": name, "value": value, "url": f"http://127.0.0.1:{port}"}])
                page, errors = ctx.new_page(), []
                page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                page.goto(f"http://127.0.0.1:{port}/assets/p0?lang={lang}")
                page.wait_for_selector("#sensors[data-ready='1']", timeout=20_000)
                chart = page.locator("#backtest-chart")
                legend = chart.locator(".u-legend").inner_text()
                seen[lang] = (chart.get_attribute("data-points") or "", legend, errors)
            b.close()

    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        browsing = threading.Thread(target=browse)
        browsing.start()
        browsing.join(120)
    finally:
        server.should_exit = True
        serving.join(10)
        p.close()
    points, legend, errors = seen["en"]
    assert int(points) > 3 and not errors
    for label in ("forecast remaining life", "P10", "P90", "true remaining life", "health"):
        assert label in legend
    points, legend, errors = seen["zh-CN"]
    assert int(points) > 3 and not errors
    assert "预测剩余寿命" in legend and "真实剩余寿命" in legend
