"""Typed signatures: code that misuses a workflow's handlers or an activity fails
``mypy --strict`` as it does with the familiar SDK, and correct code passes clean.

Each snippet below is written to its own file and all are checked in one mypy run
(through ``mypy.api``); a bad snippet marks the line that must fail with
``# E: <error code>``, and no other line of any snippet may fail.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mypy import api

ROOT = Path(__file__).resolve().parents[2]

PRELUDE = '''
from __future__ import annotations

from datetime import timedelta

from replay import activity, workflow
from replay.client import Client, WorkflowHandle, WorkflowUpdateStage

T = timedelta(seconds=5)


@activity.defn
async def greet(name: str) -> str:
    return f"hi {name}"


@activity.defn
def count(n: int) -> int:
    return n + 1


@workflow.defn
class Child:
    @workflow.run
    async def run(self, n: int) -> str:
        return str(n)


@workflow.defn
class Wf:
    def __init__(self) -> None:
        self.seen: list[str] = []

    @workflow.run
    async def run(self, name: str) -> int:
        said: str = await workflow.execute_activity(greet, name, start_to_close_timeout=T)
        n: int = await workflow.execute_activity(count, 3, start_to_close_timeout=T)
        started = workflow.start_activity(greet, "x", start_to_close_timeout=T)
        again: str = await started
        child: str = await workflow.execute_child_workflow(Child.run, 3, id="c")
        self.seen += [said, again, child]
        return n

    @workflow.signal
    async def approve(self, who: str) -> None:
        self.seen.append(who)

    @workflow.query
    def status(self) -> list[str]:
        return list(self.seen)

    @workflow.update
    async def bump(self, by: int) -> int:
        return by


async def uses(client: Client) -> None:
'''

GOOD = '''
    h: WorkflowHandle[Wf, int] = await client.start_workflow(Wf.run, "ann", id="a",
                                                             task_queue="q", memo={"k": 1})
    result: int = await h.result()
    awaited: int = await h
    await h.signal(Wf.approve, "bob")
    seen: list[str] = await h.query(Wf.status)
    bumped: int = await h.execute_update(Wf.bump, 2)
    update = await h.start_update(Wf.bump, 2, wait_for_stage=WorkflowUpdateStage.ACCEPTED)
    later: int = await update.result()
    direct: int = await client.execute_workflow(Wf.run, "ann", id="b", task_queue="q")
    by_name = client.get_workflow_handle("a")
    await by_name.signal("approve", "bob")
    typed = client.get_workflow_handle_for(Wf.run, "a")
    again: int = await typed.result()
    print(result, awaited, seen, bumped, later, direct, again)
'''

BAD = {
    "signal_with_the_wrong_type": '''
    h = await client.start_workflow(Wf.run, "ann", id="a", task_queue="q")
    await h.signal(Wf.approve, 42)  # E: arg-type
''',
    "start_workflow_with_the_wrong_argument": '''
    await client.start_workflow(Wf.run, 42, id="a", task_queue="q")  # E: arg-type
''',
    "start_workflow_with_a_bad_option": '''
    await client.start_workflow(Wf.run, "a", id="a", task_queue="q", memo=3)  # E: call-overload
''',
    "execute_workflow_with_the_wrong_argument": '''
    await client.execute_workflow(Wf.run, 42, id="a", task_queue="q")  # E: arg-type
''',
    "result_is_typed": '''
    h = await client.start_workflow(Wf.run, "ann", id="a", task_queue="q")
    wrong: str = await h.result()  # E: assignment
''',
    "update_with_the_wrong_type": '''
    h = await client.start_workflow(Wf.run, "ann", id="a", task_queue="q")
    await h.execute_update(Wf.bump, "two")  # E: arg-type
''',
    "query_given_an_argument_it_does_not_take": '''
    h = await client.start_workflow(Wf.run, "ann", id="a", task_queue="q")
    await h.query(Wf.status, 1)  # E: arg-type
''',
    "execute_activity_with_the_wrong_type": '''
    await workflow.execute_activity(greet, 42, start_to_close_timeout=T)  # E: arg-type
''',
    "start_activity_with_the_wrong_type": '''
    workflow.start_activity(count, "x", start_to_close_timeout=T)  # E: arg-type
''',
    "activity_with_an_unknown_option": '''
    await workflow.execute_activity(greet, "x", start_to_clse_timeout=T)  # E: call-overload
''',
    "child_with_the_wrong_type": '''
    await workflow.execute_child_workflow(Child.run, "three", id="c")  # E: arg-type
''',
}

_MARK = re.compile(r"#\s*E:\s*([\w-]+)")
_LINE = re.compile(r"^(?P<file>[^:]+\.py):(?P<line>\d+): error: .*\[(?P<code>[\w-]+)\]$")


def _expected(path: Path) -> set[tuple[int, str]]:
    lines = path.read_text().splitlines()
    return {(i, m.group(1)) for i, text in enumerate(lines, 1) if (m := _MARK.search(text))}


@pytest.mark.slow
def test_misuse_fails_mypy_strict_and_correct_code_passes(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    snippets = {"good": GOOD, **BAD}
    files = {name: tmp_path / f"snippet_{name}.py" for name in snippets}
    for name, body in snippets.items():
        files[name].write_text(PRELUDE + body)
    monkeypatch.chdir(ROOT)  # the replay package as the project sees it
    out, err, _ = api.run(["--strict", "--no-error-summary", "--show-error-codes",
                           "--cache-dir", str(tmp_path / "cache"),
                           *(str(f) for f in files.values())])
    assert not err, err
    found: dict[str, set[tuple[int, str]]] = {name: set() for name in snippets}
    by_path = {str(f): name for name, f in files.items()}
    for line in out.splitlines():
        m = _LINE.match(line)
        if m is not None:
            found[by_path[m["file"]]].add((int(m["line"]), m["code"]))
    for name, path in files.items():
        assert found[name] == _expected(path), (name, out)
    assert not _expected(files["good"]) and all(_expected(files[n]) for n in BAD)
