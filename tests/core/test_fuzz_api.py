"""The API under a bounded fuzz: every operation in the OpenAPI, valid and invalid inputs,
with a manufacturer's key and with a customer's. Nothing may answer 5xx, and the customer's
key may neither read nor change another customer's data.

Schemathesis generates the requests from ``/openapi.json`` (positive and negative modes);
path parameters are drawn from random strings and from the ids that exist (the caller's own,
the other customer's, none), so the tenancy checks meet real objects. Requests go to the app
in process, on one event loop in the test's thread (no server, no thread hop), which is what
lets more than 10,000 of them run in a few minutes on two cores. The runs are derandomised:
the same requests every time, so a failure here is a regression, not bad luck.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from prognos.api import create_app
from prognos.config import Settings
from prognos.domain import Customer
from prognos.domain.keys import MANUFACTURER
from prognos.domain.planning import Crew, SiteCalendar, Window, WorkOrder
from prognos.domain.telemetry import Rejection
from prognos.errors import AccessDenied
from prognos.service.platform import open_platform
from support import seed

pytestmark = pytest.mark.slow

SECRET = "globex-secret-7f3a"  # in globex's data only; no request ever carries it
EXAMPLES = {GenerationMode.POSITIVE: 100, GenerationMode.NEGATIVE: 64}
SHARES = 2  # processes, one per core


def build_world(tmp_path):
    tmp_path.mkdir(parents=True, exist_ok=True)
    p = open_platform(
        Settings(
            db=str(tmp_path / "fuzz.duckdb"),
            artifacts_dir=tmp_path / "a",
            refresh_interval=0,
            auth_failure_limit=1_000_000,  # negative cases send broken keys by the thousand
        )
    )
    seed(p)
    p.registry.add_customer(MANUFACTURER, Customer(id="globex", name=f"Globex {SECRET}"))
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    readings = [
        {
            "asset_id": "globex-p1",
            "ts": (now + timedelta(minutes=i)).isoformat(),
            "channel": "temp",
            "value": 20.0 + i,
        }
        for i in range(20)
    ]
    assert (
        p.telemetry.ingest_payload(
            MANUFACTURER, json.dumps(readings).encode(), "application/json"
        ).accepted
        == 20
    )
    p.store.quarantine(
        [Rejection(0, "value", f"bad {SECRET}", SECRET, "http", "globex-p1")], "http"
    )
    p.calendars.put(
        MANUFACTURER,
        SiteCalendar(
            site_id="globex-plant",
            timezone="Europe/Berlin",
            windows=[Window(kind="shutdown", start=now, end=now + timedelta(days=2), label=SECRET)],
        ),
    )
    p.resources.put_crew(MANUFACTURER, Crew(id="crew-1", skills={"pump"}, home_region="default"))
    for i, customer in enumerate(("globex", "acme")):
        p.orders.save(
            MANUFACTURER,
            WorkOrder(
                id=f"wo-{i}",
                asset_id=f"{customer}-p1",
                site_id=f"{customer}-plant",
                day=(now + timedelta(days=3)).date(),
                part=SECRET if customer == "globex" else "seal",
            ),
        )
    return p


def globex_state(p) -> dict:
    """What the acme key must never change: globex's readings, quarantine, calendar, orders."""
    return {
        "readings": p.store.telemetry_span("globex-p1"),
        "quarantine": p.store.count_quarantine("globex"),
        "calendar": p.store.get_document("calendar", "globex-plant"),
        "orders": p.store.list_documents("workorder", customer_id="globex"),
        "site": p.store.get_site("globex-plant"),
        "assets": p.store.list_assets(customer_id="globex"),
    }


def known_ids(p) -> dict[str, list[str]]:
    keys = [k.id for k in p.keys.list_keys(MANUFACTURER)]
    return {
        "asset_id": ["acme-p1", "globex-p1", "globex-p2", "no-such-asset"],
        "site_id": ["acme-plant", "globex-plant", "no-such-site"],
        "order_id": ["wo-0", "wo-1", "no-such-order"],
        "key_id": [*keys, "no-such-key"],
        "crew_id": ["crew-1", "new-crew"],
        "key": ["pump", "acme-p1", "globex-p1"],
    }


def strategy(op, mode, ids):
    """Generated requests, and as many again with each path parameter set to a known id."""
    base = op.as_strategy(mode)
    names = [p.name for p in op.path_parameters]
    if not names:
        return base
    known = [
        op.as_strategy(mode, path_parameters={n: v for n in names})
        for v in sorted({v for n in names for v in ids.get(n, [])})
    ]
    return st.one_of(base, *known) if known else base


def fuzz(targets: list[Target], ids: dict, share: int, shares: int) -> Counter:
    """Every ``shares``-th operation from ``share`` on, each generated request sent to every
    target (one generation, several requests: generating costs more than answering)."""
    schema = schemathesis.openapi.from_dict(targets[0].app.openapi())
    loop = asyncio.new_event_loop()
    clients = [
        httpx.AsyncClient(transport=httpx.ASGITransport(app=t.app), base_url="http://t")
        for t in targets
    ]
    counts: Counter = Counter()

    def fuzz_one(op, mode, n) -> None:
        @settings(
            max_examples=n,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy(op, mode, ids))
        def run(case):
            for t, client in zip(targets, clients, strict=True):
                kw = case.as_transport_kwargs(base_url="http://t", headers={"X-API-Key": t.key})
                r = loop.run_until_complete(send(client, kw))
                counts[t.who] += 1
                counts[f"{t.who} {r.status_code // 100}xx"] += 1
                t.check(op.label, kw, r)

        try:
            run()
        except Unsatisfiable:  # nothing of this mode exists (no invalid form of it)
            counts["unsatisfiable"] += 1

    try:
        ops = [r.ok() for r in schema.get_all_operations()]
        for op in ops[share::shares]:
            for mode, n in EXAMPLES.items():
                fuzz_one(op, mode, n)
    finally:
        for c in clients:
            loop.run_until_complete(c.aclose())
        loop.close()
    return counts


async def send(client: httpx.AsyncClient, kw: dict) -> httpx.Response:
    """One generated request; one the app raises out of (it must not) is a 599 here."""
    try:
        return await client.request(
            kw["method"],
            kw["url"],
            params=kw.get("params"),
            headers=kw.get("headers"),
            json=kw.get("json"),
            content=kw.get("data"),
        )
    except Exception as e:  # the app let an exception out
        return httpx.Response(599, text=f"{type(e).__name__}: {e}")


def shape_problems(r: httpx.Response) -> list[str]:
    if r.status_code < 400:
        return []
    try:
        err = r.json()["error"]
    except Exception:
        return [f"{r.status_code} not in the error shape: {r.text[:200]}"]
    return [] if set(err) == {"code", "message", "hint", "details"} else [f"keys {sorted(err)}"]


@dataclass
class Target:
    who: str
    app: object
    key: str
    check: object


def fuzz_share(share: int, shares: int, folder: str) -> dict:
    """One process's part: a world for each key (the manufacturer's writes stay out of the
    customer's), every ``shares``-th operation fuzzed against both."""
    worlds = {who: build_world(Path(folder) / f"{who}-{share}") for who in ("maker", "acme")}
    try:
        maker, _ = worlds["maker"].keys.create(MANUFACTURER, None, "fuzz maker")
        acme, _ = worlds["acme"].keys.create(MANUFACTURER, "acme", "fuzz acme")
        before = globex_state(worlds["acme"])
        failures: list[str] = []

        def no_5xx(label, kw, r):
            if r.status_code >= 500:
                failures.append(f"{label} {r.status_code}: {kw} -> {r.text[:300]}")
            failures.extend(f"{label}: {x}" for x in shape_problems(r))

        def nothing_of_globex(label, kw, r):
            no_5xx(label, kw, r)
            if SECRET in r.text:
                failures.append(f"{label} leaked globex's data: {kw['url']}")
            if r.status_code < 300 and "globex" in kw["url"].split("?")[0]:
                failures.append(f"{label} answered {r.status_code} for {kw['url']}")

        targets = [
            Target("maker", create_app(platform=worlds["maker"]), maker, no_5xx),
            Target("acme", create_app(platform=worlds["acme"]), acme, nothing_of_globex),
        ]
        counts = fuzz(targets, known_ids(worlds["acme"]), share, shares)
        if globex_state(worlds["acme"]) != before:
            failures.append("a request with acme's key changed globex's data")
        try:
            worlds["maker"].keys.authenticate(maker)
        except AccessDenied:
            failures.append("the last manufacturer key was revoked")
        return {"failures": failures, "counts": counts}
    finally:
        for w in worlds.values():
            w.close()


@pytest.mark.timeout(900)  # about 2 minutes on two idle cores; a busy machine takes longer
def test_the_api_under_fuzz_answers_no_5xx_and_nothing_across_tenants(tmp_path):
    """Both halves of the operations in parallel (two processes, one per core)."""
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(SHARES, mp_context=ctx) as pool:
        parts = list(
            pool.map(fuzz_share, range(SHARES), [SHARES] * SHARES, [str(tmp_path)] * SHARES)
        )
    failures = [f for part in parts for f in part["failures"]]
    counts = sum((part["counts"] for part in parts), Counter())
    assert failures == [], "\n".join(failures[:20])
    assert counts["maker"] + counts["acme"] >= 10_000, counts
    assert counts["maker 2xx"] > 1_000 and counts["maker 4xx"] > 1_000, counts
    assert counts["acme 2xx"] > 500 and counts["acme 4xx"] > 1_000, counts
