"""Every write of the review workflow: each checks the workflow table, saves inside a transaction and
writes the audit entry. Views and admin actions call these and nothing else."""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from members.selectors import current_members
from organizations.access import scope_for

from .facts import member_facts_for, organization_facts
from .formview import lang, self_level_item, template_for
from .models import Analysis, Assessment, AuditEntry, Period
from .rulebooks import Level, ParameterError, get_rulebook
from .workflow import ACTIONS, Actor, transition_allowed


class WorkflowError(Exception):
    """An action refused by the rules of the workflow; the message is meant for the user."""

    def __init__(self, message, *, errors=None):
        super().__init__(message)
        self.message = message
        self.errors = errors or []


class ConflictError(WorkflowError):
    """The form was changed elsewhere since this copy was loaded."""


def actors_for(user, assessment):
    """How `user` stands to `assessment`: a set of Actor values (empty: no business with it)."""
    actors = set()
    if not user or not user.is_authenticated:
        return actors
    if assessment.member_id and assessment.member.user_id == user.pk:
        actors.add(Actor.SELF)
    scope = scope_for(user)
    if scope.manages_organization(assessment.organization):
        actors.add(Actor.MANAGER)
        if scope.is_board:
            actors.add(Actor.BOARD)
    if assessment.member_id is None and assessment.organization_id in scope.evaluated_ids:
        # An evaluator assigned to the organisation reads its reviews and fills analysis forms on it.
        actors.add(Actor.EVALUATOR)
    return actors


def _check(assessment, action_name, user, *, now=None):
    """Refuse the action unless the period, the deadline and the workflow table allow it."""
    action = ACTIONS[action_name]
    period = assessment.period
    if period.is_locked:
        raise WorkflowError(_("This review period is finalised: nothing can be changed."))
    if action.needs_open_period and period.state != Period.State.OPEN:
        raise WorkflowError(_("This review period is not open."))
    actors = actors_for(user, assessment)
    if not transition_allowed(action_name, assessment.state, actors):
        raise WorkflowError(
            _("“%(action)s” is not possible while the form is “%(state)s”.")
            % {"action": action.label, "state": assessment.get_state_display()}
        )
    due = period.self_review_due
    today = timezone.localdate(now) if now else timezone.localdate()
    if action_name in ("save", "submit") and due and today > due and actors == {Actor.SELF}:
        raise WorkflowError(
            _("The deadline for self-reviews was %(date)s. Please ask your cell secretary.")
            % {"date": due.strftime("%d/%m/%Y")}
        )
    return actors


def _audit(assessment, user, action, from_state, to_state, *, actors, reason="", data=None):
    # "On behalf of" only when someone writes the member's own self-review for them; a return (or
    # any other act of a secretary or committee) is their own act, not the member's.
    on_behalf_of = None
    if action in AuditEntry.ON_BEHALF_ACTIONS and assessment.member_id and Actor.SELF not in actors:
        on_behalf_of = assessment.member
    AuditEntry.objects.create(
        period=assessment.period,
        assessment=assessment,
        actor=user,
        on_behalf_of=on_behalf_of,
        action=action,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        data=data or {},
    )


def _locked_copy(assessment):
    return (
        Assessment.objects.select_for_update(of=("self",))
        .select_related("period", "member", "organization")
        .get(pk=assessment.pk)
    )


def assessment_save(*, assessment, user, answers, self_level="", base_version):
    """Save the answers as a draft. Refused when the stored copy is newer than `base_version`."""
    with transaction.atomic():
        current = _locked_copy(assessment)
        actors = _check(current, "save", user)
        if current.version != base_version:
            raise ConflictError(
                _(
                    "This form was changed elsewhere (another window or another person) after you opened it. "
                    "Your copy was not saved, so that the newer text is not lost. Reload the page to see it."
                )
            )
        from_state = current.state
        current.answers = answers
        current.self_level = self_level
        current.filled_by = user
        current.version += 1
        if current.state == Assessment.State.NOT_STARTED:
            current.state = Assessment.State.DRAFT
        current.save(update_fields=["answers", "self_level", "filled_by", "version", "state", "updated_at"])
        if from_state != current.state:
            _audit(current, user, "save", from_state, current.state, actors=actors)
    return current


def assessment_submit(*, assessment, user, base_version):
    with transaction.atomic():
        current = _locked_copy(assessment)
        actors = _check(current, "submit", user)
        if current.version != base_version:
            raise ConflictError(_("This form was changed elsewhere after you opened it. Reload the page first."))
        from_state = current.state
        current.state = Assessment.State.SUBMITTED
        current.submitted_at = timezone.now()
        current.return_reason = ""
        current.version += 1
        current.save(update_fields=["state", "submitted_at", "return_reason", "version", "updated_at"])
        _audit(current, user, "submit", from_state, current.state, actors=actors)
    return current


def assessment_return(*, assessment, user, reason):
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError(_("Please write the reason for returning the form."))
    with transaction.atomic():
        current = _locked_copy(assessment)
        actors = _check(current, "return", user)
        from_state = current.state
        current.state = Assessment.State.RETURNED
        current.return_reason = reason
        current.version += 1
        current.save(update_fields=["state", "return_reason", "version", "updated_at"])
        _audit(current, user, "return", from_state, current.state, actors=actors, reason=reason)
    return current


# --- Opening a period: the roster snapshot ---------------------------------------------------------------


@dataclass
class OpenedPeriod:
    period: Period
    members: int
    leaders: int
    organizations: int
    collectives: int
    excluded: list  # [(subject name, reason)]


def period_open(*, period, user, reference_date=None):
    """Open a prepared period: one assessment for every member and organisation under its
    organisation, each member checked against the rulebook's exclusions (not classified, with the
    reason). Bulk writes: the cost does not grow with the number of queries, only with the rows."""
    _require_board(user, period)
    rulebook = get_rulebook(period.regime)
    try:
        params = rulebook.parameters(period.parameters, year=period.year)
    except ParameterError as error:
        raise WorkflowError(_("The parameters of this period are not valid."), errors=list(error.issues)) from error
    reference_date = reference_date or period.self_review_due or timezone.localdate()
    with transaction.atomic():
        locked = Period.objects.select_for_update().get(pk=period.pk)
        if locked.state != Period.State.PREPARING:
            raise WorkflowError(_("This period has already been opened."))
        root = locked.organization
        members = list(current_members().under(root).select_related("cell").order_by("pk"))
        facts = member_facts_for(members, locked.year)
        excluded = []
        rows = []
        counts = {kind: 0 for kind in Assessment.SubjectKind.values}
        for member in members:
            kind = Assessment.SubjectKind.LEADER if member.is_leader else Assessment.SubjectKind.MEMBER
            exclusion = rulebook.exclusion(facts[member.pk], reference_date, params)
            if exclusion is not None:
                excluded.append((member.full_name, exclusion.message_vi))
            rows.append(
                Assessment(
                    period=locked,
                    subject_kind=kind,
                    member=member,
                    organization=member.cell,
                    form_variant=rulebook.choose_variant(kind, facts[member.pk]) or "",
                    classified=exclusion is None,
                    exclusion_reason=exclusion.message_vi if exclusion else "",
                )
            )
            counts[kind] += 1
        # The organisations under the root (the root itself is reviewed by the level above).
        for org in root.subtree().exclude(pk=root.pk).order_by("path"):
            if org.dissolved_on and org.dissolved_on < datetime.date(locked.year, 1, 1):
                continue
            exclusion = rulebook.exclusion(organization_facts(org), reference_date, params)
            if exclusion is not None:
                excluded.append((org.name, exclusion.message_vi))
            kinds = [Assessment.SubjectKind.ORGANIZATION]
            if not org.kind == org.Kind.SUBORDINATE_CELL:
                # Committees and grassroots cells also review their leadership collective.
                kinds.append(Assessment.SubjectKind.COLLECTIVE)
            for kind in kinds:
                rows.append(
                    Assessment(
                        period=locked,
                        subject_kind=kind,
                        organization=org,
                        form_variant=rulebook.choose_variant(kind) or "",
                        classified=exclusion is None,
                        exclusion_reason=exclusion.message_vi if exclusion else "",
                    )
                )
                counts[kind] += 1
        Assessment.objects.bulk_create(rows, batch_size=1000)
        locked.state = Period.State.OPEN
        locked.opened_at = timezone.now()
        locked.opened_by = user
        locked.save(update_fields=["state", "opened_at", "opened_by"])
        AuditEntry.objects.create(
            period=locked,
            actor=user,
            action="open",
            from_state=Period.State.PREPARING,
            to_state=Period.State.OPEN,
            data={"assessments": len(rows), "not_classified": len(excluded), "reference_date": str(reference_date)},
        )
    return OpenedPeriod(
        period=locked,
        members=counts[Assessment.SubjectKind.MEMBER],
        leaders=counts[Assessment.SubjectKind.LEADER],
        organizations=counts[Assessment.SubjectKind.ORGANIZATION],
        collectives=counts[Assessment.SubjectKind.COLLECTIVE],
        excluded=excluded,
    )


def assessment_classification_override(*, assessment, user, classified, reason):
    """The board decides that a subject is (or is not) classified, against the computed roster."""
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError(_("Please write the reason for the board's decision."))
    if not scope_for(user).is_board:
        raise WorkflowError(_("Only the organisation board can change who is classified."))
    with transaction.atomic():
        current = _locked_copy(assessment)
        if current.period.is_locked:
            raise WorkflowError(_("This review period is finalised: nothing can be changed."))
        before = current.classified
        current.classified = classified
        current.exclusion_overridden = True
        if classified:
            current.exclusion_reason = ""
        else:
            current.exclusion_reason = reason
        current.save(update_fields=["classified", "exclusion_overridden", "exclusion_reason", "updated_at"])
        AuditEntry.objects.create(
            period=current.period,
            assessment=current,
            actor=user,
            action="classification_override",
            from_state=current.state,
            to_state=current.state,
            reason=reason,
            data={"classified_before": before, "classified": classified},
        )
    return current


# --- Reminders ------------------------------------------------------------------------------------------


@dataclass
class Reminders:
    sent: int
    in_person: list  # members without an e-mail address, to remind at the meeting


def reminders_pending(period, organization):
    """The self-reviews under `organization` that members to be classified have not submitted yet:
    those whom the reminders are for, by e-mail or on the printed call list."""
    return Assessment.objects.filter(
        period=period,
        organization__path__startswith=organization.path,
        member__isnull=False,
        classified=True,
        state__in=(Assessment.State.NOT_STARTED, Assessment.State.DRAFT, Assessment.State.RETURNED),
    )


def reminders_send(*, period, organization, user):
    """E-mail every member under `organization` whose self-review is not submitted yet; list the others
    (to be called or visited: the printable call list).

    The mail goes after the transaction commits (the console backend by default)."""
    pending = list(reminders_pending(period, organization).select_related("member").order_by("member__sort_key"))
    with_mail = [a for a in pending if a.member.email]
    in_person = [a.member for a in pending if not a.member.email]
    due = period.self_review_due.strftime("%d/%m/%Y") if period.self_review_due else ""
    subject = _("Reminder: your self-review for %(year)s") % {"year": period.year}
    sender = settings.DEFAULT_FROM_EMAIL
    messages = [
        (
            subject,
            _(
                "Dear comrade %(name)s,\n\nYour self-review for %(year)s has not been submitted yet."
                "%(due)s Please sign in and complete it, or ask your cell secretary for help.\n"
            )
            % {
                "name": a.member.full_name,
                "year": period.year,
                "due": (" " + _("It is due on %(date)s.") % {"date": due}) if due else "",
            },
            sender,
            [a.member.email],
        )
        for a in with_mail
    ]
    with transaction.atomic():
        AuditEntry.objects.create(
            period=period,
            actor=user,
            action="remind",
            data={"organization": organization.code, "emailed": len(with_mail), "in_person": len(in_person)},
        )
        transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=True))
    return Reminders(sent=len(with_mail), in_person=in_person)


# --- Analysis forms --------------------------------------------------------------------------------------


def analysis_save(*, assessment, user, answers, proposed_level="", base_version, submit=False):
    """Save (and with submit=True, hand in) the user's analysis form on `assessment`.

    Raters are those who manage the subject's organisation; each has one form per subject. A handed-in
    form is final for its rater."""
    with transaction.atomic():
        current = _locked_copy(assessment)
        if current.period.is_locked:
            raise WorkflowError(_("This review period is finalised: nothing can be changed."))
        if current.period.state != Period.State.OPEN:
            raise WorkflowError(_("This review period is not open."))
        if not {Actor.MANAGER, Actor.EVALUATOR} & actors_for(user, current):
            raise WorkflowError(_("Only those who lead this organisation may fill in its analysis forms."))
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
            AuditEntry.objects.create(
                period=current.period,
                assessment=current,
                actor=user,
                action="analysis",
                data={"proposed_level": proposed_level},
            )
    return analysis


def period_close(*, period, user):
    """Close an open period: self-reviews and forms can no longer be changed; decisions come next."""
    _require_board(user, period)
    with transaction.atomic():
        locked = Period.objects.select_for_update().get(pk=period.pk)
        if locked.state != Period.State.OPEN:
            raise WorkflowError(_("Only an open period can be closed."))
        locked.state = Period.State.CLOSED
        locked.save(update_fields=["state"])
        AuditEntry.objects.create(
            period=locked, actor=user, action="close", from_state=Period.State.OPEN, to_state=Period.State.CLOSED
        )
    return locked


# --- Finalising, publishing, reopening ---------------------------------------------------------------------


def _require_board(user, period):
    """The board of the period's organisation (or a superuser) only. `user` None is the command line
    (`open_period`, the demo), run by whoever administers the server."""
    if user is None:
        return
    scope = scope_for(user)
    if not (scope.is_board and scope.manages_organization(period.organization)):
        raise WorkflowError(_("Only the organisation board can do this."))


def finalise_blockers(period):
    """What stands in the way of finalising: messages for the user, empty when nothing does."""
    from .decisions import quota_breaches

    blockers = []
    counts = Assessment.objects.filter(period=period, classified=True).aggregate(
        members=Count("pk", filter=Q(member__isnull=False, decided_level="")),
        organizations=Count("pk", filter=Q(subject_kind=Assessment.SubjectKind.ORGANIZATION, decided_level="")),
        reopened=Count("pk", filter=Q(reopened=True)),
    )
    if counts["members"]:
        blockers.append(
            ngettext(
                "%(count)d member to be classified has no decided level yet: decide them first.",
                "%(count)d members to be classified have no decided level yet: decide them first.",
                counts["members"],
            )
            % {"count": counts["members"]}
        )
    if counts["organizations"]:
        blockers.append(
            ngettext(
                "%(count)d party organisation has no decided level yet: rank it first.",
                "%(count)d party organisations have no decided level yet: rank them first.",
                counts["organizations"],
            )
            % {"count": counts["organizations"]}
        )
    if counts["reopened"]:
        blockers.append(
            ngettext(
                "%(count)d reopened subject is waiting for its new decision.",
                "%(count)d reopened subjects are waiting for their new decision.",
                counts["reopened"],
            )
            % {"count": counts["reopened"]}
        )
    for group, _subjects, quota in quota_breaches(period):
        blockers.append(
            _("%(organization)s exceeds the quota with no recorded exception: %(message)s")
            % {"organization": group.name, "message": quota.message(lang())}
        )
    return blockers


def period_finalise(*, period, user):
    """Lock the period: after this nothing changes, unless the board reopens a subject with a reason.

    Every classified member and organisation must be decided, every group within its quota (or with a
    recorded exception). A finalised period whose reopened subjects have been decided again is
    finalised again: the re-grading round is closed, and recorded."""
    _require_board(user, period)
    with transaction.atomic():
        locked = Period.objects.select_for_update().get(pk=period.pk)
        if locked.state not in (Period.State.OPEN, Period.State.CLOSED, Period.State.FINALISED):
            raise WorkflowError(_("Only an open, closed or finalised period can be finalised."))
        blockers = finalise_blockers(locked)
        if blockers:
            raise WorkflowError(_("The period cannot be finalised yet."), errors=blockers)
        from_state = locked.state
        again = from_state == Period.State.FINALISED
        if again:
            regraded = AuditEntry.objects.filter(period=locked, action="reopen").count()
        else:
            locked.state = Period.State.FINALISED
            locked.save(update_fields=["state"])
        AuditEntry.objects.create(
            period=locked,
            actor=user,
            action="finalise",
            from_state=from_state,
            to_state=locked.state,
            data={"again": True, "reopened_so_far": regraded} if again else {},
        )
    return locked


def period_publish(*, period, user):
    """Publish a finalised period: each member sees their level."""
    _require_board(user, period)
    with transaction.atomic():
        locked = Period.objects.select_for_update().get(pk=period.pk)
        if locked.state != Period.State.FINALISED:
            raise WorkflowError(_("Only a finalised period can be published."))
        locked.state = Period.State.PUBLISHED
        locked.save(update_fields=["state"])
        published = Assessment.objects.filter(period=locked, state=Assessment.State.DECIDED).update(
            state=Assessment.State.PUBLISHED, reopened=False
        )
        AuditEntry.objects.create(
            period=locked,
            actor=user,
            action="publish",
            from_state=Period.State.FINALISED,
            to_state=Period.State.PUBLISHED,
            data={"published": published},
        )
    return locked


def assessment_reopen(*, assessment, user, reason):
    """The board reopens one finalised subject so that its level can be decided again (re-grading)."""
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError(_("Please write the reason for reopening."))
    _require_board(user, assessment.period)
    with transaction.atomic():
        current = _locked_copy(assessment)
        if not current.period.is_locked:
            raise WorkflowError(_("Only a subject of a finalised period is reopened; this one is still open."))
        current.reopened = True
        current.save(update_fields=["reopened", "updated_at"])
        AuditEntry.objects.create(
            period=current.period,
            assessment=current,
            actor=user,
            action="reopen",
            from_state=current.state,
            to_state=current.state,
            reason=reason,
        )
    return current


# --- Self-reviews handed in on paper ---------------------------------------------------------------------


class PaperError(WorkflowError):
    """Some of the paper self-reviews were refused; `row_errors` maps assessment pk to messages."""

    def __init__(self, message, *, row_errors):
        super().__init__(message)
        self.row_errors = row_errors


def paper_self_reviews_record(*, period, organization, user, choices):
    """The cell's secretary records the self-reviews that members wrote on paper and handed in:
    `choices` maps each member's assessment pk to the level the paper proposes ("" when it names none).

    Each form becomes submitted, marked as on paper, in the member's place (the trail says so); the
    paper copy stays with the cell. Nothing of the paper's text is typed in, so the rules check what the
    records say. All or nothing: one refused row saves none."""
    if not choices:
        raise WorkflowError(_("Tick the members whose paper self-review you have received."))
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
                raise WorkflowError(_("Only those who lead the cell record the self-reviews handed in on paper."))
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
            assessment.self_level = level
            assessment.state = Assessment.State.SUBMITTED
            assessment.submitted_at = now
            assessment.on_paper = True
            assessment.return_reason = ""
            assessment.filled_by = user
            assessment.version += 1
            assessment.updated_at = now
            entries.append(
                AuditEntry(
                    period=period,
                    assessment=assessment,
                    actor=user,
                    on_behalf_of=assessment.member,
                    action=AuditEntry.Action.SUBMIT,
                    from_state=from_state,
                    to_state=Assessment.State.SUBMITTED,
                    data={"on_paper": True, **({"level": level} if level else {})},
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
