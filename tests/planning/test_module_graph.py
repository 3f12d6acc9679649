"""The planning package imports in one direction only: no module imports another that imports
it back, at the top or inside a function (a circle through lazy imports is still a circle)."""

from __future__ import annotations

import ast
from pathlib import Path

import prognos.planning

PACKAGE = Path(prognos.planning.__file__).parent


def planning_imports(path: Path) -> set[str]:
    """Every ``prognos.planning.X`` a module imports, wherever in the module."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if (
                parts[:2] == ["prognos", "planning"]
                and len(parts) > 2
                and (PACKAGE / f"{parts[2]}.py").exists()
            ):
                out.add(parts[2])
    return out - {path.stem}


def test_no_two_planning_modules_import_each_other_even_lazily():
    graph = {p.stem: planning_imports(p) for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    assert "optimizer" in graph and "explain" in graph
    # depth-first search for any cycle
    state: dict[str, int] = {}

    def visit(m: str, trail: list[str]) -> None:
        state[m] = 1
        for n in sorted(graph.get(m, ())):
            assert state.get(n) != 1, f"import cycle: {' -> '.join([*trail, m, n])}"
            if n not in state:
                visit(n, [*trail, m])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [])
    assert "optimizer" not in graph["explain"]


def test_planning_stays_below_the_other_layers():
    for p in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(p.read_text())):
            mods = [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
            mods += [a.name for a in node.names] if isinstance(node, ast.Import) else []
            for m in mods:
                assert not m.startswith(tuple(f"prognos.{x}" for x in
                    ("store", "service", "ingest", "analytics", "sim", "api", "web", "cli", "bench"))), (p.name, m)  # fmt: skip
