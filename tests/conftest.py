"""Shared fixtures: real servers (PostgreSQL, Mosquitto) and stores parametrised over both engines."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from prognos import devservers
from prognos.config import Settings
from prognos.domain import Asset, AssetType, Channel, Customer, Site
from prognos.service.platform import Platform, open_platform

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


PUMP = AssetType(
    id="pump",
    name="Pump",
    time_unit="hours",
    channels=[
        Channel(name="temp", unit="degC", min=-40, max=150),
        Channel(name="vibration", unit="mm/s", min=0, max=50),
    ],
)
INSTALLED = datetime(2025, 1, 1, tzinfo=UTC)


def seed(platform: Platform) -> None:
    """Two customers, each with a site and two pumps."""
    platform.add_asset_type(PUMP)
    for c in ("acme", "globex"):
        platform.add_customer(Customer(id=c, name=c.title()))
        platform.add_site(
            Site(id=f"{c}-plant", customer_id=c, name=f"{c} plant", timezone="Europe/Berlin")
        )
        platform.add_assets(
            [
                Asset(
                    id=f"{c}-p{i}",
                    customer_id=c,
                    site_id=f"{c}-plant",
                    type_id="pump",
                    serial=f"SN-{c}-{i}",
                    installed_at=INSTALLED,
                )
                for i in (1, 2)
            ]
        )


@pytest.fixture
def seeded(platform) -> Platform:
    seed(platform)
    return platform
