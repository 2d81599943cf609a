"""The bridge between a rulebook's form template and the browser: what to show.

A template is data (sections of items: text, rating, points, checklist, level, share); the page is drawn
from it, and the answers come back through `forms.AnswersForm` as a dict keyed by item id.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext

from vocabulary import Level

from ..core.text import fold_ascii, lang  # noqa: F401 - the page language, as the templates of forms use it
from ..rulebooks import (
    SHARE_NONE,
    Answers,
    ItemKind,
    Presence,
    Rating,
    get_rulebook,
    task_shares,
)
from ..rulebooks.arithmetic import to_decimal, typed_decimal

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

    @property
    def none_name(self):
        """A share item that may be answered "there were none": the name of that box."""
        return f"{self.name}-none" if self.item.kind == ItemKind.SHARE and self.item.allows_none else ""

    @property
    def is_none(self):
        return self.item.kind == ItemKind.SHARE and self.value == SHARE_NONE

    @property
    def number(self):
        """A share as the number box shows it (empty when answered "there were none")."""
        return "" if self.is_none else self.value

    @property
    def none_label(self):
        return self.item.none_label(lang()) if self.item.kind == ItemKind.SHARE else ""


def share_text(item, value, language="vi"):
    """A share answer as the printed form reads it: "92,5%", or the item's "there were none" label."""
    if value in (None, ""):
        return ""
    if value == SHARE_NONE:
        return item.none_label(language)
    text = str(value).strip().removesuffix("%").strip()
    return f"{text.replace('.', ',') if language == 'vi' else text}%"


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
    """The ratings, points and shares of the answers to `template`, for the rulebook; None when there
    are none. The shares (percentages on the form) become the fractions of Answers.tasks and
    Answers.shortcomings_fixed.

    Unfilled or invalid values are left out: the check speaks of what is there."""
    ratings, points, tasks, shortcomings_fixed = answer_parts(template, answers)
    if not ratings and not points and tasks is None and shortcomings_fixed is None:
        return None
    return Answers(ratings=ratings, points=points, tasks=tasks, shortcomings_fixed=shortcomings_fixed)


def answer_parts(template, answers):
    """(ratings, points, tasks, shortcomings_fixed) of `scored_answers`, before they are made an Answers:
    a province's list joins them with the appraisal's and makes one Answers for each subject."""
    ratings, points = {}, {}
    # Only the rating and points items (the template keeps them), not the text and the checklists.
    for item in template.rating_items():
        value = answers.get(item.id)
        if value is None or value == "":
            continue
        try:
            ratings[item.id] = Rating.coerce(value)
        except ValueError:
            continue
    for item in template.points_items():
        value = answers.get(item.id)
        if value is None or value == "":
            continue
        try:
            number = typed_decimal(value) if type(value) is str else to_decimal(value)
        except ValueError:
            continue
        if 0 <= number <= item.max_points:
            points[item.id] = number
    tasks, shortcomings_fixed = task_shares(template, answers)
    return ratings, points, tasks, shortcomings_fixed


def level_check(assessment, answers):
    """The rulebook's view of the level the member proposes on their self-review (see `proposal_check`);
    None for an organisation or a collective, whose self-review shows no rule box."""
    if not assessment.member_id:
        return None
    return proposal_check(assessment, answers, template_for(assessment))


def proposal_check(assessment, answers, template, author=SUBJECT):
    """The rule box of a form and the check of its proposed level on submit: one evaluation of the
    answers typed (`evaluate`), read for the level `author` proposes.

    `blocking`: the messages of the BLOCK findings that forbid the level; `refused`, those of them that
    cap it below (the level is refused, whoever proposes it); `above`, the warnings whose cap is below it
    and the caps the deciding level may set aside (it needs a written reason, `needs_reason`); `warnings`:
    every warning that concerns it, unchecked rules included. A BLOCK finding without a cap (a record
    missing before the decision, such as the civil-service rating) is shown but does not stop a proposal."""
    evaluation = evaluate(assessment, answers, template)
    item = level_item(template, author)
    proposed = answers.get(item.id) if item else None
    language = lang()
    result = {
        "cap": evaluation.cap,
        "cap_label": evaluation.cap.label(language) if evaluation.cap else "",
        "advisory_cap": evaluation.advisory_cap,
        "advisory_label": evaluation.advisory_cap.label(language) if evaluation.advisory_cap else "",
        "proposed": proposed,
        "blocking": [],
        "refused": [],
        "warnings": [],
        "above": [],
        "needs_reason": False,
        "excluded": evaluation.not_classified.message(language) if evaluation.not_classified else "",
        "evaluation": evaluation,
    }
    if proposed:
        try:
            level = Level.coerce(proposed)
        except ValueError:
            return result
        blocking, warnings = evaluation.explain(level), evaluation.warnings(level)
        capped = [f for f in blocking if f.cap is not None]
        result["blocking"] = [f.message(language) for f in blocking]
        result["refused"] = [f.message(language) for f in capped if not f.mitigable]
        result["warnings"] = [f.message(language) for f in warnings]
        result["above"] = [f.message(language) for f in capped if f.mitigable] + [
            f.message(language) for f in warnings if f.cap is not None and not f.unchecked
        ]
        result["needs_reason"] = bool(result["above"]) and not result["refused"]
    return result


def proposal_refusal(check, reason):
    """Why the level proposed cannot be handed in as it stands (None when it can): a level the rules
    forbid, or a level above what they advise without a written reason."""
    if not check or not check["proposed"]:
        return None
    if check["refused"]:
        return " ".join(
            [
                gettext("The rules do not allow the level proposed (at most %(level)s):")
                % {"level": check["cap_label"]},
                *check["refused"],
            ]
        )
    if check["needs_reason"] and not (reason or "").strip():
        return " ".join(
            [
                gettext(
                    "The level proposed is above what the rules advise (%(level)s). Write your reason for "
                    "proposing it, or choose another level:"
                )
                % {"level": check["advisory_label"]},
                *check["above"],
            ]
        )
    return None


def evaluate(assessment, answers, template):
    """The rulebook's evaluation of the subject with the given answers of `template` (the form being
    filled) and every fact of the records, as at decision time."""
    from ..evaluations import evaluate_form

    return evaluate_form(assessment, answers, template)
