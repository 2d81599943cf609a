"""The codes every layer shares (vocabulary/): the levels, their labels in both languages, and the
choices of the model fields built from them."""

import subprocess
import sys

import pytest
from django.conf import settings
from django.utils import translation

from members.models import CivilServiceRating
from vocabulary import ExclusionReason, Level
from vocabulary.choices import model_choices


def test_levels_are_ordered_best_first():
    assert Level.HTXSNV > Level.HTTNV > Level.HTNV > Level.KHTNV
    assert sorted([Level.HTNV, Level.HTXSNV, Level.KHTNV, Level.HTTNV]) == list(reversed(Level.best_first()))
    assert max(Level) == Level.HTXSNV
    assert list(Level) == list(Level.best_first())


def test_level_codes_are_the_strings_the_database_stores():
    assert Level.codes() == ("HTXSNV", "HTTNV", "HTNV", "KHTNV")
    assert Level.HTNV == "HTNV"
    assert {Level.HTNV: 3}["HTNV"] == 3
    assert Level.HTTNV > "HTNV"


def test_levels_have_vietnamese_and_english_labels():
    assert Level.HTXSNV.label_vi == "Hoàn thành xuất sắc nhiệm vụ"
    assert Level.KHTNV.label_en == "Did not complete duties"
    assert Level.HTNV.label("vi") == "Hoàn thành nhiệm vụ"
    assert Level.HTNV.label("en") == "Completed duties"


def test_an_unknown_level_is_refused():
    with pytest.raises(ValueError, match="unknown level"):
        Level.coerce("EXCELLENT")
    with pytest.raises(ValueError):
        assert Level.HTNV < "GOOD"


def test_the_choices_of_a_field_are_labelled_in_the_language_of_the_page():
    choices = model_choices(Level)
    assert [code for code, _label in choices] == ["HTXSNV", "HTTNV", "HTNV", "KHTNV"]
    with translation.override("vi"):
        assert str(choices[3][1]) == "Không hoàn thành nhiệm vụ"
    with translation.override("en"):
        assert str(choices[3][1]) == "Did not complete duties"


def test_without_a_language_the_labels_are_english_as_the_migrations_hold_them():
    """makemigrations deactivates the translations: the labels must then read as the migrations have them."""
    with translation.override(None):
        assert [str(label) for _code, label in model_choices(Level)][0] == "Excellently completed duties"


def test_a_model_shows_its_level_in_the_language_of_the_page():
    rating = CivilServiceRating(year=2025, level=Level.KHTNV)
    with translation.override("vi"):
        assert rating.get_level_display() == "Không hoàn thành nhiệm vụ"
    with translation.override("en"):
        assert rating.get_level_display() == "Did not complete duties"


def test_the_vocabulary_imports_no_django_and_nothing_of_the_project():
    """Every layer may import it, the rulebooks included: only vocabulary.choices touches Django."""
    code = (
        "import sys, vocabulary, vocabulary.levels; "
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'django', 'organizations', 'members', 'accounts', 'assessments', 'config'}); "
        "print(loaded); sys.exit(1 if loaded else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_reasons_for_not_classifying_are_the_codes_the_rulebooks_give():
    assert [reason.value for reason in ExclusionReason] == [
        "excused",
        "suspended",
        "new_member",
        "new_organization",
        "transferred_out",
    ]
    assert ExclusionReason.EXCUSED.label("vi") == "Miễn công tác và sinh hoạt đảng"
    assert ExclusionReason.SUSPENDED.label("en") == "Suspended from party activities"
    with translation.override("vi"):
        assert dict(model_choices(ExclusionReason))["new_member"] == "Mới kết nạp, chưa đủ thời gian để xếp loại"
