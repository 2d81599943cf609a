"""Regime 2018: Quy định 132-QĐ/TW + Hướng dẫn 16-HD/BTCTW, with the refinements of Hướng dẫn 21-HD/BTCTW.

Each criterion is rated Xuất sắc / Tốt / Trung bình / Kém; the level is the highest one whose conditions
hold. The `guidance` parameter switches between HD 16 (the 2018 review: suspended members classified,
the manifestation checklist in the self-review) and HD 21 (2019-2022). Rules: data/regime2018/rules.json;
notes and sources: the regime-2018 notes of the project (rule ids R2018-...).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from vocabulary import ExclusionReason, Level

from .base import (
    CollectiveFacts,
    Discipline,
    DisciplineForm,
    Finding,
    MemberFacts,
    MemberStatus,
    OrganizationFacts,
    OrganizationKind,
    Rating,
    Severity,
    SubjectKind,
    add_months,
    counts_of,
)
from .catalogue import Share, Text
from .forms import AnswerError, AnswersError, FormPurpose, FormTemplate, Item, TemplateKey
from .parameters import ParameterIssue, Parameters, param
from .registry import register
from .rulebook import Context, Document, Rulebook

GUIDANCES = ("HD16", "HD21")
RESULTS = "results"  # the tag of the criteria on the results of assigned duties
PARTY_BUILDING = "party_building"  # the tag of an organisation's party-building criteria


@dataclass(frozen=True)
class Parameters2018(Parameters):
    guidance: str = param(
        "HD21",
        "choice",
        "Hướng dẫn áp dụng (HD16: năm 2018; HD21: từ năm 2019)",
        "Guidance applied (HD16: the 2018 review; HD21: from 2019)",
        choices=GUIDANCES,
    )
    transfer_comment_severity: Severity = param(
        Severity.BLOCK,
        "severity",
        "Thiếu nhận xét của chi bộ cũ: chặn hay cảnh báo",
        "Missing written comment of the former cell: block or warn",
    )
    org_xs_share: Decimal = param(
        Decimal("0.80"),
        "share",
        "Tổ chức HTXSNV: tỉ lệ tối thiểu HTTNV trở lên",
        "Organisation HTXSNV: minimum share at HTTNV or better",
        minimum=Decimal(0),
        maximum=Decimal(1),
    )
    org_tt_share: Decimal = param(
        Decimal("0.50"),
        "share",
        "Tổ chức HTTNV: tỉ lệ tối thiểu HTTNV trở lên",
        "Organisation HTTNV: minimum share at HTTNV or better",
        minimum=Decimal(0),
        maximum=Decimal(1),
    )
    org_khtnv_share: Decimal = param(
        Decimal("0.20"),
        "share",
        "Tổ chức KHTNV khi tỉ lệ KHTNV vượt quá",
        "Organisation KHTNV when the KHTNV share exceeds",
        minimum=Decimal(0),
        maximum=Decimal(1),
    )

    def check(self) -> list[ParameterIssue]:
        if self.org_xs_share < self.org_tt_share:
            return [
                ParameterIssue(
                    "org_xs_share",
                    "Tỉ lệ HTTNV trở lên cho tổ chức HTXSNV không được thấp hơn tỉ lệ cho tổ chức HTTNV.",
                    "The HTXSNV share of an organisation cannot be below its HTTNV share.",
                )
            ]
        return []


def _share(part: int, total: int) -> Decimal:
    return Decimal(part) / Decimal(total)


def _labels(items: list[Item]) -> Text:
    return Text("; ".join(item.label_vi for item in items), "; ".join(item.label_en for item in items))


def countable_disciplines(
    disciplines: tuple[Discipline, ...], counted: frozenset[str], minimum: DisciplineForm = DisciplineForm.REPRIMAND
) -> list[Discipline]:
    """One decision per violation, leaving out violations already counted in an earlier year (HD 21)."""
    by_key: dict[str, Discipline] = {}
    for discipline in disciplines:
        if discipline.key in counted or discipline.form.rank < minimum.rank:
            continue
        by_key.setdefault(discipline.key, discipline)
    return list(by_key.values())


@register
class Regime2018(Rulebook):
    code = "2018"
    title_vi = "Quy định 132-QĐ/TW và Hướng dẫn 16-HD/BTCTW (điều chỉnh theo Hướng dẫn 21-HD/BTCTW)"
    title_en = "Regulation 132-QĐ/TW and Guidance 16-HD/BTCTW (as refined by Guidance 21-HD/BTCTW)"
    documents = (
        Document(
            "132-QĐ/TW",
            date(2018, 3, 8),
            "Bộ Chính trị",
            "Quy định về việc kiểm điểm và đánh giá, xếp loại chất lượng hằng năm đối với tập thể, cá nhân "
            "trong hệ thống chính trị",
            "Regulation on the annual review and quality classification of collectives and individuals",
        ),
        Document(
            "16-HD/BTCTW",
            date(2018, 9, 24),
            "Ban Tổ chức Trung ương",
            "Hướng dẫn kiểm điểm, đánh giá, xếp loại chất lượng đối với tổ chức đảng, đảng viên và tập thể, "
            "cá nhân cán bộ lãnh đạo, quản lý các cấp",
            "Guidance for party organisations, members, leadership collectives and leaders (2018)",
        ),
        Document(
            "21-HD/BTCTW",
            date(2019, 10, 18),
            "Ban Tổ chức Trung ương",
            "Hướng dẫn kiểm điểm, đánh giá, xếp loại chất lượng (thay thế Hướng dẫn 16-HD/BTCTW)",
            "Guidance replacing 16-HD/BTCTW (reviews of 2019 to 2022)",
        ),
    )
    data_dir = "regime2018"
    parameters_class = Parameters2018
    templates = {
        (SubjectKind.MEMBER, FormPurpose.SELF_REVIEW): TemplateKey("regime2018/individual_self_review.json"),
        (SubjectKind.LEADER, FormPurpose.SELF_REVIEW): TemplateKey("regime2018/individual_self_review.json"),
        (SubjectKind.MEMBER, FormPurpose.ANALYSIS): TemplateKey("regime2018/individual_analysis.json"),
        (SubjectKind.LEADER, FormPurpose.ANALYSIS): TemplateKey("regime2018/individual_analysis.json"),
        (SubjectKind.COLLECTIVE, FormPurpose.SELF_REVIEW): TemplateKey("regime2018/collective_report.json"),
        (SubjectKind.ORGANIZATION, FormPurpose.SELF_REVIEW): TemplateKey("regime2018/collective_report.json"),
        (SubjectKind.COLLECTIVE, FormPurpose.ANALYSIS): TemplateKey("regime2018/collective_analysis.json"),
        (SubjectKind.ORGANIZATION, FormPurpose.ANALYSIS): TemplateKey("regime2018/organization_analysis.json"),
    }
    evaluation_purpose = FormPurpose.ANALYSIS
    quota_rules = {
        SubjectKind.MEMBER: "R2018-Q-MEMBER",
        SubjectKind.COLLECTIVE: "R2018-Q-COLLECTIVE",
        SubjectKind.ORGANIZATION: "R2018-Q-ORG",
        SubjectKind.LEADER: "R2018-Q-LEADER",
    }
    two_years_rule = "R2018-M-TWO-YEARS"

    def default_parameters(self, year: int | None = None) -> Parameters2018:
        """HD 21 unless the year is 2018 or earlier (HD 16 governed the 2018 review)."""
        params = super().default_parameters(year)
        if year is not None and year <= 2018:
            params = replace(params, guidance="HD16")
        return params

    def template_context(self, params: Parameters) -> dict:
        return {"guidance": params.guidance}

    # --- Who is classified --------------------------------------------------------------------------

    def exclusion(self, facts, reference_date: date, params=None):
        params = params or self.default_parameters()
        if isinstance(facts, MemberFacts):
            status = facts.status_on(reference_date)
            if status == MemberStatus.EXCUSED:
                return self.exclusion_of("R2018-M-EXEMPT-MIEN", params, ExclusionReason.EXCUSED)
            if status == MemberStatus.SUSPENDED and not facts.suspended_from_committee_only:
                if params.guidance == "HD21":
                    return self.exclusion_of("R2018-M-EXEMPT-SUSP", params, ExclusionReason.SUSPENDED)
            eligible_on = add_months(facts.admission_date, params.new_member_months)
            if eligible_on > reference_date:
                return self.exclusion_of(
                    "R2018-M-NEW",
                    params,
                    ExclusionReason.NEW_MEMBER,
                    reviewed=True,
                    admitted=facts.admission_date,
                    months=params.new_member_months,
                )
            return None
        if isinstance(facts, CollectiveFacts | OrganizationFacts):
            if facts.founded_on is not None and add_months(facts.founded_on, params.new_org_months) > reference_date:
                return self.exclusion_of(
                    "R2018-O-NEW",
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

    def evaluate_leader(self, facts, answers=None, params=None, **kwargs):
        return self._run(SubjectKind.LEADER, facts, answers, params, self._leader_checks, **kwargs)

    def evaluate_collective(self, facts: CollectiveFacts, answers=None, params=None, **kwargs):
        return self._run(SubjectKind.COLLECTIVE, facts, answers, params, self._collective_checks, **kwargs)

    def evaluate_organization(self, facts: OrganizationFacts, answers=None, params=None, **kwargs):
        return self._run(SubjectKind.ORGANIZATION, facts, answers, params, self._organization_checks, **kwargs)

    # --- Member and leader ------------------------------------------------------------------------------

    def _member_checks(self, ctx: Context) -> Iterator[Finding | None]:
        facts: MemberFacts = ctx.facts
        params = ctx.params
        if facts.is_probationary:
            yield ctx.finding("R2018-M-PROBATION", severity=Severity.INFO)
        if facts.suspended_from_committee_only:
            yield ctx.finding("R2018-M-CU-SUSP", severity=Severity.INFO)
        if facts.is_civil_servant and facts.civil_service_level is None:
            yield ctx.finding("R2018-P-CBCCVC-FIRST")
        for transfer in facts.transfers:
            if transfer.months_in_former_cell >= params.transfer_months and not transfer.former_cell_comment_received:
                yield ctx.finding(
                    "R2018-M-TRANSFER",
                    severity=params.transfer_comment_severity,
                    transferred=transfer.transferred_on,
                    months=transfer.months_in_former_cell,
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

        sick_days = params.sick_leave_months * 30
        if facts.sick_leave_days >= sick_days:
            yield ctx.finding("R2018-M-SICK", cap=Level.HTNV, days=facts.sick_leave_days, threshold=sick_days)
        if facts.maternity_leave:
            yield ctx.finding("R2018-M-MATERNITY", severity=Severity.INFO)

    def _member_criteria(self, ctx: Context) -> Iterator[Finding | None]:
        if not ctx.answers.ratings:
            # Nothing rated yet (e.g. the member's own proposal before the cell meets): not checked.
            yield ctx.unchecked("R2018-M-XS-CRITERIA", variant="unrated")
            return
        ratings = _ratings(ctx.template, ctx.answers.ratings)
        results = ctx.template.rating_items(RESULTS)
        others = [item for item in ctx.template.rating_items() if item not in results]
        # HTXSNV must be shown: an unrated criterion does not meet it.
        short = [i for i in results if ratings.get(i.id) != Rating.XUAT_SAC] + [
            i for i in others if ratings.get(i.id) is None or ratings[i.id] < Rating.TOT
        ]
        if short:
            yield ctx.finding("R2018-M-XS-CRITERIA", cap=Level.HTTNV, criteria=_labels(short))
        poor = [i for i in ctx.template.rating_items() if ratings.get(i.id) == Rating.KEM]
        below_good = [i for i in ctx.template.rating_items() if ratings.get(i.id) is None or ratings[i.id] < Rating.TOT]
        if poor:
            yield ctx.finding("R2018-M-CRITERIA", cap=Level.KHTNV, variant="poor", criteria=_labels(poor))
        elif below_good:
            yield ctx.finding("R2018-M-CRITERIA", cap=Level.HTNV, criteria=_labels(below_good))

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

    # --- Leadership collective -----------------------------------------------------------------------

    def _collective_checks(self, ctx: Context) -> Iterator[Finding | None]:
        facts: CollectiveFacts = ctx.facts
        if facts.organization_level is None:
            yield ctx.unchecked("R2018-C-CAP-ORG")
        elif facts.organization_level < Level.HTXSNV:
            yield ctx.finding("R2018-C-CAP-ORG", cap=facts.organization_level, organization=facts.organization_level)
        counted = countable_disciplines(facts.member_disciplines, facts.counted_violation_keys, DisciplineForm.WARNING)
        if counted:
            yield ctx.finding("R2018-C-DISCIPLINE", cap=Level.KHTNV, count=len(counted))

    # --- Party organisation --------------------------------------------------------------------------

    def _organization_checks(self, ctx: Context) -> Iterator[Finding | None]:
        facts: OrganizationFacts = ctx.facts
        params: Parameters2018 = ctx.params
        yield from self._organization_criteria(ctx)
        yield from self._organization_levels(ctx)
        yield from self._organization_peers(ctx)

        if facts.disciplined:
            yield ctx.finding("R2018-O-DISCIPLINED", cap=Level.KHTNV, mitigable=True)
        tasks = ctx.answers.tasks
        if tasks is not None and tasks.completed < params.tasks_threshold and not facts.force_majeure:
            yield ctx.finding(
                "R2018-O-TASKS50",
                cap=Level.KHTNV,
                share=Share(tasks.completed),
                threshold=Share(params.tasks_threshold),
            )
        if facts.disunity_or_corruption:
            yield ctx.finding("R2018-O-OTHER", cap=Level.KHTNV)

    def _organization_criteria(self, ctx: Context) -> Iterator[Finding | None]:
        if not ctx.answers.ratings:
            yield ctx.unchecked("R2018-O-XS-CRITERIA", variant="unrated")
            return
        ratings = _ratings(ctx.template, ctx.answers.ratings)
        items = ctx.template.rating_items()
        results = ctx.template.rating_items(RESULTS)
        others = [item for item in items if item not in results]

        def below(item, rating):
            return ratings.get(item.id) is None or ratings[item.id] < rating

        short_xs = [i for i in results if ratings.get(i.id) != Rating.XUAT_SAC] + [
            i for i in others if below(i, Rating.TOT)
        ]
        if short_xs:
            yield ctx.finding("R2018-O-XS-CRITERIA", cap=Level.HTTNV, criteria=_labels(short_xs))
        short_tt = [i for i in results if below(i, Rating.TOT)] + [i for i in others if below(i, Rating.TRUNG_BINH)]
        if short_tt:
            yield ctx.finding("R2018-O-TT-CRITERIA", cap=Level.HTNV, criteria=_labels(short_tt))
        poor = [i for i in items if ratings.get(i.id) == Rating.KEM]
        if poor:
            yield ctx.finding("R2018-O-HTNV", cap=Level.KHTNV, criteria=_labels(poor))
        poor_building = [i for i in ctx.template.rating_items(PARTY_BUILDING) if ratings.get(i.id) == Rating.KEM]
        if poor_building:
            yield ctx.finding(
                "R2018-O-TASKS50", cap=Level.KHTNV, variant="party_building", criteria=_labels(poor_building)
            )

    def _organization_levels(self, ctx: Context) -> Iterator[Finding | None]:
        facts: OrganizationFacts = ctx.facts
        params: Parameters2018 = ctx.params
        cell = facts.kind == OrganizationKind.CELL
        raw = facts.member_levels if cell else facts.subordinate_levels
        whom = Text("đảng viên", "members") if cell else Text("tổ chức đảng trực thuộc", "subordinate organisations")
        if raw is None or sum(counts_of(raw).values()) == 0:
            # The conditions cannot be shown yet: warn at their caps.
            yield ctx.unchecked("R2018-O-XS-SUB", cap=Level.HTTNV, whom=whom)
            yield ctx.unchecked("R2018-O-TT-SUB", cap=Level.HTNV, whom=whom)
            return
        counts = counts_of(raw)
        total = sum(counts.values())
        htnv_plus = _share(total - counts[Level.KHTNV], total)
        httnv_plus = _share(counts[Level.HTXSNV] + counts[Level.HTTNV], total)
        khtnv = _share(counts[Level.KHTNV], total)
        values = {"whom": whom, "htnv_plus": Share(htnv_plus), "httnv_plus": Share(httnv_plus)}
        if htnv_plus < 1 or httnv_plus < params.org_xs_share:
            yield ctx.finding("R2018-O-XS-SUB", cap=Level.HTTNV, required=Share(params.org_xs_share), **values)
        if htnv_plus < 1 or httnv_plus < params.org_tt_share:
            yield ctx.finding("R2018-O-TT-SUB", cap=Level.HTNV, required=Share(params.org_tt_share), **values)
        if khtnv > params.org_khtnv_share:
            rule_id = "R2018-O-KHTNV20-CB" if cell else "R2018-O-KHTNV20-DB"
            yield ctx.finding(rule_id, cap=Level.KHTNV, share=Share(khtnv), threshold=Share(params.org_khtnv_share))

    def _organization_peers(self, ctx: Context) -> Iterator[Finding | None]:
        peers = ctx.facts.peer_levels
        if peers is None:
            yield ctx.unchecked("R2018-O-XS-PEER", cap=Level.HTTNV)
            yield ctx.unchecked("R2018-O-TT-PEER", cap=Level.HTNV)
            return
        if any(level < Level.HTTNV for level in peers):
            yield ctx.finding("R2018-O-XS-PEER", cap=Level.HTTNV, lowest=min(peers))
        if any(level < Level.HTNV for level in peers):
            yield ctx.finding("R2018-O-TT-PEER", cap=Level.HTNV, lowest=min(peers))


def _ratings(template: FormTemplate, ratings) -> dict[str, Rating]:
    """The ratings checked against the template: a criterion the template does not rate is the caller's error."""
    rating_ids = {item.id for item in template.rating_items()}
    unknown = [key for key in ratings if key not in rating_ids]
    if unknown:
        raise AnswersError(
            AnswerError(
                key, "unknown_item", f"Mẫu {template.code} không có tiêu chí {key!r}.", f"No criterion {key!r}."
            )
            for key in unknown
        )
    return dict(ratings)
