"""The period's own steps and the helpers every stage's services share: who a user is to an
assessment, the check of the workflow table, the audit entry, opening and closing a period, and the
board's say on who is classified."""

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members.selectors import current_members
from organizations.access import scope_for

from ..rulebooks import ParameterError, get_rulebook
from .errors import WorkflowError
from .facts import member_facts_for, organization_facts
from .models import Assessment, AuditEntry, Period
from .workflow import ACTIONS, Actor, transition_allowed


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


@dataclass
class OpenedPeriod:
    period: Period
    members: int
    leaders: int
    organizations: int
    collectives: int
    excluded: list  # [(subject name, the rulebook's Exclusion)]


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
                excluded.append((member.full_name, exclusion))
            rows.append(
                Assessment(
                    period=locked,
                    subject_kind=kind,
                    member=member,
                    organization=member.cell,
                    form_variant=rulebook.choose_variant(kind, facts[member.pk]) or "",
                    **Assessment.exclusion_fields(exclusion),
                )
            )
            counts[kind] += 1
        # The organisations under the root (the root itself is reviewed by the level above).
        for org in root.subtree().exclude(pk=root.pk).order_by("path"):
            if org.dissolved_on and org.dissolved_on < datetime.date(locked.year, 1, 1):
                continue
            exclusion = rulebook.exclusion(organization_facts(org), reference_date, params)
            if exclusion is not None:
                excluded.append((org.name, exclusion))
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
                        **Assessment.exclusion_fields(exclusion),
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
        # The board's decision replaces the rule's: a subject it leaves out keeps the board's reason here;
        # the reason for putting one back is in the history.
        for name, value in Assessment.exclusion_fields(None).items():
            setattr(current, name, value)
        current.classified = classified
        current.exclusion_note = "" if classified else reason
        current.exclusion_overridden = True
        current.save(
            update_fields=[
                "classified",
                "exclusion_overridden",
                "exclusion_reason",
                "exclusion_rule",
                "exclusion_values",
                "exclusion_note",
                "updated_at",
            ]
        )
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


def _require_board(user, period):
    """The board of the period's organisation (or a superuser) only. `user` None is the command line
    (`open_period`, the demo), run by whoever administers the server."""
    if user is None:
        return
    scope = scope_for(user)
    if not (scope.is_board and scope.manages_organization(period.organization)):
        raise WorkflowError(_("Only the organisation board can do this."))
