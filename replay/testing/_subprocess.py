"""Replaying histories in fresh interpreters, each with its own ``PYTHONHASHSEED``.

A workflow that walks a set of strings, or of objects hashed by address,
replays the same way many times in one process and still diverges in the
next: string hashes are salted per process, and addresses depend on what the
process did before. :func:`replay_in_subprocesses` saves the histories, starts
one interpreter per hash seed (``python -m replay.testing._subprocess JOB``),
replays each history there ``replays`` times and reports every outcome.
The workflow classes must be importable by module and qualified name.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from replay.history import History

_MODULE = "replay.testing._subprocess"


@attrs.frozen
class SubprocessReplay:
    """One replay of one history in a fresh interpreter.

    ``history`` is the index of the history in the list given, ``replay`` the
    number of the replay in that interpreter; ``failure`` is the text of the
    error that stopped the replay (a divergence names the event), else None;
    ``ending`` describes how the replayed run ended (status, result, failure).
    """

    history: int
    hash_seed: int
    replay: int
    failure: str | None
    ending: str


def ending(status: str, result: Any, failure: Any) -> str:
    """How a run ended, as text both sides of a subprocess can compare."""
    return f"status={status} result={result!r} failure={failure!r}"


def class_path(cls: type) -> tuple[str, str]:
    """``(module, qualname)`` of a class a fresh interpreter can import; ValueError if none."""
    module, qualname = cls.__module__, cls.__qualname__
    if module == "__main__" or "<locals>" in qualname:
        raise ValueError(
            f"{qualname} cannot be imported by a fresh interpreter (it is defined "
            f"{'in __main__' if module == '__main__' else 'inside a function'}); define "
            "the workflow class at the top level of an importable module")
    return module, qualname


def replay_in_subprocesses(histories: Sequence[History], workflows: Sequence[type], *,
                           hash_seeds: Sequence[int] = (1, 2), replays: int = 1,
                           timeout: float = 600.0) -> list[SubprocessReplay]:
    """Replay each history ``replays`` times in one fresh interpreter per hash seed.

    The interpreters run at the same time, with this process's ``sys.path``.
    Raises RuntimeError if one of them fails outside a replay (an import error,
    say) and ValueError if a workflow class is not importable.
    """
    classes = [class_path(cls) for cls in workflows]
    with tempfile.TemporaryDirectory(prefix="replay-subprocess-") as tmp:
        paths = []
        for i, history in enumerate(histories):
            path = Path(tmp) / f"history-{i}.json"
            history.save(path)
            paths.append(str(path))
        job = Path(tmp) / "job.json"
        job.write_text(json.dumps({"sys_path": sys.path, "workflows": classes,
                                   "histories": paths, "replays": replays}))
        procs = [(seed, subprocess.Popen(
            [sys.executable, "-m", _MODULE, str(job)], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONHASHSEED": str(seed)})) for seed in hash_seeds]
        out: list[SubprocessReplay] = []
        for seed, proc in procs:
            stdout, stderr = proc.communicate(timeout=timeout)
            if proc.returncode != 0:
                raise RuntimeError(f"the replay interpreter with PYTHONHASHSEED={seed} "
                                   f"exited with {proc.returncode}:\n{stderr}")
            out += [SubprocessReplay(hash_seed=seed, **json.loads(line))
                    for line in stdout.splitlines() if line.strip()]
        return out


def _import(module: str, qualname: str) -> type:
    import importlib

    found: Any = importlib.import_module(module)
    for part in qualname.split("."):
        found = getattr(found, part)
    assert isinstance(found, type)
    return found


def main(job_path: str) -> None:
    """The fresh interpreter: replay the job's histories, one JSON line per replay."""
    job = json.loads(Path(job_path).read_text())
    sys.path[:0] = [p for p in job["sys_path"] if p not in sys.path]
    from .._replay._replayer import Replayer

    replayer = Replayer(workflows=[_import(m, q) for m, q in job["workflows"]])
    for i, path in enumerate(job["histories"]):
        history = History.load(path)
        for k in range(job["replays"]):
            res = replayer.replay_sync(history, raise_on_replay_failure=False)
            failure = None if res.replay_failure is None else str(res.replay_failure)
            print(json.dumps({"history": i, "replay": k, "failure": failure,
                              "ending": ending(res.status, res.result, res.failure)}),
                  flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
