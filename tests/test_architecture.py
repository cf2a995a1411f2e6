"""The package's structure: imports run one way (the import-linter contract in pyproject.toml), no module
imports itself through others, and imports inside functions are the documented start-up exceptions."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import networkx as nx
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "dmz_solver"


def test_layers_contract_holds() -> None:
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_logo=True, no_cache=True) == 0


def test_no_import_cycles() -> None:
    graph = grimp.build_graph("dmz_solver", cache_dir=None)
    imports = nx.DiGraph()
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            imports.add_edge(module, imported)
    cycles = sorted(sorted(c) for c in nx.strongly_connected_components(imports) if len(c) > 1)
    assert cycles == []


def function_level_imports() -> list[tuple[str, int, str]]:
    """(file, line, source line) of each import statement inside a function of the package."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = path.read_text().splitlines()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Import | ast.ImportFrom):
                        found.append((str(path.relative_to(ROOT)), inner.lineno, lines[inner.lineno - 1]))
    return found


def test_imports_inside_functions_say_why() -> None:
    """Only start-up time justifies a function-level import (TVM, matplotlib, ...), and the line says so."""
    unexplained = [f"{file}:{line}: {text.strip()}" for file, line, text in function_level_imports() if "#" not in text]
    assert unexplained == []


def test_the_lazy_imports_are_few() -> None:
    assert len(function_level_imports()) <= 8
