"""Regime 2025: Quy định 366-QĐ/TW (30/8/2025) + Hướng dẫn 43-HD/BTCTW (31/10/2025), current.

Every subject is scored out of 100 (30 general + 70 results, weights inside the groups set by local
guidance: the templates are data). The level is the lower of the score band and the highest level whose
extra conditions hold (Điều 11); a KHTNV trigger overrides the score, but the deciding level may grade
higher with a written reason (mitigable findings). Rules: data/regime2025/rules.json.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from vocabulary import ExclusionReason, Level

from .base import (
    CollectiveFacts,
    Finding,
    LeaderFacts,
    MemberFacts,
    MemberStatus,
    Occupation,
    OrganizationFacts,
    Severity,
    SubjectKind,
    TaskStats,
    add_months,
    counts_of,
)
from .catalogue import Share, Text
from .forms import FormPurpose, TemplateKey, score
from .parameters import ParameterIssue, Parameters, param
from .registry import register
from .rulebook import Context, Document, Rulebook

# Occupations whose members work in the political system (form 2B) unless the caller says otherwise.
IN_POLITICAL_SYSTEM = frozenset({Occupation.CIVIL_SERVANT, Occupation.ARMED_FORCES, Occupation.WORKER})
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


def _points(default: str, label_vi: str, label_en: str):
    return param(Decimal(default), "number", label_vi, label_en, minimum=Decimal(0), maximum=Decimal(100))


def _fraction(default: str, label_vi: str, label_en: str):
    return param(Decimal(default), "share", label_vi, label_en, minimum=Decimal(0), maximum=Decimal(1))


@dataclass(frozen=True)
class Parameters2025(Parameters):
    temporary_comment_severity: Severity = param(
        Severity.WARN,
        "severity",
        "Thiếu nhận xét của chi bộ sinh hoạt tạm thời: chặn hay cảnh báo",
        "Missing comment of the temporary cell: block or warn",
    )
    quota_raised_rate: Decimal = _fraction(
        "0.25", "Tỉ lệ HTXSNV nâng cho đơn vị nổi trội", "Raised HTXSNV rate for an outstanding unit"
    )
    band_htxsnv: Decimal = _points("90", "Điểm tối thiểu mức HTXSNV", "Minimum score for HTXSNV")
    band_httnv: Decimal = _points("70", "Điểm tối thiểu mức HTTNV", "Minimum score for HTTNV")
    band_htnv: Decimal = _points("50", "Điểm tối thiểu mức HTNV", "Minimum score for HTNV")
    exceeding_share: Decimal = _fraction(
        "0.30", "HTXSNV: tỉ lệ nhiệm vụ vượt mức tối thiểu", "HTXSNV: minimum share of tasks beyond requirements"
    )
    late_share_max: Decimal = _fraction(
        "0.20", "HTNV: tỉ lệ nhiệm vụ chậm tiến độ tối đa", "HTNV: maximum share of late tasks"
    )
    unit_plan_threshold: Decimal = _fraction(
        "0.70",
        "KHTNV khi đơn vị hoàn thành dưới tỉ lệ kế hoạch",
        "KHTNV when the unit completes less than this share of its plan",
    )
    units_khtnv_share: Decimal = _fraction(
        "0.50",
        "Lãnh đạo KHTNV khi tỉ lệ đơn vị phụ trách KHTNV vượt quá",
        "Leader KHTNV when the share of units led at KHTNV exceeds",
    )
    low_confidence_share: Decimal = _fraction(
        "0.50",
        "Lãnh đạo KHTNV khi tỉ lệ phiếu tín nhiệm thấp vượt quá",
        "Leader KHTNV when low-confidence votes exceed",
    )
    gap_manual_decision: bool = param(
        True,
        "bool",
        "Không đạt điều kiện HTNV nhưng không thuộc trường hợp KHTNV: cấp có thẩm quyền quyết định",
        "HTNV conditions unmet without a KHTNV trigger: the deciding level decides",
    )

    def check(self) -> list[ParameterIssue]:
        issues = []
        if not self.band_htxsnv > self.band_httnv > self.band_htnv:
            issues.append(
                ParameterIssue(
                    "band_htxsnv",
                    "Các ngưỡng điểm phải giảm dần: HTXSNV > HTTNV > HTNV.",
                    "The score thresholds must decrease: HTXSNV > HTTNV > HTNV.",
                )
            )
        if self.quota_raised_rate < self.quota_rate:
            issues.append(
                ParameterIssue(
                    "quota_raised_rate",
                    "Tỉ lệ nâng không được thấp hơn tỉ lệ khống chế thông thường.",
                    "The raised rate cannot be below the ordinary quota rate.",
                )
            )
        return issues


@register
class Regime2025(Rulebook):
    code = "2025"
    title_vi = "Quy định 366-QĐ/TW và Hướng dẫn 43-HD/BTCTW"
    title_en = "Regulation 366-QĐ/TW and Guidance 43-HD/BTCTW"
    documents = (
        Document(
            "366-QĐ/TW",
            date(2025, 8, 30),
            "Bộ Chính trị",
            "Quy định về kiểm điểm, đánh giá, xếp loại chất lượng đối với tập thể, cá nhân trong hệ thống chính trị",
            "Regulation on the review and quality classification of collectives and individuals",
        ),
        Document(
            "43-HD/BTCTW",
            date(2025, 10, 31),
            "Ban Tổ chức Trung ương",
            "Hướng dẫn thực hiện Quy định 366-QĐ/TW",
            "Guidance implementing Regulation 366-QĐ/TW",
        ),
    )
    data_dir = "regime2025"
    parameters_class = Parameters2025
    templates = {
        (SubjectKind.MEMBER, FormPurpose.SELF_REVIEW): TemplateKey(
            "regime2025/individual_self_review.json", ("2B", "2C")
        ),
        (SubjectKind.LEADER, FormPurpose.SELF_REVIEW): TemplateKey("regime2025/individual_self_review.json", ("2A",)),
        (SubjectKind.COLLECTIVE, FormPurpose.SELF_REVIEW): TemplateKey("regime2025/collective_report.json", ("01",)),
        (SubjectKind.ORGANIZATION, FormPurpose.SELF_REVIEW): TemplateKey("regime2025/collective_report.json", ("01",)),
        (SubjectKind.MEMBER, FormPurpose.ANALYSIS): TemplateKey("regime2025/analysis.json", ("2B", "2C")),
        (SubjectKind.LEADER, FormPurpose.ANALYSIS): TemplateKey("regime2025/analysis.json", ("2A",)),
        (SubjectKind.COLLECTIVE, FormPurpose.ANALYSIS): TemplateKey("regime2025/analysis.json", ("01",)),
        (SubjectKind.ORGANIZATION, FormPurpose.ANALYSIS): TemplateKey("regime2025/analysis.json", ("01",)),
    }
    # Part B of the self-review holds the points; the analysis forms hold the same items.
    evaluation_purpose = FormPurpose.SELF_REVIEW
    quota_rules = dict.fromkeys(SubjectKind, "R2025-Q-QUOTA")
    raised_quota_rule = "R2025-Q-EXCEPTION"
    two_years_rule = "R2025-M-TWO-YEARS"
    mitigation_rule = "R2025-ALL-MITIGATE"
    score_groups = {"general": 30, "results": 70}

    def choose_variant(self, subject_kind, facts=None) -> str | None:
        """2A for a leader; for a member 2B inside the political system, 2C outside it (retired, students...)."""
        if SubjectKind(subject_kind) != SubjectKind.MEMBER or facts is None:
            return super().choose_variant(subject_kind, facts)
        inside = facts.in_political_system
        if inside is None:
            inside = facts.occupation in IN_POLITICAL_SYSTEM
        return "2B" if inside else "2C"

    def choose_form(self, facts: MemberFacts) -> tuple[SubjectKind, str]:
        """The subject kind and form of an individual: (LEADER, "2A"), (MEMBER, "2B") or (MEMBER, "2C")."""
        if facts.is_leader:
            return SubjectKind.LEADER, "2A"
        return SubjectKind.MEMBER, self.choose_variant(SubjectKind.MEMBER, facts)

    # --- Who is classified --------------------------------------------------------------------------

    def exclusion(self, facts, reference_date: date, params=None):
        params = params or self.default_parameters()
        if isinstance(facts, MemberFacts):
            status = facts.status_on(reference_date)
            if status == MemberStatus.EXCUSED:
                return self.exclusion_of("R2025-M-EXEMPT", params, ExclusionReason.EXCUSED)
            if status == MemberStatus.SUSPENDED and not facts.suspended_from_committee_only:
                return self.exclusion_of("R2025-M-EXEMPT", params, ExclusionReason.SUSPENDED)
            if add_months(facts.admission_date, params.new_member_months) > reference_date:
                return self.exclusion_of(
                    "R2025-M-EXEMPT",
                    params,
                    ExclusionReason.NEW_MEMBER,
                    admitted=facts.admission_date,
                    months=params.new_member_months,
                )
            return None
        if isinstance(facts, CollectiveFacts | OrganizationFacts):
            if facts.founded_on is not None and add_months(facts.founded_on, params.new_org_months) > reference_date:
                return self.exclusion_of(
                    "R2025-O-NEW",
                    params,
                    ExclusionReason.NEW_ORGANIZATION,
                    founded=facts.founded_on,
                    months=params.new_org_months,
                )
            return None
        raise TypeError(f"no exclusion rule for {type(facts).__name__}")

    # --- Evaluations --------------------------------------------------------------------------------------

    def evaluate_member(self, facts: MemberFacts, answers=None, params=None, **kwargs):
        return self._run(SubjectKind.MEMBER, facts, answers, params, self._member_checks, **kwargs)

    def evaluate_leader(self, facts: LeaderFacts, answers=None, params=None, **kwargs):
        return self._run(SubjectKind.LEADER, facts, answers, params, self._leader_checks, **kwargs)

    def evaluate_collective(self, facts: CollectiveFacts, answers=None, params=None, **kwargs):
        return self._run(SubjectKind.COLLECTIVE, facts, answers, params, self._collective_checks, **kwargs)

    def evaluate_organization(self, facts: OrganizationFacts, answers=None, params=None, **kwargs):
        return self._run(SubjectKind.ORGANIZATION, facts, answers, params, self._organization_checks, **kwargs)

    # --- Pieces shared by the subject kinds -----------------------------------------------------------------

    def band_of(self, total: Decimal, params: Parameters2025) -> Level:
        if total >= params.band_htxsnv:
            return Level.HTXSNV
        if total >= params.band_httnv:
            return Level.HTTNV
        if total >= params.band_htnv:
            return Level.HTNV
        return Level.KHTNV

    def _score(self, ctx: Context) -> Iterator[Finding | None]:
        if not ctx.answers.points:
            # Not scored yet (e.g. a level proposed before part B is filled): no band, nothing capped.
            yield ctx.unchecked("R2025-S-SCORE", variant="unscored")
            return
        result = score(ctx.template, ctx.answers.points)
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

    def _task_conditions(self, ctx: Context, xs_rule: str, xs_variant: str = "default") -> Iterator[Finding | None]:
        """Điều 11: HTXSNV (xs_rule), HTTNV (ALL-TT) and HTNV (ALL-HTNV) conditions on the year's tasks."""
        params: Parameters2025 = ctx.params
        tasks = ctx.answers.tasks
        if not _complete(tasks):
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

    def _individual_notes(self, ctx: Context) -> Iterator[Finding | None]:
        facts: MemberFacts = ctx.facts
        params: Parameters2025 = ctx.params
        for transfer in facts.transfers:
            if transfer.months_in_former_cell >= params.transfer_months and not transfer.former_cell_comment_received:
                yield ctx.finding(
                    "R2025-M-TRANSFER", transferred=transfer.transferred_on, months=transfer.months_in_former_cell
                )
        if facts.temporary_attachment and not facts.temporary_cell_comment_received:
            yield ctx.finding("R2025-M-TEMP", severity=params.temporary_comment_severity)
        if facts.suspended_from_committee_only:
            yield ctx.finding("R2025-M-CU-SUSP", severity=Severity.INFO)
        if facts.sick_leave_days >= params.sick_leave_months * 30 or facts.maternity_leave:
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
        if _complete(tasks):
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


def _complete(tasks: TaskStats | None) -> bool:
    return tasks is not None and tasks.on_time is not None and tasks.exceeding is not None


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
