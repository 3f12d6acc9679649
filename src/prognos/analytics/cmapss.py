"""Read NASA C-MAPSS files (26 numeric columns) into long DataFrames, and label them with RUL.

Works for every subset (FD001-FD004) and for any folder holding files named like the release
(``train_FD00x.txt``, ``test_FD00x.txt``, ``RUL_FD00x.txt``, each optionally gzipped).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from prognos.data import dataset_dir, open_text
from prognos.errors import ValidationFailed

SETTINGS: tuple[str, ...] = ("setting_1", "setting_2", "setting_3")
SENSORS: tuple[str, ...] = tuple(f"sensor_{i}" for i in range(1, 22))
COLUMNS: tuple[str, ...] = ("unit", "cycle", *SETTINGS, *SENSORS)


@dataclass(frozen=True)
class CmapssSubset:
    """One subset: run-to-failure training units, truncated test units, and the test truth."""

    name: str
    train: pd.DataFrame
    test: pd.DataFrame
    test_rul: np.ndarray  # true RUL after the last test cycle, in test unit order


def read_table(folder: Path | str, filename: str) -> pd.DataFrame:
    """One ``train_``/``test_`` file as a DataFrame with :data:`COLUMNS`."""
    with open_text(Path(folder), filename) as fh:
        arr = np.loadtxt(fh, dtype=float, ndmin=2)
    if arr.shape[1] != len(COLUMNS):
        raise ValidationFailed(
            f"{filename} has {arr.shape[1]} columns, C-MAPSS files have {len(COLUMNS)}",
            hint="pass a folder holding unmodified C-MAPSS files",
        )
    df = pd.DataFrame(arr, columns=list(COLUMNS))
    df["unit"] = df["unit"].astype(int)
    df["cycle"] = df["cycle"].astype(int)
    return df.sort_values(["unit", "cycle"], kind="stable").reset_index(drop=True)


def load_subset(subset: str = "FD001", data_dir: Path | str | None = None) -> CmapssSubset:
    """Load ``subset`` from ``data_dir`` (default: the copy shipped with prognos)."""
    folder = dataset_dir("cmapss", data_dir)
    train = read_table(folder, f"train_{subset}.txt")
    test = read_table(folder, f"test_{subset}.txt")
    with open_text(folder, f"RUL_{subset}.txt") as fh:
        rul = np.loadtxt(fh, dtype=float, ndmin=1)
    if len(rul) != test["unit"].nunique():
        raise ValidationFailed(
            f"RUL_{subset} has {len(rul)} lines for {test['unit'].nunique()} test units"
        )
    return CmapssSubset(subset, train, test, rul)


def run_to_failure_rul(
    frame: pd.DataFrame, unit_col: str = "unit", time_col: str = "cycle"
) -> np.ndarray:
    """RUL of every row of run-to-failure histories: last time of its unit minus its time."""
    last = frame.groupby(unit_col)[time_col].transform("max")
    return (last - frame[time_col]).to_numpy(dtype=float)
