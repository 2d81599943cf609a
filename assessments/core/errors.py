"""The errors a step refuses with: the message is meant for the user.

`WorkflowError` is the policy's `Refused`: one error for every refused step, whether the policy
(who may) or a transition table (in which state) refused it, so that every screen catches one thing."""

from organizations.policy import Refused

WorkflowError = Refused


class ConflictError(WorkflowError):
    """The form was changed elsewhere since this copy was loaded."""
