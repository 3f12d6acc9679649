"""`prognos bench rul` follows the protocol on a folder of C-MAPSS-format files."""

from __future__ import annotations

import gzip
import json
import math
from functools import partial

import pytest

from prognos.bench.rul import phm08_score
from prognos.cli import main
from prognos.data import dataset_dir


def test_phm08_score_punishes_late_more_than_early():
    assert phm08_score([10.0], [0.0]) == pytest.approx(math.e - 1)
    assert phm08_score([0.0], [13.0]) == pytest.approx(math.e - 1)
    assert phm08_score([5.0, 20.0], [5.0, 10.0]) > phm08_score([5.0, 0.0], [5.0, 10.0])


def test_bench_command_prints_the_protocol_json(tmp_path, capsys, monkeypatch):
    import prognos.analytics.rul as rul

    # the protocol, not the model size, is under test: a small forest keeps this quick
    monkeypatch.setattr(rul, "RulEstimator", partial(rul.RulEstimator, n_estimators=40, n_folds=3))
    src = dataset_dir("cmapss")

    def head(name: str, keep) -> list[str]:
        with gzip.open(src / f"{name}.gz", "rt") as fh:
            return [line for i, line in enumerate(fh) if keep(i, line)]

    (tmp_path / "train_FD009.txt").write_text(
        "".join(head("train_FD001.txt", lambda _, ln: int(ln.split()[0]) <= 12))
    )
    (tmp_path / "test_FD009.txt").write_text(
        "".join(head("test_FD001.txt", lambda _, ln: int(ln.split()[0]) <= 6))
    )
    (tmp_path / "RUL_FD009.txt").write_text("".join(head("RUL_FD001.txt", lambda i, _: i < 6)))
    main(["bench", "rul", "--data", str(tmp_path), "--subset", "FD009", "--seeds", "1", "--json"])
    out = json.loads(capsys.readouterr().out)
    expected = {
        "subset",
        "rmse",
        "phm08_score",
        "coverage_90",
        "width_90",
        "seeds",
        "train_seconds",
    }
    assert expected | {"predict_ms_per_unit"} <= set(out)
    assert out["subset"] == "FD009" and out["seeds"] == 1 and out["n_test_units"] == 6
    assert 0 <= out["coverage_90"] <= 1 and 0 < out["rmse"] < 60
