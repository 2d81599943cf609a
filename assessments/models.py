"""Every model of the app, from the stage that owns it (Django finds an app's models here)."""

from .core.models import Assessment, AuditEntry, MemberLevelCount, Period, label_for_action
from .decisions.models import DecisionConflict, OrganizationReview, Recheck
from .meetings.models import Ballot, BallotCount, BallotTally, Meeting, VoterMark
from .reviews.models import Analysis

__all__ = [
    "Analysis",
    "Assessment",
    "AuditEntry",
    "Ballot",
    "BallotCount",
    "BallotTally",
    "DecisionConflict",
    "Meeting",
    "MemberLevelCount",
    "OrganizationReview",
    "Period",
    "Recheck",
    "VoterMark",
    "label_for_action",
]
