"""The API for activities (names follow the familiar SDK's ``activity`` module)."""

from ._core._activity_defn import ActivityDefinition as ActivityDefinition
from ._core._activity_defn import defn as defn
from ._core._public import publish as _publish
from ._worker._activity_ctx import ActivityInfo as ActivityInfo
from ._worker._activity_ctx import NotInActivityError as NotInActivityError
from ._worker._activity_ctx import heartbeat as heartbeat
from ._worker._activity_ctx import info as info
from ._worker._activity_ctx import is_cancelled as is_cancelled
from ._worker._activity_ctx import is_worker_shutdown as is_worker_shutdown
from ._worker._activity_ctx import logger as logger
from ._worker._activity_ctx import payload_converter as payload_converter
from ._worker._async_completion import raise_complete_async as raise_complete_async

__all__ = [
    "ActivityDefinition",
    "ActivityInfo",
    "NotInActivityError",
    "defn",
    "heartbeat",
    "info",
    "is_cancelled",
    "is_worker_shutdown",
    "logger",
    "payload_converter",
    "raise_complete_async",
]

_publish(__name__, globals(), private="replay._")
