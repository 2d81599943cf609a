"""The links between levels: an organisation's level rests on those decided below it, and its
leadership collective's on the organisation's.

- The order (P-ORDER): an organisation is decided after all its classified members and, a committee,
  after its subordinate organisations; in 2025 (QĐ 366 Điều 7, HD 43 §3) the leadership collective
  comes first as well, as a warning: the decree orders the collective before individuals, and the
  organisation's level only rests on its collective's, it is not made from it.
- The evaluation of organisations and collectives with the full facts (`core.organization_facts`).
- The re-check: when a level below changes, every organisation or collective already decided whose
  rules now forbid its level is put back "to confirm", with the findings, until decided again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from organizations.models import Organization

from ..core.models import Assessment, AuditEntry, Period
from ..core.organization_facts import LevelsBelow, Pending, collective_facts_for
from ..core.text import lang
from ..core.transitions import audit_fields
from ..evaluations import answers_for, evaluate_assessments, variant_of
from ..rulebooks import Answers, Evaluation, Finding, Parameters, Rulebook, Severity

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Where the order of the decisions is law (refused) or advice (a warning that asks for the reason).
COLLECTIVE_FIRST = {"2025": Severity.WARN}
NAMES_SHOWN = 3


# The order of the decisions (an organisation after what lies below it), by regime.
ORDER_RULES = {"2018": "R2018-P-ORDER", "2025": "R2025-P-ORDER"}


def _order_rule(period: Period) -> str:
    return ORDER_RULES[period.regime]


def _missing_text(pending: Pending, *, collective: bool) -> str:
    parts = []
    if pending.members:
        parts.append(
            ngettext(
                "%(count)d member has no decided level yet",
                "%(count)d members have no decided level yet",
                pending.members,
            )
            % {"count": pending.members}
        )
    if pending.subordinates:
        names = ", ".join(pending.subordinates[:NAMES_SHOWN])
        more = len(pending.subordinates) - NAMES_SHOWN
        if more > 0:
            names = _("%(names)s and %(count)d more") % {"names": names, "count": more}
        parts.append(_("subordinate organisations not decided yet: %(names)s") % {"names": names})
    if collective:
        parts.append(_("its leadership collective has no decided level yet"))
    return "; ".join(parts)


def _bilingual(render: Callable[[], str]) -> tuple[str, str]:
    """(Vietnamese, English) of a message written with gettext: a finding carries both."""
    with translation.override("vi"):
        vi = render()
    with translation.override("en"):
        en = render()
    return vi, en


def order_findings(period: Period, pending: Pending) -> list[Finding]:
    """The P-ORDER findings of an organisation with decisions still pending below it: BLOCK (no level
    can be decided) for its members and subordinate organisations; for its collective, as the
    regime says (2025: a warning)."""
    findings = []
    rule_id = _order_rule(period)
    below = Pending(members=pending.members, subordinates=pending.subordinates)
    if below:
        vi, en = _bilingual(
            lambda: (
                _("Decide the levels below it first (%(rule)s): %(missing)s.")
                % {"rule": rule_id, "missing": _missing_text(below, collective=False)}
            )
        )
        findings.append(Finding(rule_id, Severity.BLOCK, vi, en))
    severity = COLLECTIVE_FIRST.get(period.regime)
    if pending.collective and severity is not None:
        vi, en = _bilingual(
            lambda: (
                _("The leadership collective is reviewed before its organisation (%(rule)s): %(missing)s.")
                % {"rule": rule_id, "missing": _missing_text(Pending(), collective=True)}
            )
        )
        findings.append(Finding(rule_id, severity, vi, en, mark="V"))
    return findings


def evaluate_organization(
    period: Period,
    rulebook: Rulebook,
    params: Parameters,
    organization: Organization,
    levels: LevelsBelow,
    answers: Answers | None = None,
    variant: str | None = None,
) -> Evaluation:
    """The rulebook's reading of an organisation with the levels decided below it, what its review and
    the evaluators' forms say (`answers`, from `evaluations.answers_for`), and the order."""
    evaluation = rulebook.evaluate_organization(
        levels.organization_facts(organization), answers, params, variant=variant
    )
    extra = order_findings(period, levels.pending(organization))
    return dataclasses.replace(evaluation, findings=(*evaluation.findings, *extra)) if extra else evaluation


def forbidding(evaluation: Evaluation, level: str) -> tuple[Finding, ...]:
    return evaluation.explain(level) if level else ()


def _ancestor_paths(paths: Iterable[str]) -> set[str]:
    steplen = Organization.steplen
    return {path[:n] for path in paths for n in range(steplen, len(path) + 1, steplen)}


def recheck(
    *, period: Period, rulebook: Rulebook, params: Parameters, user: User, paths: Iterable[str], skip: Iterable[int]
) -> list[int]:
    """Put back "to confirm" every decided organisation or collective at or above `paths` (the
    organisations whose subjects' levels just changed) whose rules now forbid its decided level,
    except the subjects `skip` (those just decided). Runs in the caller's transaction; a fixed number of
    queries whatever the size. Returns the pks put back."""
    ancestors = _ancestor_paths(paths)
    if not ancestors:
        return []
    skip = set(skip)
    decided = [
        a
        for a in Assessment.objects.filter(
            period=period,
            member__isnull=True,
            classified=True,
            to_confirm=False,
            organization__path__in=ancestors,
        )
        .exclude(decided_level="")
        .select_related("organization")
        if a.pk not in skip
    ]
    if not decided:
        return []
    organizations = {a.organization.pk: a.organization for a in decided}
    levels = LevelsBelow(period, organizations.values())
    collectives = [a.organization for a in decided if a.subject_kind == Assessment.SubjectKind.COLLECTIVE]
    collective_facts = collective_facts_for(period, collectives, levels) if collectives else {}
    answers = answers_for(period, decided, rulebook, params)
    language = lang()
    flagged = {}
    for assessment in decided:
        variant = variant_of(rulebook, assessment, rulebook.evaluation_purpose)
        if assessment.subject_kind == Assessment.SubjectKind.COLLECTIVE:
            evaluation = rulebook.evaluate_collective(
                collective_facts[assessment.organization.pk], answers[assessment.pk], params, variant=variant
            )
        else:
            evaluation = evaluate_organization(
                period, rulebook, params, assessment.organization, levels, answers[assessment.pk], variant
            )
        forbidden = forbidding(evaluation, assessment.decided_level)
        if forbidden:
            flagged[assessment] = forbidden
    return _put_back(period, user, flagged, language)


def recheck_leaders(
    *, period: Period, rulebook: Rulebook, params: Parameters, user: User, organizations: Iterable[int]
) -> list[int]:
    """Put back "to confirm" every decided leader heading one of `organizations` (pks whose level just
    changed: a cell's secretary heads the cell) whose rules now forbid the leader's decided level
    (L-UNIT, L-NOT-ABOVE when they block). A fixed number of queries. Returns the pks put back."""
    from members.models import Member

    leaders = list(
        Assessment.objects.filter(
            period=period,
            subject_kind=Assessment.SubjectKind.LEADER,
            classified=True,
            to_confirm=False,
            member__party_post=Member.PartyPost.SECRETARY,
            member__cell_id__in=list(organizations),
        )
        .exclude(decided_level="")
        .select_related("member", "organization")
    )
    if not leaders:
        return []
    evaluations = evaluate_assessments(period, leaders, rulebook, params)
    flagged = {}
    for assessment in leaders:
        forbidden = forbidding(evaluations[assessment.pk], assessment.decided_level)
        if forbidden:
            flagged[assessment] = forbidden
    return _put_back(period, user, flagged, lang())


def _put_back(period: Period, user: User, flagged: dict, language: str) -> list[int]:
    """Mark `flagged` ({assessment: the findings that now forbid its level}) "to confirm", audited."""
    if not flagged:
        return []
    now = timezone.now()
    for assessment, forbidden in flagged.items():
        assessment.to_confirm = True
        assessment.to_confirm_reason = "\n".join(f.message(language) for f in forbidden)
        assessment.updated_at = now
    Assessment.objects.bulk_update(list(flagged), ["to_confirm", "to_confirm_reason", "updated_at"], batch_size=500)
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                **audit_fields(
                    AuditEntry.Action.RECHECK,
                    assessment_id=assessment.pk,
                    period=period,
                    actor=user,
                    from_state=assessment.state,
                    to_state=assessment.state,
                    reason=assessment.to_confirm_reason,
                    data={"level": assessment.decided_level, "rules": sorted({f.rule_id for f in forbidden})},
                )
            )
            for assessment, forbidden in flagged.items()
        ]
    )
    return [assessment.pk for assessment in flagged]
