"""C-MAPSS train units as ground-truth run-to-failure trajectories, split into disjoint halves.

One half trains the models that forecast; the other half drives the simulated engines, so no
forecaster ever saw the trajectory it forecasts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from prognos.data import dataset_dir, open_text

SUBSETS = ("FD001", "FD003")
# sensors that move with degradation in FD001/FD003 (1-based sensor numbers)
INFORMATIVE = (2, 3, 4, 7, 8, 9, 11, 12, 13, 14, 15, 17, 20, 21)


@dataclass(frozen=True)
class Trajectory:
    """One engine's life: sensor rows, one per cycle; it fails after the last row."""

    name: str
    sensors: np.ndarray  # (cycles, len(INFORMATIVE))

    @property
    def life(self) -> int:
        return int(self.sensors.shape[0])


def load_trajectories(data_dir: Path | str | None = None) -> list[Trajectory]:
    folder = dataset_dir("cmapss", data_dir)
    out = []
    cols = [4 + s for s in INFORMATIVE]  # unit, cycle, 3 settings, sensor_1 at column 5
    for sub in SUBSETS:
        with open_text(folder, f"train_{sub}.txt") as fh:
            arr = np.loadtxt(fh, dtype=float, ndmin=2)
        for unit in np.unique(arr[:, 0]).astype(int):
            rows = arr[arr[:, 0] == unit]
            rows = rows[np.argsort(rows[:, 1])]
            out.append(Trajectory(f"{sub}-{unit}", rows[:, cols]))
    return out


def split(trajs: list[Trajectory], seed: int = 0) -> tuple[list[Trajectory], list[Trajectory]]:
    """(training units, held-out units for the simulation): a seeded half-half split."""
    order = np.random.default_rng(seed).permutation(len(trajs))
    half = len(trajs) // 2
    return [trajs[i] for i in order[:half]], [trajs[i] for i in order[half:]]
