"""Deciding levels: the grassroots committee decides its members and its cells, the board ranks the
grassroots organisations, each under the quota; then the period is finalised, published, and a subject
reopened when a decision must be taken again.

models     OrganizationReview (the ranking in the admin)
selectors  the rows of a decision screen, the counts of a group, the quota box
services   recording levels, the quota's exceptions
conflicts  who stands aside from deciding a subject (their own level, what they lead, a recorded conflict)
closing    what stands in the way of finalising; finalising, publishing, reopening a subject; after
           finalising, confirming again (or lowering) a decision put back "to confirm"
links      the order of the decisions and the re-checks of what rests on a level that changed
ranking    the rows and the service of the decisions on organisations
forms      a row's level and reason (one, or a page of them), the filters, the quota's exception (the
           competent level's decision),
           the bulk acceptance, the board's reason for reopening
views      the decision screens
"""

from .closing import (  # noqa: E402 - the end of the year
    decision_confirm_again,
    decisions_to_confirm,
    finalise_blockers,
    period_finalise,
    period_publish,
    quota_breaches,
)
from .selectors import (  # noqa: E402 - the stage's public reads, after its description
    QuotaBox,
    Row,
    Tally,
    build_rows,
    decision_rows,
    member_assessments,
    quota_box,
    quota_preview,
    suggestion,
    tallies_by_organization,
    total_of,
    total_tally,
)
from .services import (  # noqa: E402 - the stage's public writes
    DecisionError,
    ExceptionDecision,
    check_decider,
    decisions_record,
    exception_record,
    record_levels,
)

__all__ = [
    "DecisionError",
    "ExceptionDecision",
    "QuotaBox",
    "Row",
    "Tally",
    "build_rows",
    "check_decider",
    "decision_confirm_again",
    "decision_rows",
    "decisions_to_confirm",
    "decisions_record",
    "exception_record",
    "finalise_blockers",
    "member_assessments",
    "period_finalise",
    "period_publish",
    "quota_box",
    "quota_breaches",
    "quota_preview",
    "record_levels",
    "suggestion",
    "tallies_by_organization",
    "total_of",
    "total_tally",
]
