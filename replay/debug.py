"""The replay debugger: step a saved history through workflow code.

``Debugger(history, workflows=[...])`` moves a cursor through the history
event by event (``step``), activation by activation (``next``), to an event
(``until``) or to the next breakpoint (``continue_``), and shows the workflow
there: ``state()``, ``query()``, ``pending()``, ``where()``, ``source()``.
``replay debug`` is the same stepper on the command line.
"""

from ._replay._debugger import Breakpoint as Breakpoint
from ._replay._debugger import Debugger as Debugger
from ._replay._debugger import Divergence as Divergence
from ._replay._debugger import Stop as Stop

__all__ = ["Breakpoint", "Debugger", "Divergence", "Stop"]

for _cls in (Breakpoint, Debugger, Divergence, Stop):
    _cls.__module__ = __name__
del _cls
