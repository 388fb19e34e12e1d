"""Every saved fixture history replays against the fixture workflows; together they cover
every event kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.workflows import ALL_WORKFLOWS
from replay.history import EVENT_KINDS, History, WorkflowTerminated, WorkflowTimedOut
from replay.worker import Replayer

HISTORIES = Path(__file__).parents[1] / "fixtures" / "histories"
FILES = sorted(HISTORIES.glob("*.json"))


def test_there_are_fixture_histories() -> None:
    assert len(FILES) >= 12


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_fixture_history_replays(path: Path) -> None:
    history = History.load(path)
    # strict: the code reproduces each run's result, failure or continue-as-new arguments too
    result = Replayer(workflows=ALL_WORKFLOWS, strict_result=True).replay_sync(history)
    assert result.replay_failure is None
    assert result.instance is not None
    if history.is_closed and not isinstance(history.events[-1],
                                            WorkflowTerminated | WorkflowTimedOut):
        assert result.instance.closed  # the code itself reached the recorded ending


def test_every_event_kind_appears_in_some_fixture() -> None:
    seen = {type(e).__name__ for path in FILES for e in History.load(path)}
    missing = sorted(set(EVENT_KINDS) - seen)
    assert missing == [], f"no fixture history holds {missing}; add a scenario to " \
                          "fixtures/generate.py and run `make fixtures`"


def test_the_generator_writes_the_same_scenarios_and_they_replay(tmp_path: Path) -> None:
    # Not byte-compared with the checked-in files: failure stack traces name engine lines.
    from fixtures.generate import generate

    written = generate(tmp_path)
    assert sorted(p.name for p in written) == [p.name for p in FILES]
    for path in written:
        fresh, saved = History.load(path), History.load(HISTORIES / path.name)
        assert [type(e) for e in fresh] == [type(e) for e in saved], path.name
        assert Replayer(workflows=ALL_WORKFLOWS).replay_sync(fresh).replay_failure is None
