"""Options the engine would ignore are refused with a TypeError naming them."""

from __future__ import annotations

import pytest

from replay.exceptions import WorkflowTaskError
from replay.testing import WorkflowDriver

from .workflows import ignored_options as w


@pytest.mark.parametrize(("workflow", "message"), [
    (w.ChildWithPolicy, "TypeError: workflow.start_child_workflow() does not support "
                        "versioning_intent= yet; replay would ignore it, so it refuses it "
                        "instead."),
    (w.ChildWithCron, "TypeError: workflow.start_child_workflow() does not support "
                      "cron_schedule= yet"),
    (w.ChildWithTypo, "TypeError: workflow.start_child_workflow() got an unexpected keyword "
                      "argument 'task_queu'"),
    (w.ConditionWithSummary, "TypeError: workflow.wait_condition() does not record "
                             "timeout_summary= (a timer label for a UI)"),
])
def test_an_unsupported_option_fails_the_task_and_records_nothing(
        workflow: type, message: str) -> None:
    driver = WorkflowDriver(workflow)
    before = list(driver.events)
    with pytest.raises(WorkflowTaskError) as err:
        driver.step()
    assert message in str(err.value)
    assert "ignored_options.py:" in str(err.value)
    assert driver.events == before
