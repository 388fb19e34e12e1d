"""replay: an embedded, deterministic replay engine for durable async workflows.

Import the modules you need, as with the familiar SDK: ``from replay import
workflow, activity``; ``from replay.client import Client``;
``from replay.worker import Worker, Replayer``.
"""

from . import activity as activity
from . import common as common
from . import exceptions as exceptions
from . import workflow as workflow

__all__ = ["activity", "common", "exceptions", "workflow"]
