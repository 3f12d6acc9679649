"""`prognos quarantine purge` is one transaction on either engine: a purge that fails midway
leaves every record where it was, and one that succeeds says how many went."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from prognos.domain import Rejection
from prognos.domain.keys import MANUFACTURER


def _fill(platform) -> None:
    bad = [Rejection(i, "value", "not a number", raw="x", asset_id="a1") for i in range(5)]
    platform.store.quarantine(bad, "file:bad.csv")
    platform.store.quarantine([Rejection(0, "ts", "no time", asset_id="a2")], "http")


class Broken(RuntimeError):
    pass


def _failing_after_delete(store, monkeypatch) -> None:
    """The store's transactions, with a failure once a DELETE has run (a connection lost, a
    process killed) and before the transaction commits."""
    opened = store._cursor

    class Cursor:
        def __init__(self, cur):
            self._cur, self._deleted = cur, False

        def execute(self, sql, *a):
            self._deleted |= sql.lstrip().upper().startswith("DELETE")
            return self._cur.execute(sql, *a)

        def fetchall(self):
            if self._deleted:
                raise Broken("lost midway")
            return self._cur.fetchall()

        def __getattr__(self, name):
            return getattr(self._cur, name)

    @contextmanager
    def cursor():
        with opened() as cur:
            yield Cursor(cur)

    monkeypatch.setattr(store, "_cursor", cursor)


def test_a_purge_that_fails_midway_leaves_the_quarantine_as_it_was(platform, monkeypatch):
    _fill(platform)
    before = platform.telemetry.quarantined(MANUFACTURER, limit=100)
    _failing_after_delete(platform.store, monkeypatch)
    with pytest.raises(Broken):
        platform.telemetry.purge_quarantine(MANUFACTURER, source="file:bad.csv")
    monkeypatch.undo()
    after = platform.telemetry.quarantined(MANUFACTURER, limit=100)
    assert sorted(r["id"] for r in after) == sorted(r["id"] for r in before)
    assert len(after) == 6


def test_a_purge_says_how_many_went_and_keeps_the_rest(platform):
    _fill(platform)
    assert platform.telemetry.purge_quarantine(MANUFACTURER, source="file:bad.csv") == 5
    left = platform.telemetry.quarantined(MANUFACTURER, limit=100)
    assert [r["source"] for r in left] == ["http"]
    assert platform.telemetry.purge_quarantine(MANUFACTURER, source="file:bad.csv") == 0
