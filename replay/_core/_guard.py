"""How an instance switches the determinism guard on around workflow code."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ._instance import WorkflowInstance


class GuardHooks(Protocol):
    """Entered around every stretch of workflow code an instance runs."""

    def enter(self, instance: WorkflowInstance) -> Any: ...
    def exit(self, token: Any) -> None: ...
