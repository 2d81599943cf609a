"""The links between levels: an organisation's level rests on those decided below it, its leadership
collective's on the organisation's, and a leader's on the organisations they head.

- The order (P-ORDER): an organisation is decided after all its classified members and, a committee,
  after its subordinate organisations; in 2025 (QĐ 366 Điều 7, HD 43 §3) the leadership collective
  comes first as well, as a warning: the decree orders the collective before individuals, and the
  organisation's level only rests on its collective's, it is not made from it.
- A leader is decided after the organisations they head (a cell's secretary the cell, a committee's
  secretary the committee: `core.facts.headed_units`), whose level L-UNIT and L-NOT-ABOVE read. The
  order cannot be law here: the organisation is itself decided after its members, the leader among
  them. So a leader decided first carries a note of the order (a warning of what could not be checked,
  which asks for no reason), and deciding the organisation re-checks the leader.
- The evaluation of organisations and collectives with the full facts (`core.organization_facts`).
- The re-check: when a level below changes, every organisation or collective already decided whose
  rules now forbid its level is put back "to confirm", with the findings, until decided again; when an
  organisation's level changes, so is every leader who heads it.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from bulk import update_from_values
from organizations.models import Organization

from ..core.facts import headed_units
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


@functools.lru_cache(maxsize=4096)
def _below_first(rule_id: str, members: int, subordinates: tuple[str, ...]) -> tuple[str, str]:
    """(Vietnamese, English) of "decide the levels below it first": the ranking reads one for each
    organisation still waiting, and most of them wait for the same counts; switching the language
    twice for each was a fifth of the root ranking's time."""
    below = Pending(members=members, subordinates=list(subordinates))
    return _bilingual(
        lambda: (
            _("Decide the levels below it first (%(rule)s): %(missing)s.")
            % {"rule": rule_id, "missing": _missing_text(below, collective=False)}
        )
    )


@functools.lru_cache(maxsize=8)
def _collective_first(rule_id: str) -> tuple[str, str]:
    return _bilingual(
        lambda: (
            _("The leadership collective is reviewed before its organisation (%(rule)s): %(missing)s.")
            % {"rule": rule_id, "missing": _missing_text(Pending(), collective=True)}
        )
    )


def order_findings(period: Period, pending: Pending) -> list[Finding]:
    """The P-ORDER findings of an organisation with decisions still pending below it: BLOCK (no level
    can be decided) for its members and subordinate organisations; for its collective, as the
    regime says (2025: a warning)."""
    findings = []
    rule_id = _order_rule(period)
    if pending.members or pending.subordinates:
        vi, en = _below_first(rule_id, pending.members, tuple(pending.subordinates))
        findings.append(Finding(rule_id, Severity.BLOCK, vi, en))
    severity = COLLECTIVE_FIRST.get(period.regime)
    if pending.collective and severity is not None:
        vi, en = _collective_first(rule_id)
        findings.append(Finding(rule_id, severity, vi, en, mark="V"))
    return findings


def leader_order_findings(period: Period, assessments: Iterable[Assessment]) -> dict[int, list[Finding]]:
    """{leader's assessment pk: [the P-ORDER finding]} for the leaders among `assessments` (members
    loaded) who head an organisation still undecided: a warning that L-UNIT and L-NOT-ABOVE could not
    be checked yet, naming the organisation; it asks for no reason and lowers no suggestion. One query,
    none when no leader heads one."""
    leaders = [a for a in assessments if a.subject_kind == Assessment.SubjectKind.LEADER and a.classified]
    heads = headed_units(a.member for a in leaders)
    if not heads:
        return {}
    undecided = dict(
        Assessment.objects.filter(
            period=period,
            subject_kind=Assessment.SubjectKind.ORGANIZATION,
            classified=True,
            decided_level="",
            organization_id__in={unit for units in heads.values() for unit in units},
        ).values_list("organization_id", "organization__name")
    )
    rule_id = _order_rule(period)
    found = {}
    for assessment in leaders:
        names = [undecided[unit] for unit in heads.get(assessment.member_id, ()) if unit in undecided]
        if not names:
            continue
        vi, en = _bilingual(
            lambda names=names: (
                _(
                    "%(units)s, which this leader heads, has no decided level yet (%(rule)s): the leader's level "
                    "is checked against it once it is decided, and put back to confirm if the rules then forbid it."
                )
                % {"units": ", ".join(names), "rule": rule_id}
            )
        )
        found[assessment.pk] = [Finding(rule_id, Severity.WARN, vi, en, unchecked=True)]
    return found


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
    evaluations = evaluate_decided(period, decided, rulebook, params)
    flagged = {}
    for assessment in decided:
        forbidden = forbidding(evaluations[assessment.pk], assessment.decided_level)
        if forbidden:
            flagged[assessment] = forbidden
    return _put_back(period, user, flagged, lang())


def evaluate_decided(
    period: Period, assessments: Sequence[Assessment], rulebook: Rulebook, params: Parameters
) -> dict[int, Evaluation]:
    """{assessment pk: Evaluation} of subjects of any kind (members and organisations loaded) as the
    links read them: members and leaders with every fact (`evaluations.evaluate_assessments`),
    organisations with the levels below them and the order, collectives with their organisation's
    level. A fixed number of queries whatever the number."""
    members = [a for a in assessments if a.member_id]
    evaluations = evaluate_assessments(period, members, rulebook, params) if members else {}
    others = [a for a in assessments if not a.member_id]
    if not others:
        return evaluations
    organizations = {a.organization.pk: a.organization for a in others}
    levels = LevelsBelow(period, organizations.values())
    collectives = [a.organization for a in others if a.subject_kind == Assessment.SubjectKind.COLLECTIVE]
    collective_facts = collective_facts_for(period, collectives, levels) if collectives else {}
    answers = answers_for(period, others, rulebook, params)
    for assessment in others:
        variant = variant_of(rulebook, assessment, rulebook.evaluation_purpose)
        if assessment.subject_kind == Assessment.SubjectKind.COLLECTIVE:
            evaluations[assessment.pk] = rulebook.evaluate_collective(
                collective_facts[assessment.organization.pk], answers[assessment.pk], params, variant=variant
            )
        else:
            evaluations[assessment.pk] = evaluate_organization(
                period, rulebook, params, assessment.organization, levels, answers[assessment.pk], variant
            )
    return evaluations


def recheck_leaders(
    *, period: Period, rulebook: Rulebook, params: Parameters, user: User, organizations: Iterable[int]
) -> list[int]:
    """Put back "to confirm" every decided leader heading one of `organizations` (pks whose level just
    changed: a cell's secretary heads the cell, a committee's secretary the committee) whose rules now
    forbid the leader's decided level (L-UNIT, L-NOT-ABOVE when they block). A fixed number of queries.
    Returns the pks put back."""
    from members.models import Member

    organizations = list(organizations)
    heading = Q(member__party_post=Member.PartyPost.SECRETARY, member__cell_id__in=organizations) | Q(
        member__headed_committee_id__in=organizations
    )
    leaders = list(
        Assessment.objects.filter(
            heading,
            period=period,
            subject_kind=Assessment.SubjectKind.LEADER,
            classified=True,
            to_confirm=False,
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
    update_from_values(
        Assessment,
        ("to_confirm", "to_confirm_reason", "updated_at"),
        [(a.pk, a.to_confirm, a.to_confirm_reason, a.updated_at) for a in flagged],
    )
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
