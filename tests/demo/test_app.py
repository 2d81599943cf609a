"""The demo is a development app: installed only with DEBUG or under pytest, without models, and
imported by no other app of the project."""

import ast
import os
import subprocess
import sys
from pathlib import Path

from django.apps import apps
from django.conf import settings

from demo.apps import installed_in_production

ROOT = Path(settings.BASE_DIR)
# The apps below the demo: none of them may import it (the demo imports them all).
LOWER_APPS = ("organizations", "members", "accounts", "assessments", "config")


def installed_with(**environ):
    """Whether the settings, read by a fresh process (not under pytest) with these variables, install the demo."""
    code = "import config.settings as s; print('demo' in s.INSTALLED_APPS)"
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env.update(DJANGO_SECRET_KEY="x" * 60, **environ)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip() == "True"


def test_installed_in_development_and_left_out_in_production():
    assert apps.is_installed("demo")  # under pytest
    assert installed_with(DJANGO_DEBUG="1")
    assert not installed_with(DJANGO_DEBUG="0")
    assert installed_with(DJANGO_DEBUG="0", DJANGO_DEMO="1")  # a load test's throwaway database
    assert not installed_with(DJANGO_DEBUG="1", DJANGO_DEMO="0")


def test_the_deployment_check_warns_when_it_is_installed_without_debug(settings):
    settings.DEBUG = True
    assert installed_in_production(None) == []
    settings.DEBUG = False
    (warning,) = installed_in_production(None)
    assert warning.id == "demo.W001"


def test_it_has_no_models_and_no_migrations():
    assert list(apps.get_app_config("demo").get_models()) == []
    assert not (ROOT / "demo" / "migrations").exists()


def imported_modules(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def test_no_other_app_imports_the_demo():
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for app in LOWER_APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        for module in imported_modules(path)
        if module == "demo" or module.startswith("demo.")
    ]
    assert offenders == []
