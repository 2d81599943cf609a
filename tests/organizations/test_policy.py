"""The policy table: every action, the role that may take it (firing) and one that may not (quiet)."""

import pytest

from organizations import policy
from organizations.policy import Refused, Relation

pytestmark = pytest.mark.django_db

# (action, organisation, who may, who may not). Written from the brief's roles, not from `RULES`.
CASES = [
    ("review.write", "cell_a1", "secretary_a1", "secretary_b1"),
    ("review.return", "cell_a1", "officer_a", "member"),
    ("review.paper", "cell_a1", "secretary_a1", "evaluator"),
    ("review.remind", "committee_a", "officer_a", "secretary_a1"),
    ("review.analysis", "committee_b", "evaluator", "officer_a"),
    ("review.read", "committee_b", "evaluator", "secretary_a1"),
    ("meeting.record", "cell_a1", "secretary_a1", "secretary_b1"),
    ("ballot.run", "cell_b1", "secretary_b1", "officer_a"),
    ("decision.record", "committee_a", "officer_a", "secretary_a1"),
    ("decision.record", "cell_c", "board", "officer_a"),
    ("ranking.cells", "committee_a", "officer_a", "secretary_a1"),
    ("ranking.grassroots", "city", "board", "officer_a"),
    ("period.manage", "city", "board", "officer_a"),
    ("classification.override", "cell_a1", "board", "secretary_a1"),
    ("recheck.manage", "city", "board", "officer_a"),
    ("decision.confirm_again", "city", "board", "officer_a"),
    ("import.members", "cell_a1", "secretary_a1", "member"),
    ("import.organizations", "city", "board", "officer_a"),
    ("accounts.manage", "cell_a1", "officer_a", "secretary_b1"),
    ("transfer.record", "cell_a1", "board", "officer_a"),
    ("transfer.comment", "cell_a1", "secretary_a1", "secretary_b1"),
    ("roles.manage", "cell_a1", "board", "officer_a"),
    ("report.export", "committee_a", "officer_a", "secretary_a1"),
]


def test_every_action_of_the_table_has_a_case():
    administrators = {"accounts.staff", "accounts.known_password", "import.roots"}
    assert {case[0] for case in CASES} | {"ballot.vote"} | administrators == set(policy.RULES)


@pytest.mark.parametrize(("action", "org", "allowed", "refused"), CASES)
def test_the_role_that_does_the_step_may_and_another_may_not(city, personas, action, org, allowed, refused):
    organization = getattr(city, org)
    assert policy.may(getattr(personas, allowed), action, organization)
    assert not policy.may(getattr(personas, refused), action, organization)
    with pytest.raises(Refused) as error:
        policy.require(getattr(personas, refused), action, organization)
    assert error.value.message == str(policy.RULES[action].refusal)


@pytest.mark.parametrize(
    ("action", "org"),
    [
        ("meeting.record", "committee_a"),  # meetings are held by cells
        ("ballot.run", "city"),
        ("decision.record", "cell_a1"),  # a subordinate cell does not decide levels
        ("ranking.cells", "cell_c"),
        ("ranking.grassroots", "committee_a"),
    ],
)
def test_an_action_on_the_wrong_kind_of_organisation_is_refused_even_to_a_superuser(city, action, org):
    from tests.factories import UserFactory

    admin = UserFactory(is_superuser=True, is_staff=True)
    assert not policy.may(admin, action, getattr(city, org))


def test_a_ballot_paper_is_its_voters_own(city, personas):
    assert policy.may(personas.member, "ballot.vote", city.cell_a1, owner_id=personas.member.pk)
    assert not policy.may(personas.secretary_a1, "ballot.vote", city.cell_a1, owner_id=personas.member.pk)


@pytest.mark.parametrize("action", ["accounts.staff", "accounts.known_password", "import.roots"])
def test_staff_accounts_and_new_roots_are_the_administrators_business(city, personas, action):
    from tests.factories import UserFactory

    assert not policy.may(personas.board, action, None)
    assert policy.may(UserFactory(is_superuser=True, is_staff=True), action, None)


def test_the_menus_ask_whether_an_action_is_open_somewhere(personas):
    assert policy.may_somewhere(personas.board, "import.organizations")
    assert not policy.may_somewhere(personas.secretary_a1, "import.organizations")
    assert policy.may_somewhere(personas.secretary_a1, "import.members")
    assert not policy.may_somewhere(personas.member, "import.members")


def test_relations_name_how_a_user_stands(city, personas):
    assert policy.relations(personas.board, city.cell_a1) == {Relation.MANAGER, Relation.BOARD}
    assert policy.relations(personas.officer_a, city.cell_a1) == {Relation.MANAGER}
    assert policy.relations(personas.evaluator, city.committee_b) == {Relation.EVALUATOR}
    assert policy.relations(personas.evaluator, city.cell_b1) == set()
    assert policy.relations(personas.member, city.cell_a1, owner_id=personas.member.pk) == {Relation.SELF}
    assert policy.relations(personas.anonymous, city.cell_a1) == set()


def test_the_command_line_passes_the_system_actor_and_may_do_everything(city):
    policy.require(policy.SYSTEM, "period.manage", city.city)
    policy.require(policy.SYSTEM, "import.roots", None)
    assert policy.may_somewhere(policy.SYSTEM, "import.organizations")
    assert policy.actor_user(policy.SYSTEM) is None


def test_no_one_may_do_anything(city):
    """A call that names no actor is refused: it is not taken for the command line."""
    with pytest.raises(Refused) as error:
        policy.require(None, "period.manage", city.city)
    assert error.value.message == str(policy.RULES["period.manage"].refusal)
    assert not policy.may(None, "import.members", city.cell_a1)
