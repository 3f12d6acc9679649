"""Shared fixtures: real servers (PostgreSQL, Mosquitto) and stores parametrised over both engines."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from prognos import devservers
from prognos.config import Settings
from prognos.service.platform import Platform, open_platform
from support import seed  # noqa: F401  (tests import it from here too)

_db_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[devservers.Postgres]:
    with devservers.postgres() as pg:
        yield pg


@pytest.fixture(scope="session")
def mqtt_broker() -> Iterator[devservers.Mosquitto]:
    with devservers.mosquitto() as broker:
        yield broker


@pytest.fixture(params=["duckdb", pytest.param("postgresql", marks=pytest.mark.integration)])
def db_url(request, tmp_path) -> str:
    """A fresh, empty database of each engine."""
    if request.param == "duckdb":
        return str(tmp_path / "prognos.duckdb")
    pg = request.getfixturevalue("pg_server")
    return pg.create_database(f"t{next(_db_counter)}")


@pytest.fixture
def platform(db_url, tmp_path) -> Iterator[Platform]:
    p = open_platform(Settings(db=db_url, artifacts_dir=tmp_path / "artifacts"))
    yield p
    p.close()


@pytest.fixture
def seeded(platform) -> Platform:
    seed(platform)
    return platform
