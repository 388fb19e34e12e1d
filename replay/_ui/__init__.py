"""``replay ui``: a local web app over a store's runs, histories and the debugger.

Needs the ``ui`` extra (Starlette, uvicorn, Jinja2). See docs/ui.md.
"""

from __future__ import annotations

from ._app import create_app
from ._security import Guard, UiBindingError, check_binding
from ._serve import serve

__all__ = ["Guard", "UiBindingError", "check_binding", "create_app", "serve"]
