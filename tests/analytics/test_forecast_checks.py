"""A forecast checks and repairs its quantiles the same way whatever it is built from.

Fleet scoring builds thousands of forecasts from plain Python floats, which take a cheaper path
than numpy arrays; both must give the same floats and the same errors.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest

from prognos.domain.forecast import DEFAULT_LEVELS, FailureForecast

NOW = datetime(2026, 1, 5, tzinfo=UTC)


def both(levels, values, **kw) -> tuple[FailureForecast, FailureForecast]:
    """The forecast from plain floats and from numpy arrays of the same numbers."""
    plain = FailureForecast("a", NOW, tuple(levels), tuple(values), **kw)
    arrays = FailureForecast("a", NOW, np.asarray(levels), np.asarray(values), **kw)
    return plain, arrays


@pytest.mark.parametrize(
    "values",
    [
        (20.0, 30.0, 45.0, 60.0, 75.0, 90.0, 100.0),
        (30.0, 20.0, 45.0, 45.0, 90.0, 75.0, 100.0),  # crossed quantiles: sorted
        (-3.0, -0.0, 0.0, 1e-300, 5.5, 7.25, 1e12),  # below zero: clipped to 0.0, not -0.0
    ],
)
def test_plain_floats_and_arrays_give_the_same_forecast(values):
    plain, arrays = both(DEFAULT_LEVELS, values)
    assert plain == arrays
    assert [math.copysign(1.0, v) for v in plain.values] == [1.0] * len(values)
    assert all(type(v) is float for v in (*plain.values, *plain.levels))
    assert plain.values == tuple(sorted(plain.values))
    assert plain.as_dict() == arrays.as_dict()


@pytest.mark.parametrize(
    ("levels", "values", "message"),
    [
        ((0.1, 0.5), (1.0,), "equal-length"),
        ((), (), "equal-length"),
        ((0.5, 0.1), (1.0, 2.0), "strictly increasing"),
        ((0.1, 0.1), (1.0, 2.0), "strictly increasing"),
        ((0.0, 0.5), (1.0, 2.0), "strictly increasing"),
        ((0.5, 1.0), (1.0, 2.0), "strictly increasing"),
        ((0.1, 0.5), (1.0, math.inf), "finite"),
        ((0.1, 0.5), (math.nan, 2.0), "finite"),
    ],
)
def test_bad_quantiles_get_the_same_error_either_way(levels, values, message):
    for lv, vv in ((tuple(levels), tuple(values)), (np.asarray(levels), np.asarray(values))):
        with pytest.raises(ValueError, match=message):
            FailureForecast("a", NOW, lv, vv)


def test_the_summary_quantiles_are_those_of_the_distribution():
    f = FailureForecast("a", NOW, DEFAULT_LEVELS, (20.0, 30.0, 45.0, 60.0, 75.0, 90.0, 100.0))
    d = f.as_dict()
    assert (d["p10"], d["p50"], d["p90"]) == (30.0, 60.0, 90.0)
    assert d["point"] == d["p50"] == f.quantile(0.5)
    assert f.cdf(60.0) == pytest.approx(0.5)
