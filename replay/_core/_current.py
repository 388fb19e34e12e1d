"""How the ``workflow.*`` API finds its run: the instance running workflow code here.

An instance makes itself current (a context variable) for every stretch of
workflow code it runs, so the API needs no argument to find it.
"""

from __future__ import annotations

from replay.history import ReplayError

from ._instance import WorkflowInstance, current_instance


class NotInWorkflowError(ReplayError):
    """A ``workflow.*`` function was called outside workflow code."""

    code = "RPL-W01"

    def __init__(self, name: str) -> None:
        super().__init__(
            f"workflow.{name}() can only be called from workflow code (a "
            "@workflow.defn class's run method, handlers or what they call), while a worker "
            "or replayer runs it."
        )
        self.name = name


def instance_for(name: str) -> WorkflowInstance:
    """The run whose workflow code calls ``workflow.<name>()``; NotInWorkflowError outside
    workflow code."""
    inst = current_instance()
    if inst is None:
        raise NotInWorkflowError(name)
    return inst
