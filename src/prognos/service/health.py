"""Is the platform well, and what may a caller know about its workers.

``health`` answers load balancers and people without a key, so it names what is wrong but no
detail (no broker address, no driver message): ``degraded`` when the store does not answer a
round trip or a worker is failed or backing off. ``status`` is per tenant: the manufacturer sees
every worker with its counters and last error; a customer sees only whether each worker runs,
not fleet-wide counters or where the broker is.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from prognos.domain import Principal
from prognos.domain.keys import MANUFACTURER
from prognos.errors import PrognosError
from prognos.service.platform import Platform
from prognos.service.workers.base import Worker

log = logging.getLogger(__name__)

PUBLIC_WORKER_FIELDS = ("state", "running", "restarts", "since")


def health(platform: Platform, workers: Mapping[str, Worker]) -> dict[str, Any]:
    """``{"status": "ok" | "degraded", "store", "problems": [...]}`` for anyone: the store
    answers a round trip, and no worker of this or any other process on the same store is
    failed, backing off, refused or silent (``ClusterService``, from their heartbeats)."""
    problems = []
    try:
        platform.store.ping()
    except PrognosError as e:
        log.warning("health: the store does not answer: %s", e)
        problems.append("store: does not answer")
    else:
        try:
            problems += platform.cluster.problems(MANUFACTURER, dict(workers), detail=False)
        except PrognosError as e:  # the store went away between the two reads
            log.warning("health: the workers' heartbeats cannot be read: %s", e)
            problems.append("store: does not answer")
    return {
        "status": "degraded" if problems else "ok",
        "store": platform.store_kind,
        "problems": problems,
    }


def visible(p: Principal, statuses: Mapping[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Workers' statuses as the caller may see them (see the module's docstring)."""
    if p.is_manufacturer:
        return dict(statuses)
    return {n: {k: s[k] for k in PUBLIC_WORKER_FIELDS if k in s} for n, s in statuses.items()}


def status(p: Principal, platform: Platform, workers: Mapping[str, Worker]) -> dict[str, Any]:
    """Workers and the store as the caller may see them (see the module's docstring)."""
    out = {name: w.status() for name, w in workers.items()}
    return {"store": platform.store_kind, "workers": visible(p, out)}
