"""OPC UA fixtures: simulated machine servers in their own processes, started once per module."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from prognos.devservers import free_port
from prognos.ingest.opcua_sim import SimServer, make_certificate

USERS = ["operator:op-pass"]
CLIENT_URI = "urn:prognos:test:client"


@pytest.fixture
def db_url(tmp_path) -> str:
    """OPC UA tests store into DuckDB only; the store suite covers both engines."""
    return str(tmp_path / "prognos.duckdb")


@pytest.fixture(scope="session")
def sim_server(tmp_path_factory) -> Iterator[SimServer]:
    """A machine that is never restarted, shared by every test that only reads from it."""
    srv = SimServer(free_port(), tmp_path_factory.mktemp("opcua-sim"), interval=0.05, history=True)
    srv.start()
    yield srv
    srv.kill()  # nothing to publish any more: no need for a graceful stop


@pytest.fixture(scope="module")
def secure_server(tmp_path_factory) -> Iterator[SimServer]:
    srv = SimServer(
        free_port(),
        tmp_path_factory.mktemp("opcua-secure"),
        interval=0.05,
        secure=True,
        users=USERS,
    )
    srv.start()
    yield srv
    srv.kill()  # nothing to publish any more: no need for a graceful stop


@pytest.fixture(scope="module")
def client_pki(tmp_path_factory):
    folder = tmp_path_factory.mktemp("client-pki")
    return asyncio.run(make_certificate(folder, "client", CLIENT_URI, server=False))
