"""Workflow declarations (replay/_definition.py): what the decorators collect and refuse.

The classes that must be refused are declared inside the test that expects
the error: the declaration is the thing under test.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from replay import workflow
from replay._core._definition import HandlerUnfinishedPolicy, WorkflowDefinition
from replay.common import RawValue
from replay.exceptions import WorkflowDefinitionError
from replay.testing import WorkflowDriver

from .support import assert_replays
from .workflows import api_samples as s
from .workflows.greeting import ApproveInput, GetLanguagesInput, GreetingWorkflow, Language
from .workflows.handlers import DynamicHandlersWorkflow, DynamicWorkflow, UnfinishedWorkflow


def test_greeting_definition() -> None:
    d = WorkflowDefinition.of(GreetingWorkflow)
    assert d.name == "GreetingWorkflow"
    assert d.cls is GreetingWorkflow
    assert d.run.kind == "run" and d.run.is_async and d.run.return_type is str
    assert set(d.signals) == {"approve"}
    assert set(d.queries) == {"get_languages", "get_language"}
    assert set(d.updates) == {"set_language"}
    assert d.signals["approve"].arg_types == (ApproveInput,)
    assert d.queries["get_languages"].arg_types == (GetLanguagesInput,)
    assert d.queries["get_languages"].return_type == list[Language]
    update = d.updates["set_language"]
    assert update.arg_types == (Language,) and update.return_type is Language
    assert update.validator is GreetingWorkflow.validate_language
    assert not update.is_async
    assert update.unfinished_policy is HandlerUnfinishedPolicy.WARN_AND_ABANDON
    assert not d.init_takes_args and d.failure_exception_types == ()


def test_dynamic_definitions() -> None:
    d = WorkflowDefinition.of(DynamicHandlersWorkflow)
    assert set(d.signals) == set(d.queries) == set(d.updates) == {None}
    assert d.signals[None].dynamic
    # (self, name, args): only the args' annotation is kept
    assert d.signals[None].arg_types == (Sequence[RawValue],)
    assert WorkflowDefinition.of(DynamicWorkflow).name is None


def test_names_policies_and_failure_types() -> None:
    assert WorkflowDefinition.of(s.PatchingBefore).name == "Patching"
    assert WorkflowDefinition.of(s.InheritingWorkflow).signals["set-value"].arg_types == (int,)
    unfinished = WorkflowDefinition.of(UnfinishedWorkflow).updates
    assert unfinished["slow_abandon"].unfinished_policy is HandlerUnfinishedPolicy.ABANDON
    declared = WorkflowDefinition.of(s.DeclaredFailureWorkflow)
    assert declared.failure_exception_types == (ValueError,)


def test_init_receives_the_run_arguments() -> None:
    d = WorkflowDriver(s.InitArgsWorkflow, "Ann", 2)
    d.step()
    assert d.instance.result_payload == "hello Ann hello Ann"
    assert d.events[0].workflow_type == "InitGreeter"  # type: ignore[attr-defined]
    assert_replays(d)


def test_inherited_handlers_work() -> None:
    d = WorkflowDriver(s.InheritingWorkflow)
    d.step()
    d.signal("set-value", 7)
    d.step()
    assert d.instance.result_payload == 7
    assert_replays(d, queries=[("current",)])


# --- refused declarations ------------------------------------------------------------------


def refused(excinfo: pytest.ExceptionInfo[WorkflowDefinitionError]) -> str:
    return str(excinfo.value)


def test_not_a_workflow() -> None:
    with pytest.raises(WorkflowDefinitionError) as err:
        WorkflowDefinition.of(ApproveInput)
    assert refused(err) == (
        "[RPL-D01] ApproveInput is not a workflow: decorate it with @workflow.defn")


def test_run_must_be_async() -> None:
    with pytest.raises(WorkflowDefinitionError) as err:

        class Sync:
            @workflow.run
            def run(self) -> None: ...

    assert refused(err) == (
        "[RPL-D01] @workflow.run method test_run_must_be_async.<locals>.Sync.run must be "
        "`async def`")


def test_exactly_one_run_method() -> None:
    with pytest.raises(WorkflowDefinitionError) as err:

        @workflow.defn
        class NoRun:
            @workflow.signal
            def poke(self) -> None: ...

    assert refused(err) == (
        "[RPL-D01] workflow class test_exactly_one_run_method.<locals>.NoRun needs exactly "
        "one @workflow.run method, found 0")


def test_query_must_be_plain_def() -> None:
    with pytest.raises(WorkflowDefinitionError) as err:

        class AsyncQuery:
            @workflow.query
            async def q(self) -> int:
                return 1

    assert refused(err) == (
        "[RPL-D01] @workflow.query handler test_query_must_be_plain_def.<locals>.AsyncQuery.q "
        "must be a plain `def`: queries cannot await")


def test_validator_must_be_plain_def() -> None:
    with pytest.raises(WorkflowDefinitionError) as err:

        class AsyncValidator:
            @workflow.update
            def u(self, x: int) -> None: ...

            @u.validator  # type: ignore[arg-type]  # an async validator, refused on purpose
            async def check(self, x: int) -> None: ...

    assert "update validator test_validator_must_be_plain_def.<locals>.AsyncValidator.check " \
           "must be a plain `def`" in refused(err)


@pytest.mark.parametrize("decorator", [workflow.signal, workflow.query, workflow.update])
def test_dynamic_handler_cannot_have_a_name(decorator: Any) -> None:
    with pytest.raises(WorkflowDefinitionError) as err:
        decorator(name="x", dynamic=True)(lambda self, name, args: None)
    kind = decorator.__name__
    assert refused(err) == f"[RPL-D01] a dynamic {kind} handler cannot also have a name"


def test_dynamic_workflow_cannot_have_a_name() -> None:
    with pytest.raises(WorkflowDefinitionError) as err:

        @workflow.defn(name="X", dynamic=True)
        class Both:
            @workflow.run
            async def run(self, args: Sequence[RawValue]) -> None: ...

    assert refused(err) == "[RPL-D01] a dynamic workflow cannot also have a name"
