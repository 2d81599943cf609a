"""The history of one form as its page shows it: who did what, by name and role, in the reader's language."""

from django.utils.translation import gettext as _

from organizations.models import RoleAssignment
from vocabulary import Level

from ..core.models import Assessment, AuditEntry
from ..core.text import lang


def person_name(user):
    """How a person is named on the pages: the full name of their member record, else the first and
    last name of their account, else the user name. `user.member` should be loaded with the user."""
    if user is None:
        return ""
    member = getattr(user, "member", None)
    if member is not None:
        return member.full_name
    return f"{user.last_name} {user.first_name}".strip() or user.get_username()


def _roles_above(organization, user_ids):
    """{user id: label of the role} that each user holds on `organization` or above it, the nearest
    role winning (one query). A member acting on their own form has no role here."""
    steplen = organization.steplen
    paths = [organization.path[:n] for n in range(steplen, len(organization.path) + 1, steplen)]
    roles = {}
    assignments = RoleAssignment.objects.filter(user_id__in=user_ids, organization__path__in=paths).order_by(
        "organization__depth", "pk"
    )
    for assignment in assignments:
        roles[assignment.user_id] = assignment.get_role_display()
    return roles


def _level_text(level):
    return f"{Level(level).label(lang())} ({level})" if level in Level.codes() else ""


def _history(assessment, *, show_levels):
    """The form's audit trail as the page shows it: who (by name and role), what, and for a proposal
    or a decision the level, unless the viewer may not see levels yet (a member before publication).
    Two queries: the entries with their people, and the roles of the people other than the member."""
    history = list(
        AuditEntry.objects.filter(assessment=assessment)
        .select_related("actor__member", "on_behalf_of")
        .order_by("at", "pk")
    )
    subject_user_id = assessment.member.user_id if assessment.member_id else None
    others = {entry.actor_id for entry in history if entry.actor_id and entry.actor_id != subject_user_id}
    roles = _roles_above(assessment.organization, others) if others else {}
    states = dict(Assessment.State.choices)
    for entry in history:
        entry.who = person_name(entry.actor)
        entry.role = roles.get(entry.actor_id, "")
        # Older entries may carry a member on a return or a decision: only a save or a submission
        # is ever done for the member.
        entry.for_member = entry.on_behalf_of if entry.action in AuditEntry.ON_BEHALF_ACTIONS else None
        entry.from_label = states.get(entry.from_state, entry.from_state)
        entry.to_label = states.get(entry.to_state, entry.to_state)
        entry.detail = ""
        if entry.action == AuditEntry.Action.CLASSIFICATION_OVERRIDE and "classified" in entry.data:
            entry.detail = _("to be classified") if entry.data["classified"] else _("not to be classified")
        elif entry.data.get("on_paper"):
            entry.detail = _("handed in on paper")
        elif show_levels:
            entry.detail = _level_text(entry.data.get("level") or entry.data.get("proposed_level") or "")
    return history
