"""Factories for test data; the personas in conftest.py are built from these."""

import datetime

import factory
from django.contrib.auth import get_user_model

from members.models import Member
from organizations.models import Cluster, Organization

User = get_user_model()


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("correct horse 42")
    is_active = True


class ClusterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cluster

    code = factory.Sequence(lambda n: f"cluster-{n}")
    name = factory.Sequence(lambda n: f"Cụm {n}")


class OrganizationFactory(factory.django.DjangoModelFactory):
    """An organisation; pass parent=<Organization> to place it in the tree, else it is a root."""

    class Meta:
        model = Organization

    code = factory.Sequence(lambda n: f"org-{n}")
    name = factory.Sequence(lambda n: f"Chi bộ {n}")
    kind = Organization.Kind.SUBORDINATE_CELL
    sector = Organization.Sector.WARD
    founded_on = datetime.date(2000, 1, 1)

    @classmethod
    def _create(cls, model_class, *args, parent=None, **kwargs):
        instance = model_class(**kwargs)
        if parent is None:
            return Organization.objects.add_root(instance=instance)
        node = Organization.objects.add_child(parent, instance=instance)
        parent.refresh_from_db()
        return node


def tree_in_bulk(root, children):
    """A small tree written in one query, with the paths treebeard's add_child would give it (siblings
    in sort_key order): `root` is an unsaved Organization, `children` a list of (unsaved node, its own
    children) pairs. Returns the saved nodes by code. For fixtures that every test
    builds: the add_child of each node costs a dozen queries."""
    nodes = []

    def place(node, kids, path, depth):
        node.fill_derived()
        node.path, node.depth, node.numchild = path, depth, len(kids)
        nodes.append(node)
        for kid, _grandchildren in kids:
            kid.fill_derived()
        for step, (kid, grandchildren) in enumerate(sorted(kids, key=lambda pair: pair[0].sort_key), start=1):
            place(kid, grandchildren, Organization._get_path(path, depth + 1, step), depth + 1)

    last_root = Organization.objects.get_last_root_node()
    step = Organization._str2int(last_root.path[: Organization.steplen]) + 1 if last_root else 1
    place(root, children, Organization._get_path(None, 1, step), 1)
    Organization.objects.bulk_create(nodes)
    return {node.code: node for node in Organization.objects.filter(code__in=[n.code for n in nodes])}


def organization(code, name, kind=Organization.Kind.SUBORDINATE_CELL):
    """An unsaved organisation with the factory's defaults, for `tree_in_bulk`."""
    return Organization(
        code=code, name=name, kind=kind, sector=Organization.Sector.WARD, founded_on=datetime.date(2000, 1, 1)
    )


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    full_name = factory.Sequence(lambda n: f"Nguyễn Văn Thử{n}")
    gender = Member.Gender.MALE
    date_of_birth = datetime.date(1970, 5, 1)
    card_number = factory.Sequence(lambda n: f"{10000000 + n}")
    admission_date = datetime.date(1995, 5, 19)
    official_date = datetime.date(1996, 5, 19)
    occupation = Member.Occupation.CIVIL_SERVANT
    status = Member.Status.ACTIVE
    cell = None


def grant(user, role, organization):
    """The role, through the same service as the application (its group and staff status come too)."""
    from organizations.policy import SYSTEM
    from organizations.roles import grant_role

    return grant_role(user=user, organization=organization, role=role, actor=SYSTEM)


def bulk_committee(parent, code, *, cells, members_per_cell, occupation=Member.Occupation.RETIRED):
    """A grassroots committee under `parent` with `cells` cells of `members_per_cell` members each,
    written in bulk (demo.committee.bulk_committee): a committee of thousands in about a second."""
    from demo.committee import bulk_committee as build

    return build(parent, code, members=cells * members_per_cell, cell_size=members_per_cell, occupation=occupation)
