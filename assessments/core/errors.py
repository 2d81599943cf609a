"""The errors a workflow step refuses with: the message is meant for the user."""


class WorkflowError(Exception):
    """An action refused by the rules of the workflow; the message is meant for the user."""

    def __init__(self, message, *, errors=None):
        super().__init__(message)
        self.message = message
        self.errors = errors or []


class ConflictError(WorkflowError):
    """The form was changed elsewhere since this copy was loaded."""
