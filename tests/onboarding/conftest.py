"""Onboarding a user's own data: run the CLI in process and read what it printed."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from prognos.cli import main


@pytest.fixture
def cli(capsys, monkeypatch, tmp_path) -> Callable[..., tuple[int, str, str]]:
    """``cli("registry", "load", path)`` -> (exit code, stdout, stderr), on a fresh store."""
    monkeypatch.setenv("PROGNOS_DB", str(tmp_path / "own.duckdb"))
    monkeypatch.setenv("PROGNOS_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    monkeypatch.delenv("PROGNOS_API_KEY", raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = 0
        try:
            main([str(a) for a in args])
        except SystemExit as e:
            code = int(e.code or 0)
        out, err = capsys.readouterr()
        assert "Traceback" not in err, err
        return code, out, err

    return run
