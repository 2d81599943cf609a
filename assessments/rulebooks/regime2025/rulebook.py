"""The registered 2025 rulebook: its documents, its forms (2A, 2B, 2C, 01), who is classified, and evaluate_*."""

from __future__ import annotations

from datetime import date

from vocabulary import ExclusionReason

from ..arithmetic import add_months
from ..facts import CollectiveFacts, LeaderFacts, MemberFacts, OrganizationFacts, Schedule
from ..forms import FormPurpose, TemplateKey
from ..registry import register
from ..rulebook import Document, Rulebook
from ..scales import MemberStatus, Occupation, Severity, SubjectKind
from .collectives import CollectiveChecks
from .individuals import IndividualChecks
from .parameters import Parameters2025

# Occupations whose members work in the political system (form 2B) unless the caller says otherwise.
IN_POLITICAL_SYSTEM = frozenset({Occupation.CIVIL_SERVANT, Occupation.ARMED_FORCES, Occupation.WORKER})
# The stages of a period that the 31/12 deadline of HD 43 §4 covers: review, meeting, classification.
REVIEW_STAGES = ("self_review_due", "cell_meeting_due", "grassroots_decision_due")


@register
class Regime2025(IndividualChecks, CollectiveChecks, Rulebook):
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
    transfer_rule = "R2025-M-TRANSFER"
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

    # --- Schedule of a period -----------------------------------------------------------------------------

    def schedule_findings(self, schedule: Schedule, params=None):
        """R2025-P-DEADLINES (HD 43 §4), for the annual review: reviewed and classified by 31/12 (special
        units by 15/01 of the next year); the dossier (form 04) reaches the Central Organisation Commission
        by 01/02, so the decision above the grassroots comes first. Then a note that R2025-P-MEETING's
        draft and meeting length are not recorded. The report to the Politburo by 01/03 is the Commission's:
        no date of the period stands for it."""
        if not schedule.annual:
            return ()
        params = params or self.default_parameters()
        year = schedule.year
        review_deadline = date(year + 1, 1, 15) if params.special_unit else date(year, 12, 31)
        findings = self._late("R2025-P-DEADLINES", params, schedule, REVIEW_STAGES, review_deadline)
        findings += self._late(
            "R2025-P-DEADLINES", params, schedule, ("city_decision_due",), date(year + 1, 2, 1), variant="dossier"
        )
        findings.append(self.finding("R2025-P-MEETING", params, severity=Severity.INFO, variant="unrecorded"))
        return tuple(findings)

    def meeting_findings(self, held_on: date, schedule: Schedule, params=None):
        """R2025-P-MEETING where the records allow: the meeting held after the period's cell-meeting due date."""
        due = schedule.cell_meeting_due
        if due is None or held_on <= due:
            return ()
        params = params or self.default_parameters()
        return (self.finding("R2025-P-MEETING", params, severity=Severity.WARN, held_on=held_on, due=due),)
