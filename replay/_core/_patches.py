"""``workflow.patched`` decisions of one run.

A patch is taken (new code) unless the run replays a history recorded before
the patch existed: then the activation being replayed holds no marker for it.
Each patch id is decided once per run and the answer kept.
"""

from __future__ import annotations

from collections.abc import Sequence

from replay.history import Event, MarkerRecorded

_NONE: frozenset[str] = frozenset()


class Patches:
    """The patch ids one run has decided, and the patch markers of this activation."""

    __slots__ = ("_decided", "_recorded")

    def __init__(self) -> None:
        self._decided: dict[str, bool] | None = None  # most runs decide none
        self._recorded = _NONE

    def start_activation(self, recorded: Sequence[Event]) -> None:
        """Note the patch markers among the activation's recorded commands (replay)."""
        found = [e.marker_id for e in recorded
                 if isinstance(e, MarkerRecorded) and e.name == "patch"]
        self._recorded = frozenset(found) if found else _NONE

    def decided(self, patch_id: str) -> bool | None:
        """The earlier answer for ``patch_id``; None if it is asked for the first time."""
        return None if self._decided is None else self._decided.get(patch_id)

    def decide(self, patch_id: str, *, deprecated: bool, replaying: bool) -> bool:
        """Decide and keep ``patch_id``: True for the new code (a marker is then issued)."""
        use_new = deprecated or not replaying or patch_id in self._recorded
        if self._decided is None:
            self._decided = {}
        self._decided[patch_id] = use_new
        return use_new
