"""seed_demo tells the story: last year finished and published, this year in progress."""

from django.db.models import Count

from assessments.models import Assessment, AuditEntry, BallotCount, Meeting, Period
from assessments.rulebooks import get_rulebook
from organizations.models import Organization


def test_last_year_is_published_with_levels_within_the_quota(seeded):
    previous, current = Period.objects.order_by("year")
    assert current.year == previous.year + 1
    assert previous.state == Period.State.PUBLISHED and current.state == Period.State.OPEN
    decided = Assessment.objects.filter(period=previous, member__isnull=False, classified=True)
    assert decided.exclude(state=Assessment.State.PUBLISHED).count() == 0
    assert decided.filter(decided_level="").count() == 0
    rulebook = get_rulebook(previous.regime)
    params = rulebook.parameters(previous.parameters, year=previous.year)
    for grassroots in Organization.objects.filter(kind__in=Organization.GRASSROOTS_KINDS):
        counts = dict(
            decided.filter(organization__path__startswith=grassroots.path)
            .values_list("decided_level")
            .annotate(n=Count("pk"))
        )
        assert rulebook.quota(counts, params).within, grassroots.name
    assert AuditEntry.objects.filter(period=previous, action="publish").exists()


def test_this_year_is_in_progress_with_a_meeting_and_decisions(seeded):
    current = Period.objects.get(state=Period.State.OPEN)
    states = set(Assessment.objects.filter(period=current, member__isnull=False).values_list("state", flat=True))
    assert {"not_started", "draft", "submitted", "returned", "decided"} <= states
    meeting = Meeting.objects.get(period=current)
    assert BallotCount.objects.filter(meeting=meeting).exists()
    assert Assessment.objects.filter(period=current).exclude(cell_proposed_level="").exists()
