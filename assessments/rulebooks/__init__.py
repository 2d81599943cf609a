"""Rulebooks: the regulation regimes of the annual review, as pure Python over plain facts.

    from assessments.rulebooks import Answers, MemberFacts, get_rulebook
    from vocabulary import Level

    rulebook = get_rulebook("2018")  # period.regime: "2018" or "2025"
    params = rulebook.parameters(period.parameters, year=period.year)  # the period's JSON, validated
    facts = MemberFacts(admission_date=member.admission_date, official_date=member.official_date)
    answers = Answers(ratings={"political_ideology": "tot", "duty_results": "xuat_sac"})  # 2025: points={...}
    evaluation = rulebook.evaluate_member(facts, answers, params, reference_date=period.self_review_due)
    evaluation.allowed(Level.HTXSNV), evaluation.explain(Level.HTXSNV), evaluation.level

No Django model, request or translation catalogue is imported here, and nothing of the project but
`vocabulary` (the levels and the reasons for not classifying): see README.md beside this file, which
also lists the modules.
"""

from .catalogue import RuleSpec
from .evaluation import Evaluation, Exclusion, Finding, QuotaResult, Score
from .facts import (
    Answers,
    CollectiveFacts,
    Discipline,
    LeaderFacts,
    MemberFacts,
    OrganizationFacts,
    Schedule,
    TaskStats,
    TransferFact,
    leader_facts,
    member_facts,
)
from .form_answers import AnswerError, AnswersError, score, task_shares, validate_answers
from .forms import SHARE_NONE, FormPurpose, FormTemplate, ItemKind, Presence, TemplateError
from .parameters import ParameterError, ParameterIssue, Parameters, Switch
from .registry import RULES, available_rulebooks, discover, exclusion_message, get_rulebook, register, unregister
from .rulebook import Rulebook
from .scales import (
    DisciplineForm,
    MemberStatus,
    Occupation,
    OrganizationKind,
    Rating,
    Severity,
    SubjectKind,
    at_most,
    khtnv_two_years_running,
    lowest,
)

discover()

__all__ = [
    "RULES",
    "SHARE_NONE",
    "AnswerError",
    "Answers",
    "AnswersError",
    "CollectiveFacts",
    "Discipline",
    "DisciplineForm",
    "Evaluation",
    "Exclusion",
    "Finding",
    "FormPurpose",
    "FormTemplate",
    "ItemKind",
    "LeaderFacts",
    "MemberFacts",
    "MemberStatus",
    "Occupation",
    "OrganizationFacts",
    "OrganizationKind",
    "ParameterError",
    "ParameterIssue",
    "Parameters",
    "Presence",
    "QuotaResult",
    "Rating",
    "RuleSpec",
    "Rulebook",
    "Score",
    "Severity",
    "SubjectKind",
    "Switch",
    "Schedule",
    "TaskStats",
    "TemplateError",
    "TransferFact",
    "at_most",
    "available_rulebooks",
    "discover",
    "exclusion_message",
    "get_rulebook",
    "khtnv_two_years_running",
    "leader_facts",
    "member_facts",
    "lowest",
    "register",
    "score",
    "task_shares",
    "unregister",
    "validate_answers",
]
