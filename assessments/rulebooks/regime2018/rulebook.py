"""The registered 2018 rulebook: its documents, its forms, who is classified, and the evaluate_* entry points."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from vocabulary import ExclusionReason

from ..arithmetic import add_months
from ..evaluation import QuotaResult
from ..facts import CollectiveFacts, MemberFacts, OrganizationFacts, Schedule
from ..forms import FormPurpose, TemplateKey
from ..parameters import Parameters
from ..registry import register
from ..rulebook import Document, Rulebook
from ..scales import MemberStatus, SubjectKind
from .collectives import CollectiveChecks
from .individuals import IndividualChecks
from .parameters import Parameters2018

# The stages of a period that belong to the review itself (kiểm điểm), before the year-end summary.
REVIEW_STAGES = ("self_review_due", "cell_meeting_due")


@register
class Regime2018(IndividualChecks, CollectiveChecks, Rulebook):
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
    transfer_rule = "R2018-M-TRANSFER"

    def exception_quota(self, counts_by_level, params=None, *, subject_kind=SubjectKind.MEMBER) -> QuotaResult | None:
        """HD 16 and HD 21 provide no exception to the quota: only a period whose parameters allow one
        (`quota_exception_allowed`) has it, up to `quota_exception_rate`, under the quota's own rule."""
        params = params or self.default_parameters()
        if not params.quota_exception_allowed:
            return None
        return self._quota(
            counts_by_level, params, self.quota_rules[SubjectKind(subject_kind)], params.quota_exception_rate
        )

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

    # --- Schedule of a period -----------------------------------------------------------------------------

    def schedule_findings(self, schedule: Schedule, params=None):
        """R2018-P-TIMING: the self-reviews and cell meetings come before the unit's year-end work summary,
        taken as the end of the year; HD 16 and HD 21 set no deadline, and a quarterly period has none."""
        if not schedule.annual:
            return ()
        params = params or self.default_parameters()
        return tuple(self._late("R2018-P-TIMING", params, schedule, REVIEW_STAGES, date(schedule.year, 12, 31)))
