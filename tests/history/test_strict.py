"""history/_strict.py: event fields of the wrong JSON type are refused, never coerced."""

from __future__ import annotations

from pathlib import Path

import pytest

from replay.history import ActivityScheduled, History, WorkflowCompleted

from .bad_histories import WRONG_TYPES, Bad, fixture, refused


@pytest.mark.parametrize("bad", WRONG_TYPES, ids=[b.name for b in WRONG_TYPES])
def test_a_field_of_the_wrong_type_is_refused(tmp_path: Path, bad: Bad) -> None:
    refused(tmp_path, bad)


def test_numbers_where_numbers_belong_still_load() -> None:
    doc = fixture("orders_failures")
    policy = doc["events"][1]["retry_policy"]
    policy["backoff_coefficient"] = 2  # an integer is a number
    policy["initial_interval"] = 1  # seconds as an integer
    scheduled = History.from_data(doc).events[1]
    assert isinstance(scheduled, ActivityScheduled) and scheduled.retry_policy is not None
    assert scheduled.retry_policy.backoff_coefficient == 2


def test_payloads_keep_their_json_types() -> None:
    doc = fixture("orders_happy")
    doc["events"][-1]["result"] = [True, 1, 1.5, "s", None, {"k": [False]}]
    completed = History.from_data(doc).events[-1]
    assert isinstance(completed, WorkflowCompleted)
    assert completed.result == [True, 1, 1.5, "s", None, {"k": [False]}]
