"""What the 2025 checks of every subject kind share: the score band, the task conditions, the KHTNV triggers.

Also the shortcomings fixed, and the gap when the HTNV conditions of Điều 11 fail but no trigger applies.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from vocabulary import Level

from ..catalogue import Share
from ..evaluation import Finding, Score
from ..facts import TaskStats
from ..form_answers import score
from ..rulebook import Context
from ..scales import Severity
from .parameters import Parameters2025

TRIGGER_IDS = frozenset(
    {
        "R2025-M-K-CONDUCT",
        "R2025-M-K-TASKS",
        "R2025-L-K-TASKS",
        "R2025-L-K-VOTE",
        "R2025-L-K-DISC",
        "R2025-L-K-DEGR",
        "R2025-L-K-CORRUPT",
        "R2025-C-K-PERSONNEL",
        "R2025-C-K-DISC",
        "R2025-C-K-DEGR",
        "R2025-C-K-TASKS",
    }
)


class SharedChecks:
    """What the member, leader, collective and organisation checks of Regime2025 share."""

    def band_of(self, total: Decimal, params: Parameters2025) -> Level:
        if total >= params.band_htxsnv:
            return Level.HTXSNV
        if total >= params.band_httnv:
            return Level.HTTNV
        if total >= params.band_htnv:
            return Level.HTNV
        return Level.KHTNV

    def _score(self, ctx: Context) -> Iterator[Finding | None]:
        if not ctx.answers.points and ctx.answers.total is None:
            # No score, no level: the band is where the level starts (Điều 11), so nothing can be decided.
            yield ctx.finding("R2025-S-SCORE", variant="unscored")
            return
        if ctx.answers.points:
            result = score(ctx.template, ctx.answers.points)
        else:
            result = Score(Decimal(0), Decimal(0), declared=ctx.answers.total)
        ctx.score, ctx.band = result, self.band_of(result.total, ctx.params)
        if result.missing:
            yield ctx.finding("R2025-S-SCORE", severity=Severity.WARN, missing=len(result.missing))
        if ctx.band < Level.HTXSNV:
            yield ctx.finding(
                "R2025-S-BANDS",
                cap=ctx.band,
                total=result.total,
                general=result.general,
                results=result.results,
            )

    def _task_conditions(self, ctx: Context, xs_rule: str, xs_variant: str = "default") -> tuple[Finding | None, ...]:
        """Điều 11: HTXSNV (xs_rule), HTTNV (ALL-TT) and HTNV (ALL-HTNV) conditions on the year's tasks.

        They read the task shares and the period's parameters only: found once for each set of shares
        (thousands of members give the same few) and parameters (`Rulebook.once`)."""
        return self.once(ctx.params, ("tasks", xs_rule, xs_variant, ctx.answers.tasks), self._find_task_conditions, ctx)

    def _find_task_conditions(self, ctx: Context, xs_rule: str, xs_variant: str, tasks) -> Iterator[Finding | None]:
        params: Parameters2025 = ctx.params
        if not complete_tasks(tasks):
            # HTXSNV must be shown (100% on time, 30% beyond): without the shares it is not; the lower
            # levels' conditions stay unchecked (a warning that does not lower the suggestion).
            yield ctx.finding(xs_rule, cap=Level.HTTNV, variant="missing")
            yield ctx.unchecked("R2025-S-COMBINE", variant="missing")
            return
        if tasks.on_time < 1 or tasks.exceeding < params.exceeding_share:
            yield ctx.finding(
                xs_rule,
                cap=Level.HTTNV,
                variant=xs_variant,
                on_time=Share(tasks.on_time),
                exceeding=Share(tasks.exceeding),
                required=Share(params.exceeding_share),
            )
        if tasks.on_time < 1:
            yield ctx.finding("R2025-ALL-TT", cap=Level.HTNV, on_time=Share(tasks.on_time))
        if tasks.completed < 1 or tasks.late > params.late_share_max:
            yield ctx.finding(
                "R2025-ALL-HTNV",
                cap=Level.KHTNV,
                mitigable=params.gap_manual_decision,
                completed=Share(tasks.completed),
                late=Share(tasks.late),
                limit=Share(params.late_share_max),
            )

    def _shortcomings(self, ctx: Context) -> Iterator[Finding | None]:
        fixed = ctx.answers.shortcomings_fixed
        if fixed is not None and fixed < 1:
            yield ctx.finding("R2025-ALL-XS-FIX", cap=Level.HTTNV, fixed=Share(fixed))

    def _trigger(self, ctx: Context, rule_id: str, **kwargs) -> Finding | None:
        return ctx.finding(rule_id, cap=Level.KHTNV, mitigable=True, **kwargs)

    def _gap(self, ctx: Context, findings: list[Finding | None]) -> Iterator[Finding | None]:
        """R2025-S-COMBINE: HTNV's conditions fail, no trigger applies and the score is 50 or more."""
        ids = {finding.rule_id for finding in findings if finding is not None}
        if "R2025-ALL-HTNV" in ids and not ids & TRIGGER_IDS and ctx.band is not None and ctx.band >= Level.HTNV:
            yield ctx.finding("R2025-S-COMBINE", variant="gap")

    def _unit_tasks_trigger(self, ctx: Context, rule_id: str) -> Iterator[Finding | None]:
        """C4 / L1: the unit led completed under 70% of its plan, or missed the 5 basic targets."""
        params: Parameters2025 = ctx.params
        plan = getattr(ctx.facts, "unit_plan_share", None)
        if plan is not None and plan < params.unit_plan_threshold:
            yield self._trigger(
                ctx, rule_id, variant="default", share=Share(plan), threshold=Share(params.unit_plan_threshold)
            )
        if getattr(ctx.facts, "basic_targets_missed", False):
            yield self._trigger(ctx, rule_id, variant="targets")


def complete_tasks(tasks: TaskStats | None) -> bool:
    return tasks is not None and tasks.on_time is not None and tasks.exceeding is not None
