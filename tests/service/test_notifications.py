"""Alarm news reaches real receivers: a webhook (an ``http.server`` on this machine) signed
with its endpoint's secret, e-mail through an SMTP server (aiosmtpd), retried with backoff and
given up on as a dead letter; a customer's targets hear only of its own assets."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from prognos import devservers
from prognos.config import Settings
from prognos.domain.keys import MANUFACTURER
from prognos.domain.notifications import Targets
from prognos.service.hosting import workers_for
from prognos.service.platform import open_platform
from support import seed, wait_until

NOW = datetime.now(UTC).replace(microsecond=0)


class Receiver:
    """A webhook receiver: records each POST; answers ``status`` (a list: one per request)."""

    def __init__(self, statuses: list[int] | None = None):
        self.got: list[dict] = []
        self.statuses = list(statuses or [])
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.got.append({"headers": dict(self.headers), "body": body})
                code = outer.statuses.pop(0) if outer.statuses else 204
                self.send_response(code)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self) -> list[str]:
        return [json.loads(g["body"])["event"] for g in self.got]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def raise_and_clear(platform, asset: str) -> str:
    a = platform.alarms.report(MANUFACTURER, asset, "pressure", "pressure low", "critical", NOW)
    platform.alarms.clear(MANUFACTURER, a.id, "valve reset")
    return a.id


def test_a_webhook_hears_of_raise_and_clear_signed(seeded, receiver):
    stored, made = seeded.notifications.put_targets(
        MANUFACTURER,
        Targets.model_validate(
            {"webhooks": [{"id": "ops", "url": receiver.url, "secret": "s3cret"}]}
        ),
    )
    assert made == {} and stored.webhooks[0].secret == "…cret"  # never shown again whole
    alarm_id = raise_and_clear(seeded, "acme-p1")
    assert receiver.got == []  # queued: nothing is sent on the path that raised it
    assert seeded.notifications.deliver_due() == 2
    assert receiver.events() == ["raised", "cleared"]
    for g in receiver.got:
        expected = "sha256=" + hmac.new(b"s3cret", g["body"], hashlib.sha256).hexdigest()
        assert g["headers"]["X-Prognos-Signature"] == expected
        body = json.loads(g["body"])
        assert body["alarm"]["id"] == alarm_id and body["alarm"]["asset_id"] == "acme-p1"
        assert g["headers"]["X-Prognos-Event"] == body["event"]
    assert json.loads(receiver.got[1]["body"])["alarm"]["cleared_by"] == "local manufacturer"
    assert seeded.notifications.deliver_due() == 0  # each once


def test_a_customers_webhook_hears_only_of_its_own(seeded, receiver):
    key, _ = seeded.keys.create(MANUFACTURER, "acme", "acme ops")
    acme = seeded.keys.authenticate(key)
    _, made = seeded.notifications.put_targets(
        acme, Targets.model_validate({"webhooks": [{"id": "acme", "url": receiver.url}]})
    )
    secret = made["acme"]  # made for it, shown once
    raise_and_clear(seeded, "globex-p1")
    raise_and_clear(seeded, "acme-p2")
    seeded.notifications.deliver_due()
    assert [json.loads(g["body"])["alarm"]["asset_id"] for g in receiver.got] == ["acme-p2"] * 2
    g = receiver.got[0]
    assert g["headers"]["X-Prognos-Signature"].endswith(
        hmac.new(secret.encode(), g["body"], hashlib.sha256).hexdigest()
    )
    # sending the masked secret back keeps it; the targets of another customer stay unseen
    seeded.notifications.put_targets(acme, seeded.notifications.targets(acme))
    assert seeded.notifications._stored("acme").webhooks[0].secret == secret
    from prognos.errors import NotFound

    with pytest.raises(NotFound):
        seeded.notifications.targets(acme, "globex")


def test_failed_deliveries_are_retried_then_dead_lettered(tmp_path):
    settings = Settings(db=str(tmp_path / "n.duckdb"), notify_max_attempts=3, notify_retry_s=5)
    p = open_platform(settings)
    receiver = Receiver([500, 503, 502])
    try:
        seed(p)
        p.notifications.put_targets(
            MANUFACTURER, Targets.model_validate({"webhooks": [{"id": "x", "url": receiver.url}]})
        )
        p.alarms.report(MANUFACTURER, "acme-p1", "pressure", "pressure low")
        now = datetime.now(UTC)
        assert p.notifications.deliver_due(now) == 0
        assert p.notifications.deliver_due(now) == 0  # not due again yet: backing off
        assert p.notifications.deliver_due(now + timedelta(seconds=6)) == 0  # second try fails
        assert p.notifications.status()["dead_letters"] == 0
        assert p.notifications.deliver_due(now + timedelta(hours=2)) == 0  # third: given up
        assert len(receiver.got) == 3
        s = p.notifications.status()
        assert s["dead_letters"] == 1 and s["pending"] == 0 and s["retried"] == 2
        (dead,) = p.notifications.dead_letters(MANUFACTURER)
        assert dead["attempts"] == 3 and "answered 502" in dead["last_error"]
    finally:
        receiver.close()
        p.close()


def test_email_goes_through_an_smtp_server(tmp_path):
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    got = []

    class Keep(Message):
        def handle_message(self, message):
            got.append(message)

    port = devservers.free_port()
    smtp = Controller(Keep(), hostname="127.0.0.1", port=port)
    smtp.start()
    p = open_platform(
        Settings(db=str(tmp_path / "m.duckdb"), smtp_host="127.0.0.1", smtp_port=port,
                 smtp_from="alarms@maker.example")
    )  # fmt: skip
    try:
        seed(p)
        p.notifications.put_targets(
            MANUFACTURER,
            Targets.model_validate(
                {"email": [{"id": "desk", "to": ["desk@maker.example"], "events": ["raised"],
                            "min_severity": "critical"}]}
            ),
        )  # fmt: skip
        p.alarms.report(MANUFACTURER, "acme-p1", "pressure", "pressure low", "warning")
        raise_and_clear(p, "acme-p2")  # critical: raised is sent, cleared is not asked for
        assert p.notifications.deliver_due() == 1
        (m,) = got
        assert m["To"] == "desk@maker.example" and m["From"] == "alarms@maker.example"
        assert m["Subject"] == "[prognos] critical alarm raised: acme-p2 pressure"
        assert "pressure low" in m.get_payload()
    finally:
        p.close()
        smtp.stop()


def test_the_server_hosts_the_alarm_workers_and_delivers_in_the_background(tmp_path, receiver):
    p = open_platform(Settings(db=str(tmp_path / "w.duckdb"), notify_interval=0.05))
    workers = workers_for(p)
    try:
        seed(p)
        assert {"alarms", "notifications"} <= set(workers)
        p.notifications.put_targets(
            MANUFACTURER, Targets.model_validate({"webhooks": [{"id": "x", "url": receiver.url}]})
        )
        workers["notifications"].start()
        p.alarms.report(MANUFACTURER, "acme-p1", "pressure", "pressure low")
        wait_until(lambda: receiver.events() == ["raised"], 10, "the webhook to hear of it")
        wait_until(lambda: workers["notifications"].status()["sent"] == 1, 5, "the count")
        assert workers["notifications"].status()["dead_letters"] == 0
    finally:
        for w in workers.values():
            w.stop(5)
        p.close()
