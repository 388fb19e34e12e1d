"""The history rules: which event sequences a run can have.

One validator, used by every path that accepts a history: ``History``
construction (so ``History.load``, ``History.from_json`` and store reads),
``replay import`` (which loads the file before it opens the store) and the
``Replayer`` (which only takes a ``History``). Structural rules (ids, the first
and the last event, references) come first; then the rules about what a
command's results can be, each dispatched from a table on the event's kind.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs

from ._errors import HistoryError
from ._events import (
    ActivityCanceled,
    ActivityCompleted,
    ActivityFailed,
    ActivityTimedOut,
    ChildWorkflowCanceled,
    ChildWorkflowCompleted,
    ChildWorkflowFailed,
    Event,
    ExternalSignalDelivered,
    ExternalSignalFailed,
    TimerCanceled,
    TimerFired,
    UpdateAccepted,
    UpdateCompleted,
    WorkflowStarted,
)
from ._kinds import EVENT_KINDS, REFERENCES, TERMINAL_KINDS
from ._search_values import event_problem

ENDING_KINDS: frozenset[type[Event]] = frozenset({
    ActivityCompleted, ActivityFailed, ActivityTimedOut, ActivityCanceled,
    TimerFired, TimerCanceled,
    ChildWorkflowCompleted, ChildWorkflowFailed, ChildWorkflowCanceled,
    ExternalSignalDelivered, ExternalSignalFailed,
    UpdateCompleted,
})
"""Kinds that end the command they refer to: a command is ended at most once."""

# (kind that ended the command first, kind that tries again) -> (rule, message); the
# message is formatted with command (its event id), first (the ending's event id), kind
# and first_kind (the two kinds' names) and what (the command's kind name).
_AGAIN: dict[tuple[type[Event], type[Event]], tuple[str, str]] = {
    (TimerFired, TimerFired): (
        "timer-fired-twice",
        "TimerFired for the timer started at event {command}, which already fired at event "
        "{first}; a timer fires once"),
    (TimerCanceled, TimerFired): (
        "timer-fired-after-cancel",
        "TimerFired for the timer started at event {command}, which was canceled at event "
        "{first}; a canceled timer never fires"),
    (TimerFired, TimerCanceled): (
        "timer-canceled-after-fire",
        "TimerCanceled for the timer started at event {command}, which already fired at "
        "event {first}; only a pending timer can be canceled"),
    (TimerCanceled, TimerCanceled): (
        "timer-canceled-twice",
        "TimerCanceled for the timer started at event {command}, which was already canceled "
        "at event {first}; a timer is canceled once"),
    (UpdateCompleted, UpdateCompleted): (
        "update-completed-twice",
        "UpdateCompleted for the update accepted at event {command}, which already completed "
        "at event {first}; an update completes once"),
}
_AGAIN_DEFAULT = (
    "duplicate-result",
    "{kind} for the {what} at event {command}, which already has its result {first_kind} "
    "at event {first}; a command has one result")


class _Checker:
    """The state one pass over a history needs: events so far, endings, update ids."""

    def __init__(self, source: str | None) -> None:
        self.source = source
        self.events: list[Event] = []
        self.terminal_id: int | None = None
        self.ended: dict[int, Event] = {}
        self.accepted: dict[str, int] = {}

    def fail(self, message: str, event_id: int, rule: str) -> None:
        raise HistoryError(message, source=self.source, event_id=event_id, rule=rule)

    def structure(self, event: Event) -> None:
        """The rules every history had from the start (same messages as stores use)."""
        index, eid, cls = len(self.events) + 1, event.event_id, type(event)
        if eid != index:
            what = "duplicate" if isinstance(eid, int) and 1 <= eid < index else "gap in"
            self.fail(f"{what} event ids: expected id {index}, found {eid}", eid,
                      "contiguous-ids")
        if (index == 1) != (cls is WorkflowStarted):
            msg = ("the first event must be WorkflowStarted, found " + cls.__name__
                   if index == 1 else "WorkflowStarted may only be the first event")
            self.fail(msg, eid, "first-started")
        if self.terminal_id is not None:
            self.fail(f"{cls.__name__} comes after terminal event {self.terminal_id}; nothing "
                      "may follow the end of a run", eid, "after-terminal")
        if cls in TERMINAL_KINDS:
            self.terminal_id = eid
        problem = event_problem(event)
        if problem is not None:
            self.fail(problem, eid, "search-attributes")
        ref = REFERENCES.get(cls)
        if ref is not None:
            field, targets = ref
            target_id = getattr(event, field)
            target = self.earlier(target_id)
            target_cls = type(target) if target is not None else None
            if target_cls not in targets:
                expected = " or ".join(t.__name__ for t in targets)
                found = f"a {target_cls.__name__}" if target_cls else "no earlier event"
                self.fail(f"{cls.__name__}.{field}={target_id} must name an earlier "
                          f"{expected}, but that id is {found}", eid, "unknown-command")

    def earlier(self, event_id: object) -> Event | None:
        if not isinstance(event_id, int) or not 1 <= event_id <= len(self.events):
            return None
        return self.events[event_id - 1]

    def add(self, event: Event) -> None:
        self.structure(event)
        rule = _RULES.get(type(event))
        if rule is not None:
            rule(self, event)
        self.events.append(event)


def _on_ending(c: _Checker, event: Event) -> None:
    field, _ = REFERENCES[type(event)]
    command_id: int = getattr(event, field)
    first = c.ended.get(command_id)
    if first is None:
        c.ended[command_id] = event
        return
    rule, template = _AGAIN.get((type(first), type(event)), _AGAIN_DEFAULT)
    command = c.events[command_id - 1]
    c.fail(template.format(command=command_id, first=first.event_id, kind=type(event).__name__,
                           first_kind=type(first).__name__, what=type(command).__name__),
           event.event_id, rule)


def _on_update_accepted(c: _Checker, event: UpdateAccepted) -> None:
    earlier = c.accepted.get(event.update_id)
    if earlier is not None:
        c.fail(f"update {event.update_id!r} was already accepted at event {earlier}; an "
               "update is accepted once", event.event_id, "update-accepted-twice")
    c.accepted[event.update_id] = event.event_id


def _on_update_completed(c: _Checker, event: UpdateCompleted) -> None:
    accepted = c.events[event.accepted_event_id - 1]
    assert isinstance(accepted, UpdateAccepted)  # the reference rule ran first
    if event.update_id != accepted.update_id:
        elsewhere = c.accepted.get(event.update_id)
        if elsewhere is None:
            c.fail(f"UpdateCompleted names update {event.update_id!r}, which was never "
                   f"accepted (event {accepted.event_id} accepted {accepted.update_id!r})",
                   event.event_id, "update-unknown-id")
        c.fail(f"UpdateCompleted names update {event.update_id!r}, accepted at event "
               f"{elsewhere}, but its accepted_event_id is {accepted.event_id} (update "
               f"{accepted.update_id!r})", event.event_id, "update-id-mismatch")
    _on_ending(c, event)


_RULES: dict[type[Event], Callable[[_Checker, Any], None]] = {
    **{cls: _on_ending for cls in ENDING_KINDS},
    UpdateAccepted: _on_update_accepted,
    UpdateCompleted: _on_update_completed,
}
"""The result rules by kind (each rule takes events of its own kind)."""

_SEARCHED = frozenset(cls for cls in EVENT_KINDS.values()
                      if "search_attributes" in attrs.fields_dict(cls))
"""Kinds with search attributes, which the ``search-attributes`` rule checks."""

_PLAIN = frozenset(cls for cls in EVENT_KINDS.values()
                   if cls not in REFERENCES and cls not in _RULES and cls not in _SEARCHED
                   and cls is not WorkflowStarted)
"""Kinds only the id, first-event and after-terminal rules apply to."""

_REFERRING = {cls: ref for cls, ref in REFERENCES.items()
              if cls not in _SEARCHED and _RULES.get(cls, _on_ending) is _on_ending}
"""Kinds that refer to a command and whose only other rule, if any, is the ending rule."""


def _check_all(c: _Checker, events: Sequence[Event]) -> None:
    """``c.add`` for each event, with the common cases checked inline: the same rules,
    and anything one of them would refuse (or any less common kind) goes to ``add``,
    which says what is wrong exactly as it always does."""
    c.add(events[0])
    seen, ended = c.events, c.ended
    append = seen.append
    plain, referring, terminal, ending = _PLAIN, _REFERRING, TERMINAL_KINDS, ENDING_KINDS
    index = 1
    for event in events[1:]:
        index += 1
        cls = type(event)
        if event.event_id != index or c.terminal_id is not None:
            c.add(event)  # refused: a gap, a duplicate or an event after the end
        elif cls in plain:
            if cls in terminal:
                c.terminal_id = index
            append(event)
        elif cls in referring:
            field, targets = referring[cls]
            target_id = getattr(event, field)
            if (type(target_id) is not int or not 1 <= target_id < index
                    or type(seen[target_id - 1]) not in targets
                    or (cls in ending and target_id in ended)):
                c.add(event)  # refused, with the rule's message
                continue
            if cls in ending:
                ended[target_id] = event
            append(event)
        else:
            c.add(event)


def validate_events(events: Sequence[Event], *, source: str | None = None) -> None:
    """Check the history rules; raises HistoryError naming the first broken one.

    Rules: ids contiguous from 1; the first event is ``WorkflowStarted`` and no
    other is; at most one terminal event and nothing after it; every result
    refers to an earlier command event of the right kind; a command has at
    most one result (a timer fires or is canceled once, never both); an
    update id is accepted once and completed once, under the id it was
    accepted with. The error's ``rule`` names the rule (see docs/errors.md).
    """
    if not events:
        raise HistoryError("a history needs at least a WorkflowStarted event",
                           source=source, rule="empty")
    _check_all(_Checker(source), events)
