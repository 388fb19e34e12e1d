"""The public modules' ``__all__``: sorted, complete and free of private names."""

from __future__ import annotations

import importlib
import types

import pytest

MODULES = ["replay.workflow", "replay.common", "replay.exceptions", "replay.worker",
           "replay.activity", "replay.testing"]


@pytest.mark.parametrize("name", MODULES)
def test_all_is_sorted_complete_and_public(name: str) -> None:
    module = importlib.import_module(name)
    exported = module.__all__
    assert exported == sorted(exported), "keep __all__ in plain sorted order"
    assert len(set(exported)) == len(exported)
    assert [n for n in exported if n.startswith("_")] == []
    missing = [n for n in exported if not hasattr(module, n)]
    assert missing == []
    public = {
        n for n, value in vars(module).items()
        if not n.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert sorted(public - set(exported)) == [], "public names missing from __all__"


def test_workflow_module_offers_the_familiar_api() -> None:
    from replay import workflow

    for name in ("defn", "run", "signal", "query", "update", "init", "wait_condition",
                 "all_handlers_finished", "execute_activity", "start_activity",
                 "execute_child_workflow", "start_child_workflow", "continue_as_new",
                 "patched", "deprecate_patch", "info", "now", "random", "uuid4", "logger",
                 "payload_converter", "set_signal_handler", "set_dynamic_signal_handler",
                 "get_external_workflow_handle", "HandlerUnfinishedPolicy", "unsafe"):
        assert name in workflow.__all__, name
