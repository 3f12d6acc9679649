"""The PostgreSQL store outlives a server restart: a broken connection is replaced, the one
request that met it (if any) is a 503 with a hint in the error shape, never a driver's 500."""

from __future__ import annotations

import httpx
import pytest

from prognos import devservers
from prognos.api import create_app
from prognos.config import Settings
from prognos.domain.keys import MANUFACTURER
from prognos.service.platform import open_platform
from support import seed

pytestmark = pytest.mark.integration

GOOD = {"asset_id": "acme-p1", "ts": "2025-06-01T00:00:00Z", "channel": "temp", "value": 40.0}


@pytest.mark.parametrize("idle_ping", [True, False], ids=["idle-ping", "no-ping"])
async def test_requests_after_a_restart_are_answered_and_never_500(
    tmp_path, monkeypatch, idle_ping
):
    if not idle_ping:  # every old connection meets the restart: each fails once, then is replaced
        monkeypatch.setattr("prognos.store.postgres_store.IDLE_PING_S", 1e9)
    with devservers.postgres() as pg:
        p = open_platform(Settings(db=pg.create_database("restart"), artifacts_dir=tmp_path))
        try:
            seed(p)
            key, _ = p.keys.create(MANUFACTURER, None, "m")
            app = create_app(platform=p)
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://t",
                headers={"X-API-Key": key},
            ) as c:
                for _ in range(5):  # connections in a few threads
                    assert (await c.get("/api/v1/sites")).status_code == 200
                pg.restart()
                answers = []
                for _ in range(60):
                    r = await c.get("/api/v1/sites")
                    answers.append(r.status_code)
                    if r.status_code == 503:
                        err = r.json()["error"]
                        assert err["code"] == "store_error" and "next request" in err["hint"]
                    if answers[-5:] == [200] * 5:
                        break
                assert set(answers) <= {200, 503} and answers[-5:] == [200] * 5, answers
                r = await c.post("/api/v1/telemetry", json=[GOOD])
                assert r.status_code == 200 and r.json()["accepted"] == 1
                health = await c.get("/api/v1/health")
                assert health.status_code == 200 and health.json()["status"] == "ok"
        finally:
            p.close()


async def test_health_is_degraded_while_the_server_is_down_and_ok_after(tmp_path):
    with devservers.postgres() as pg:
        p = open_platform(Settings(db=pg.create_database("down"), artifacts_dir=tmp_path))
        try:
            app = create_app(platform=p)
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://t"
            ) as c:
                assert (await c.get("/api/v1/health")).json()["status"] == "ok"
                devservers._run_pg(
                    [
                        str(devservers.PG_BIN / "pg_ctl"),
                        "-D",
                        str(pg.folder / "data"),
                        "-m",
                        "fast",
                        "-w",
                        "stop",
                    ],
                    pg.folder,
                )
                r = await c.get("/api/v1/health")
                assert r.status_code == 503 and r.json()["problems"] == ["store: does not answer"]
                pg.restart()  # starts it again
                r = await c.get("/api/v1/health")
                assert r.status_code == 200 and r.json()["status"] == "ok"
        finally:
            p.close()
