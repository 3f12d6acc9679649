"""Every package prognos imports is declared in pyproject.toml, and every install is pinned.

An undeclared import works on the machine where it happened to be installed and fails on a
clean install (``python-dateutil`` was imported by the calendar without being declared). The
constraints file pins what ``make`` installs, so an upstream release cannot change CI overnight.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.split(r"[<>=!~\[;@ ]", requirement, maxsplit=1)[0]).lower()


def imported_modules(folder: Path) -> dict[str, str]:
    """Top-level modules imported anywhere under ``folder`` (lazy imports included): file."""
    found: dict[str, str] = {}
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for n in names:
                found.setdefault(n.split(".")[0], str(path.relative_to(ROOT)))
    return found


def test_every_package_the_code_imports_is_declared():
    declared = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    dists = packages_distributions()
    missing = {}
    for module, where in imported_modules(ROOT / "src" / "prognos").items():
        if module in sys.stdlib_module_names or module == "prognos":
            continue
        names = {_name(d) for d in dists.get(module, [module])}
        if not names & declared:
            missing[module] = (sorted(names), where)
    assert missing == {}, f"imported but not in [project].dependencies: {missing}"


def test_every_package_the_tests_import_is_declared_for_development():
    declared = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    declared |= {_name(r) for r in PYPROJECT["project"]["optional-dependencies"]["dev"]}
    local = {p.stem for p in (ROOT / "tests").rglob("*.py")}
    dists = packages_distributions()
    missing = {}
    for module, where in imported_modules(ROOT / "tests").items():
        if module in sys.stdlib_module_names or module in local or module == "prognos":
            continue
        names = {_name(d) for d in dists.get(module, [module])}
        if not names & declared:
            missing[module] = (sorted(names), where)
    assert missing == {}, f"imported by tests but not declared: {missing}"


def test_make_installs_against_pinned_constraints():
    makefile = (ROOT / "Makefile").read_text()
    assert 'pip install -q -c constraints.txt -e ".[dev]"' in makefile
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"not pinned to one version: {line!r}"
            pins[_name(name)] = version
    assert "prognos" not in pins
    wanted = (
        PYPROJECT["project"]["dependencies"] + PYPROJECT["project"]["optional-dependencies"]["dev"]
    )
    assert {_name(r) for r in wanted} <= set(pins), "a declared package has no pin"
