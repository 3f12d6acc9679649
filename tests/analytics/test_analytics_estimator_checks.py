"""scikit-learn's estimator checks over every model in prognos.analytics.

``RulEstimator``, ``WeibullModel``, ``WearTrendModel`` and ``HealthModel`` run the full suite.
``SensorRulModel`` and ``RegimeNormalizer`` take long DataFrames with named setting, unit and time
columns, which the generic checks cannot produce; they run the checks that do not fit on arrays
(construction, parameters, cloning), and their fitting is tested on C-MAPSS-shaped frames in
``test_rul_model.py`` and ``test_rul_features.py``.
"""

from __future__ import annotations

import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
    parametrize_with_checks,
)

from prognos.analytics.health import HealthModel
from prognos.analytics.regimes import RegimeNormalizer
from prognos.analytics.reliability import WeibullModel
from prognos.analytics.rul import RulEstimator, SensorRulModel
from prognos.analytics.wear import WearTrendModel


@parametrize_with_checks(
    [
        RulEstimator(n_estimators=20, learning_rate=0.3, n_folds=3, random_state=0),
        RulEstimator(n_estimators=20, learning_rate=0.3, n_folds=1, random_state=0),
        WeibullModel(),
        WearTrendModel(threshold=3.0, random_state=0),
        HealthModel(),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    "check",
    [
        check_no_attributes_set_in_init,
        check_get_params_invariance,
        check_parameters_default_constructible,
        check_set_params,
    ],
)
@pytest.mark.parametrize(
    "estimator", [SensorRulModel(random_state=0), RegimeNormalizer(settings=("s1",))]
)
def test_frame_models_follow_the_estimator_api(estimator, check):
    check(type(estimator).__name__, estimator)
    assert clone(estimator).get_params() == estimator.get_params()
