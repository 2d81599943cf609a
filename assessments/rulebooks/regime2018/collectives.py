"""The 2018 checks of a leadership collective and of a party organisation (chi bộ, đảng bộ)."""

from __future__ import annotations

from collections.abc import Iterator

from vocabulary import Level

from ..arithmetic import counts_of
from ..catalogue import Share, Text
from ..evaluation import Finding
from ..facts import CollectiveFacts, OrganizationFacts
from ..rulebook import Context
from ..scales import DisciplineForm, OrganizationKind, Rating
from .criteria import PARTY_BUILDING, RESULTS, checked_ratings, countable_disciplines, labels_text, share_of
from .parameters import Parameters2018


class CollectiveChecks:
    """The leadership collective and party organisation checks of Regime2018."""

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
        ratings = checked_ratings(ctx.template, ctx.answers.ratings)
        items = ctx.template.rating_items()
        results = ctx.template.rating_items(RESULTS)
        others = [item for item in items if item not in results]

        def below(item, rating):
            return ratings.get(item.id) is None or ratings[item.id] < rating

        short_xs = [i for i in results if ratings.get(i.id) != Rating.XUAT_SAC] + [
            i for i in others if below(i, Rating.TOT)
        ]
        if short_xs:
            yield ctx.finding("R2018-O-XS-CRITERIA", cap=Level.HTTNV, criteria=labels_text(short_xs))
        short_tt = [i for i in results if below(i, Rating.TOT)] + [i for i in others if below(i, Rating.TRUNG_BINH)]
        if short_tt:
            yield ctx.finding("R2018-O-TT-CRITERIA", cap=Level.HTNV, criteria=labels_text(short_tt))
        poor = [i for i in items if ratings.get(i.id) == Rating.KEM]
        if poor:
            yield ctx.finding("R2018-O-HTNV", cap=Level.KHTNV, criteria=labels_text(poor))
        poor_building = [i for i in ctx.template.rating_items(PARTY_BUILDING) if ratings.get(i.id) == Rating.KEM]
        if poor_building:
            yield ctx.finding(
                "R2018-O-TASKS50", cap=Level.KHTNV, variant="party_building", criteria=labels_text(poor_building)
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
        htnv_plus = share_of(total - counts[Level.KHTNV], total)
        httnv_plus = share_of(counts[Level.HTXSNV] + counts[Level.HTTNV], total)
        khtnv = share_of(counts[Level.KHTNV], total)
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
