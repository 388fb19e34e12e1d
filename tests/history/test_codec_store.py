"""CodecStore: a store seen through a payload codec keeps every promise of the Store
protocol (the public store kit, run against it over SQLite), while what it writes is
encoded."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from pathlib import Path

import pytest

from replay.history import (
    CodecStore,
    MemoryStore,
    Payload,
    PayloadCodec,
    SqliteStore,
    Start,
    Store,
    WorkflowStarted,
    is_envelope,
)
from replay.testing.store_conformance import StoreConformance, StoreFactory, simple_factory
from tests.strategies import T0


class Base64Codec(PayloadCodec):
    """Wraps each payload whole; leaves payloads it did not write alone."""

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [Payload(metadata={"encoding": b"binary/b64"},
                        data=base64.b64encode(p.SerializeToString())) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [Payload.FromString(base64.b64decode(p.data))
                if p.encoding == "binary/b64" else p for p in payloads]


class TestCodecStoreOverSqlite(StoreConformance):
    @pytest.fixture
    def store_factory(self, tmp_path: Path) -> StoreFactory:
        count = iter(range(10**6))

        def reopen(store: Store) -> Store:
            assert isinstance(store, CodecStore)
            return CodecStore(SqliteStore(store.inner.path), Base64Codec())  # type: ignore[attr-defined]  # a SqliteStore's path

        return simple_factory(
            lambda: CodecStore(SqliteStore(tmp_path / f"codec-{next(count)}.db"),
                               Base64Codec()), reopen)


def test_what_the_wrapper_writes_is_encoded_and_reads_back_decoded() -> None:
    inner = MemoryStore()
    store = CodecStore(inner, Base64Codec())
    started = WorkflowStarted(event_id=1, time=T0, workflow_type="W", workflow_id="w",
                              task_queue="q", args=[{"a": 1}, None], random_seed=1,
                              first_execution_run_id="r1", memo={"m": "v"})
    (written,) = store.commit([Start("r1", started)])
    assert written == started
    at_rest = inner.read("r1")[0]
    assert isinstance(at_rest, WorkflowStarted)
    assert all(is_envelope(a) for a in at_rest.args)  # a None argument too
    assert is_envelope(at_rest.memo["m"])
    assert store.read("r1") == [started]
    run = store.get_run("r1")
    assert run is not None and run.memo == {"m": "v"}
    assert type(store).__name__ == "CodecStore[MemoryStore]"
    store.close()
