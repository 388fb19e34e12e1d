"""sandbox: the determinism guard for workflow code, at run time and statically.

The runtime guard (:func:`install`, :class:`guarded`, :func:`guard_module`)
makes restricted calls made by workflow code fail loudly while it runs; the
lint (:func:`lint_paths`, :func:`lint_main`) reports the same mistakes from
source before anything runs. Both read one table, :data:`RULES`.
"""

from ._context import GuardContext as GuardContext
from ._context import Mode as Mode
from ._context import RestrictedCallError as RestrictedCallError
from ._context import Violation as Violation
from ._context import current as current
from ._context import guarded as guarded
from ._context import unrestricted as unrestricted
from ._datetime import guard_module as guard_module
from ._guard import install as install
from ._lint import Finding as Finding
from ._lint import lint_paths as lint_paths
from ._lint_cli import format_json as format_json
from ._lint_cli import format_text as format_text
from ._lint_cli import lint_main as lint_main
from ._rules import RULES as RULES
from ._rules import Rule as Rule

__all__ = [
    "Finding",
    "GuardContext",
    "Mode",
    "RULES",
    "RestrictedCallError",
    "Rule",
    "Violation",
    "current",
    "format_json",
    "format_text",
    "guard_module",
    "guarded",
    "install",
    "lint_main",
    "lint_paths",
    "unrestricted",
]
