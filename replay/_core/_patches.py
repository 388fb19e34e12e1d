"""``workflow.patched`` decisions of one run.

A patch is taken (new code) unless the run replays a history recorded before
the patch existed: then the activation being replayed holds no marker for it.
Each patch id is decided once per run and the answer kept.
"""

from __future__ import annotations

from collections.abc import Sequence

from replay.history import Event, MarkerRecorded


class Patches:
    """The patch ids one run has decided, and the patch markers of this activation."""

    def __init__(self) -> None:
        self._decided: dict[str, bool] = {}
        self._recorded: frozenset[str] = frozenset()

    def start_activation(self, recorded: Sequence[Event]) -> None:
        """Note the patch markers among the activation's recorded commands (replay)."""
        self._recorded = frozenset(
            e.marker_id for e in recorded if isinstance(e, MarkerRecorded) and e.name == "patch"
        )

    def decided(self, patch_id: str) -> bool | None:
        """The earlier answer for ``patch_id``; None if it is asked for the first time."""
        return self._decided.get(patch_id)

    def decide(self, patch_id: str, *, deprecated: bool, replaying: bool) -> bool:
        """Decide and keep ``patch_id``: True for the new code (a marker is then issued)."""
        use_new = deprecated or not replaying or patch_id in self._recorded
        self._decided[patch_id] = use_new
        return use_new
