"""Alarm news to the people who asked for it: webhooks (HTTP POST of JSON, signed) and e-mail.

The manufacturer's targets hear about every alarm, a customer's about its own assets' only.
Raising, escalating or clearing an alarm only writes the news to the outbox (``enqueue``, one
insert); the notifications worker delivers it (``deliver_due``), so a slow or dead receiver never
holds up ingest. A failed delivery is tried again after an exponential backoff with jitter; after
``PROGNOS_NOTIFY_MAX_ATTEMPTS`` it is a dead letter, counted in the worker's status.

Each webhook request carries ``X-Prognos-Signature: sha256=<hex>``, the HMAC-SHA256 of the exact
body with the endpoint's secret, so a receiver can tell the news is ours (docs/alarms.md).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import smtplib
import uuid
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from prognos.backoff import Backoff
from prognos.config import Settings
from prognos.domain import Principal
from prognos.domain.alarms import Alarm, AlarmEvent
from prognos.domain.notifications import EmailTarget, Targets, Webhook
from prognos.service.registry import RegistryService
from prognos.service.timeutil import utcnow
from prognos.store.ports import DocumentsPort, Kind, OutboxPort

MANUFACTURER_OWNER = "manufacturer"

log = logging.getLogger(__name__)

SIGNATURE = "X-Prognos-Signature"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class NotificationService:
    def __init__(
        self,
        settings: Settings,
        outbox: OutboxPort,
        documents: DocumentsPort,
        registry: RegistryService,
    ):
        self.settings = settings
        self._outbox = outbox
        self._docs = documents
        self._registry = registry
        self.sent = 0
        self.retried = 0
        self.dead = 0

    # -- who hears -----------------------------------------------------------------------------
    def _owner(self, p: Principal, customer_id: str | None) -> str:
        if customer_id is None:
            return MANUFACTURER_OWNER if p.is_manufacturer else str(p.customer_id)
        self._registry.customer(p, customer_id)  # not found unless it is the caller's own
        return customer_id

    def targets(self, p: Principal, customer_id: str | None = None) -> Targets:
        """The caller's targets (or, for the manufacturer, a customer's), secrets masked."""
        return self._stored(self._owner(p, customer_id)).masked()

    def put_targets(
        self, p: Principal, targets: Targets, customer_id: str | None = None
    ) -> tuple[Targets, dict[str, str]]:
        """Replace the targets; returns them masked and the secrets made for webhooks that came
        without one (shown this once). A webhook sent with a masked secret keeps its old one."""
        owner = self._owner(p, customer_id)
        old = {w.id: w for w in self._stored(owner).webhooks}
        made: dict[str, str] = {}
        hooks = []
        for w in targets.webhooks:
            secret = w.secret
            if secret.startswith("…") and w.id in old:
                secret = old[w.id].secret
            elif not secret or secret.startswith("…"):
                secret = made[w.id] = secrets.token_urlsafe(24)
            hooks.append(w.model_copy(update={"secret": secret}))
        stored = targets.model_copy(update={"webhooks": hooks})
        self._docs.put_document(
            Kind.notifications,
            owner,
            stored.model_dump(mode="json"),
            customer_id=None if owner == MANUFACTURER_OWNER else owner,
        )
        return stored.masked(), made

    def _stored(self, owner: str) -> Targets:
        body = self._docs.get_document(Kind.notifications, owner)
        return Targets.model_validate(body) if body else Targets()

    # -- news in -------------------------------------------------------------------------------
    def enqueue(self, events: list[tuple[AlarmEvent, Alarm]]) -> int:
        """Write the news for every target that wants it; returns how many deliveries."""
        now = utcnow()
        owners: dict[str, Targets] = {}
        items = []
        for event, a in events:
            for owner in (MANUFACTURER_OWNER, a.customer_id):
                if owner not in owners:
                    owners[owner] = self._stored(owner)
                t = owners[owner]
                body = {
                    "event": event.value,
                    "alarm": a.model_dump(mode="json", exclude={"history"}),
                    "at": now.isoformat(),
                }
                for channel, targets in (("webhook", t.webhooks), ("email", t.email)):
                    for target in targets:
                        if target.wants(event, a):
                            items.append(
                                {
                                    "id": f"nt-{uuid.uuid4().hex[:16]}",
                                    "created_at": now,
                                    "due_at": now,
                                    "state": "pending",
                                    "attempts": 0,
                                    "owner": owner,
                                    "channel": channel,
                                    "target": target.id,
                                    "alarm_id": a.id,
                                    "event": event.value,
                                    "last_error": None,
                                    "body": body,
                                }
                            )
        if items:
            self._outbox.enqueue_notifications(items)
        return len(items)

    # -- news out (the worker) -----------------------------------------------------------------
    def deliver_due(self, now: datetime | None = None, limit: int = 100) -> int:
        """Try every delivery that is due; returns how many went through."""
        now = now or utcnow()
        ok = 0
        owners: dict[str, Targets] = {}
        for item in self._outbox.due_notifications(now, limit):
            owner = item["owner"]
            if owner not in owners:
                owners[owner] = self._stored(owner)
            try:
                self._deliver(item, owners[owner])
            except Exception as e:  # any failure is tried again later, up to the limit
                self._failed(item, f"{type(e).__name__}: {e}"[:500], now)
                continue
            self._outbox.settle_notification(item["id"], "sent", item["attempts"] + 1, now, None)
            self.sent += 1
            ok += 1
        return ok

    def _deliver(self, item: dict[str, Any], t: Targets) -> None:
        target = {w.id: w for w in (*t.webhooks, *t.email)}.get(item["target"])
        if target is None:
            raise LookupError(f"target {item['target']!r} of {item['owner']} no longer exists")
        if isinstance(target, Webhook):
            self._post(item, target)
        else:
            assert isinstance(target, EmailTarget)
            self._mail(item, target)

    def _post(self, item: dict[str, Any], w: Webhook) -> None:
        import httpx  # here: it loads its own CLI (rich) with it, half a second at start-up

        body = json.dumps(item["body"], separators=(",", ":"), sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE: sign(w.secret, body),
            "X-Prognos-Event": item["event"],
            "X-Prognos-Delivery": item["id"],
            "User-Agent": "prognos-alarms",
        }
        r = httpx.post(
            str(w.url), content=body, headers=headers, timeout=self.settings.webhook_timeout
        )
        if r.status_code >= 300:
            raise RuntimeError(f"{w.url} answered {r.status_code}")

    def _mail(self, item: dict[str, Any], e: EmailTarget) -> None:
        s = self.settings
        if not s.smtp_host:
            raise RuntimeError("PROGNOS_SMTP_HOST is not set: e-mail cannot be sent")
        a = item["body"]["alarm"]
        msg = EmailMessage()
        msg["From"] = s.smtp_from
        msg["To"] = ", ".join(e.to)
        msg["Subject"] = (
            f"[prognos] {a['severity']} alarm {item['event']}: {a['asset_id']} {a['cause']}"
        )
        msg["Message-ID"] = f"<{item['id']}@prognos>"
        lines = [
            f"{a['message']}",
            "",
            f"asset: {a['asset_id']} (customer {a['customer_id']}, site {a['site_id']})",
            f"cause: {a['cause']}   severity: {a['severity']}   state: {a['state']}",
            f"first seen: {a['first_seen']}   last seen: {a['last_seen']}   count: {a['count']}",
        ]
        if a.get("cleared_by"):
            lines.append(f"cleared by: {a['cleared_by']} at {a['cleared_at']}")
        msg.set_content("\n".join(lines) + "\n")
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.webhook_timeout) as smtp:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_username:
                smtp.login(s.smtp_username, s.smtp_password or "")
            smtp.send_message(msg)

    def _failed(self, item: dict[str, Any], error: str, now: datetime) -> None:
        attempts = item["attempts"] + 1
        if attempts >= self.settings.notify_max_attempts:
            self._outbox.settle_notification(item["id"], "dead", attempts, now, error)
            self.dead += 1
            log.warning(
                "notification %s given up after %d attempts: %s", item["id"], attempts, error
            )
            return
        b = Backoff(low=self.settings.notify_retry_s, high=3600.0)
        b.attempts = attempts - 1
        due = now + timedelta(seconds=b.next())
        self._outbox.settle_notification(item["id"], "pending", attempts, due, error)
        self.retried += 1

    def status(self) -> dict[str, Any]:
        counts = self._outbox.outbox_counts()
        return {
            "sent": self.sent,
            "retried": self.retried,
            "pending": counts.get("pending", 0),
            "dead_letters": counts.get("dead", 0),
        }

    def dead_letters(self, p: Principal, limit: int = 50) -> list[dict[str, Any]]:
        p.require_manufacturer()
        return self._outbox.dead_notifications(limit)
