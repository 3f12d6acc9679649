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


def conformal_quantile(
    sorted_residuals: np.ndarray, level: float, cum_weights: np.ndarray | None = None, n: float = 0
) -> float:
    """The split-conformal ``level`` quantile of residuals, widened outward for ``n`` points.

    Upper levels move up to ``level * (1 + 1/n)`` and lower levels down by the same share of their
    tail, the usual finite-sample step; ``cum_weights`` (normalised to end at 1) weight the points.
    """
    r = sorted_residuals
    if len(r) == 0:
        return 0.0
    n = n or len(r)
    cw = np.arange(1, len(r) + 1) / len(r) if cum_weights is None else cum_weights
    adj = level * (1 + 1 / n) if level >= 0.5 else 1.0 - (1.0 - level) * (1 + 1 / n)
    if adj <= 0:
        return float(r[0])
    i = int(np.searchsorted(cw, min(adj, 1.0) - 1e-12, side="left"))
    return float(r[min(i, len(r) - 1)])


class BinnedResiduals:
    """Signed calibration residuals split into bins of the prediction.

    ``groups`` (unit ids) weight every unit equally -- one random cut point per held-out unit, in
    expectation -- and the finite-sample step counts units, not rows, since a unit's rows are
    not independent.
    """

    def __init__(
        self,
        pred: np.ndarray,
        resid: np.ndarray,
        groups: np.ndarray | None = None,
        n_bins: int = 4,
        min_bin: int = 30,
    ):
        pred = np.asarray(pred, dtype=float)
        resid = np.asarray(resid, dtype=float)
        if groups is None:
            groups = np.arange(len(pred))
        _, inv, counts = np.unique(groups, return_inverse=True, return_counts=True)
        w = 1.0 / counts[inv]
        n_bins = max(1, min(n_bins, len(pred) // max(min_bin, 1)))
        qs = np.quantile(pred, np.linspace(0, 1, n_bins + 1)[1:-1]) if n_bins > 1 else []
        self.edges = np.unique(np.asarray(qs, dtype=float))
        which = np.searchsorted(self.edges, pred, side="right")
        self.bins: list[tuple[np.ndarray, np.ndarray, int]] = []
        for b in range(len(self.edges) + 1):
            sel = which == b
            if not sel.any():  # a bin left empty by ties borrows every residual
                sel = np.ones(len(pred), dtype=bool)
            order = np.argsort(resid[sel], kind="stable")
            cw = np.cumsum(w[sel][order])
            self.bins.append((resid[sel][order], cw / cw[-1], len(np.unique(inv[sel]))))

    def offsets(self, pred: np.ndarray, levels: Sequence[float]) -> np.ndarray:
        """Offsets to add to ``pred`` for each level: shape (len(pred), len(levels))."""
        table = np.array(
            [[conformal_quantile(r, q, cw, n) for q in levels] for r, cw, n in self.bins]
        )
        which = np.searchsorted(self.edges, np.asarray(pred, dtype=float), side="right")
        return table[which]
