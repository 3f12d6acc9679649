"""Pure computation on arrays and DataFrames, as scikit-learn estimators.

rul          SensorRulModel / RulEstimator: sensor histories -> RUL quantiles (LightGBM + conformal)
wear         WearTrendModel: wear vs time -> threshold-crossing forecast
reliability  WeibullModel: censored lifetimes (+ covariates) -> conditional remaining life
health       HealthModel: healthy-period telemetry -> HealthScore of a recent window
regimes, features, conformal, cmapss, azure_pdm: the parts and the data readers
"""
