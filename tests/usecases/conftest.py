"""The use-case suite: every concept of the service layer exercised through ``Platform`` on an
embedded store in a temporary folder, with ingest over the in-memory source (no broker, no
PostgreSQL, no browser). It is the quick check of the house's middle floor: about 20 s on two
cores (``pytest tests/usecases``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from prognos.config import Settings
from prognos.service.platform import Platform, open_platform
from prognos.service.workers import memory_worker
from support import seed


@pytest.fixture
def platform(tmp_path) -> Iterator[Platform]:
    p = open_platform(Settings(db=str(tmp_path / "uc.duckdb"), artifacts_dir=tmp_path / "art"))
    seed(p)
    yield p
    p.close()


@pytest.fixture
def ingest(platform):
    """The MQTT ingest use case over an in-memory source: (worker, source), started."""
    worker, source = memory_worker(platform)
    worker.start()
    assert worker.wait_ready(5)
    yield worker, source
    worker.stop()
