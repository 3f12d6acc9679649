"""The demo's engines go on failing the way their fleet's history failed."""

from __future__ import annotations

import numpy as np

from prognos.demo.simulator import MIN_POOL, _pool
from prognos.demo.turbofans import held_out
from prognos.sim.live import load_turbofan_pool

UNITS = range(1, 101)  # FD001's run-to-failure units


def test_engines_continue_with_their_subsets_units_that_no_history_holds():
    """The demo loads four in five FD001 run-to-failure units as history and continues its test
    engines with the fifth: units of the same fault (FD003's fan fault, which FD001's history
    never shows, kept a model trained on FD001 sure those engines were healthy to the end), and
    none a model trained on."""
    kept = held_out(UNITS)
    taken = {("FD001", u) for u in UNITS if u not in kept}
    pool = _pool({"FD001"}, None, taken)
    fd001 = load_turbofan_pool(("FD001",))
    assert len(pool) == len(kept) == 20
    for rows, u in zip(pool, kept, strict=True):
        np.testing.assert_array_equal(rows, fd001[u - 1])


def test_without_units_left_over_the_engines_continue_with_another_subset():
    taken = {("FD001", u) for u in UNITS[: -MIN_POOL + 1]}  # fewer than MIN_POOL left
    pool = _pool({"FD001"}, None, taken)
    fd003 = load_turbofan_pool(("FD003",))
    assert len(pool) == len(fd003)
    np.testing.assert_array_equal(pool[0], fd003[0])
