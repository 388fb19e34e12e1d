"""Task order is deterministic: generated programs of racing tasks replay identically.

Each program mixes TaskGroups whose failing child makes the group cancel the
others (by iterating a set of tasks), ``asyncio.wait(FIRST_COMPLETED)`` races
and loops that cancel the ``pending`` set, and tasks that create tasks. It
runs once live (timers fired in order, activities never completed), then its
history is replayed many times, here and in fresh interpreters with other
``PYTHONHASHSEED`` values (other string hashes and address layouts): every
replay must reissue the recorded commands and end with the recorded result.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replay.history import History
from replay.testing import WorkflowDriver
from replay.testing._subprocess import ending, replay_in_subprocesses
from replay.worker import Replayer
from tests.replay.workflows.races import ProgramWorkflow
from tests.strategies import race_programs


def run_live(program: list[Any]) -> History:
    driver = WorkflowDriver(ProgramWorkflow, program)
    driver.run_timers(limit=500)
    assert driver.instance.closed, "the program's 60 s timeout ends every run"
    return driver.history()


@settings(max_examples=40)
@given(race_programs)
def test_programs_replay_identically_many_times(program: list[Any]) -> None:
    history = run_live(program)
    replayer = Replayer(workflows=[ProgramWorkflow])
    first = replayer.replay_sync(history)
    for _ in range(20):
        again = replayer.replay_sync(history)  # NondeterminismError if a command differs
        assert (again.status, again.result) == (first.status, first.result)


@pytest.mark.slow
@settings(max_examples=3)  # few examples of many programs: each interpreter costs a second
@given(st.lists(race_programs, min_size=10, max_size=10))
def test_programs_replay_identically_in_fresh_processes(programs: list[list[Any]]) -> None:
    histories = [run_live(p) for p in programs]
    replayer = Replayer(workflows=[ProgramWorkflow])
    expected = []
    for h in histories:
        res = replayer.replay_sync(h)
        expected.append(ending(res.status, res.result, res.failure))
    outcomes = replay_in_subprocesses(histories, [ProgramWorkflow], hash_seeds=(7, 8),
                                      replays=5)
    assert len(outcomes) == 2 * 5 * len(programs)
    for o in outcomes:
        assert o.failure is None, f"{programs[o.history]} (PYTHONHASHSEED={o.hash_seed}): " \
            f"{o.failure}"
        assert o.ending == expected[o.history]
