"""The online secret ballot's pages: opened and closed (or stopped) by those who lead the cell, and
the ballot paper on which each member present votes."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from vocabulary import Level

from ..core.errors import WorkflowError
from ..core.text import lang
from . import ballot as ballots
from . import sheet as reading
from .forms import (
    BallotCloseForm,
    BallotPaperForm,
)
from .models import Ballot, VoterMark
from .views import _cell_for_manager


@require_POST
@login_required
def ballot_open(request, period_id, code):
    period, organization = _cell_for_manager(request.user, period_id, code)
    try:
        ballot = ballots.ballot_open(period=period, organization=organization, user=request.user)
    except WorkflowError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _(
                "The online secret ballot is open for %(count)d members. Ask them to sign in and vote. "
                "It can be closed and counted once at least %(needed)d of the %(official)d official members "
                "have voted (section 3 below shows how many have)."
            )
            % {
                "count": ballot.eligible_voters.count(),
                "needed": ballot.quorum_needed,
                "official": ballot.official_members,
            },
        )
    return redirect("assessments:meeting", period_id=period.public_id, code=organization.code)


@require_POST
@login_required
def ballot_close(request, period_id, code):
    """End the online ballot: count it (once the quorum is reached), or, with `discard` in the form,
    stop it without counting so that the cell counts paper ballots instead."""
    period, organization = _cell_for_manager(request.user, period_id, code)
    ballot = get_object_or_404(
        Ballot.objects.select_related("meeting__period", "meeting__organization"),
        meeting__period=period,
        meeting__organization=organization,
    )
    form = BallotCloseForm(request.POST)
    discard = form.is_valid() and form.cleaned_data["discard"]
    try:
        if discard:
            ballots.ballot_discard(ballot=ballot, user=request.user)
        else:
            recorded = ballots.ballot_close(ballot=ballot, user=request.user)
    except WorkflowError as error:
        messages.error(request, error.message)
    else:
        if discard:
            messages.success(
                request,
                _(
                    "The online ballot has been stopped without counting: the votes cast were discarded "
                    "unread. Count the paper ballots and type the numbers in section 2."
                ),
            )
        else:
            messages.success(
                request,
                _("The ballot is closed and its count is in the minutes. Proposals recorded on %(count)d forms.")
                % {"count": recorded.proposed},
            )
    return redirect("assessments:meeting", period_id=period.public_id, code=organization.code)


@require_GET
@login_required
def my_ballots(request):
    """The online ballots the signed-in member may vote in, and whether they have voted."""
    ballots = list(
        Ballot.objects.filter(eligible_voters__user=request.user, state=Ballot.State.OPEN)
        .select_related("meeting__organization", "meeting__period")
        .order_by("-opened_at")
    )
    voted = set(
        VoterMark.objects.filter(ballot__in=ballots, voter__user=request.user).values_list("ballot_id", flat=True)
    )
    rows = [(ballot, ballot.pk in voted) for ballot in ballots]
    return render(request, "assessments/meeting/my_ballots.html", {"rows": rows})


@login_required
def ballot_vote(request, public_id):
    """The ballot paper: one level for every member of the cell, all in one submission. Only the voters
    on the ballot's list see it; nothing of a vote is shown back, not even to the voter."""
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    ballot = get_object_or_404(
        Ballot.objects.select_related("meeting__period", "meeting__organization"), public_id=public_id
    )
    voter = ballots.voter_for(request.user, ballot)
    if voter is None:
        raise Http404
    language = lang()
    levels = [(level.value, level.label(language)) for level in Level.best_first()]
    if ballot.state == Ballot.State.OPEN:
        has_voted = VoterMark.objects.filter(ballot=ballot, voter=voter).exists()
    else:
        has_voted = ballot.recorded_voters.filter(pk=voter.pk).exists()
    open_paper = ballot.state == Ballot.State.OPEN and not has_voted
    subjects = ballots.ballot_subjects(ballot) if open_paper else []
    status = 200
    if request.method == "POST":
        paper = BallotPaperForm(request.POST, subjects=subjects, levels=levels)
        # A closed ballot, or one already voted in, is refused by the service whatever was posted.
        if not open_paper or paper.is_valid():
            try:
                ballots.ballot_vote(ballot=ballot, user=request.user, choices=paper.choices() if open_paper else {})
            except reading.MeetingError as error:
                messages.error(request, error.message)
                for public_id, field_messages in error.field_errors.items():
                    for message in field_messages:
                        paper.add_error(f"vote-{public_id}", message)
                status = 400
            except WorkflowError as error:
                messages.error(request, error.message)
                status = 400
            else:
                messages.success(request, _("Your ballot has been recorded. Thank you."))
                return redirect("assessments:ballot_vote", public_id=ballot.public_id)
        else:
            for message in paper.non_field_errors():
                messages.error(request, message)
            if any(name != NON_FIELD_ERRORS for name in paper.errors):
                messages.error(
                    request, _("Please choose a level for every member; your ballot has not been recorded yet.")
                )
            status = 400
    else:
        paper = BallotPaperForm(subjects=subjects, levels=levels)
    context = {
        "ballot": ballot,
        "meeting": ballot.meeting,
        "has_voted": has_voted,
        "paper": paper if open_paper else None,
        "subjects": paper.rows() if open_paper else [],
        "levels": levels,
    }
    # The choices of a refused ballot are put back only into this response, never stored.
    return render(request, "assessments/meeting/ballot.html", context, status=status)
