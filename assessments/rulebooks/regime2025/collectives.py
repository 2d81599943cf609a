"""The 2025 checks of a leadership collective (Mẫu 01) and of a party organisation (HD 43 §3)."""

from __future__ import annotations

from collections.abc import Iterator

from vocabulary import Level

from ..arithmetic import counts_of
from ..catalogue import Text
from ..evaluation import Finding
from ..facts import CollectiveFacts, OrganizationFacts
from ..rulebook import Context
from ..scales import Severity
from .parameters import Parameters2025
from .scoring import SharedChecks, complete_tasks


class CollectiveChecks(SharedChecks):
    """The leadership collective and party organisation checks of Regime2025."""

    # --- Leadership collective (Mẫu 01) ----------------------------------------------------------------

    def _collective_checks(self, ctx: Context) -> Iterator[Finding | None]:
        facts: CollectiveFacts = ctx.facts
        findings: list[Finding | None] = []
        findings += self._score(ctx)
        findings += self._task_conditions(ctx, "R2025-C-XS")
        if facts.subordinate_disciplined or facts.member_disciplines:
            findings.append(ctx.finding("R2025-C-XS", cap=Level.HTTNV, variant="disciplined"))
        findings += self._shortcomings(ctx)
        if facts.personnel_or_unity_concluded:
            findings.append(self._trigger(ctx, "R2025-C-K-PERSONNEL"))
        previous_unit = [d for d in facts.member_disciplines if d.from_previous_unit]
        counted = [
            d
            for d in facts.member_disciplines
            if d.in_official_duties and d.related_to_remit and not d.from_previous_unit
        ]
        if counted:
            findings.append(self._trigger(ctx, "R2025-C-K-DISC", count=len(counted)))
        if previous_unit:
            findings.append(
                ctx.finding(
                    "R2025-ALL-DISC-TIME", severity=Severity.INFO, variant="previous_unit", count=len(previous_unit)
                )
            )
        if facts.member_degradation_concluded:
            findings.append(self._trigger(ctx, "R2025-C-K-DEGR"))
        findings += self._unit_tasks_trigger(ctx, "R2025-C-K-TASKS")
        if facts.organization_level is not None and facts.organization_level < Level.HTXSNV:
            findings.append(
                ctx.finding("R2025-C-CAP-ORG", cap=facts.organization_level, organization=facts.organization_level)
            )
        if facts.member_count is not None and facts.member_count < 3:
            findings.append(ctx.finding("R2025-C-SMALL", severity=Severity.INFO, count=facts.member_count))
        findings += self._gap(ctx, findings)
        return iter(findings)

    # --- Party organisation (HD 43 §3) ---------------------------------------------------------------------

    def _organization_checks(self, ctx: Context) -> Iterator[Finding | None]:
        facts: OrganizationFacts = ctx.facts
        params: Parameters2025 = ctx.params
        yield from self._score(ctx)
        yield from self._shortcomings(ctx)
        inputs = _basis(facts)
        if inputs:
            yield ctx.finding("R2025-O-BASIS", severity=Severity.INFO, inputs=inputs)
        tasks = ctx.answers.tasks
        if complete_tasks(tasks):
            failing = []
            if tasks.on_time < 1 or tasks.exceeding < params.exceeding_share:
                failing.append((Level.HTTNV, Text("điều kiện HTXSNV", "the HTXSNV conditions")))
            if tasks.on_time < 1:
                failing.append((Level.HTNV, Text("điều kiện HTTNV", "the HTTNV conditions")))
            if tasks.completed < 1 or tasks.late > params.late_share_max:
                failing.append((Level.KHTNV, Text("điều kiện HTNV", "the HTNV conditions")))
            if failing:
                yield ctx.finding(
                    "R2025-O-CONDITIONS",
                    cap=min(cap for cap, _ in failing),
                    conditions=[text for _, text in failing],
                )


def _basis(facts: OrganizationFacts) -> list[Text]:
    """HD 43 §3: the inputs of an organisation's grade, shown beside it."""
    parts = []
    if facts.collective_level is not None:
        level = facts.collective_level
        parts.append(Text(f"tập thể lãnh đạo: {level.label_vi}", f"leadership collective: {level.label_en}"))
    for levels, vi, en in (
        (facts.subordinate_levels, "tổ chức đảng trực thuộc", "subordinate organisations"),
        (facts.member_levels, "đảng viên", "members"),
    ):
        if levels:
            counts = counts_of(levels)
            summary = ", ".join(f"{count} {level.value}" for level, count in counts.items())
            parts.append(Text(f"{vi}: {summary}", f"{en}: {summary}"))
    return parts
