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
    from organizations.roles import grant_role

    return grant_role(user=user, organization=organization, role=role)


def bulk_committee(parent, code, *, cells, members_per_cell, occupation=Member.Occupation.RETIRED):
    """A grassroots committee under `parent` with `cells` cells of `members_per_cell` members each,
    the members written in bulk: a committee of thousands in about a second."""
    committee = OrganizationFactory(
        code=code, name=f"Đảng bộ {code}", kind=Organization.Kind.GRASSROOTS_COMMITTEE, parent=parent
    )
    created = [
        OrganizationFactory(code=f"{code}-c{n:03d}", name=f"Chi bộ số {n}", parent=committee)
        for n in range(1, cells + 1)
    ]
    cell_ids = [cell.pk for cell in Organization.objects.filter(pk__in=[c.pk for c in created]).order_by("path")]
    start = Member.objects.count()
    members = []
    for index, cell_id in enumerate(cell_ids):
        for n in range(members_per_cell):
            number = start + index * members_per_cell + n
            member = Member(
                full_name=f"Trần Văn Số{number}",
                gender=Member.Gender.MALE,
                date_of_birth=datetime.date(1960, 1, 1),
                card_number=f"9{number:08d}",
                admission_date=datetime.date(1990, 1, 1),
                official_date=datetime.date(1991, 1, 1),
                occupation=occupation,
                status=Member.Status.ACTIVE,
                cell_id=cell_id,
            )
            member.fill_derived()
            members.append(member)
    Member.objects.bulk_create(members, batch_size=1000)
    committee.refresh_from_db()
    return committee
