"""Conformal quantiles from held-out residuals, binned by the prediction (Mondrian conformal).

Errors of a RUL model depend strongly on where it stands: near failure the model is sure, in
mid-life it is not. So calibration residuals ``y - y_hat`` are grouped into bins of ``y_hat``
(Mondrian conformal prediction, Vovk et al. 2003) and a quantile level ``q`` of a new point is its
prediction plus the conformal ``q``-quantile of its bin's signed residuals. With the finite-sample
ranks below, the interval between levels ``a/2`` and ``1 - a/2`` covers with probability at least
``1 - a`` within each bin when calibration and test points are exchangeable.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def conformal_quantile(sorted_residuals: np.ndarray, level: float) -> float:
    """The split-conformal ``level`` quantile of residuals (upper levels round up, lower down)."""
    r = sorted_residuals
    n = len(r)
    if n == 0:
        return 0.0
    if level >= 0.5:
        k = int(np.ceil((n + 1) * level))
        return float(r[min(k, n) - 1])
    k = int(np.floor((n + 1) * level))
    return float(r[max(k, 1) - 1])


class BinnedResiduals:
    """Signed calibration residuals split into bins of the prediction."""

    def __init__(self, pred: np.ndarray, resid: np.ndarray, n_bins: int = 4, min_bin: int = 30):
        pred = np.asarray(pred, dtype=float)
        resid = np.asarray(resid, dtype=float)
        n_bins = max(1, min(n_bins, len(pred) // max(min_bin, 1)))
        qs = np.quantile(pred, np.linspace(0, 1, n_bins + 1)[1:-1]) if n_bins > 1 else []
        self.edges = np.unique(np.asarray(qs, dtype=float))
        which = np.searchsorted(self.edges, pred, side="right")
        self.residuals = [np.sort(resid[which == b]) for b in range(len(self.edges) + 1)]
        # a bin left empty by ties borrows every residual
        self.residuals = [r if len(r) else np.sort(resid) for r in self.residuals]

    def offsets(self, pred: np.ndarray, levels: Sequence[float]) -> np.ndarray:
        """Offsets to add to ``pred`` for each level: shape (len(pred), len(levels))."""
        table = np.array([[conformal_quantile(r, q) for q in levels] for r in self.residuals])
        which = np.searchsorted(self.edges, np.asarray(pred, dtype=float), side="right")
        return table[which]
