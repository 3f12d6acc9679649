"""Analytics tests run single-threaded: their problems are small, and BLAS/OpenMP threads only
spin when the machine's cores are busy (10x slower fits on a shared 2-core box)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True)
def _single_threaded() -> Iterator[None]:
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="session")
def fd001():
    """The shipped FD001 subset, parsed once (tests copy before changing it)."""
    from prognos.analytics.cmapss import load_subset

    return load_subset("FD001")
