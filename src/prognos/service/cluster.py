"""Every process of a deployment at a glance: its workers' status, health, Prometheus metrics.

Workers of every process beat into the store (``workers/heartbeat``); this use case reads them
back beside the calling process's own, so any server's ``/api/v1/status``, ``/api/v1/health``
and ``/metrics`` answer for the whole deployment, not only for itself.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from prognos.domain import Principal
from prognos.service.workers.base import Worker
from prognos.service.workers.heartbeat import process_id
from prognos.store.ports import ActivityPort, StampsPort, WorkersPort

log = logging.getLogger(__name__)

STALE_BEATS = 5  # a row this many heartbeat intervals old belongs to a process that is gone
DROP_DEGRADES = timedelta(hours=1)  # a broker drop keeps health degraded this long
BAD_STATES = {"failed", "backing_off", "refused"}


class ClusterService:
    def __init__(
        self,
        workers: WorkersPort,
        activity: ActivityPort,
        stamps: StampsPort,
        heartbeat_s: float = 2.0,
    ):
        self._workers = workers
        self._activity = activity
        self._stamps = stamps
        self.stale_s = STALE_BEATS * heartbeat_s

    def workers(self, p: Principal, local: dict[str, Worker]) -> dict[str, dict[str, Any]]:
        """This process's workers by name, then other processes' as ``name@host:pid``."""
        p.require_manufacturer()
        out = {name: w.status() for name, w in local.items()}
        me = process_id()
        for r in self._workers.list_workers():
            proc = f"{r['host']}:{r['pid']}"
            if proc == me:
                continue
            out[f"{r['kind']}@{proc}"] = self._remote(r)
        return out

    def rows(self, p: Principal, kind: str | None = None) -> list[dict[str, Any]]:
        """The heartbeat rows as stored (every process, this one too)."""
        p.require_manufacturer()
        return self._workers.list_workers(kind)

    def forget(self, p: Principal, worker_ids: list[str]) -> None:
        """Remove heartbeat rows (a benchmark between rounds; an operator after a decommission)."""
        p.require_manufacturer()
        for wid in worker_ids:
            self._workers.forget_worker(wid)

    def _remote(self, r: dict[str, Any]) -> dict[str, Any]:
        body = dict(r["body"])
        stale = r["age_s"] > self.stale_s
        state = r["state"] if r["state"] == "stopped" else ("lost" if stale else r["state"])
        return {
            **body,
            "state": state,
            "running": state not in ("stopped", "lost", "failed"),
            "host": r["host"],
            "pid": r["pid"],
            "heartbeat_age_s": round(r["age_s"], 1),
        }

    def problems(self, p: Principal, local: dict[str, Worker], detail: bool = True) -> list[str]:
        """What makes the deployment degraded, in words (empty: healthy): a worker of any
        process failed, backing off, refused or gone silent, a broker drop in the last hour.
        ``detail`` adds each worker's last error (the manufacturer's view; health answers
        anyone, so it leaves errors, which name hosts and brokers, out)."""
        p.require_manufacturer()
        out = []
        now = datetime.now(UTC)
        for name, st in self.workers(p, local).items():
            state = st.get("state")
            if state in BAD_STATES or state == "lost":
                why = st.get("last_error") if detail else None
                out.append(f"worker {name}: {state}" + (f" ({why})" if why else ""))
            drop = st.get("last_broker_drop")
            if drop and now - datetime.fromisoformat(drop) < DROP_DEGRADES:
                out.append(
                    f"worker {name}: the MQTT broker dropped messages in the last hour "
                    + (f"(last at {drop}); " if detail else "")
                    + "readings were lost"
                )
        return out

    def collector(self, p: Principal, local: dict[str, Worker]) -> Collector:
        """A Prometheus collector over the whole deployment, read at every scrape."""
        p.require_manufacturer()
        return _Metrics(self, p, local)


_COUNTERS = {  # status field -> (metric, help)
    "received": ("prognos_mqtt_messages_received", "MQTT messages received"),
    "acked": ("prognos_mqtt_messages_acked", "MQTT messages acknowledged after commit"),
    "accepted": ("prognos_ingest_readings_stored", "readings stored by the worker"),
    "duplicates": ("prognos_ingest_readings_duplicate", "readings already stored (redeliveries)"),
    "rejected": ("prognos_ingest_quarantined", "records quarantined by the worker"),
    "dead_letters": ("prognos_mqtt_dead_letters", "messages set aside after failing alone"),
    "broker_drops_seen": (
        "prognos_mqtt_broker_drops_seen",
        "messages the broker dropped while the worker watched (lost readings)",
    ),
    "takeovers": ("prognos_mqtt_takeovers", "broker sessions of silent workers taken over"),
    "refreshed": ("prognos_forecasts_refreshed", "forecasts saved by the refresher"),
}


class _Metrics(Collector):
    def __init__(self, cluster: ClusterService, p: Principal, local: dict[str, Worker]):
        self.cluster, self.p, self.local = cluster, p, local

    def collect(self) -> Iterable[Any]:
        up = GaugeMetricFamily("prognos_store_up", "1 when the store answers")
        try:
            workers = self.cluster.workers(self.p, self.local)
            backlog, lag = self.cluster._activity.refresh_backlog()
            up.add_metric([], 1)
        except Exception as e:
            log.warning("metrics: the store does not answer: %s", e)
            up.add_metric([], 0)
            yield up
            return
        yield up
        labels = ["worker", "process"]
        state = GaugeMetricFamily(
            "prognos_worker_up", "1 while the worker runs (0: failed, lost, stopped)", labels=labels
        )
        age = GaugeMetricFamily(
            "prognos_worker_heartbeat_age_seconds",
            "seconds since the worker's heartbeat",
            labels=labels,
        )
        unacked = GaugeMetricFamily(
            "prognos_mqtt_unacked_messages",
            "messages received and not yet committed (lag)",
            labels=labels,
        )
        dropped = GaugeMetricFamily(
            "prognos_mqtt_broker_dropped_messages",
            "the broker's own count of dropped messages ($SYS)",
            labels=labels,
        )
        counters = {k: CounterMetricFamily(m, h, labels=labels) for k, (m, h) in _COUNTERS.items()}
        me = process_id()
        for key, st in workers.items():
            name, _, proc = key.partition("@")
            lv = [name, proc or me]
            good = st.get("running") and st.get("state") not in BAD_STATES | {"lost"}
            state.add_metric(lv, 1 if good else 0)
            age.add_metric(lv, float(st.get("heartbeat_age_s", 0.0)))
            if "received" in st and "acked" in st:
                unacked.add_metric(lv, max(0, st["received"] - st.get("qos0", 0) - st["acked"]))
            if st.get("broker_dropped") is not None:
                dropped.add_metric(lv, st["broker_dropped"])
            for k, fam in counters.items():
                if isinstance(st.get(k), int | float):
                    fam.add_metric(lv, st[k])
        yield from (state, age, unacked, dropped, *counters.values())
        b = GaugeMetricFamily(
            "prognos_forecast_refresh_backlog_assets", "assets with readings not yet forecast"
        )
        b.add_metric([], backlog)
        a = GaugeMetricFamily(
            "prognos_forecast_age_seconds",
            "how long the oldest readings not yet forecast have waited (0: none waits)",
        )
        a.add_metric([], lag)
        yield b
        yield a
