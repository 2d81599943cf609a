"""The decision screens' differences in one place: the subjects, who may decide, the rows, the
template and the address (members of a grassroots organisation; organisations, on the ranking screen,
and their leadership collectives in its second tab)."""

from functools import cached_property
from urllib.parse import urlencode

from django.urls import reverse

from . import ranking, selectors, services
from .conflicts import Conflicts

ROWS_PER_PAGE = 100


class Screen:
    """What differs between the two screens: the subjects, who may decide, the rows, the template."""

    subject_kind = "member"
    template = "assessments/decide.html"
    url_name = "assessments:decide"
    per_page = ROWS_PER_PAGE

    def __init__(self, request, period, group):
        self.request, self.period, self.group = request, period, group
        self.base = selectors.member_assessments(period, group)

    def check(self, user):
        services.check_decider(user, self.group)

    @cached_property
    def conflicts(self):
        """The subjects the user stands aside from (their own level...): read once, when rows are shown."""
        return Conflicts(self.request.user, self.subject_kind)

    def rows(self, queryset, shown=True):
        rows, _rulebook, _params = selectors.decision_rows(self.period, self.group, queryset, shown=shown)
        return rows

    def record(self, choices, exception, rows=None, undecided_only=False):
        return services.decisions_record(
            period=self.period,
            organization=self.group,
            user=self.request.user,
            choices=choices,
            exception=exception,
            rows=rows,
            conflicts=self.conflicts,
            undecided_only=undecided_only,
        )

    def url(self, **params):
        address = reverse(self.url_name, args=[self.period.public_id, self.group.code])
        params = {key: value for key, value in params.items() if value}
        return f"{address}?{urlencode(params)}" if params else address


class RankingScreen(Screen):
    subject_kind = "organization"
    template = "assessments/ranking.html"
    url_name = "assessments:rank"
    per_page = 50

    def __init__(self, request, period, group):
        self.request, self.period, self.group = request, period, group
        self.base = ranking.organization_assessments(period, group)

    def check(self, user):
        ranking.check_ranker(user, self.group)

    def rows(self, queryset, shown=True):
        rows, _rulebook, _params = ranking.ranking_rows(self.period, self.group, queryset)
        return rows

    def record(self, choices, exception, rows=None, undecided_only=False):
        return ranking.ranking_record(
            period=self.period,
            parent=self.group,
            user=self.request.user,
            choices=choices,
            exception=exception,
            rows=rows,
            subject_kind=self.subject_kind,
            conflicts=self.conflicts,
            undecided_only=undecided_only,
        )


class CollectiveScreen(RankingScreen):
    """The leadership collectives of the organisations on the ranking screen: same deciders, own tab."""

    subject_kind = "collective"
    url_name = "assessments:rank_collectives"

    def __init__(self, request, period, group):
        self.request, self.period, self.group = request, period, group
        self.base = ranking.collective_assessments(period, group)

    def rows(self, queryset, shown=True):
        rows, _rulebook, _params = ranking.collective_rows(self.period, self.group, queryset)
        return rows
