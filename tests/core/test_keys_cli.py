"""`prognos keys list` and `prognos keys revoke`: on the store itself, or through a running server."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest
from typer.testing import CliRunner

from prognos.api import create_app
from prognos.cli import app
from prognos.config import Settings
from prognos.domain.keys import MANUFACTURER
from prognos.errors import AccessDenied, NotFound
from prognos.service.platform import open_platform
from support import running_app, seed


def _keys(db: str, *args: str) -> list[dict]:
    r = CliRunner().invoke(app, ["keys", "list", "--db", db, "--json", *args])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_list_and_revoke_on_the_store(seeded):
    db = seeded.settings.db
    maker, m = seeded.keys.create(MANUFACTURER, None, "ops laptop")
    acme, a = seeded.keys.create(MANUFACTURER, "acme", "acme gateway")
    seeded.close()  # the commands open the store themselves (DuckDB: one writer)

    listed = _keys(db)
    assert [(k["id"], k["name"], k["customer_id"]) for k in listed] == [
        (m.key_id, "ops laptop", None),
        (a.key_id, "acme gateway", "acme"),
    ]
    assert all(k["revoked_at"] is None for k in listed) and maker not in json.dumps(listed)
    assert [k["id"] for k in _keys(db, "--customer", "acme")] == [a.key_id]

    r = CliRunner().invoke(app, ["keys", "revoke", a.key_id, "--db", db])
    assert r.exit_code == 0, r.output
    assert f"revoked key {a.key_id}" in r.stdout and "customer acme" in r.stdout
    revoked = {k["id"]: k["revoked_at"] for k in _keys(db)}
    assert revoked[a.key_id] is not None and revoked[m.key_id] is None

    r = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["keys", "list", "--db", db])
    assert r.exit_code == 0, r.output
    assert "1 of 2 active" in r.stdout and a.key_id in r.stdout and acme not in r.stdout
    assert revoked[a.key_id][:16].replace("T", " ") in r.stdout

    p = open_platform(Settings(db=db))
    try:
        assert p.keys.authenticate(maker).key_id == m.key_id
        with pytest.raises(AccessDenied, match="unknown API key"):
            p.keys.authenticate(acme)
    finally:
        p.close()


def test_revoking_an_unknown_id_says_which_and_what_to_do(seeded):
    db = seeded.settings.db
    seeded.close()
    r = CliRunner().invoke(app, ["keys", "revoke", "nope", "--db", db])
    assert r.exit_code != 0 and isinstance(r.exception, NotFound)
    assert "'nope'" in r.exception.message and "prognos keys list" in r.exception.hint


def test_an_empty_list_says_how_to_make_a_key(tmp_path):
    db = str(tmp_path / "empty.duckdb")
    open_platform(Settings(db=db, artifacts_dir=tmp_path / "a")).close()
    r = CliRunner().invoke(app, ["keys", "list", "--db", db])
    assert r.exit_code == 0 and "prognos keys create" in r.stdout


def test_a_store_that_is_not_there_is_named_not_made(tmp_path, monkeypatch):
    """Beside the demo the CLI used to open (and leave) an empty ./prognos.duckdb and say "no
    API keys yet"; now it names the missing file and where the demo keeps its store."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "var" / "demo").mkdir(parents=True)
    open_platform(Settings(db="var/demo/prognos.duckdb", artifacts_dir=tmp_path / "a")).close()
    for args in (["keys", "list"], ["plan", "--dry-run"], ["registry", "assets"]):
        r = subprocess.run(
            [sys.executable, "-m", "prognos", *args, "--db", "prognos.duckdb"],
            capture_output=True,
            text=True,
            env={k: v for k, v in os.environ.items() if not k.startswith("PROGNOS_")},
        )
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert "no prognos database at prognos.duckdb" in r.stderr
        assert "export PROGNOS_DB=var/demo/prognos.duckdb" in r.stderr
        assert "Traceback" not in r.stderr
    assert not (tmp_path / "prognos.duckdb").exists()


def test_while_a_server_holds_the_duckdb_file_the_commands_go_through_it(tmp_path):
    db = str(tmp_path / "served.duckdb")
    platform = open_platform(Settings(db=db, artifacts_dir=tmp_path / "a"))
    seed(platform)
    maker, _ = platform.keys.create(MANUFACTURER, None, "cli")
    acme, a = platform.keys.create(MANUFACTURER, "acme", "leaked")

    def cli(*args: str, **extra: str) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if k != "PROGNOS_API_KEY"}
        env.update(PROGNOS_DB=db, **extra)
        return subprocess.run(
            [sys.executable, "-m", "prognos", "keys", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    with running_app(create_app(platform=platform)) as url:
        assert httpx.get(f"{url}/api/v1/assets", headers={"X-API-Key": acme}).status_code == 200

        # without a key for the server, the command says so instead of failing on the lock
        r = cli("revoke", a.key_id, PROGNOS_API_URL=url)
        assert r.returncode == 2 and "held by a running prognos server" in r.stderr
        assert "PROGNOS_API_KEY" in r.stderr

        r = cli("revoke", a.key_id, PROGNOS_API_URL=url, PROGNOS_API_KEY=maker)
        assert r.returncode == 0, r.stderr
        assert f"revoked key {a.key_id}" in r.stdout
        # the running server refuses the key at once
        assert httpx.get(f"{url}/api/v1/assets", headers={"X-API-Key": acme}).status_code == 401

        r = cli("list", "--json", PROGNOS_API_URL=url, PROGNOS_API_KEY=maker)
        assert r.returncode == 0, r.stderr
        listed = {k["id"]: k for k in json.loads(r.stdout)}
        assert listed[a.key_id]["revoked_at"] is not None

        r = cli("revoke", "nope", PROGNOS_API_URL=url, PROGNOS_API_KEY=maker)
        assert r.returncode == 2 and "'nope'" in r.stderr
    platform.close()
