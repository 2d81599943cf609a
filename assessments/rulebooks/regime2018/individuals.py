"""The 2018 checks of a member and of a leader (bản kiểm điểm cá nhân, phiếu phân tích chất lượng)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from vocabulary import Level

from ..catalogue import Share
from ..evaluation import Finding
from ..facts import MemberFacts
from ..rulebook import Context
from ..scales import Rating, Severity
from .criteria import RESULTS, checked_ratings, countable_disciplines, labels_text


class IndividualChecks:
    """The member and leader checks of Regime2018."""

    # --- Member and leader ------------------------------------------------------------------------------

    def _member_checks(self, ctx: Context) -> Iterator[Finding | None]:
        facts: MemberFacts = ctx.facts
        params = ctx.params
        if facts.is_probationary:
            yield ctx.finding("R2018-M-PROBATION", severity=Severity.INFO)
        if facts.suspended_from_committee_only:
            yield ctx.finding(
                "R2018-M-CU-SUSP",
                severity=Severity.INFO,
                variant="dated" if facts.committee_suspended_on else "default",
                suspended=facts.committee_suspended_on,
            )
        if facts.is_civil_servant and facts.civil_service_level is None:
            yield ctx.finding("R2018-P-CBCCVC-FIRST")
        for transfer in facts.transfers:
            if transfer.months_in_former_cell >= params.transfer_months and not transfer.former_cell_comment_received:
                yield ctx.finding(
                    "R2018-M-TRANSFER",
                    severity=params.transfer_comment_severity,
                    variant="named" if transfer.former_cell else "default",
                    transferred=transfer.transferred_on,
                    months=transfer.months_in_former_cell,
                    former_cell=transfer.former_cell,
                )
        if facts.temporary_attachment and not facts.temporary_cell_comment_received:
            yield ctx.finding("R2018-M-TEMP", severity=params.temporary_comment_severity)

        counted = countable_disciplines(facts.disciplines, facts.counted_violation_keys)
        if counted:
            yield ctx.finding("R2018-M-DISCIPLINE", cap=Level.KHTNV, count=len(counted))
        if facts.degradation_concluded:
            yield ctx.finding("R2018-M-DEGRADATION", cap=Level.KHTNV)
        tasks = ctx.answers.tasks
        if tasks is not None and tasks.completed < params.tasks_threshold:
            yield ctx.finding(
                "R2018-M-TASKS50",
                cap=Level.KHTNV,
                share=Share(tasks.completed),
                threshold=Share(params.tasks_threshold),
            )
        civil = facts.civil_service_level if facts.is_civil_servant else None
        if civil == Level.KHTNV:
            yield ctx.finding("R2018-M-CBCCVC-KHTNV", cap=Level.KHTNV)
        if civil is not None and civil != Level.HTXSNV:
            yield ctx.finding("R2018-M-CBCCVC-XS", cap=Level.HTTNV, civil=civil)
        if civil in (Level.HTTNV, Level.HTNV):
            yield ctx.finding("R2018-M-CBCCVC-CAP", cap=civil, civil=civil)

        yield from self._member_criteria(ctx)

        if facts.sick_leave_months >= params.sick_leave_months:
            yield ctx.finding(
                "R2018-M-SICK",
                cap=Level.HTNV,
                days=facts.sick_leave_days,
                months=facts.sick_leave_months.quantize(Decimal("0.1")),
                threshold=params.sick_leave_months,
            )
        if facts.maternity_leave:
            yield ctx.finding("R2018-M-MATERNITY", severity=Severity.INFO)

    def _member_criteria(self, ctx: Context) -> Iterator[Finding | None]:
        if not ctx.answers.ratings:
            # Nothing rated yet (e.g. the member's own proposal before the cell meets): not checked.
            yield ctx.unchecked("R2018-M-XS-CRITERIA", variant="unrated")
            return
        ratings = checked_ratings(ctx.template, ctx.answers.ratings)
        results = ctx.template.rating_items(RESULTS)
        others = [item for item in ctx.template.rating_items() if item not in results]
        # HTXSNV must be shown: an unrated criterion does not meet it.
        short = [i for i in results if ratings.get(i.id) != Rating.XUAT_SAC] + [
            i for i in others if ratings.get(i.id) is None or ratings[i.id] < Rating.TOT
        ]
        if short:
            yield ctx.finding("R2018-M-XS-CRITERIA", cap=Level.HTTNV, criteria=labels_text(short))
        poor = [i for i in ctx.template.rating_items() if ratings.get(i.id) == Rating.KEM]
        below_good = [i for i in ctx.template.rating_items() if ratings.get(i.id) is None or ratings[i.id] < Rating.TOT]
        if poor:
            yield ctx.finding("R2018-M-CRITERIA", cap=Level.KHTNV, variant="poor", criteria=labels_text(poor))
        elif below_good:
            yield ctx.finding("R2018-M-CRITERIA", cap=Level.HTNV, criteria=labels_text(below_good))

    def _leader_checks(self, ctx: Context) -> Iterator[Finding | None]:
        yield from self._member_checks(ctx)
        unit = getattr(ctx.facts, "unit_level", None)
        if getattr(ctx.facts, "remit_corruption_disciplined", False):
            yield ctx.finding("R2018-L-UNIT", cap=Level.KHTNV, variant="corruption")
        elif unit == Level.KHTNV:
            yield ctx.finding("R2018-L-UNIT", cap=Level.KHTNV, unit=unit)
        elif unit == Level.HTNV:
            yield ctx.finding("R2018-L-UNIT", cap=Level.HTTNV, unit=unit)
        if unit is not None and unit < Level.HTXSNV:
            yield ctx.finding("R2018-L-NOT-ABOVE", cap=unit, unit=unit)
