"""The API for activities (names follow the familiar SDK's ``activity`` module)."""

from ._activity_ctx import ActivityInfo as ActivityInfo
from ._activity_ctx import NotInActivityError as NotInActivityError
from ._activity_ctx import heartbeat as heartbeat
from ._activity_ctx import info as info
from ._activity_ctx import is_cancelled as is_cancelled
from ._activity_ctx import logger as logger
from ._activity_ctx import payload_converter as payload_converter
from ._activity_defn import ActivityDefinition as ActivityDefinition
from ._activity_defn import defn as defn

__all__ = [
    "ActivityDefinition",
    "ActivityInfo",
    "NotInActivityError",
    "defn",
    "heartbeat",
    "info",
    "is_cancelled",
    "logger",
    "payload_converter",
]
