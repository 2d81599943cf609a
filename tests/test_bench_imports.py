"""`make bench` imports the project inside its functions, which only run when it is measured: this
checks, without measuring, that every name it imports from the project still exists (a package moved
in a restructure once left it broken)."""

import ast
import importlib
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
PROJECT = ("assessments", "members", "organizations", "accounts", "portal", "demo", "vocabulary", "config")


def project_imports():
    for path in sorted(BENCH.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in PROJECT:
                for alias in node.names:
                    yield pytest.param(node.module, alias.name, id=f"{path.name}:{node.module}.{alias.name}")


@pytest.mark.parametrize(("module", "name"), list(project_imports()))
def test_the_bench_imports_names_that_exist(module, name):
    imported = importlib.import_module(module)
    assert hasattr(imported, name) or importlib.util.find_spec(f"{module}.{name}") is not None


def test_the_bench_imports_something_of_the_project():
    assert len(list(project_imports())) >= 5
