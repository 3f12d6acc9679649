"""The alarms' table: the alarm documents of before are migrated into it (one open alarm per
asset and cause kept), and the desk's reads page, group and count in the database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from prognos.store import sql
from prognos.store.schema import MIGRATIONS
from prognos.store.sql_alarms import AlarmFilter

T = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
ALARMS_TABLE = next(v for v, name, _ in MIGRATIONS if name.startswith("alarms in a table"))


def _engine(db_url: str):
    if db_url.startswith("postgresql://"):
        from prognos.store.postgres_store import PostgresStore

        return PostgresStore(db_url)
    from prognos.store.duckdb_store import DuckDBStore

    return DuckDBStore(db_url)


def _old_alarm(store, doc_id, asset, customer, day, status, **extra):
    body = {
        "id": doc_id,
        "asset_id": asset,
        "customer_id": customer,
        "raised_at": (T + timedelta(days=day)).isoformat(),
        "severity": extra.pop("severity", "warning"),
        "message": extra.pop("message", "T50 unusual (z +4.2); health 31/100"),
        "channels": {"T50": 4.2},
        "status": status,
        "silenced_because": extra.pop("silenced_because", None),
        "acked_at": extra.pop("acked_at", None),
        "acked_by": extra.pop("acked_by", None),
    }
    store.put_document("alarm", doc_id, body, customer_id=customer, asset_id=asset, status=status)


def test_old_alarm_documents_become_rows(db_url, monkeypatch):
    monkeypatch.setattr(sql, "MIGRATIONS", [m for m in MIGRATIONS if m[0] < ALARMS_TABLE])
    store = _engine(db_url)
    try:
        store.migrate()
        assert store.schema_version() == ALARMS_TABLE - 1
        from prognos.domain import AssetType, Customer, Site

        store.upsert_asset_type(AssetType(id="turbofan"))
        store.upsert_customer(Customer(id="acme", name="ACME"))
        store.upsert_site(Site(id="acme-1", customer_id="acme", name="Plant"))
        # the assets as that schema holds them (today's code writes columns added later)
        installed = (T - timedelta(days=300)).isoformat()
        for a in ("e1", "e2"):
            store._exec(
                "INSERT INTO assets (id, customer_id, site_id, type_id, serial, model, "
                f"installed_at) VALUES ('{a}', 'acme', 'acme-1', 'turbofan', '', '', "
                f"TIMESTAMPTZ '{installed}')"
            )
        # the health alarm wrote one document per asset and day; people raised others
        for day in (0, 1, 2):
            _old_alarm(store, f"al-e1-2026030{day + 1}", "e1", "acme", day, "open")
        _old_alarm(
            store, "al-e2-20260301", "e2", "acme", 0, "acknowledged",
            acked_at=(T + timedelta(hours=2)).isoformat(), acked_by="Ana",
        )  # fmt: skip
        _old_alarm(
            store, "al-5f3a9c0d1e", "e2", "acme", 1, "silenced", message="door jammed",
            silenced_because="work order wo-7 (in_progress)", severity="critical",
        )  # fmt: skip
        monkeypatch.setattr(sql, "MIGRATIONS", MIGRATIONS)
        store.migrate()
        assert store.schema_version() == MIGRATIONS[-1][0]  # 9 and every later one
        assert store.list_documents("alarm") == []
        rows = {a.id: a for a in store.list_alarms(AlarmFilter(), limit=50)}
        assert set(rows) == {
            "al-e1-20260301", "al-e1-20260302", "al-e1-20260303", "al-e2-20260301", "al-5f3a9c0d1e"
        }  # fmt: skip
        newest = rows["al-e1-20260303"]
        assert (
            newest.state == "active" and newest.cause == "zscore" and newest.type_id == "turbofan"
        )
        assert newest.first_seen == T + timedelta(days=2) and newest.details == {
            "channels": {"T50": 4.2}
        }
        for old in ("al-e1-20260301", "al-e1-20260302"):  # one per day before: superseded
            assert rows[old].state == "cleared" and rows[old].cleared_by == "superseded (migrated)"
        acked = rows["al-e2-20260301"]
        assert acked.state == "acknowledged" and acked.acked_by == "Ana"
        assert acked.acked_at == T + timedelta(hours=2) and acked.site_id == "acme-1"
        reported = rows["al-5f3a9c0d1e"]
        assert reported.state == "silenced" and reported.cause == "reported"
        assert reported.severity == "critical" and "wo-7" in reported.silenced_because
        assert len(store.open_alarms(["e1"])) == 1
    finally:
        store.close()


def test_the_desk_reads_page_group_and_count_in_the_database(platform):
    from prognos.domain.alarms import Alarm

    def alarm(i: int, asset: str, cause: str, state: str, severity="warning") -> Alarm:
        t = T + timedelta(minutes=i)
        return Alarm(
            id=f"al-{i:04d}", asset_id=asset, customer_id=asset.split("-")[0], site_id="s",
            type_id="pump", cause=cause, rule="threshold", severity=severity, state=state,
            message="m", first_seen=t, last_seen=t + timedelta(minutes=5), count=i % 3 + 1,
            touched_at=t,
        )  # fmt: skip

    rows, open_keys = [], set()
    for i in reversed(range(200)):  # the newest of an asset and cause may be open, no other
        asset, cause = f"{'acme' if i % 2 else 'globex'}-p{i % 5}", f"c{i % 3}"
        state = "cleared" if i % 4 == 0 or (asset, cause) in open_keys else "active"
        open_keys |= {(asset, cause)} if state == "active" else set()
        rows.append(alarm(i, asset, cause, state, "critical" if i % 7 == 0 else "warning"))
    store = platform.store
    store.insert_alarms(rows, T)
    f = AlarmFilter(states=("active",), customer_id="acme")
    mine = [r for r in rows if r.state == "active" and r.customer_id == "acme"]
    assert store.count_alarms(f) == len(mine)
    page = [a.id for a in store.list_alarms(f, limit=20, offset=20)]
    newest_first = [r.id for r in sorted(mine, key=lambda r: r.first_seen, reverse=True)]
    assert page == newest_first[20:40]
    groups, total = store.alarm_groups(AlarmFilter(customer_id="acme"), limit=100)
    acme = [r for r in rows if r.customer_id == "acme"]
    assert total == len({(r.asset_id, r.cause) for r in acme}) == len(groups)
    g = next(x for x in groups if x["asset_id"] == "acme-p1" and x["cause"] == "c1")
    members = [r for r in acme if r.asset_id == "acme-p1" and r.cause == "c1"]
    assert g["alarms"] == len(members) and g["occurrences"] == sum(r.count for r in members)
    assert g["open"] == sum(r.state != "cleared" for r in members)
    assert g["severity"] == (
        "critical" if any(r.severity == "critical" for r in members) else "warning"
    )
    assert [x["last_seen"] for x in groups] == sorted(
        (x["last_seen"] for x in groups), reverse=True
    )
    assert store.alarm_state_counts(AlarmFilter()) == {
        "active": sum(r.state == "active" for r in rows),
        "cleared": sum(r.state == "cleared" for r in rows),
    }
    acked = store.acknowledge_alarms(
        AlarmFilter(severity="critical", customer_id="globex"), T, "Ana", None, T
    )
    expected = {r.id for r in rows if r.severity == "critical" and r.customer_id == "globex"
                and r.state == "active"}  # fmt: skip
    assert set(acked) == expected and expected
    assert store.alarm_groups(AlarmFilter(nothing=True))[1] == 0


@pytest.mark.integration
def test_postgresql_keeps_one_open_alarm_per_asset_and_cause(pg_server):
    """Two processes raising the same alarm at once: the partial unique index lets one in."""
    from prognos.domain.alarms import Alarm, AlarmState
    from prognos.store.postgres_store import PostgresStore

    store = PostgresStore(pg_server.create_database("alarm_race"))
    try:
        store.migrate()
        a = Alarm(
            id="al-1", asset_id="e1", customer_id="acme", site_id="s", type_id="t", cause="zscore",
            rule="zscore", severity="warning", state="active", message="m", first_seen=T,
            last_seen=T, touched_at=T,
        )  # fmt: skip
        assert store.insert_new_alarms([a], T) == {"al-1"}
        again = a.model_copy(update={"id": "al-2"})
        other = a.model_copy(update={"id": "al-4", "asset_id": "e2"})
        assert store.insert_new_alarms([again, other], T) == {"al-4"}
        store.update_alarms([a.model_copy(update={"state": AlarmState.cleared})], T)
        assert store.insert_new_alarms([a.model_copy(update={"id": "al-3"})], T) == {"al-3"}
        assert json.dumps(sorted(x.id for x in store.open_alarms())) == '["al-3", "al-4"]'
    finally:
        store.close()
