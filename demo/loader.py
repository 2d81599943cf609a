"""The loader: writes a planned demo city to the database (tree, members, records, accounts), or deletes it.

`DemoLoader` plans the city (demo.plan), writes the clusters and the tree with bulk inserts, then
hands over to demo.people for the members, demo.records for their year records and demo.accounts
for one account per role. The review periods come after, from demo.reviews.
"""

import random

from django.contrib.auth import get_user_model
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone

from members.models import Member
from organizations.models import Cluster, Organization
from organizations.vietnamese import title_sort_key

from .accounts import DEMO_USERNAMES, create_accounts
from .catalogue import CITY_CODE
from .people import NameGenerator, Population
from .plan import DEFAULT_MEMBERS, DEFAULT_SEED, plan_city
from .records import create_records


class DemoConflict(Exception):
    """Rows the demo would create already exist (organisation or cluster codes, usernames)."""

    def __init__(self, codes, usernames):
        super().__init__(codes, usernames)
        self.codes = codes
        self.usernames = usernames


class DemoInUse(Exception):
    """Other data (reviews, for instance) still refers to the organisations or members to delete."""


def demo_loaded():
    return Organization.objects.filter(code=CITY_CODE).exists()


def delete_demo():
    """Delete every organisation, cluster, member (with their records) and role, and the demo accounts."""
    try:
        Member.objects.all().delete()
        Organization.objects.all().delete()  # treebeard's delete keeps the tree consistent
    except (ProtectedError, RestrictedError) as exc:
        raise DemoInUse(str(exc)) from exc
    Cluster.objects.all().delete()
    get_user_model().objects.filter(username__in=DEMO_USERNAMES).delete()


class DemoLoader:
    """Writes one demo city; call `load()` inside a transaction."""

    def __init__(self, total=DEFAULT_MEMBERS, seed=DEFAULT_SEED, today=None):
        self.total = total
        self.rng = random.Random(seed)
        # Contact details draw from their own sequence: adding them changed nothing else of the demo.
        self.contact_rng = random.Random(seed + 1)
        self.today = today or timezone.localdate()
        self.names = NameGenerator(self.rng)
        self.counts = {}

    def load(self):
        """Create everything; returns the counts of what was created."""
        self.plan = plan_city(self.total, self.rng, self.today)
        self._check_free()
        self._create_clusters()
        self._create_organizations()
        population = Population(
            plan=self.plan,
            orgs=self.orgs,
            total=self.total,
            rng=self.rng,
            contact_rng=self.contact_rng,
            names=self.names,
            today=self.today,
        )
        self.counts["members"] = population.create()
        self.counts["records"] = create_records(population)
        self.counts["accounts"] = create_accounts(population)
        return self.counts

    def _check_free(self):
        codes = [org.code for org in self.plan.root.walk()]
        taken = list(Organization.objects.filter(code__in=codes).values_list("code", flat=True)[:5])
        taken += Cluster.objects.filter(code__in=list(self.plan.clusters)).values_list("code", flat=True)[:5]
        users = list(get_user_model().objects.filter(username__in=DEMO_USERNAMES).values_list("username", flat=True))
        if taken or users:
            raise DemoConflict(codes=taken, usernames=sorted(users))

    # The tree.

    def _create_clusters(self):
        created = Cluster.objects.bulk_create(
            Cluster(code=code, name=name) for code, name in self.plan.clusters.items()
        )
        self.clusters = {cluster.code: cluster for cluster in created}
        self.counts["clusters"] = len(created)

    def _new_org(self, plan):
        org = Organization(
            name=plan.name,
            code=plan.code,
            kind=plan.kind,
            sector=plan.sector,
            founded_on=plan.founded_on,
            cluster=self.clusters.get(plan.cluster),
            numchild=len(plan.children),
        )
        org.fill_derived()  # save() computes the search and sort keys; bulk_create does not call save()
        return org

    def _create_organizations(self):
        """The root through treebeard (other roots may exist), the rest with computed paths.

        Hundreds to thousands of add_child() calls would each lock, count and shift siblings; the
        paths are simple to compute instead: treebeard's own scheme (_get_path: steplen 4 in its
        alphabet), siblings numbered in the order of their sort keys because Organization sorts
        siblings by them (node_order_by), so that a later add_child() lands where treebeard expects.
        The keys are ASCII digits, which every database collation orders as Python does.
        """
        root_plan = self.plan.root
        city = Organization.objects.add_root(instance=self._new_org(root_plan))
        self.orgs = {root_plan.code: city}
        pending = []

        def place(parent_plan, parent_path, depth):
            for step, child in enumerate(sorted(parent_plan.children, key=lambda c: title_sort_key(c.name)), start=1):
                org = self._new_org(child)
                org.depth = depth
                org.path = Organization._get_path(parent_path, depth, step)
                pending.append(org)
                self.orgs[child.code] = org
                place(child, org.path, depth + 1)

        place(root_plan, city.path, city.depth + 1)
        Organization.objects.bulk_create(pending, batch_size=500)
        self.counts["organizations"] = len(pending) + 1
