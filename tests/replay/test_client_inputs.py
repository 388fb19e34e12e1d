"""The client interceptor inputs share their handle fields without changing their shape:
the same fields, in the same order, with the same defaults, built by keyword."""

from __future__ import annotations

import inspect
from datetime import timedelta
from typing import Any

import attrs
import pytest

from replay import client

FACTORY = "factory"
SHAPES: dict[str, list[tuple[str, Any]]] = {
    "SignalWorkflowInput": [
        ("id", attrs.NOTHING), ("run_id", attrs.NOTHING), ("signal", attrs.NOTHING),
        ("args", attrs.NOTHING), ("first_execution_run_id", None), ("headers", FACTORY),
        ("rpc_metadata", FACTORY), ("rpc_timeout", None), ("signal_ref", None)],
    "QueryWorkflowInput": [
        ("id", attrs.NOTHING), ("run_id", attrs.NOTHING), ("query", attrs.NOTHING),
        ("args", attrs.NOTHING), ("reject_condition", attrs.NOTHING), ("ret_type", None),
        ("first_execution_run_id", None), ("headers", FACTORY), ("rpc_metadata", FACTORY),
        ("rpc_timeout", None), ("query_ref", None)],
    "StartWorkflowUpdateInput": [
        ("id", attrs.NOTHING), ("run_id", attrs.NOTHING), ("update_id", attrs.NOTHING),
        ("update", attrs.NOTHING), ("args", attrs.NOTHING), ("wait_for_stage", attrs.NOTHING),
        ("ret_type", None), ("first_execution_run_id", None), ("headers", FACTORY),
        ("rpc_metadata", FACTORY), ("rpc_timeout", None), ("update_ref", None)],
    "CancelWorkflowInput": [
        ("id", attrs.NOTHING), ("run_id", attrs.NOTHING), ("first_execution_run_id", None),
        ("reason", ""), ("rpc_metadata", FACTORY), ("rpc_timeout", None)],
    "TerminateWorkflowInput": [
        ("id", attrs.NOTHING), ("run_id", attrs.NOTHING), ("args", ()), ("reason", None),
        ("first_execution_run_id", None), ("rpc_metadata", FACTORY), ("rpc_timeout", None)],
    "DescribeWorkflowInput": [
        ("id", attrs.NOTHING), ("run_id", attrs.NOTHING), ("first_execution_run_id", None),
        ("rpc_metadata", FACTORY), ("rpc_timeout", None)],
}


def _shape(cls: type) -> list[tuple[str, Any]]:
    return [(f.name, FACTORY if isinstance(f.default, attrs.Factory) else f.default)  # type: ignore[arg-type]
            for f in attrs.fields(cls)]


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_fields_keep_their_order_and_defaults(name: str) -> None:
    cls = getattr(client, name)
    assert _shape(cls) == SHAPES[name]
    params = inspect.signature(cls).parameters.values()
    assert [p.name for p in params] == [n for n, _ in SHAPES[name]]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params)


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_built_by_keyword_with_every_field(name: str) -> None:
    cls = getattr(client, name)
    values = {n: (timedelta(seconds=3) if n == "rpc_timeout" else
                  {"k": "v"} if n in ("headers", "rpc_metadata") else f"<{n}>")
              for n, _ in SHAPES[name]}
    built = cls(**values)
    assert {n: getattr(built, n) for n in values} == values
    assert repr(built).startswith(f"{name}(id='<id>', run_id='<run_id>', ")


def test_the_handle_fields_are_shared() -> None:
    bases = {cls.__mro__[1] for cls in (client.CancelWorkflowInput,
                                        client.TerminateWorkflowInput,
                                        client.DescribeWorkflowInput)}
    message_bases = {getattr(client, n).__mro__[1] for n in (
        "SignalWorkflowInput", "QueryWorkflowInput", "StartWorkflowUpdateInput")}
    assert len(bases) == len(message_bases) == 1
    assert message_bases.pop().__mro__[1] is bases.pop()
