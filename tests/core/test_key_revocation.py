"""API keys can be listed and revoked; a revoked key is refused like an unknown one."""

from __future__ import annotations

import httpx
import pytest

from prognos.api import create_app
from prognos.config import Settings
from prognos.domain.keys import MANUFACTURER
from prognos.errors import AccessDenied, Forbidden, NotFound
from prognos.service.platform import open_platform
from prognos.store import schema


@pytest.fixture
async def keys(seeded):
    """The app over the seeded platform and a client per key: maker, a second maker, acme."""
    app = create_app(platform=seeded)
    secrets, clients = {}, {}
    for who, customer in (("maker", None), ("spare", None), ("acme", "acme")):
        secrets[who], principal = seeded.keys.create(MANUFACTURER, customer, f"{who} key")
        secrets[f"{who}_id"] = principal.key_id
        clients[who] = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://t",
            headers={"X-API-Key": secrets[who]},
        )
    yield secrets, clients
    for c in clients.values():
        await c.aclose()


async def test_a_revoked_key_answers_401_like_an_unknown_one_while_others_still_work(keys):
    secrets, c = keys
    assert (await c["acme"].get("/api/v1/assets")).status_code == 200
    unknown = await c["acme"].get("/api/v1/assets", headers={"X-API-Key": "pk_nothing_here"})

    r = await c["maker"].delete(f"/api/v1/keys/{secrets['acme_id']}")
    assert r.status_code == 200 and r.json()["revoked_at"]

    # the running app refuses it from the next request on, with the same answer as a wrong key
    revoked = await c["acme"].get("/api/v1/assets")
    assert revoked.status_code == 401 == unknown.status_code
    assert revoked.json() == unknown.json()
    assert (await c["maker"].get("/api/v1/assets")).json()["total"] == 4
    assert (await c["spare"].get("/api/v1/assets")).status_code == 200


async def test_a_manufacturer_may_revoke_its_own_key(keys):
    secrets, c = keys
    assert (await c["spare"].delete(f"/api/v1/keys/{secrets['spare_id']}")).status_code == 200
    assert (await c["spare"].get("/api/v1/keys")).status_code == 401
    assert (await c["maker"].get("/api/v1/keys")).status_code == 200


async def test_the_list_shows_revocation_and_never_a_secret_or_hash(keys, seeded):
    secrets, c = keys
    await c["maker"].delete(f"/api/v1/keys/{secrets['acme_id']}")
    r = await c["maker"].get("/api/v1/keys")
    assert r.status_code == 200
    listed = {k["id"]: k for k in r.json()}
    assert set(listed) == {secrets["maker_id"], secrets["spare_id"], secrets["acme_id"]}
    acme = listed[secrets["acme_id"]]
    assert acme["customer_id"] == "acme" and acme["name"] == "acme key"
    assert acme["revoked_at"] is not None and acme["created_at"] <= acme["revoked_at"]
    assert listed[secrets["maker_id"]]["revoked_at"] is None
    assert listed[secrets["maker_id"]]["customer_id"] is None
    # the prefix is how the key starts; the secret part after it is shown nowhere
    assert secrets["acme"].startswith(acme["prefix"])
    for who in ("maker", "spare", "acme"):
        assert secrets[who][len(acme["prefix"]) :] not in r.text
    assert "hash" not in r.text

    only_acme = (await c["maker"].get("/api/v1/keys", params={"customer": "acme"})).json()
    assert [k["id"] for k in only_acme] == [secrets["acme_id"]]


async def test_revoking_an_unknown_id_is_a_404_naming_it(keys, seeded):
    _, c = keys
    r = await c["maker"].delete("/api/v1/keys/no-such-key")
    assert r.status_code == 404
    err = r.json()["error"]
    assert err["code"] == "not_found" and "'no-such-key'" in err["message"]
    assert "prognos keys list" in err["hint"]
    with pytest.raises(NotFound, match="no-such-key"):
        seeded.keys.revoke(MANUFACTURER, "no-such-key")


async def test_revoking_twice_keeps_the_first_time(keys, seeded):
    secrets, _ = keys
    first = seeded.keys.revoke(MANUFACTURER, secrets["acme_id"])
    again = seeded.keys.revoke(MANUFACTURER, secrets["acme_id"])
    assert again.revoked_at == first.revoked_at is not None
    assert [k.revoked for k in seeded.keys.list_keys(MANUFACTURER, "acme")] == [True]


async def test_a_customer_key_can_neither_list_nor_revoke(keys, seeded):
    secrets, c = keys
    r = await c["acme"].get("/api/v1/keys")
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    r = await c["acme"].delete(f"/api/v1/keys/{secrets['maker_id']}")
    assert r.status_code == 403
    # nor its own: a customer asks the manufacturer
    assert (await c["acme"].delete(f"/api/v1/keys/{secrets['acme_id']}")).status_code == 403
    assert all(k.revoked_at is None for k in seeded.keys.list_keys(MANUFACTURER))
    assert (await c["maker"].get("/api/v1/assets")).status_code == 200
    acme = seeded.keys.authenticate(secrets["acme"])
    with pytest.raises(Forbidden):
        seeded.keys.list_keys(acme)


def test_keys_made_before_the_migration_stay_valid_and_become_revocable(
    db_url, tmp_path, monkeypatch
):
    settings = Settings(db=db_url, artifacts_dir=tmp_path / "artifacts")
    before = [m for m in schema.MIGRATIONS if m[0] < 4]
    monkeypatch.setattr("prognos.store.sql.MIGRATIONS", before)
    old = open_platform(settings)
    try:
        # the insert of the schema before revocation, without naming columns
        old.store._exec(
            "INSERT INTO api_keys VALUES (?, ?, ?, ?, ?)",
            ("0123456789ab", "f" * 64, None, "old key", "2025-01-01 00:00:00"),
        )
        key, _ = old.keys.create(MANUFACTURER, None, "also old")
    finally:
        old.close()
    monkeypatch.undo()

    p = open_platform(settings)
    try:
        assert p.store.migrate() == max(v for v, _, _ in schema.MIGRATIONS)
        assert [k.name for k in p.keys.list_keys(MANUFACTURER)] == ["old key", "also old"]
        assert all(k.revoked_at is None for k in p.keys.list_keys(MANUFACTURER))
        principal = p.keys.authenticate(key)
        p.keys.revoke(MANUFACTURER, principal.key_id)
        with pytest.raises(AccessDenied, match="unknown API key"):
            p.keys.authenticate(key)
    finally:
        p.close()
