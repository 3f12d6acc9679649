"""The shape of the house, pinned: imports point down and never in a circle, modules stay small,
only the service layer touches the store, no use case grants rights by default, and benchmarks
measure while the CLI holds their commands."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "prognos"
MAX_LINES = 400
# Who may hold the database: the store itself, and the use cases that wrap it.
STORE_LAYERS = ("service", "store")
DRIVERS = ("duckdb", "psycopg")
# Throwaway servers for tests and benchmarks (Mosquitto, PostgreSQL): it creates an empty
# database on a server it started, and touches no prognos store.
DEV_TOOLS = ("prognos.devservers",)
PRINCIPAL_NAMES = {"p", "principal", "viewer", "who"}
# The command-line toolkits: only the cli layer builds commands with them.
CLI_TOOLKITS = ("typer", "click")
# Libraries that take seconds to import: a model, a solver or a protocol loads them when used.
HEAVY = ("sklearn", "scipy", "torch", "lightgbm", "asyncua", "dask", "distributed")


def modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out.append((".".join(parts), path))
    return out


def layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of two or more modules (Tarjan), over every import: lazy
    ones inside functions and ``TYPE_CHECKING`` ones included."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.find_modules_directly_imported_by(v):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for m in sorted(graph.modules):
        if m not in index:
            visit(m)
    return found


def test_no_module_imports_itself_through_others():
    graph = grimp.build_graph("prognos", include_external_packages=False)
    assert cycles(graph) == []


@pytest.mark.parametrize("name,path", modules(), ids=[m for m, _ in modules()])
def test_modules_stay_small(name, path):
    n = len(path.read_text().splitlines())
    assert n <= MAX_LINES, f"{name} has {n} lines: split it by concept"


def _imported(node: ast.AST) -> list[str]:
    """The modules an import statement names (none for any other node)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if isinstance(node, ast.ImportFrom):
        return [node.module or ""]
    return []


def _store_access(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "store":
            found.append(f"line {node.lineno}: .store")
            continue
        for n in _imported(node):
            if n.startswith("prognos.store") or n.split(".")[0] in DRIVERS:
                found.append(f"line {node.lineno}: import {n}")
    return found


def test_only_the_service_layer_and_the_store_touch_the_database():
    offenders = {}
    for name, path in modules():
        if layer_of(name) in STORE_LAYERS or name in DEV_TOOLS:
            continue
        found = _store_access(ast.parse(path.read_text()))
        if found:
            offenders[name] = found
    assert offenders == {}


def _principal_defaults(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        a = node.args
        positional = a.posonlyargs + a.args
        pairs = list(zip(positional[len(positional) - len(a.defaults) :], a.defaults, strict=True))
        pairs += [(k, d) for k, d in zip(a.kwonlyargs, a.kw_defaults, strict=True) if d is not None]
        for arg, default in pairs:
            text = ast.unparse(default)
            if (arg.arg in PRINCIPAL_NAMES and text != "None") or "MANUFACTURER" in text:
                found.append(f"{node.name}({arg.arg}={text}) line {node.lineno}")
    return found


def test_no_function_grants_rights_by_default():
    """A forgotten principal must fail, not run with the manufacturer's rights."""
    offenders = {}
    for name, path in modules():
        found = _principal_defaults(ast.parse(path.read_text()))
        if found:
            offenders[name] = found
    assert offenders == {}


def _cli_parts(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        found += [
            f"line {node.lineno}: import {n}"
            for n in _imported(node)
            if n.split(".")[0] in CLI_TOOLKITS
        ]
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if node.name == "register":
                found.append(f"line {node.lineno}: def register")
            for d in node.decorator_list:
                target = d.func if isinstance(d, ast.Call) else d
                if isinstance(target, ast.Attribute) and target.attr in ("command", "callback"):
                    found.append(f"line {d.lineno}: @{ast.unparse(target)}")
    return found


def test_benchmarks_are_plain_functions_and_their_commands_live_in_the_cli():
    """`prognos bench ...` options, help and output are in prognos.cli.bench; prognos.bench
    takes arguments and returns the JSON dict, so a benchmark runs the same from a test."""
    offenders = {}
    for name, path in modules():
        if layer_of(name) == "bench":
            found = _cli_parts(ast.parse(path.read_text()))
            if found:
                offenders[name] = found
    assert offenders == {}


def test_the_cli_check_sees_a_command_defined_outside_the_cli():
    text = "import typer\n\ndef register(app):\n    @app.command('x')\n    def x() -> None: ...\n"
    assert _cli_parts(ast.parse(text)) == [
        "line 1: import typer",
        "line 3: def register",
        "line 4: @app.command",
    ]


def _heavy_loaded(module: str) -> list[str]:
    code = (
        f"import sys, {module}; print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout.split()
    return [m for m in (*HEAVY, "pandas", "fastapi") if m in loaded]


def test_the_cli_starts_without_the_platform_behind_it():
    """`prognos --help` needs the commands, not the store, models or web framework: the
    platform loads when a command opens it."""
    assert _heavy_loaded("prognos.cli") == []


@pytest.mark.parametrize("module", ["prognos.api.app", "prognos.server"])
def test_the_composition_root_loads_no_model_solver_or_protocol_library(module):
    """A server (or a command) opening the platform loads scikit-learn, SciPy, LightGBM,
    asyncua or Dask only when it fits or reads a model, plans, or subscribes. (pandas and
    the web framework stay: the store's ports and the routes are built on them.)"""
    assert [m for m in _heavy_loaded(module) if m in HEAVY] == []
