"""The cell's meeting and its ballot: the minutes (biên bản kiểm phiếu), the proposal they give for each
member, and the online secret ballot (bỏ phiếu kín) that can fill them.

models     Meeting, BallotCount, Ballot, VoterMark, BallotTally
sheet      reading a meeting: the roster, each member's line, the proposal, the turnout and quorum; the
           task shares the cell recorded (`meeting_task_shares`)
forms      the minutes and each member's line of the count, as typed: checked and converted
minutes    recording the minutes and the proposals they give
ballot     the online secret ballot: open, vote, close, stop
documents  the minutes as .docx
views      the meeting's pages (minutes, print, .docx)
ballot_views  the online ballot's pages (open, close, the ballot paper)

Two choices, documented here because the regulations leave them to practice:

* **Blank ballots.** A ballot on which no level is ticked for a member is *invalid for that member*.
  So the four per-level counts add up exactly to the valid ballots, and the check is an equality.
* **The proposal.** A level is proposed when more than half (`sheet.PROPOSAL_THRESHOLD`) of the valid
  ballots are for that level or a better one; the best such level is taken. The rulebook then caps it.
"""

from .ballot import (  # noqa: E402 - the stage's public services, after its description
    ballot_close,
    ballot_discard,
    ballot_open,
    ballot_subjects,
    ballot_vote,
    eligible_voters,
    voter_for,
)
from .forms import BallotCountForm, BallotCountFormSet, MinutesForm, minutes_forms  # noqa: E402
from .minutes import meeting_record  # noqa: E402
from .sheet import (  # noqa: E402
    COUNT_FIELDS,
    LEVEL_NAMES,
    SHARE_FIELDS,
    MeetingError,
    Turnout,
    meeting_sheet,
    meeting_task_shares,
    proposal_from_counts,
    quorum_needed,
)

__all__ = [
    "COUNT_FIELDS",
    "LEVEL_NAMES",
    "SHARE_FIELDS",
    "BallotCountForm",
    "BallotCountFormSet",
    "MeetingError",
    "MinutesForm",
    "Turnout",
    "ballot_close",
    "ballot_discard",
    "ballot_open",
    "ballot_subjects",
    "ballot_vote",
    "eligible_voters",
    "meeting_record",
    "meeting_sheet",
    "meeting_task_shares",
    "minutes_forms",
    "proposal_from_counts",
    "quorum_needed",
    "voter_for",
]
