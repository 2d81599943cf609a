"""The services, selectors, access helpers and the policy say what each function takes and returns.

No type checker runs in CI, so this test keeps the hints there and true: every function and method
written in these modules (nested ones too) annotates its return and every parameter but `self`, `cls`,
`*args` and `**kwargs`; and every hint of a module-level function or method names something that
exists, the names imported only for the type checker (under `if TYPE_CHECKING:`) included.
"""

import ast
import importlib
import inspect
import typing
from functools import cached_property
from types import ModuleType

import pytest

MODULES = [
    "organizations.access",
    "organizations.selectors",
    "organizations.roles",
    "organizations.vietnamese",
    "organizations.audit",
    "organizations.policy",
    "organizations.uploads",
    "members.selectors",
    "members.access",
    "accounts.services",
    "accounts.selectors",
    "accounts.access",
    "assessments.core.selectors",
    "assessments.core.services",
    "assessments.core.access",
    "assessments.core.facts",
    "assessments.core.organization_facts",
    "assessments.evaluations",
    "assessments.decisions.links",
    "assessments.core.transitions",
    "assessments.core.workflow",
    "assessments.decisions.selectors",
    "assessments.decisions.services",
    "assessments.decisions.closing",
    "assessments.decisions.ranking",
    "assessments.reviews.selectors",
    "assessments.reviews.services",
    "assessments.meetings.ballot",
    "assessments.meetings.minutes",
    "assessments.outputs.statistics",
]

UNANNOTATED_NAMES = {"self", "cls"}


def unannotated(source: str) -> list[str]:
    """What lacks a hint in `source`, every def (nested ones too): "line name: parameter x" or "line name: return"."""
    problems = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        arguments = node.args
        for argument in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
            if argument.annotation is None and argument.arg not in UNANNOTATED_NAMES:
                problems.append(f"{node.lineno} {node.name}: parameter {argument.arg}")
        if node.returns is None:
            problems.append(f"{node.lineno} {node.name}: return")
    return sorted(problems, key=lambda problem: int(problem.split()[0]))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def hint_namespace(module: ModuleType) -> dict[str, object]:
    """The module's globals plus what its `if TYPE_CHECKING:` blocks define, run now (the apps are
    loaded: what would be an import cycle at start-up is none here)."""
    namespace = dict(vars(module))
    for node in ast.parse(inspect.getsource(module)).body:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            block = ast.Module(body=node.body, type_ignores=[])
            exec(compile(block, module.__file__, "exec"), namespace)
    return namespace


def _functions_of(member: object) -> list:
    if isinstance(member, property):
        return [f for f in (member.fget, member.fset, member.fdel) if f is not None]
    if isinstance(member, cached_property):
        return [member.func]
    if isinstance(member, staticmethod | classmethod):
        return [member.__func__]
    if inspect.isfunction(member):
        return [member]
    return []


def defined_functions(module: ModuleType) -> list[tuple[str, typing.Callable]]:
    """(name, function) of every module-level function and method written in the module's own file:
    not what it imports, nor what `dataclass` generates."""

    def own(func: object) -> bool:
        code = getattr(inspect.unwrap(func), "__code__", None)
        return code is not None and code.co_filename == module.__file__

    found = []
    for name, value in vars(module).items():
        if inspect.isclass(value):
            if value.__module__ != module.__name__:
                continue
            for attribute, member in vars(value).items():
                found += [(f"{name}.{attribute}", inspect.unwrap(f)) for f in _functions_of(member) if own(f)]
        elif inspect.isfunction(inspect.unwrap(value)) and own(value):
            found.append((name, inspect.unwrap(value)))
    return found


def test_the_check_finds_what_lacks_a_hint():
    source = (
        "def fine(a: int, *args, **kwargs) -> int: ...\n"
        "class Thing:\n"
        "    def method(self, b, *, c: str = '') -> None:\n"
        "        def inner(d: int): ...\n"
        "    @classmethod\n"
        "    def make(cls) -> 'Thing': ...\n"
    )
    assert unannotated(source) == ["3 method: parameter b", "4 inner: return"]


def test_names_imported_for_the_type_checker_resolve():
    from django.contrib.auth.models import User

    module = importlib.import_module("organizations.access")
    assert "User" not in vars(module)
    assert hint_namespace(module)["User"] is User
    hints = typing.get_type_hints(module.scope_for, globalns=hint_namespace(module))
    assert User in typing.get_args(hints["user"])


@pytest.mark.parametrize("name", MODULES)
def test_every_function_and_method_is_annotated(name):
    module = importlib.import_module(name)
    assert unannotated(inspect.getsource(module)) == []


@pytest.mark.parametrize("name", MODULES)
def test_the_hints_name_real_types(name):
    module = importlib.import_module(name)
    namespace = hint_namespace(module)
    functions = defined_functions(module)
    assert functions, f"{name} defines no function: is it still in the list?"
    failures = []
    for qualname, func in functions:
        try:
            hints = typing.get_type_hints(func, globalns=namespace)
        except Exception as error:  # a name that exists nowhere, a typo in a hint
            failures.append(f"{qualname}: {error!r}")
            continue
        for parameter in inspect.signature(func).parameters.values():
            variadic = parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
            if not variadic and parameter.name not in UNANNOTATED_NAMES and parameter.name not in hints:
                failures.append(f"{qualname}: parameter {parameter.name}")
        if "return" not in hints:
            failures.append(f"{qualname}: return")
    assert failures == []
