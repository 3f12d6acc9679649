"""The panel's session holds no key, forms carry a CSRF token, logins are throttled, pages run
no inline script, and a revoked key loses its session and its live stream within seconds."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import httpx
import pytest
from loop_client import LoopClient

from prognos.config import Settings
from prognos.domain.keys import MANUFACTURER
from prognos.server import create_server_app
from prognos.service.platform import open_platform
from prognos.web.session import COOKIE
from support import running_app, seed, wait_until

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "prognos" / "web" / "templates"


def token_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def test_every_form_that_posts_carries_the_token():
    forms = 0
    for path in TEMPLATES.glob("*.html"):
        for form in re.findall(r'<form[^>]*method="post"[^>]*>.*?</form>', path.read_text(), re.S):
            forms += 1
            assert "{{ csrf_field }}" in form, f"{path.name}: {form[:120]}"
    assert forms >= 5


def test_no_template_runs_inline_script():
    for path in TEMPLATES.glob("*.html"):
        html = path.read_text()
        assert not re.search(r"<script(?![^>]*\b(src|type=\"application/json\"))[^>]*>", html), path
        assert not re.search(r"\son[a-z]+=\"", html), path.name  # no onclick= and the like


def test_the_cookie_holds_the_key_id_signed_not_the_key(client, fleet):
    key = fleet[1]["nordjet"]
    token = token_of(client.get("/login").text)
    r = client.post("/login", data={"key": key, "next": "/", "csrf": token})
    value = client.cookies[COOKIE]
    assert r.status_code == 303 and key not in value and key.split("_", 2)[2] not in value
    assert client.get("/").status_code == 200
    client.cookies.set(COOKIE, value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB"))
    assert client.get("/").status_code == 303  # a tampered cookie is no session


def test_a_post_without_the_sessions_token_is_refused(client, fleet):
    client.log_in(fleet[1]["maker"])
    r = client.post("/workorders/wo-1001/dispatch")
    assert r.status_code == 403 and "security token" in r.text
    r = client.post("/workorders/wo-1001/dispatch", data={"csrf": "someone-elses"})
    assert r.status_code == 403
    other = LoopClient(client.app)
    try:
        other.log_in(fleet[1]["maker"])
        r = client.post("/alarms/al-2001/ack", data={"csrf": other.csrf})  # another session's
        assert r.status_code == 403
    finally:
        other.close()
    r = client.post("/logout")
    assert r.status_code == 403  # logging someone out takes the token too
    assert client.get("/").status_code == 200


def test_the_login_form_needs_its_token_too(client, fleet):
    r = client.post("/login", data={"key": fleet[1]["maker"], "next": "/"})
    assert r.status_code == 403
    assert client.get("/").status_code == 303  # no session came of it


@pytest.fixture
def own(tmp_path):
    p = open_platform(
        Settings(db=str(tmp_path / "x.duckdb"), artifacts_dir=tmp_path / "a", auth_failure_limit=3)
    )
    seed(p)
    yield p
    p.close()


def test_failed_logins_are_throttled_per_address(own):
    c = LoopClient(create_server_app(platform=own))
    try:
        good, _ = own.keys.create(MANUFACTURER, None, "m")
        token = token_of(c.get("/login").text)
        codes = [
            c.post("/login", data={"key": f"pk_x_{i}", "csrf": token}).status_code for i in range(4)
        ]
        assert codes == [401, 401, 401, 429]
        r = c.post("/login", data={"key": good, "csrf": token})
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    finally:
        c.close()


def test_a_revoked_key_ends_its_session(own):
    key, p = own.keys.create(MANUFACTURER, "acme", "acme")
    _spare, _ = own.keys.create(MANUFACTURER, None, "m")
    c = LoopClient(create_server_app(platform=own))
    try:
        c.log_in(key)
        assert c.get("/").status_code == 200
        own.keys.revoke(MANUFACTURER, p.key_id)
        assert c.get("/").status_code == 303
        assert c.get("/panel/data/fleet/stamp").status_code == 401
    finally:
        c.close()


def test_a_revoked_keys_live_stream_ends_within_seconds(own):
    from prognos.web.session import session_for

    key, p = own.keys.create(MANUFACTURER, "acme", "acme")
    name, value, _ = session_for(own, key)
    events: list[str] = []
    ended = threading.Event()
    with running_app(create_server_app(platform=own)) as base:

        def listen():
            with (
                httpx.Client(base_url=base, cookies={name: value}, timeout=30) as h,
                h.stream("GET", "/events", params={"asset": "acme-p1"}) as r,
            ):
                for line in r.iter_lines():
                    events.append(line)
            ended.set()

        t = threading.Thread(target=listen, daemon=True)
        t.start()
        wait_until(lambda: any("hello" in e for e in events), 10, "the stream to open")
        revoked_at = time.monotonic()
        own.keys.revoke(MANUFACTURER, p.key_id)
        assert ended.wait(10), "the stream outlived its key"
        assert time.monotonic() - revoked_at < 5
        assert any(e == "event: end" for e in events)
        t.join(5)
