"""Stores against a simple model: reads are prefixes of later reads; conflicts write nothing.

A hypothesis state machine starts runs, appends in order, appends with stale
expected ids, delivers, closes runs and reads; after every step each run's
events must equal the model's and extend every earlier read (DESIGN invariant 1).
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, multiple, rule

from replay.history import (
    AppendConflictError,
    Deliver,
    Event,
    HistoryError,
    MemoryStore,
    RunAlreadyExistsError,
    RunClosedError,
    SignalReceived,
    SqliteStore,
    Start,
    Store,
    WorkflowCompleted,
    WorkflowTerminated,
)
from replay.history._kinds import TERMINAL_KINDS
from tests.history.samples import started
from tests.strategies import T0


class StoreModel(RuleBasedStateMachine):
    """The store must behave like a dict of event lists that only ever grow."""

    runs = Bundle("runs")
    kind = "memory"

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp())
        self.store: Store = (MemoryStore() if self.kind == "memory"
                             else SqliteStore(self.dir / "model.db"))
        self.model: dict[str, list[Event]] = {}
        self.reads: dict[str, list[list[Event]]] = {}

    def teardown(self) -> None:
        self.store.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _closed(self, run_id: str) -> bool:
        return isinstance(self.model[run_id][-1], TERMINAL_KINDS)

    def _signal(self, event_id: int) -> SignalReceived:
        return SignalReceived(event_id=event_id, time=T0 + timedelta(seconds=event_id),
                              signal_name="s", args=[event_id])

    @rule(target=runs, workflow_id=st.sampled_from(["a", "b", "c"]))
    def start(self, workflow_id: str):  # type: ignore[no-untyped-def]
        run_id = f"r{len(self.model) + 1}"
        if any(not self._closed(r) and self.model[r][0].workflow_id == workflow_id  # type: ignore[attr-defined]
               for r in self.model):
            with pytest.raises(RunAlreadyExistsError):
                self.store.commit([Start(run_id, started(workflow_id))])
            return multiple()
        self.store.commit([Start(run_id, started(workflow_id))])
        self.model[run_id] = [started(workflow_id)]
        return run_id

    @rule(run_id=runs, count=st.integers(min_value=1, max_value=3))
    def append_in_order(self, run_id: str, count: int) -> None:
        last = len(self.model[run_id])
        events = [self._signal(last + i) for i in range(1, count + 1)]
        if self._closed(run_id):
            with pytest.raises(HistoryError, match="nothing may follow the end of a run"):
                self.store.append(run_id, events, last)
            return
        self.store.append(run_id, events, last)
        self.model[run_id] += events

    @rule(run_id=runs, behind=st.integers(min_value=1, max_value=4))
    def append_with_a_stale_id(self, run_id: str, behind: int) -> None:
        last = len(self.model[run_id])
        with pytest.raises(AppendConflictError) as err:
            self.store.append(run_id, [self._signal(last - behind + 1)], last - behind)
        assert (err.value.expected, err.value.actual) == (last - behind, last)

    @rule(run_id=runs)
    def deliver(self, run_id: str) -> None:
        if self._closed(run_id):
            with pytest.raises(RunClosedError):
                self.store.commit([Deliver(run_id, self._signal(0))])
            return
        written = self.store.commit([Deliver(run_id, self._signal(0))])
        assert [e.event_id for e in written] == [len(self.model[run_id]) + 1]
        self.model[run_id] += written

    @rule(run_id=runs, terminate=st.booleans())
    def close(self, run_id: str, terminate: bool) -> None:
        if self._closed(run_id):
            return
        last = len(self.model[run_id])
        event = (WorkflowTerminated(event_id=last + 1, time=T0) if terminate
                 else WorkflowCompleted(event_id=last + 1, time=T0, result=last))
        self.store.append(run_id, [event], last)
        self.model[run_id].append(event)

    @rule(run_id=runs, after=st.integers(min_value=0, max_value=12))
    def read_after(self, run_id: str, after: int) -> None:
        assert self.store.read(run_id, after) == self.model[run_id][after:]

    @invariant()
    def reads_only_grow(self) -> None:
        for run_id, events in self.model.items():
            now = self.store.read(run_id)
            assert now == events
            for earlier in self.reads.setdefault(run_id, []):
                assert now[:len(earlier)] == earlier
            self.reads[run_id].append(now)
            assert self.store.last_event_id(run_id) == len(events)


class SqliteStoreModel(StoreModel):
    kind = "sqlite"


TestMemoryStoreModel = StoreModel.TestCase
TestMemoryStoreModel.settings = settings(stateful_step_count=25)
TestSqliteStoreModel = SqliteStoreModel.TestCase
TestSqliteStoreModel.settings = settings(stateful_step_count=25, max_examples=25)
