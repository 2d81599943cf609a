"""The 2025 checks of a member (forms 2B, 2C) and of a leader (form 2A)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from vocabulary import Level

from ..arithmetic import counts_of
from ..catalogue import Share
from ..evaluation import Finding
from ..facts import LeaderFacts, MemberFacts
from ..rulebook import Context
from ..scales import Severity
from .parameters import Parameters2025
from .scoring import SharedChecks


class IndividualChecks(SharedChecks):
    """The member and leader checks of Regime2025."""

    def _individual_notes(self, ctx: Context) -> Iterator[Finding | None]:
        facts: MemberFacts = ctx.facts
        params: Parameters2025 = ctx.params
        for transfer in facts.transfers:
            if transfer.months_in_former_cell >= params.transfer_months and not transfer.former_cell_comment_received:
                yield ctx.finding(
                    "R2025-M-TRANSFER",
                    variant="named" if transfer.former_cell else "default",
                    transferred=transfer.transferred_on,
                    months=transfer.months_in_former_cell,
                    former_cell=transfer.former_cell,
                )
        if facts.temporary_attachment and not facts.temporary_cell_comment_received:
            yield ctx.finding("R2025-M-TEMP", severity=params.temporary_comment_severity)
        if facts.suspended_from_committee_only:
            yield ctx.finding(
                "R2025-M-CU-SUSP",
                severity=Severity.INFO,
                variant="dated" if facts.committee_suspended_on else "default",
                suspended=facts.committee_suspended_on,
            )
        if facts.sick_leave_months >= params.sick_leave_months or facts.maternity_leave:
            yield ctx.finding("R2025-M-SICK", severity=Severity.INFO)
        regraded = [d for d in facts.disciplines if d.key in facts.counted_violation_keys]
        if regraded:
            yield ctx.finding("R2025-ALL-DISC-TIME", severity=Severity.INFO, count=len(regraded))

    # --- Member (2B, 2C) ---------------------------------------------------------------------------------

    def _member_checks(self, ctx: Context) -> Iterator[Finding | None]:
        facts: MemberFacts = ctx.facts
        params: Parameters2025 = ctx.params
        findings: list[Finding | None] = []
        findings += self._individual_notes(ctx)
        findings += self._score(ctx)
        findings += self._task_conditions(ctx, "R2025-M-XS")
        findings += self._shortcomings(ctx)
        if facts.degradation_concluded:
            findings.append(self._trigger(ctx, "R2025-M-K-CONDUCT", variant="degradation"))
        duty = [d for d in facts.disciplines if d.in_official_duties]
        if duty:
            findings.append(self._trigger(ctx, "R2025-M-K-CONDUCT", variant="discipline", count=len(duty)))
        if facts.violated_prohibitions:
            findings.append(self._trigger(ctx, "R2025-M-K-CONDUCT", variant="prohibitions"))
        if facts.breached_exemplary_duty:
            findings.append(self._trigger(ctx, "R2025-M-K-CONDUCT", variant="exemplary"))
        tasks = ctx.answers.tasks
        if tasks is not None and tasks.not_completed > params.tasks_threshold:
            findings.append(
                self._trigger(
                    ctx,
                    "R2025-M-K-TASKS",
                    share=Share(tasks.not_completed),
                    threshold=Share(params.tasks_threshold),
                )
            )
        findings += self._gap(ctx, findings)
        return iter(findings)

    # --- Leader (2A) -----------------------------------------------------------------------------------

    def _leader_checks(self, ctx: Context) -> Iterator[Finding | None]:
        facts: LeaderFacts = ctx.facts
        params: Parameters2025 = ctx.params
        findings: list[Finding | None] = []
        findings += self._individual_notes(ctx)
        findings += self._score(ctx)
        findings += self._task_conditions(ctx, "R2025-L-XS")
        findings += self._shortcomings(ctx)
        findings += self._unit_tasks_trigger(ctx, "R2025-L-K-TASKS")
        units = getattr(facts, "units_led_levels", None)
        if units:
            counts = counts_of(units)
            total = sum(counts.values())
            if total and Decimal(counts[Level.KHTNV]) / total > params.units_khtnv_share:
                share = Share(Decimal(counts[Level.KHTNV]) / total)
                findings.append(
                    self._trigger(
                        ctx, "R2025-L-K-TASKS", variant="units", share=share, threshold=Share(params.units_khtnv_share)
                    )
                )
        low = getattr(facts, "low_confidence_share", None)
        if low is not None and low > params.low_confidence_share:
            findings.append(
                self._trigger(ctx, "R2025-L-K-VOTE", share=Share(low), threshold=Share(params.low_confidence_share))
            )
        duty = [d for d in facts.disciplines if d.in_official_duties]
        if duty:
            findings.append(self._trigger(ctx, "R2025-L-K-DISC", count=len(duty)))
        if facts.degradation_concluded:
            findings.append(self._trigger(ctx, "R2025-L-K-DEGR"))
        if getattr(facts, "remit_corruption_disciplined", False):
            findings.append(self._trigger(ctx, "R2025-L-K-CORRUPT"))
        unit = getattr(facts, "unit_level", None)
        if unit is not None and unit < Level.HTXSNV:
            findings.append(ctx.finding("R2025-L-NOT-ABOVE", cap=unit, unit=unit))
        findings += self._gap(ctx, findings)
        return iter(findings)
