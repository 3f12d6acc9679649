"""The SQL of one store port, alarms: one row per alarm, pages and groups for the desk, bulk
acknowledgement, and when each asset last sent a reading; mixed into ``SqlStore``.

Filters, paging and grouping stay in the database (``prognos bench web`` times the desk at
10,000 alarms); the service layer (``service.alarms``) decides who may see what.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from prognos.domain.alarms import Alarm
from prognos.store.sql import SqlBase, _json_load, from_db_time, to_naive_utc

_COLS = [
    "id", "state", "severity", "customer_id", "site_id", "asset_id", "type_id", "cause", "rule",
    "channel", "message", "first_seen", "last_seen", "occurrences", "touched_at",
    "clear_after_s", "silenced_because", "escalated_at", "acked_at", "acked_by", "ack_note",
    "cleared_at", "cleared_by", "updated_at", "details", "history",
]  # fmt: skip
_TIMES = {"first_seen", "last_seen", "touched_at", "escalated_at", "acked_at", "cleared_at"}
_SELECT = f"SELECT {', '.join(_COLS)} FROM alarms"
CHUNK = 1000  # ids per IN list


@dataclass(frozen=True)
class AlarmFilter:
    """Which alarms a query selects; empty fields select all."""

    states: tuple[str, ...] = ()
    severity: str | None = None
    customer_id: str | None = None
    site_id: str | None = None
    asset_id: str | None = None
    type_id: str | None = None
    cause: str | None = None
    ids: tuple[str, ...] = ()
    nothing: bool = False  # a customer asking for another customer's alarms: no rows

    def where(self) -> tuple[str, list[Any]]:
        parts, params = ["1 = 1"], []
        if self.nothing:
            parts.append("1 = 0")
        if self.states:
            parts.append(f"state IN ({', '.join('?' * len(self.states))})")
            params += list(self.states)
        for col in ("severity", "customer_id", "site_id", "asset_id", "type_id", "cause"):
            val = getattr(self, col)
            if val is not None:
                parts.append(f"{col} = ?")
                params.append(val)
        if self.ids:
            parts.append(f"id IN ({', '.join('?' * len(self.ids))})")
            params += list(self.ids)
        return " AND ".join(parts), params


def _row(a: Alarm, now: datetime) -> tuple:
    d = a.model_dump()
    d["occurrences"] = a.count
    d["updated_at"] = now
    out = []
    for c in _COLS:
        v = d[c]
        if c in _TIMES or c == "updated_at":
            v = to_naive_utc(v)
        elif c in ("details", "history"):
            v = json.dumps(v, default=str)
        elif hasattr(v, "value"):
            v = v.value
        out.append(v)
    return tuple(out)


def _alarm(r: tuple) -> Alarm:
    d = dict(zip(_COLS, r, strict=True))
    for c in _TIMES:
        d[c] = from_db_time(d[c])
    d["count"] = int(d.pop("occurrences"))
    d.pop("updated_at")
    d["details"] = _json_load(d["details"]) or {}
    d["history"] = _json_load(d["history"]) or []
    return Alarm.model_validate(d)


class AlarmsSql(SqlBase):
    # -- the lifecycle's reads and writes ------------------------------------------------------
    def open_alarms(self, asset_ids: list[str] | None = None) -> list[Alarm]:
        """Alarms not cleared (of these assets, or all)."""
        if asset_ids is None:
            return [_alarm(r) for r in self._rows(_SELECT + " WHERE state <> 'cleared'")]
        out: list[Alarm] = []
        ids = sorted(set(asset_ids))
        for i in range(0, len(ids), CHUNK):
            part = ids[i : i + CHUNK]
            rows = self._rows(
                _SELECT
                + f" WHERE state <> 'cleared' AND asset_id IN ({', '.join('?' * len(part))})",
                part,
            )
            out += [_alarm(r) for r in rows]
        return out

    def insert_new_alarms(self, alarms: list[Alarm], now: datetime) -> set[str]:
        """Store new alarms in one statement; returns the ids stored. One left out had another
        alarm of its asset and cause open already: another process raised it first
        (PostgreSQL's partial unique index says so)."""
        if not alarms:
            return set()
        tail = " ON CONFLICT DO NOTHING RETURNING id"  # one statement per 200 alarms
        stored: set[str] = set()
        one = f"({', '.join('?' * len(_COLS))})"
        for i in range(0, len(alarms), 200):
            part = alarms[i : i + 200]
            rows = self._rows(
                f"INSERT INTO alarms ({', '.join(_COLS)}) VALUES "
                + ", ".join([one] * len(part))
                + tail,
                [v for a in part for v in _row(a, now)],
            )
            stored |= {r[0] for r in rows}
        return stored

    def insert_alarms(self, alarms: list[Alarm], now: datetime) -> None:
        """Store many alarms at once (imports, benchmarks); ids must be new."""
        self._insert_rows("alarms", len(_COLS), [_row(a, now) for a in alarms])

    def update_alarms(self, alarms: list[Alarm], now: datetime) -> None:
        """Write these alarms' rows as they are now, in one transaction."""
        self._upsert_rows("alarms", _COLS, ["id"], [_row(a, now) for a in alarms])

    def touch_alarms(self, touches: list[Any], now: datetime) -> None:
        """Add occurrences to open alarms as increments (``service.alarm_lifecycle.Touch``):
        ``count + n``, the later last seen; an alarm cleared meanwhile stays cleared."""
        if not touches:
            return
        rows = [
            (
                t.id,
                int(t.n),
                to_naive_utc(t.last_seen),
                to_naive_utc(t.touched_at),
                t.message,
                None if t.details is None else json.dumps(t.details, default=str),
                t.channel,
                t.clear_after_s,
                to_naive_utc(now),
            )
            for t in touches
        ]
        sets = (
            "occurrences = alarms.occurrences + {n}, last_seen = greatest(alarms.last_seen, {ls}), "
            "touched_at = greatest(alarms.touched_at, {ta}), message = coalesce({m}, alarms.message), "
            "details = coalesce(CAST({d} AS {json}), alarms.details), "
            "channel = coalesce({c}, alarms.channel), "
            "clear_after_s = coalesce({ca}, alarms.clear_after_s), updated_at = {u}"
        )
        if self.kind != "duckdb":
            self._many(
                "UPDATE alarms SET "
                + sets.format(
                    n="?", ls="?", ta="?", m="?", d="?", c="?", ca="?", u="?", json=self.json_type
                )
                + " WHERE id = ? AND state <> 'cleared'",
                [(*r[1:], r[0]) for r in rows],
            )
            return
        # DuckDB: one statement joining a VALUES list, several times faster here than a
        # registered frame or executemany for the few alarms a batch touches
        cols = ["id", "n", "ls", "ta", "m", "d", "c", "ca", "u"]
        for i in range(0, len(rows), 200):
            part = rows[i : i + 200]
            values = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(part))
            self._exec(
                "UPDATE alarms SET "
                + sets.format(**{k: f"i.{k}" for k in cols[1:]}, json=self.json_type)
                + f" FROM (VALUES {values}) i({', '.join(cols)})"
                " WHERE alarms.id = i.id AND alarms.state <> 'cleared'",
                [v for r in part for v in r],
            )

    def get_alarm(self, alarm_id: str) -> Alarm | None:
        rows = self._rows(_SELECT + " WHERE id = ?", (alarm_id,))
        return _alarm(rows[0]) if rows else None

    # -- the desk ------------------------------------------------------------------------------
    def list_alarms(self, f: AlarmFilter, limit: int = 50, offset: int = 0) -> list[Alarm]:
        """A page of alarms, newest first."""
        where, params = f.where()
        rows = self._rows(
            _SELECT + f" WHERE {where} ORDER BY first_seen DESC, id DESC "
            f"LIMIT {int(limit)} OFFSET {int(offset)}",
            params,
        )
        return [_alarm(r) for r in rows]

    def count_alarms(self, f: AlarmFilter) -> int:
        where, params = f.where()
        return int(self._rows(f"SELECT count(*) FROM alarms WHERE {where}", params)[0][0])

    def alarm_state_counts(self, f: AlarmFilter) -> dict[str, int]:
        """How many alarms the filter selects, by state (the desk's tabs, the menu's badge)."""
        where, params = f.where()
        rows = self._rows(
            f"SELECT state, count(*) FROM alarms WHERE {where} GROUP BY state", params
        )
        return {s: int(n) for s, n in rows}

    def alarm_causes(self, f: AlarmFilter) -> list[str]:
        where, params = f.where()
        rows = self._rows(f"SELECT DISTINCT cause FROM alarms WHERE {where} ORDER BY cause", params)
        return [r[0] for r in rows]

    def alarm_groups(
        self, f: AlarmFilter, limit: int = 50, offset: int = 0
    ) -> tuple[list[dict[str, Any]], int]:
        """Alarms grouped by asset and cause, the group with the newest occurrence first, and
        how many groups there are."""
        where, params = f.where()
        sql = f"""
            WITH g AS (
                SELECT asset_id, cause, max(customer_id) AS customer_id, max(site_id) AS site_id,
                       max(type_id) AS type_id, count(*) AS alarms,
                       sum(occurrences) AS occurrences, min(first_seen) AS first_seen,
                       max(last_seen) AS last_seen,
                       max(CASE WHEN severity = 'critical' THEN 2 ELSE 1 END) AS worst,
                       sum(CASE WHEN state = 'active' THEN 1 ELSE 0 END) AS active,
                       sum(CASE WHEN state <> 'cleared' THEN 1 ELSE 0 END) AS open,
                       max(id) AS some_id
                FROM alarms WHERE {where} GROUP BY asset_id, cause
            )
            SELECT g.*, (SELECT count(*) FROM g) AS total FROM g
            ORDER BY last_seen DESC, asset_id, cause LIMIT {int(limit)} OFFSET {int(offset)}
        """
        cols = [
            "asset_id", "cause", "customer_id", "site_id", "type_id", "alarms", "occurrences",
            "first_seen", "last_seen", "worst", "active", "open", "some_id", "total",
        ]  # fmt: skip
        rows = [dict(zip(cols, r, strict=True)) for r in self._rows(sql, params)]
        total = int(rows[0]["total"]) if rows else self._group_count(where, params)
        for d in rows:
            d.pop("total")
            d["severity"] = "critical" if d.pop("worst") == 2 else "warning"
            for k in ("alarms", "occurrences", "active", "open"):
                d[k] = int(d[k] or 0)
            d["first_seen"], d["last_seen"] = (
                from_db_time(d["first_seen"]),
                from_db_time(d["last_seen"]),
            )
        return rows, total

    def _group_count(self, where: str, params: list[Any]) -> int:
        sql = (
            f"SELECT count(*) FROM (SELECT 1 FROM alarms WHERE {where} GROUP BY asset_id, cause) x"
        )
        return int(self._rows(sql, params)[0][0])

    def acknowledge_alarms(
        self, f: AlarmFilter, at: datetime, by: str, note: str | None, now: datetime
    ) -> list[str]:
        """Acknowledge every active or silenced alarm the filter selects; returns their ids."""
        where, params = f.where()
        rows = self._rows(
            "UPDATE alarms SET state = 'acknowledged', acked_at = ?, acked_by = ?, ack_note = ?, "
            f"updated_at = ? WHERE {where} AND state IN ('active', 'silenced') RETURNING id",
            [to_naive_utc(at), by, note, to_naive_utc(now), *params],
        )
        return [r[0] for r in rows]

    # -- when assets last reported -------------------------------------------------------------
    def mark_seen(self, rows: list[tuple[str, datetime, datetime]]) -> None:
        """(asset, newest reading's time, when it arrived) each; times only move forward."""
        if not rows:
            return
        latest: dict[str, tuple[datetime, datetime]] = {}
        for a, ts, rx in rows:
            ts, rx = to_naive_utc(ts), to_naive_utc(rx)
            if a in latest:
                ts, rx = max(ts, latest[a][0]), max(rx, latest[a][1])
            latest[a] = (ts, rx)
        merge = (
            " ON CONFLICT (asset_id) DO UPDATE SET "
            "last_ts = greatest(asset_seen.last_ts, EXCLUDED.last_ts), "
            "received_at = greatest(asset_seen.received_at, EXCLUDED.received_at)"
        )
        values = [(a, ts, rx) for a, (ts, rx) in sorted(latest.items())]
        if self.kind != "duckdb":
            self._many("INSERT INTO asset_seen VALUES (?, ?, ?)" + merge, values)
            return
        # executemany costs about a millisecond a row on DuckDB; a registered frame, one statement
        frame = pd.DataFrame(values, columns=["asset_id", "last_ts", "received_at"])
        with self._cursor() as cur:
            cur.register("incoming_seen", frame)
            try:
                cur.execute("INSERT INTO asset_seen SELECT * FROM incoming_seen" + merge)
            finally:
                cur.unregister("incoming_seen")

    def seen(self, asset_ids: list[str] | None = None) -> dict[str, tuple[datetime, datetime]]:
        """Newest reading's time and its arrival per asset (that ever sent one)."""
        sql = "SELECT asset_id, last_ts, received_at FROM asset_seen"
        if asset_ids is None:
            rows = self._rows(sql)
        else:
            ids, rows = sorted(set(asset_ids)), []
            for i in range(0, len(ids), CHUNK):
                part = ids[i : i + CHUNK]
                rows += self._rows(sql + f" WHERE asset_id IN ({', '.join('?' * len(part))})", part)
        return {a: (from_db_time(ts), from_db_time(rx)) for a, ts, rx in rows}


__all__ = ["AlarmFilter", "AlarmsSql"]
