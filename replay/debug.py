"""The replay debugger: step a saved history through workflow code.

``Debugger(history, workflows=[...])`` moves a cursor through the history
event by event (``step``), activation by activation (``next``), to an event
(``until``, also an earlier one), back (``back``, ``restart``) or to the next
breakpoint (``continue_``), and shows the workflow there: ``state()``,
``query()``, ``pending()``, ``where()`` / ``stacks()``, ``source()``.
Breakpoints are checked when set (``BreakpointError``). ``replay debug`` is
the same stepper on the command line.
"""

from ._replay._breakpoints import Breakpoint as Breakpoint
from ._replay._breakpoints import BreakpointError as BreakpointError
from ._replay._breakpoints import CommandLines as CommandLines
from ._replay._debugger import Debugger as Debugger
from ._replay._debugger import Stop as Stop
from ._replay._stacks import StackFrame as StackFrame
from ._replay._stacks import TaskStack as TaskStack
from ._replay._stepping import Divergence as Divergence

__all__ = [
    "Breakpoint",
    "BreakpointError",
    "CommandLines",
    "Debugger",
    "Divergence",
    "StackFrame",
    "Stop",
    "TaskStack",
]

for _cls in (Breakpoint, BreakpointError, CommandLines, Debugger, Divergence, StackFrame,
             Stop, TaskStack):
    _cls.__module__ = __name__
del _cls
