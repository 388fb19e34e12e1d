"""Running workflows: the Replayer (and, with the durable worker, the Worker)."""

from ._core._public import publish as _publish
from ._replay._replayer import Replayer as Replayer
from ._replay._replayer import WorkflowReplayResult as WorkflowReplayResult
from ._replay._replayer import WorkflowReplayResults as WorkflowReplayResults
from ._worker._worker import Worker as Worker

__all__ = ["Replayer", "Worker", "WorkflowReplayResult", "WorkflowReplayResults"]

_publish(__name__, globals(), private="replay._")
