"""The registry: the shipped regimes, and a third regime added without touching them."""

import json
import sys
import textwrap
from datetime import date

import pytest

from assessments.rulebooks import (
    RULES,
    Answers,
    Rulebook,
    SubjectKind,
    available_rulebooks,
    discover,
    get_rulebook,
    register,
    unregister,
)
from assessments.rulebooks.forms import FormPurpose, TemplateKey
from assessments.rulebooks.regime2018 import Regime2018
from vocabulary import Level

from .cases import member

THIRD_RULES = {
    "regime": "2099",
    "rules": [
        {
            "id": "R2099-M-LATE",
            "mark": "V",
            "source": "QĐ 999-QĐ/TW",
            "subjects": ["member"],
            "title_vi": "Nộp muộn",
            "title_en": "Late",
            "messages": {"default": {"vi": "Nộp muộn: tối đa {cap}", "en": "Late: at most {cap}"}},
        }
    ],
}
THIRD_TEMPLATE = {
    "code": "Mẫu 99",
    "title_vi": "Bản tự đánh giá",
    "title_en": "Self-assessment",
    "sections": [
        {
            "id": "A",
            "label_vi": "A",
            "label_en": "A",
            "items": [{"id": "level", "kind": "level", "required": True, "label_vi": "Mức", "label_en": "Level"}],
        }
    ],
}
THIRD_MODULE = """
from assessments.rulebooks import Rulebook, SubjectKind, register
from assessments.rulebooks.forms import FormPurpose, TemplateKey
from vocabulary import Level


@register
class Regime2099(Rulebook):
    code = "2099"
    title_vi = "Chế độ thử"
    title_en = "A test regime"
    data_root = DATA_ROOT
    data_dir = "regime2099"
    templates = {{(SubjectKind.MEMBER, FormPurpose.SELF_REVIEW): TemplateKey("regime2099/self_review.json")}}
    evaluation_purpose = FormPurpose.SELF_REVIEW

    def exclusion(self, facts, reference_date, params=None):
        return None

    def evaluate_member(self, facts, answers=None, params=None, **kwargs):
        def checks(ctx):
            if ctx.facts.sick_leave_days:
                yield ctx.finding("R2099-M-LATE", cap=Level.HTNV)

        return self._run(SubjectKind.MEMBER, facts, answers, params, checks, **kwargs)
"""


@pytest.fixture
def third_regime(tmp_path, monkeypatch):
    """A package with one regime module and its data, as a province would add one."""
    data = tmp_path / "data" / "regime2099"
    data.mkdir(parents=True)
    (data / "rules.json").write_text(json.dumps(THIRD_RULES, ensure_ascii=False), encoding="utf-8")
    (data / "self_review.json").write_text(json.dumps(THIRD_TEMPLATE, ensure_ascii=False), encoding="utf-8")
    package = tmp_path / "province_rulebooks"
    package.mkdir()
    (package / "__init__.py").write_text("")
    module = f"from pathlib import Path\nDATA_ROOT = Path({str(tmp_path / 'data')!r})\n" + THIRD_MODULE
    (package / "regime2099.py").write_text(textwrap.dedent(module.replace("{{", "{").replace("}}", "}")))
    monkeypatch.syspath_prepend(str(tmp_path))
    before = {rulebook.code: dict(rulebook.rules) for rulebook in available_rulebooks()}
    yield before
    unregister("2099")
    for name in [name for name in sys.modules if name.startswith("province_rulebooks")]:
        del sys.modules[name]


def test_the_shipped_regimes_are_registered():
    assert [rulebook.code for rulebook in available_rulebooks()][:2] == ["2018", "2025"]
    assert isinstance(get_rulebook("2018"), Regime2018)
    assert get_rulebook("2025").title_vi == "Quy định 366-QĐ/TW và Hướng dẫn 43-HD/BTCTW"
    assert [document.code for document in get_rulebook("2018").documents] == ["132-QĐ/TW", "16-HD/BTCTW", "21-HD/BTCTW"]


def test_an_unknown_regime_is_a_lookup_error():
    with pytest.raises(LookupError, match="available: 2018, 2025"):
        get_rulebook("1999")


def test_a_third_regime_registers_from_its_own_module_without_touching_the_others(third_regime):
    discover("province_rulebooks")
    third = get_rulebook("2099")
    assert [rulebook.code for rulebook in available_rulebooks()] == ["2018", "2025", "2099"]
    assert RULES["R2099-M-LATE"].source == "QĐ 999-QĐ/TW"
    evaluation = third.evaluate_member(member(sick_leave_days=3), Answers())
    assert evaluation.cap == Level.HTNV and evaluation.regime == "2099"
    assert third.form_template(SubjectKind.MEMBER).code == "Mẫu 99"
    assert {
        rulebook.code: dict(rulebook.rules) for rulebook in available_rulebooks() if rulebook.code != "2099"
    } == third_regime
    assert get_rulebook("2018").evaluate_member(member(sick_leave_days=3)).by_rule("R2099-M-LATE") == ()


def test_a_regime_cannot_take_a_code_or_rule_ids_of_another(tmp_path):
    class Impostor(Rulebook):
        code = "2018"

    with pytest.raises(ValueError, match="already registered"):
        register(Impostor)

    data = tmp_path / "regime2100"
    data.mkdir()
    clash = dict(THIRD_RULES, regime="2100", rules=[dict(THIRD_RULES["rules"][0], id="R2018-M-SICK")])
    (data / "rules.json").write_text(json.dumps(clash), encoding="utf-8")

    class Thief(Rulebook):
        code = "2100"
        data_root = tmp_path
        data_dir = "regime2100"
        templates = {(SubjectKind.MEMBER, FormPurpose.SELF_REVIEW): TemplateKey("x.json")}

    with pytest.raises(ValueError, match="R2018-M-SICK"):
        register(Thief)
    assert get_rulebook("2018").rules["R2018-M-SICK"].regime == "2018"
    assert RULES["R2018-M-SICK"].regime == "2018"


def test_the_base_rulebook_leaves_the_rules_to_the_regime():
    class Bare(Rulebook):
        code = "bare"
        data_dir = "regime2018"

        def __init__(self):
            pass

    with pytest.raises(NotImplementedError):
        Bare().exclusion(member(), date(2020, 1, 1))
    with pytest.raises(NotImplementedError):
        Bare().evaluate_member(member())
