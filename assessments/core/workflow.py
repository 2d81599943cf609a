"""The workflow table: which actor may take which action on an assessment in which state.

One table, read by the services (which enforce it) and by the screens (which show only the buttons
that would work). Views and the admin never test states themselves.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .models import Assessment

S = Assessment.State


class Actor:
    """How a user stands to an assessment."""

    SELF = "self"  # the member under review
    MANAGER = "manager"  # manages the subject's organisation: its secretary, a committee officer, the board
    BOARD = "board"
    EVALUATOR = "evaluator"  # assigned by the board to evaluate the organisation (multi-dimensional evaluation)
    DECIDER = "decider"  # manages the grassroots organisation that decides the subject's level


@dataclass(frozen=True)
class Action:
    name: str
    label: object
    sources: tuple
    target: str | None  # None: the state does not change
    actors: tuple
    needs_reason: bool = False
    needs_open_period: bool = True


ACTIONS = {
    action.name: action
    for action in [
        Action(
            "decide",
            _("Decide the level"),
            # The grassroots level decides every classified member, whether or not the form came in.
            sources=(S.NOT_STARTED, S.DRAFT, S.SUBMITTED, S.RETURNED, S.CELL_REVIEWED, S.DECIDED),
            target=S.DECIDED,
            actors=(Actor.DECIDER,),
            needs_open_period=False,
        ),
        Action(
            "save",
            _("Save draft"),
            sources=(S.NOT_STARTED, S.DRAFT, S.RETURNED),
            target=S.DRAFT,
            actors=(Actor.SELF, Actor.MANAGER),
        ),
        Action(
            "submit",
            _("Submit"),
            sources=(S.NOT_STARTED, S.DRAFT, S.RETURNED),
            target=S.SUBMITTED,
            actors=(Actor.SELF, Actor.MANAGER),
        ),
        Action(
            "return",
            _("Return for revision"),
            sources=(S.SUBMITTED,),
            target=S.RETURNED,
            actors=(Actor.MANAGER,),
            needs_reason=True,
        ),
        Action(
            "record_proposal",
            _("Record the cell's proposal"),
            # From the meeting's ballot count; recorded again when the minutes are corrected.
            sources=(S.SUBMITTED, S.CELL_REVIEWED),
            target=S.CELL_REVIEWED,
            actors=(Actor.MANAGER,),
            needs_open_period=False,
        ),
    ]
}


def allowed_actions(state, actors):
    """The names of the actions that `actors` (a set of Actor values) may take in `state`."""
    return [name for name, action in ACTIONS.items() if state in action.sources and set(action.actors) & set(actors)]


def transition_allowed(action_name, state, actors):
    action = ACTIONS.get(action_name)
    return action is not None and state in action.sources and bool(set(action.actors) & set(actors))
