"""Which regimes exist: `get_rulebook("2018")`, `available_rulebooks()` and the catalogue `RULES`.

`exclusion_message` writes the message of a stored exclusion again, in either language.

A regime registers itself with `@register` when its module is imported. `discover()` imports every
module or subpackage of this package whose name starts with "regime" (the shipped regimes are packages,
regime2018/ and regime2025/), so a new regime (or a province's variant) is one new module or package and
its data files: nothing else changes.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from types import MappingProxyType

from .catalogue import RuleSpec
from .rulebook import Rulebook

_RULEBOOKS: dict[str, Rulebook] = {}
_RULES: dict[str, RuleSpec] = {}
# Every implemented rule of every registered regime, by id (read-only view).
RULES = MappingProxyType(_RULES)


def register(cls: type[Rulebook], *, replace: bool = False) -> type[Rulebook]:
    """Class decorator: instantiate the regime and make it available under its code."""
    if not cls.code:
        raise ValueError(f"{cls.__name__} has no code")
    existing = _RULEBOOKS.get(cls.code)
    if existing is not None and type(existing) is not cls and not replace:
        raise ValueError(f"a rulebook with code {cls.code!r} is already registered")
    rulebook = cls()
    clashes = sorted(
        rule_id for rule_id in rulebook.implemented_rules if rule_id in _RULES and _RULES[rule_id].regime != cls.code
    )
    if clashes:
        raise ValueError(f"rule ids already used by another regime: {', '.join(clashes)}")
    unregister(cls.code)
    _RULEBOOKS[cls.code] = rulebook
    _RULES.update(rulebook.implemented_rules)
    return cls


def unregister(code: str) -> None:
    rulebook = _RULEBOOKS.pop(code, None)
    if rulebook is not None:
        for rule_id in rulebook.implemented_rules:
            _RULES.pop(rule_id, None)


def discover(package: str = __package__) -> None:
    """Import every module or package named regime* of `package` (default: this one); each registers itself."""
    path = importlib.import_module(package).__path__
    for module in pkgutil.iter_modules(path):
        if module.name.startswith("regime"):
            importlib.import_module(f"{package}.{module.name}")


def get_rulebook(code: str) -> Rulebook:
    discover()
    try:
        return _RULEBOOKS[code]
    except KeyError:
        raise LookupError(f"no rulebook {code!r}; available: {', '.join(sorted(_RULEBOOKS))}") from None


def available_rulebooks() -> tuple[Rulebook, ...]:
    """The registered regimes, by code."""
    discover()
    return tuple(_RULEBOOKS[code] for code in sorted(_RULEBOOKS))


def exclusion_message(rule_id: str, reason: str, values: Mapping[str, str], lang: str) -> str:
    """The message of an exclusion stored as its rule id, reason and values (`Exclusion.values`), in
    `lang`: the same text as the Exclusion's `message(lang)`. A rule no registered regime has any more
    gives its id."""
    discover()
    spec = _RULES.get(rule_id)
    if spec is None:
        return rule_id
    return spec.render(lang, values, spec.variant_for(reason))
