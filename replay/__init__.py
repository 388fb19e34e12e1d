"""replay: an embedded, deterministic replay engine for durable async workflows.

Import the modules you need, as with the familiar SDK: ``from replay import
workflow, activity``; ``from replay.client import Client``;
``from replay.worker import Worker, Replayer``.

(PYTEST_DONT_REWRITE: replay's modules are not pytest plugin code; see
``replay._assert_rewriting``.)
"""

from ._assert_rewriting import withdraw_rewrite_marks

withdraw_rewrite_marks()  # before the first engine module is imported

from . import activity as activity  # noqa: E402
from . import common as common  # noqa: E402
from . import exceptions as exceptions  # noqa: E402
from . import workflow as workflow  # noqa: E402

__all__ = ["activity", "common", "exceptions", "workflow"]
