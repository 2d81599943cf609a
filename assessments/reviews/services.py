"""The writes of the forms people fill: a self-review saved, submitted, returned; the self-reviews
handed in on paper; the analysis forms; the reminders to those who have not submitted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from organizations import policy
from vocabulary import Level

from ..core.errors import ConflictError, WorkflowError
from ..core.models import Assessment, AuditEntry, Period
from ..core.services import _check, _locked_copy, assessment_step
from ..core.transitions import audit_fields, log_action
from ..core.workflow import Actor
from ..evaluations import PAPER_TOTAL
from .formview import self_level_item, template_for
from .models import Analysis

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.db.models import QuerySet

    from members.models import Member
    from organizations.models import Organization


def _conflict_unless(current: Assessment, base_version: int, message: str) -> None:
    if current.version != base_version:
        raise ConflictError(message)


def assessment_save(
    *, assessment: Assessment, user: User, answers: dict[str, Any], self_level: str = "", base_version: int
) -> Assessment:
    """Save the answers as a draft. Refused when the stored copy is newer than `base_version`."""
    with assessment_step(assessment, AuditEntry.Action.SAVE, user) as change:
        current = change.obj
        _conflict_unless(
            current,
            base_version,
            _(
                "This form was changed elsewhere (another window or another person) after you opened it. "
                "Your copy was not saved, so that the newer text is not lost. Reload the page to see it."
            ),
        )
        current.answers = answers
        current.self_level = self_level
        current.filled_by = policy.actor_user(user)
        current.version += 1
        change.update_fields += ["answers", "self_level", "filled_by", "version", "updated_at"]
        # A draft saved again is not news: the trail records the first save only.
        change.log = change.from_state != Assessment.State.DRAFT
    return current


def assessment_submit(*, assessment: Assessment, user: User, base_version: int, level_reason: str = "") -> Assessment:
    """Hand in the self-review. `level_reason`: why the level proposed is above what the rules advise,
    kept in the trail (the form page asks for it then)."""
    with assessment_step(assessment, AuditEntry.Action.SUBMIT, user, reason=level_reason.strip()) as change:
        current = change.obj
        _conflict_unless(
            current, base_version, _("This form was changed elsewhere after you opened it. Reload the page first.")
        )
        current.submitted_at = timezone.now()
        current.return_reason = ""
        current.version += 1
        change.update_fields += ["submitted_at", "return_reason", "version", "updated_at"]
    return current


def assessment_return(*, assessment: Assessment, user: User, reason: str | None) -> Assessment:
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError(_("Please write the reason for returning the form."))
    with assessment_step(assessment, AuditEntry.Action.RETURN, user, reason=reason) as change:
        current = change.obj
        current.return_reason = reason
        current.version += 1
        change.update_fields += ["return_reason", "version", "updated_at"]
    return current


@dataclass
class Reminders:
    sent: int
    in_person: list[Member]  # members without an e-mail address, to remind at the meeting


def reminders_pending(period: Period, organization: Organization) -> QuerySet[Assessment]:
    """The self-reviews under `organization` that members to be classified have not submitted yet:
    those whom the reminders are for, by e-mail or on the printed call list."""
    return Assessment.objects.filter(
        period=period,
        organization__path__startswith=organization.path,
        member__isnull=False,
        classified=True,
        state__in=(Assessment.State.NOT_STARTED, Assessment.State.DRAFT, Assessment.State.RETURNED),
    )


def reminder_message(period: Period, member: Member) -> tuple[str, str, str, list[str]]:
    """The reminder e-mailed to one member (send_mass_mail's tuple), in the current language."""
    due = period.self_review_due.strftime("%d/%m/%Y") if period.self_review_due else ""
    return (
        _("Reminder: your self-review for %(year)s") % {"year": period.year},
        _(
            "Dear comrade %(name)s,\n\nYour self-review for %(year)s has not been submitted yet."
            "%(due)s Please sign in and complete it, or ask your cell secretary for help.\n"
        )
        % {
            "name": member.full_name,
            "year": period.year,
            "due": (" " + _("It is due on %(date)s.") % {"date": due}) if due else "",
        },
        settings.DEFAULT_FROM_EMAIL,
        [member.email],
    )


def reminders_send(*, period: Period, organization: Organization, user: User) -> Reminders:
    """E-mail every member under `organization` whose self-review is not submitted yet; list the others
    (to be called or visited: the printable call list).

    The mail goes after the transaction commits (the console backend by default). For many members the
    screen queues a background job instead (assessments/reviews/background.py), which sends by chunks."""
    pending = list(reminders_pending(period, organization).select_related("member").order_by("member__sort_key"))
    with_mail = [a for a in pending if a.member.email]
    in_person = [a.member for a in pending if not a.member.email]
    messages = [reminder_message(period, a.member) for a in with_mail]
    policy.require(user, "review.remind", organization)
    with transaction.atomic():
        log_action(
            AuditEntry.Action.REMIND,
            period=period,
            actor=user,
            data={"organization": organization.code, "emailed": len(with_mail), "in_person": len(in_person)},
        )
        transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=True))
    return Reminders(sent=len(with_mail), in_person=in_person)


def analysis_editable(assessment: Assessment, analysis: Analysis | None) -> bool:
    """Whether a rater's analysis form can still be changed: the period is open and the rater has not
    handed it in (`analysis` None: not started)."""
    return assessment.period.state == Period.State.OPEN and not (analysis and analysis.submitted_at)


def analysis_save(
    *,
    assessment: Assessment,
    user: User,
    answers: dict[str, Any],
    proposed_level: str = "",
    base_version: int,
    submit: bool = False,
    level_reason: str = "",
) -> Analysis:
    """Save (and with submit=True, hand in) the user's analysis form on `assessment`.

    Raters are those who manage the subject's organisation; each has one form per subject. A handed-in
    form is final for its rater. `level_reason`: why the level proposed is above what the rules advise,
    kept in the trail with the hand-in."""
    with transaction.atomic():
        current = _locked_copy(assessment)
        if current.period.is_locked:
            raise WorkflowError(_("This review period is finalised: nothing can be changed."))
        if current.period.state != Period.State.OPEN:
            raise WorkflowError(_("This review period is not open."))
        policy.require(user, "review.analysis", current.organization)
        analysis, _created = Analysis.objects.select_for_update().get_or_create(assessment=current, rater=user)
        if analysis.submitted_at:
            raise WorkflowError(_("You have already handed in this analysis form: it can no longer be changed."))
        if analysis.version != base_version:
            raise ConflictError(
                _("This analysis form was changed in another window after you opened it. Reload the page first.")
            )
        analysis.answers = answers
        analysis.proposed_level = proposed_level
        analysis.version += 1
        if submit:
            analysis.submitted_at = timezone.now()
        analysis.save()
        if submit:
            log_action(
                AuditEntry.Action.ANALYSIS,
                assessment=current,
                actor=user,
                data={"proposed_level": proposed_level},
                reason=level_reason.strip(),
            )
    return analysis


class PaperError(WorkflowError):
    """Some of the paper self-reviews were refused; `row_errors` maps assessment pk to messages."""

    def __init__(self, message: str, *, row_errors: dict[int, list[str]]) -> None:
        super().__init__(message)
        self.row_errors = row_errors


def paper_self_reviews_record(
    *,
    period: Period,
    organization: Organization,
    user: User,
    choices: Mapping[int, str],
    scores: Mapping[int, Decimal] | None = None,
) -> int:
    """The cell's secretary records the self-reviews that members wrote on paper and handed in:
    `choices` maps each member's assessment pk to the level the paper proposes ("" when it names none);
    `scores`, where the regime scores (2025), the total the paper gives, which the rules read.

    Each form becomes submitted, marked as on paper, in the member's place (the trail says so); the
    paper copy stays with the cell. Nothing of the paper's text is typed in, so the rules check what the
    records say. All or nothing: one refused row saves none."""
    if not choices:
        raise WorkflowError(_("Tick the members whose paper self-review you have received."))
    policy.require(user, "review.paper", organization)
    now = timezone.now()
    with transaction.atomic():
        forms = {
            a.pk: a
            for a in Assessment.objects.select_for_update(of=("self",))
            .filter(pk__in=list(choices), period=period, organization=organization, member__isnull=False)
            .select_related("period", "member", "organization")
        }
        if len(forms) != len(choices):
            raise WorkflowError(_("A member in this list does not belong to this cell."))
        row_errors, templates = {}, {}
        for pk, level in choices.items():
            assessment = forms[pk]
            if not assessment.classified:
                row_errors[pk] = [_("This subject is not to be classified.")]
                continue
            try:
                actors = _check(assessment, "submit", user, now=now)
            except WorkflowError as error:
                row_errors[pk] = [error.message]
                continue
            if Actor.MANAGER not in actors:
                raise WorkflowError(str(policy.RULES["review.paper"].refusal))
            if level:
                try:
                    Level.coerce(level)
                except ValueError:
                    row_errors[pk] = [_("Unknown level.")]
        if row_errors:
            raise PaperError(_("Some rows were refused; nothing was saved."), row_errors=row_errors)
        entries = []
        for pk, level in choices.items():
            assessment = forms[pk]
            key = (assessment.subject_kind, assessment.form_variant)
            if key not in templates:
                templates[key] = self_level_item(template_for(assessment))
            item = templates[key]
            from_state = assessment.state
            if item is not None and level:
                assessment.answers = {**assessment.answers, item.id: level}
            if scores and scores.get(pk) is not None:
                assessment.answers = {**assessment.answers, PAPER_TOTAL: str(scores[pk])}
            assessment.self_level = level
            assessment.state = Assessment.State.SUBMITTED
            assessment.submitted_at = now
            assessment.on_paper = True
            assessment.return_reason = ""
            assessment.filled_by = policy.actor_user(user)
            assessment.version += 1
            assessment.updated_at = now
            entries.append(
                AuditEntry(
                    **audit_fields(
                        AuditEntry.Action.SUBMIT,
                        period=period,
                        assessment=assessment,
                        actor=user,
                        on_behalf_of=assessment.member,
                        from_state=from_state,
                        to_state=Assessment.State.SUBMITTED,
                        data={"on_paper": True, **({"level": level} if level else {})},
                    )
                )
            )
        Assessment.objects.bulk_update(
            list(forms.values()),
            [
                "answers",
                "self_level",
                "state",
                "submitted_at",
                "on_paper",
                "return_reason",
                "filled_by",
                "version",
                "updated_at",
            ],
        )
        AuditEntry.objects.bulk_create(entries)
    return len(entries)
