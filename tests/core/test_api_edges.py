"""The API's edges, one finding each: every status in one error shape, inputs bounded where
they enter, bodies capped while they stream, security headers, docs without a CDN, health
and status that tell the truth and only what the caller may know."""

from __future__ import annotations

import asyncio
import json
import re

import httpx
import pytest

from prognos.api import create_app
from prognos.config import Settings
from prognos.domain.keys import MANUFACTURER
from prognos.errors import StoreError
from prognos.server import create_server_app
from prognos.service.platform import open_platform

SHAPE = {"code", "message", "hint", "details"}


@pytest.fixture
async def api(seeded):
    maker, _ = seeded.keys.create(MANUFACTURER, None, "maker")
    acme, _ = seeded.keys.create(MANUFACTURER, "acme", "acme")
    app = create_app(platform=seeded)
    clients = {
        who: httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t", headers={"X-API-Key": k}
        )
        for who, k in (("maker", maker), ("acme", acme))
    }
    clients["app"] = app
    yield clients
    for who in ("maker", "acme"):
        await clients[who].aclose()


def error_of(r: httpx.Response) -> dict:
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == SHAPE, body
    return body["error"]


# -- one error shape -----------------------------------------------------------------------------
async def test_the_frameworks_404_405_and_422_come_in_the_one_shape(api):
    r = await api["maker"].get("/api/v1/no-such-route")
    assert r.status_code == 404 and error_of(r)["code"] == "not_found"
    r = await api["maker"].delete("/api/v1/assets")
    assert r.status_code == 405 and error_of(r)["code"] == "method_not_allowed"
    assert "GET" in r.headers["allow"]
    r = await api["maker"].get("/api/v1/assets", params={"limit": "many"})
    err = error_of(r)
    assert r.status_code == 422 and err["details"][0]["field"] == "query.limit"


async def test_an_unexpected_exception_is_a_500_in_the_shape_with_a_request_id(api, monkeypatch):
    def boom(*a, **kw):
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(api["app"].state.platform.registry, "customers", boom)
    r = await api["maker"].get("/api/v1/customers", headers={"X-Request-ID": "req-42"})
    err = error_of(r)
    assert r.status_code == 500 and err["code"] == "internal_error"
    assert err["details"] == {"request_id": "req-42"} and r.headers["x-request-id"] == "req-42"
    assert "secret" not in r.text and "Traceback" not in r.text
    ok = await api["maker"].get("/api/v1/sites")
    assert re.fullmatch(r"[0-9a-f]{16}", ok.headers["x-request-id"])  # one of its own


async def test_a_driver_error_is_a_503_store_error_not_a_500(api, monkeypatch):
    store = api["app"].state.platform.store
    if store.kind == "duckdb":
        import duckdb

        def failing(*a, **kw):
            raise duckdb.IOException("disk I/O error")

        monkeypatch.setattr(store, "_readers", type("R", (), {"cursor": staticmethod(failing)})())
    else:
        import psycopg

        class Dropped:  # a connection the server closed under us
            closed = broken = False

            def transaction(self):
                raise psycopg.OperationalError("server closed the connection unexpectedly")

        monkeypatch.setattr(store, "_conn", Dropped)
    r = await api["maker"].get("/api/v1/sites")
    err = error_of(r)
    assert r.status_code == 503 and err["code"] == "store_error" and err["hint"]


# -- inputs bounded at the edge ------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/assets?offset=9223372036854775808",
        "/api/v1/quarantine?offset=99999999999999999999",
        "/api/v1/assets/acme-p1/telemetry?start=0001-01-01T00:00:00",
        "/api/v1/assets/acme-p1/telemetry?end=9999-12-31T23:59:59%2B14:00",
        "/api/v1/fleet/forecasts?horizon=inf",
    ],
)
async def test_out_of_range_queries_are_422_naming_the_field(api, url):
    r = await api["maker"].get(url)
    assert r.status_code == 422, r.text
    assert error_of(r)["details"][0]["field"].startswith("query.")


@pytest.mark.parametrize(
    "body",
    [b'{"id": "x", "name": "\\ud800"}', b'{"id": "x", "name": NaN}', b'{"id": "x", "name": 1e999}'],
    ids=["lone-surrogate", "nan", "infinity"],
)
async def test_json_that_is_not_json_is_422(api, body):
    r = await api["maker"].post(
        "/api/v1/customers", content=body, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 422 and error_of(r)["code"] == "validation_failed"


async def test_a_site_keeps_its_customer_and_needs_a_real_time_zone(api, seeded):
    r = await api["maker"].post(
        "/api/v1/sites", json={"id": "acme-plant", "customer_id": "globex", "name": "moved"}
    )
    assert r.status_code == 409 and "cannot move" in error_of(r)["message"]
    assert seeded.registry.site(MANUFACTURER, "acme-plant").customer_id == "acme"
    r = await api["maker"].post(
        "/api/v1/sites",
        json={"id": "new", "customer_id": "acme", "name": "N", "timezone": "Mars/Olympus"},
    )
    assert r.status_code == 422 and "Mars/Olympus" in error_of(r)["message"]
    r = await api["maker"].put(
        "/api/v1/sites/acme-plant/calendar", json={"site_id": "x", "timezone": "No/Where"}
    )
    assert r.status_code == 422
    # what is left is importable: the .ics import that used to 500 on a bad zone
    ics = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
    r = await api["maker"].post(
        "/api/v1/sites/acme-plant/calendar.ics",
        content=ics,
        headers={"Content-Type": "text/calendar"},
    )
    assert r.status_code == 200, r.text


# -- bodies capped while they stream -------------------------------------------------------------
async def _call(app, path: str, chunks, headers: list[tuple[bytes, bytes]]):
    """Send ``chunks`` as a streamed body; returns (status, body, bytes the app asked for)."""
    read = 0
    it = iter(chunks)

    async def receive():
        nonlocal read
        try:
            chunk = next(it)
        except StopIteration:
            return {"type": "http.request", "body": b"", "more_body": False}
        read += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    out = {}

    async def send(message):
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
        elif message["type"] == "http.response.body":
            out["body"] = out.get("body", b"") + message.get("body", b"")

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 5000),
        "server": ("t", 80),
        "scheme": "http",
        "root_path": "",
    }
    await app(scope, receive, send)
    return out["status"], json.loads(out["body"]), read


async def test_a_huge_body_is_refused_at_the_cap_not_read_whole(api, seeded):
    seeded.settings.max_request_bytes = 1_000_000
    app, mb = api["app"], b"x" * 1_000_000
    maker = api["maker"].headers["x-api-key"].encode()
    # 300 MB declared: refused before a byte is read
    status, body, read = await _call(
        app,
        "/api/v1/customers",
        (mb for _ in range(300)),
        [
            (b"content-type", b"application/json"),
            (b"content-length", b"300000000"),
            (b"x-api-key", maker),
        ],
    )
    assert status == 413 and body["error"]["code"] == "payload_too_large" and read == 0
    # 300 MB streamed without a length: refused at the chunk that crosses the cap
    status, body, read = await _call(
        app,
        "/api/v1/customers",
        (mb for _ in range(300)),
        [(b"content-type", b"application/json"), (b"x-api-key", maker)],
    )
    assert status == 413 and read <= 2_000_000
    # telemetry too: and what was refused is in the quarantine, by its first bytes
    seeded.settings.max_payload_bytes = 1_000_000
    status, body, read = await _call(
        app,
        "/api/v1/telemetry",
        (mb for _ in range(300)),
        [(b"content-type", b"application/json"), (b"x-api-key", maker)],
    )
    assert status == 413 and read <= 2_000_000
    assert "exceeds the limit" in seeded.telemetry.quarantined(MANUFACTURER)[0]["reason"]


# -- headers, docs -------------------------------------------------------------------------------
async def test_every_response_carries_the_security_headers(seeded):
    app = create_server_app(platform=seeded)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        for url in ("/api/v1/health", "/login", "/api/v1/assets", "/no-such-page", "/docs"):
            h = (await c.get(url)).headers
            csp = h["content-security-policy"]
            script = re.search(r"script-src ([^;]*)", csp).group(1)
            assert "'unsafe-inline'" not in script and "frame-ancestors 'none'" in csp, url
            assert h["x-frame-options"] == "DENY" and h["x-content-type-options"] == "nosniff"
            assert h["referrer-policy"] == "same-origin"


async def test_the_api_docs_load_nothing_from_elsewhere(seeded):
    app = create_server_app(platform=seeded)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        for page in ("/docs", "/redoc"):
            html = (await c.get(page)).text
            sources = re.findall(r'(?:src|href)="([^"]+)"', html)
            assert sources and all(s.startswith("/") for s in sources), sources
            assert not re.search(r"<script>(?!</script>)", html)  # no inline script
            for s in sources:
                assert (await c.get(s)).status_code == 200, s
        assert (await c.get("/openapi.json")).json()["components"]["securitySchemes"]


# -- health and status ---------------------------------------------------------------------------
class FakeWorker:
    def __init__(self, state):
        self.state = state

    def status(self):
        return {
            "state": self.state,
            "running": self.state == "running",
            "restarts": 3,
            "last_error": "cannot reach mqtt://10.1.2.3:1883",
            "since": "2026-01-01T00:00:00+00:00",
            "accepted": 123456,
        }


async def test_health_is_degraded_when_a_worker_is_down_or_the_store_does_not_answer(
    seeded, monkeypatch
):
    app = create_app(platform=seeded)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.get("/api/v1/health")
        assert r.status_code == 200 and r.json()["status"] == "ok" and r.json()["problems"] == []
        app.state.workers["mqtt"] = FakeWorker("backing_off")
        r = await c.get("/api/v1/health")
        assert r.status_code == 503 and r.json()["problems"] == ["worker mqtt: backing_off"]
        app.state.workers.clear()

        def down():
            raise StoreError("cannot connect to PostgreSQL at postgresql://u:***@db/x")

        monkeypatch.setattr(seeded.store, "ping", down)
        r = await c.get("/api/v1/health")
        assert r.status_code == 503 and r.json()["problems"] == ["store: does not answer"]
        assert "cannot connect" not in r.text and "@db" not in r.text  # no key, no details


async def test_a_customer_sees_whether_workers_run_not_fleet_counters_or_the_broker(seeded):
    app = create_server_app(platform=seeded)
    app.state.workers["mqtt"] = FakeWorker("running")
    maker, _ = seeded.keys.create(MANUFACTURER, None, "m")
    acme, _ = seeded.keys.create(MANUFACTURER, "acme", "a")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        full = (await c.get("/api/v1/status", headers={"X-API-Key": maker})).json()
        assert full["workers"]["mqtt"]["accepted"] == 123456 and "10.1.2.3" in json.dumps(full)
        mine = (await c.get("/api/v1/status", headers={"X-API-Key": acme})).json()
        assert mine["workers"]["mqtt"]["running"] is True
        assert "accepted" not in mine["workers"]["mqtt"] and "10.1.2.3" not in json.dumps(mine)


# -- keys ----------------------------------------------------------------------------------------
async def test_the_last_manufacturer_key_cannot_be_revoked(api, seeded):
    maker = seeded.keys.authenticate(api["maker"].headers["x-api-key"])
    r = await api["maker"].delete(f"/api/v1/keys/{maker.key_id}")
    assert r.status_code == 409 and "last active manufacturer key" in error_of(r)["message"]
    assert seeded.keys.authenticate(api["maker"].headers["x-api-key"]) == maker
    spare, p = seeded.keys.create(MANUFACTURER, None, "spare")
    assert (await api["maker"].delete(f"/api/v1/keys/{maker.key_id}")).status_code == 200
    r = await api["acme"].get("/api/v1/assets")
    assert r.status_code == 200  # customers' keys were never in the count


async def test_failed_keys_from_one_address_get_429_with_retry_after(tmp_path):
    p = open_platform(
        Settings(db=str(tmp_path / "x.duckdb"), artifacts_dir=tmp_path / "a", auth_failure_limit=3)
    )
    try:
        good, _ = p.keys.create(MANUFACTURER, None, "m")
        app = create_app(platform=p)
        near = httpx.ASGITransport(app=app, client=("10.0.0.1", 1))
        far = httpx.ASGITransport(app=app, client=("10.0.0.2", 1))
        async with (
            httpx.AsyncClient(transport=near, base_url="http://t") as c,
            httpx.AsyncClient(transport=far, base_url="http://t") as other,
        ):
            codes = [
                (await c.get("/api/v1/sites", headers={"X-API-Key": f"pk_guess_{i}"})).status_code
                for i in range(5)
            ]
            assert codes == [401, 401, 401, 429, 429]
            r = await c.get("/api/v1/sites", headers={"X-API-Key": good})
            assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 60
            assert error_of(r)["code"] == "too_many_requests"
            r = await other.get("/api/v1/sites", headers={"X-API-Key": good})
            assert r.status_code == 200  # another address is not held up
    finally:
        p.close()


def test_the_throttle_lets_an_address_try_again_after_the_window():
    from prognos.errors import TooManyRequests
    from prognos.service.throttle import AuthThrottle

    now = [0.0]
    t = AuthThrottle(2, 60.0, clock=lambda: now[0])
    t.failed("a")
    t.failed("a")
    with pytest.raises(TooManyRequests) as e:
        t.check("a")
    assert e.value.retry_after == pytest.approx(60.0)
    now[0] = 60.5
    t.check("a")  # the window moved on


async def test_requests_run_concurrently_with_the_boundary(api):
    rs = await asyncio.gather(*(api["maker"].get("/api/v1/sites") for _ in range(20)))
    assert {r.status_code for r in rs} == {200}
    assert len({r.headers["x-request-id"] for r in rs}) == 20


async def test_the_startup_warm_up_answers_nobody_and_touches_nothing(api, seeded, caplog):
    """``warm_routes`` (run by the lifespan) walks every router once with a path no route has:
    a 404 sent to nobody, no log line, nothing stored; the routes answer as before."""
    from prognos.api.app import WARM_UP_PATH, warm_routes

    before = seeded.telemetry.count(MANUFACTURER)
    await warm_routes(api["app"])
    assert caplog.records == []
    assert seeded.telemetry.count(MANUFACTURER) == before
    r = await api["maker"].get(WARM_UP_PATH)
    assert r.status_code == 404 and set(r.json()["error"]) == SHAPE
    assert (await api["maker"].get("/api/v1/assets")).status_code == 200
