"""Several processes on one database: migrations take turns, one of them leads a job, and a
model trained on one host loads on another."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import pytest

from prognos.service.workers import LoopWorker
from prognos.store import open_store
from support import wait_until

pytestmark = pytest.mark.integration


def test_processes_starting_together_on_an_empty_database_all_migrate(pg_server):
    url = pg_server.create_database("race")
    script = textwrap.dedent(
        f"""
        import sys
        from prognos.store import open_store
        sys.stdin.readline()  # start together
        s = open_store({url!r})
        print(s.schema_version())
        s.close()
        """
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err for _, err in results]
    versions = {out.strip() for out, _ in results}
    store = open_store(url)
    try:
        assert versions == {str(store.schema_version())}
        rows = store._rows("SELECT version, count(*) FROM schema_migrations GROUP BY version")
        assert all(n == 1 for _, n in rows)  # each migration applied once
    finally:
        store.close()


def test_one_session_holds_a_lease_until_it_lets_go_or_dies(pg_server):
    url = pg_server.create_database("lease")
    a, b = open_store(url), open_store(url)
    try:
        first = a.try_lease("planner")
        assert first is not None and first.held()
        assert b.try_lease("planner") is None  # taken
        assert b.try_lease("compaction") is not None  # another job, another lease
        first.release()
        second = b.try_lease("planner")
        assert second is not None and second.held()
        # the holder's session ends without a goodbye (a killed process): the lease is free
        second._con.close()
        assert not second.held()
        assert a.try_lease("planner") is not None
    finally:
        a.close()
        b.close()


class _Counting(LoopWorker):
    name = "counting"

    def __init__(self, leases):
        super().__init__(0.05, leases=leases)
        self.ticks = 0

    def tick(self) -> None:
        self.ticks += 1


def test_of_two_workers_with_one_lease_one_works_and_the_other_takes_over(pg_server):
    url = pg_server.create_database("leader")
    stores = [open_store(url), open_store(url)]
    workers = [_Counting(s) for s in stores]
    try:
        for w in workers:
            w.start()
        wait_until(lambda: sum(w.status()["leader"] for w in workers) == 1, 10, "a leader")
        leader = next(w for w in workers if w.status()["leader"])
        other = next(w for w in workers if w is not leader)
        wait_until(lambda: leader.ticks >= 5, 10, "the leader to work")
        assert other.ticks == 0 and other.status()["state"] == "standby"
        leader.stop()
        wait_until(lambda: other.ticks >= 3, 10, "the other worker to take over")
        assert other.status()["leader"] is True
    finally:
        for w in workers:
            w.stop()
        for s in stores:
            s.close()


def test_embedded_leases_keep_two_threads_off_one_job(tmp_path):
    store = open_store(str(tmp_path / "x.duckdb"))
    try:
        lease = store.try_lease("planner")
        got = []
        t = threading.Thread(target=lambda: got.append(store.try_lease("planner")))
        t.start()
        t.join()
        assert lease is not None and got == [None]
        lease.release()
        assert store.try_lease("planner") is not None
    finally:
        store.close()
