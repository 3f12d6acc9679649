"""Anomaly detectors over z-scores: how far a window of readings sits from healthy behaviour.

Both take z-scores (each channel centred and scaled by the asset's own healthy baseline,
``health.HealthModel``) and score the mean z-vector of a window of readings:

* ``ZScoreDetector`` ("robust-z"): the Mahalanobis distance of the window's mean z-vector, with
  the channels' healthy correlation (Ledoit-Wolf shrunk). A channel far out, or channels that
  usually move together moving apart, both count. Contributions: ``z_j (P z)_j``.
* ``PcaDetector`` ("pca-reconstruction"): the distance of the window's mean z-vector from the
  healthy principal subspace (the components explaining ``variance`` of healthy variation):
  the reconstruction error. Moves along the ways healthy readings vary are ignored, broken
  relations between channels are not. Contributions: each channel's squared residual.

Each detector learns its reference ``reference_`` (the ``quantile`` of healthy window distances)
from windows it did not fit on; a distance at the reference is where health starts to fall.
Which detector a type uses is chosen by validation on its lives (``health_fit``).
"""

from __future__ import annotations

import numpy as np
from sklearn.covariance import LedoitWolf

DETECTORS = ("robust-z", "pca-reconstruction")


class Detector:
    """What both detectors share: fitted on healthy z rows, a reference from healthy windows."""

    name = "detector"
    reference_: float = 1.0

    def fit(self, z: np.ndarray) -> Detector:  # pragma: no cover - abstract
        raise NotImplementedError

    def distance(self, zbar: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        """Distance of each row of window-mean z-vectors (n, p) from healthy behaviour."""
        raise NotImplementedError

    def contributions(self, zbar: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        """Each channel's non-negative share of the distance, per row (n, p)."""
        raise NotImplementedError

    def calibrate(self, healthy_windows: np.ndarray, quantile: float = 0.99) -> Detector:
        """Set the reference from window-mean z-vectors of healthy periods it was not fit on."""
        if len(healthy_windows):
            self.reference_ = float(
                max(np.quantile(self.distance(healthy_windows), quantile), 1e-9)
            )
        return self

    def score(self, zbar: np.ndarray) -> np.ndarray:
        """0-100: 100 up to the reference distance, ``100 exp(-(d - ref) / ref)`` beyond."""
        d = self.distance(zbar)
        ref = self.reference_
        return 100.0 * np.minimum(1.0, np.exp(-(d - ref) / ref))


class ZScoreDetector(Detector):
    name = "robust-z"

    def fit(self, z: np.ndarray) -> ZScoreDetector:
        p = z.shape[1]
        enough = p > 0 and len(z) > p + 1
        self.precision_ = LedoitWolf().fit(z).precision_ if enough else np.eye(p)
        return self

    def distance(self, zbar: np.ndarray) -> np.ndarray:
        if zbar.shape[1] == 0:
            return np.zeros(len(zbar))
        q = np.einsum("ij,jk,ik->i", zbar, self.precision_, zbar)
        return np.sqrt(np.maximum(q, 0.0))

    def contributions(self, zbar: np.ndarray) -> np.ndarray:
        return np.maximum(zbar * (zbar @ self.precision_.T), 0.0)


class PcaDetector(Detector):
    name = "pca-reconstruction"

    def __init__(self, variance: float = 0.9):
        self.variance = variance

    def fit(self, z: np.ndarray) -> PcaDetector:
        p = z.shape[1]
        if p == 0 or len(z) < 2:
            self.components_ = np.zeros((0, p))
            return self
        centred = z - z.mean(axis=0)
        _, sv, vt = np.linalg.svd(centred, full_matrices=False)
        share = np.cumsum(sv**2) / max(float(np.sum(sv**2)), 1e-12)
        k = int(np.searchsorted(share, self.variance) + 1)
        self.components_ = vt[: min(k, p - 1)] if p > 1 else np.zeros((0, p))
        return self

    def _residual(self, zbar: np.ndarray) -> np.ndarray:
        v = self.components_
        return zbar - (zbar @ v.T) @ v

    def distance(self, zbar: np.ndarray) -> np.ndarray:
        return np.sqrt(np.sum(self._residual(zbar) ** 2, axis=1))

    def contributions(self, zbar: np.ndarray) -> np.ndarray:
        return self._residual(zbar) ** 2


def make_detector(name: str) -> Detector:
    if name == ZScoreDetector.name:
        return ZScoreDetector()
    if name == PcaDetector.name:
        return PcaDetector()
    raise ValueError(f"unknown anomaly detector {name!r}: use one of {', '.join(DETECTORS)}")


def auc(healthy: np.ndarray, failing: np.ndarray) -> float:
    """Probability that a failing window scores a larger distance than a healthy one (ties
    count half): how well a detector tells the end of a life from its healthy part."""
    if not len(healthy) or not len(failing):
        return float("nan")
    both = np.concatenate([healthy, failing])
    ranks = np.empty(len(both))
    order = np.argsort(both, kind="stable")
    ranks[order] = np.arange(1, len(both) + 1)
    for v in np.unique(both):  # ties share their mean rank
        tie = both == v
        if tie.sum() > 1:
            ranks[tie] = ranks[tie].mean()
    r = ranks[len(healthy) :].sum()
    n1, n0 = len(failing), len(healthy)
    return float((r - n1 * (n1 + 1) / 2) / (n0 * n1))
