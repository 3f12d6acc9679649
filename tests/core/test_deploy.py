"""The deployment files (deploy/) say only what prognos can do: every command they run is a real
command with real options, every PROGNOS_ variable a real setting, every file they mount is
shipped. Docker does not run here; these checks read the files as Docker and systemd would."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from prognos.cli import app
from prognos.config import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
ROOT = DEPLOY.parent
SETTINGS = {f"PROGNOS_{n.upper()}" for n in Settings.model_fields}


def _check_command(argv: list[str]) -> None:
    """``prognos ...`` parses (its --help runs with these options); ``dask ...`` is Dask's."""
    if argv[0].endswith("dask"):
        assert argv[1] in ("scheduler", "worker"), argv
        return
    assert argv[0].endswith("prognos"), argv
    words = [a for a in argv[1:] if not a.startswith("-")]
    sub, i = [], 0
    while i < len(argv) - 1 and not argv[1 + i].startswith("-"):
        sub.append(argv[1 + i])
        i += 1
    r = CliRunner().invoke(app, [*sub, "--help"])
    assert r.exit_code == 0, (argv, r.output)
    for opt in [a.split("=")[0] for a in argv[1:] if a.startswith("--")]:
        assert opt in r.output, f"{' '.join(argv)}: {opt} is not an option of prognos {sub}"
    assert words[: len(sub)] == sub


def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_the_compose_file_runs_the_documented_topology():
    services = _compose()["services"]
    commands = {name: s.get("command") for name, s in services.items()}
    prognos = {n: c for n, c in commands.items() if c and c[0] == "prognos"}
    assert sorted(c[1] for c in prognos.values()).count("serve") == 2
    assert sum(c[1:3] == ["ingest", "mqtt"] for c in prognos.values()) == 2
    assert {"postgres", "mosquitto", "dask-scheduler"} <= set(services)
    assert sum(n.startswith("dask-worker") for n in services) >= 2


@pytest.mark.parametrize("name", sorted(_compose()["services"]))
def test_every_compose_service_runs_a_real_command_with_real_settings(name):
    svc = _compose()["services"][name]
    if svc.get("command") and svc["command"][0] in ("prognos", "dask"):
        _check_command(svc["command"])
    for var in svc.get("environment") or {}:
        if var.startswith("PROGNOS_"):
            assert var in SETTINGS, f"{name}: {var} is not a prognos setting"
    for vol in svc.get("volumes") or []:
        src = vol.split(":")[0]
        if src.startswith("./"):
            path = DEPLOY / src
            assert path.exists() or path.name == "passwd", f"{name} mounts {src}, not shipped"


def test_the_dockerfile_copies_what_the_repository_has():
    text = (DEPLOY / "Dockerfile").read_text()
    for line in text.splitlines():
        if line.startswith("COPY "):
            for src in line.split()[1:-1]:
                assert (ROOT / src).exists(), f"Dockerfile copies {src}, which is not there"
    cmd = re.search(r"^CMD (.+)$", text, re.M)
    _check_command(yaml.safe_load(cmd[1]))


@pytest.mark.parametrize("unit", sorted(p.name for p in (DEPLOY / "systemd").glob("*.service")))
def test_every_systemd_unit_starts_a_real_command(unit):
    text = (DEPLOY / "systemd" / unit).read_text()
    start = re.search(r"^ExecStart=(.+)$", text, re.M)[1]
    argv = [a.replace("%i", "8000") for a in shlex.split(start) if not a.startswith("${")]
    _check_command([Path(argv[0]).name, *argv[1:]])
    for var in re.findall(r"^Environment=(\w+)=", text, re.M):
        assert var in SETTINGS
    assert "[Install]" in text


def test_the_example_environment_names_only_real_settings():
    lines = (DEPLOY / "systemd" / "prognos.env.example").read_text().splitlines()
    names = [ln.split("=")[0] for ln in lines if ln and not ln.startswith("#")]
    assert all(n in SETTINGS for n in names if n.startswith("PROGNOS_"))
