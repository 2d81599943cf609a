"""The apps' layers (the import-linter contracts in pyproject.toml) hold, so `make test` guards them too:
portal above assessments, above accounts, above members, above organizations; rulebooks on their own."""

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")
PACKAGES = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["root_packages"]


def lint_imports(cwd):
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache", "--no-logo"], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_the_import_contracts_are_kept():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


def copy_of_the_project(tmp_path):
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "*.json"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def test_an_import_upwards_breaks_the_layers(tmp_path):
    project = copy_of_the_project(tmp_path)
    with open(project / "organizations" / "selectors.py", "a") as module:
        module.write("\n\ndef people():\n    from members.models import Member\n\n    return Member\n")
    result = lint_imports(project)
    assert result.returncode == 1
    assert "organizations is not allowed to import members" in result.stdout


def test_rulebooks_may_not_import_the_rest_of_assessments(tmp_path):
    project = copy_of_the_project(tmp_path)
    with open(project / "assessments" / "rulebooks" / "scales.py", "a") as module:
        module.write("\n\nfrom assessments.core import text  # noqa\n")
    result = lint_imports(project)
    assert result.returncode == 1
    assert "assessments.rulebooks is not allowed to import assessments.core" in result.stdout
