"""The bridge between a rulebook's form template and the browser: what to show.

A template is data (sections of items: text, rating, points, checklist, level); the page is drawn from
it, and the answers come back through `forms.AnswersForm` as a dict keyed by item id.
"""

from dataclasses import dataclass, field

from vocabulary import Level

from ..core.text import fold_ascii, lang  # noqa: F401 - the page language, as the templates of forms use it
from ..rulebooks import Answers, ItemKind, Presence, Rating, get_rulebook
from ..rulebooks.arithmetic import to_decimal

# Who fills a section: the subject (the member or the organisation under review), the cell, the committee.
SUBJECT = "subject"

# Header items filled from the records rather than typed.
PREFILL_LABELS = {
    "member.party_post": lambda m: m.get_party_post_display() if m.party_post else "",
    "member.date_of_birth": lambda m: m.date_of_birth.strftime("%d/%m/%Y"),
    "member.cell": lambda m: m.cell.name,
}


@dataclass
class Field:
    item: object
    name: str
    label: str
    help: str
    value: object
    editable: bool
    errors: list = field(default_factory=list)
    choices: list = field(default_factory=list)  # [(value, label)]
    entries: list = field(default_factory=list)  # checklist: [(entry, name, value)]

    @property
    def kind(self):
        return str(self.item.kind)


@dataclass
class SectionView:
    section: object
    label: str
    help: str
    fields: list
    editable: bool


def template_for(assessment, purpose="self_review"):
    rulebook = get_rulebook(assessment.period.regime)
    return rulebook.form_template(assessment.subject_kind, purpose, assessment.form_variant or None)


def section_author(template, section):
    return section.filled_by or template.filled_by


def level_item(template, author=SUBJECT):
    """The level that `author` proposes (for a member: as a member, where there are two)."""
    items = [
        item
        for section in template.sections
        if section_author(template, section) == author
        for item in section.items
        if item.kind == ItemKind.LEVEL
    ]
    for item in items:
        if item.id in ("proposed_level_member", "proposed_level"):
            return item
    return items[-1] if items else None


def self_level_item(template):
    """The level the subject proposes for themselves."""
    return level_item(template, SUBJECT)


def prefill(item, assessment):
    """The value of a header item taken from the records, or None for an item the subject types."""
    if item.id == "subject" and not item.prefill:
        return assessment.subject_name  # the analysis form's "who is rated"
    if not item.prefill:
        return None
    source, _dot, attribute = item.prefill.partition(".")
    if source == "member":
        if not assessment.member_id:
            return None
        member = assessment.member
        if item.prefill in PREFILL_LABELS:
            return PREFILL_LABELS[item.prefill](member)
        value = getattr(member, attribute, "")
    elif source == "organization":
        value = getattr(assessment.organization, attribute, "")
    elif source == "period":
        value = str(assessment.period) if attribute == "name" else getattr(assessment.period, attribute, "")
    else:
        return None
    return "" if value is None else str(value)


def build_sections(template, assessment, answers, *, editable, errors=None, author=SUBJECT):
    """The sections of the form, each item with its current value, choices and errors (`errors`:
    {item id: [messages]}, as `forms.AnswersForm.errors_by_item` gives them)."""
    language = lang()
    errors_by_item = errors or {}
    rating_choices = [(r.value, r.label(language)) for r in Rating]
    level_choices = [(level.value, f"{level.label(language)} ({level.value})") for level in Level.best_first()]
    presence_choices = [(Presence.ABSENT.value, "absent"), (Presence.PRESENT.value, "present")]
    views = []
    for section in template.sections:
        section_editable = editable and section_author(template, section) == author
        fields = []
        for item in section.items:
            prefilled = prefill(item, assessment)
            value = prefilled if prefilled is not None else answers.get(item.id, "")
            f = Field(
                item=item,
                name=f"item-{item.id}",
                label=item.label(language),
                help=item.help_vi if language == "vi" else item.help_en,
                value=value,
                editable=section_editable and prefilled is None,
                errors=errors_by_item.get(item.id, []),
            )
            if item.kind == ItemKind.RATING:
                f.choices = rating_choices
            elif item.kind == ItemKind.LEVEL:
                f.choices = level_choices
            elif item.kind == ItemKind.CHECKLIST:
                marks = value if isinstance(value, dict) else {}
                f.entries = [
                    (entry, f"item-{item.id}-{entry.id}", marks.get(entry.id, ""), entry.label_vi)
                    for entry in item.entries
                ]
                f.choices = presence_choices
            fields.append(f)
        if section_author(template, section) != author and not any(f.value for f in fields):
            # The cell's and the committee's parts appear once they have something in them.
            continue
        views.append(
            SectionView(
                section=section,
                label=section.label(language),
                help=section.help_vi if language == "vi" else section.help_en,
                fields=fields,
                editable=section_editable,
            )
        )
    return views


def header_answers(template, assessment, author=SUBJECT):
    """The answers of the header items `author` fills that come from the records (name, cell, ...)."""
    answers = {}
    for section in template.sections:
        if section_author(template, section) != author:
            continue
        for item in section.items:
            prefilled = prefill(item, assessment)
            if prefilled:
                answers[item.id] = prefilled
    return answers


def scored_answers(template, answers):
    """The ratings and points the subject gave themselves, for the rulebook; None when there are none.

    Unfilled or invalid values are left out: the check speaks of what is there."""
    ratings, points = {}, {}
    for item in template.items():
        value = answers.get(item.id)
        if value in (None, ""):
            continue
        if item.kind == ItemKind.RATING:
            try:
                ratings[item.id] = Rating.coerce(value)
            except ValueError:
                continue
        elif item.kind == ItemKind.POINTS:
            try:
                number = to_decimal(value)
            except ValueError:
                continue
            if 0 <= number <= item.max_points:
                points[item.id] = number
    if not ratings and not points:
        return None
    return Answers(ratings=ratings, points=points)


def level_check(assessment, answers):
    """The rulebook's view of the self-proposed level: (cap, findings that forbid it, warnings)."""
    if not assessment.member_id:
        return None
    template = template_for(assessment)
    evaluation = evaluate(assessment, answers, template)
    item = self_level_item(template)
    proposed = answers.get(item.id) if item else None
    language = lang()
    result = {
        "cap": evaluation.cap,
        "cap_label": evaluation.cap.label(language) if evaluation.cap else "",
        "proposed": proposed,
        "blocking": [],
        "warnings": [],
        "excluded": evaluation.not_classified.message(language) if evaluation.not_classified else "",
    }
    if proposed:
        try:
            level = Level.coerce(proposed)
        except ValueError:
            return result
        result["blocking"] = [f.message(language) for f in evaluation.explain(level)]
        result["warnings"] = [f.message(language) for f in evaluation.warnings(level)]
    return result


def evaluate(assessment, answers, template):
    """The rulebook's evaluation of the subject with the given answers of `template` (the form being
    filled) and every fact of the records, as at decision time."""
    from ..evaluations import evaluate_form

    return evaluate_form(assessment, answers, template)
