"""`make demo` twice: the second run keeps the world and the logins (an open browser session and
the CLI's exported key go on working); `prognos demo --fresh` and a broken world rebuild."""

from __future__ import annotations

import json

from prognos.cli import _demo_state as state
from prognos.config import Settings
from prognos.domain.keys import MANUFACTURER
from prognos.service.platform import open_platform
from support import seed


def _world(folder):
    p = open_platform(Settings(db=str(folder / "prognos.duckdb"), artifacts_dir=folder / "a"))
    seed(p)
    maker, _ = p.keys.create(MANUFACTURER, None, "demo manufacturer")
    acme, acme_key = p.keys.create(MANUFACTURER, "acme", "demo acme")
    info = {"manufacturer_key": maker, "customer": "acme", "customer_key": acme}
    state.save_logins(folder, info, "http://127.0.0.1:8123")
    return p, info, acme_key


def test_a_second_run_keeps_the_world_and_its_logins(tmp_path):
    p, info, _ = _world(tmp_path)
    try:
        kept = state.kept_world(p, tmp_path)
        assert kept is not None
        assert kept["manufacturer_key"] == info["manufacturer_key"]
        assert kept["assets"] == 4 and kept["customers"] == 2
        assert p.keys.authenticate(kept["customer_key"]).customer_id == "acme"
    finally:
        p.close()
    env = (tmp_path / "prognos.env").read_text().splitlines()
    assert f"export PROGNOS_DB={tmp_path / 'prognos.duckdb'}" in env
    assert f"export PROGNOS_API_KEY={info['manufacturer_key']}" in env
    assert "export PROGNOS_API_URL=http://127.0.0.1:8123" in env
    assert info["customer_key"] in (tmp_path / "logins.txt").read_text()


def test_a_world_whose_logins_no_longer_open_it_is_rebuilt(tmp_path):
    p, _, acme_key = _world(tmp_path)
    try:
        p.keys.revoke(MANUFACTURER, acme_key.key_id)
        assert state.kept_world(p, tmp_path) is None
    finally:
        p.close()


def test_without_logins_or_assets_there_is_nothing_to_keep(tmp_path):
    p, _, _ = _world(tmp_path)
    try:
        (tmp_path / "logins.json").write_text(json.dumps({"manufacturer_key": "pk_x"}))
        assert state.kept_world(p, tmp_path) is None
    finally:
        p.close()
    state.clear(tmp_path)
    assert not (tmp_path / "prognos.duckdb").exists() and not (tmp_path / "logins.json").exists()
