"""A payload codec through a real worker on every store: payloads are encoded at rest
(no plain text reaches the store), the client, handles, queries, updates and
describe() see decoded values, and the recorded history replays and steps in the
debugger with the codec, and fails clearly (RPL-CV01) without it."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from replay.client import Client
from replay.converter import DataConverter, Payload, PayloadCodec, default
from replay.debug import Debugger
from replay.exceptions import EncodedPayloadError, PayloadCodecError
from replay.history import (
    Event,
    History,
    MemoryStore,
    PostgresStore,
    SqliteStore,
    Store,
    WorkflowStarted,
    envelope_summary,
    event_to_data,
    is_envelope,
)
from replay.worker import Replayer, Worker

from .workers.harness import bounded, wait_until
from .workflows import sealed
from .workflows.sealed import Order, Receipt, SealedCodec, SealedWorkflow


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def raw_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A store of each kind, as the codec's client will be given it."""
    store: Store
    if request.param == "memory":
        store = MemoryStore()
    elif request.param == "sqlite":
        store = SqliteStore(tmp_path / "sealed.db")
    else:
        url = request.getfixturevalue("postgres_url")
        schema = request.getfixturevalue("postgres_schemas")()
        store = PostgresStore(f"{url}{'&' if '?' in url else '?'}schema={schema}")
    yield store
    store.close()


@pytest.fixture
async def sealed_client(raw_store: Store) -> AsyncIterator[Client]:
    sealed.ATTEMPTS.clear()
    codec_converter = dataclasses.replace(default(), payload_codec=SealedCodec())
    yield Client(raw_store, data_converter=codec_converter)


def _payloads_of(events: list[Event]) -> list[Any]:
    """Every top-level payload in the events' JSON form (args, result, details...)."""
    found: list[Any] = []
    for event in events:
        data = event_to_data(event)
        for key in ("args", "details"):
            if isinstance(data.get(key), list):
                found.extend(data[key])
        for key in ("result", "payload"):
            if data.get(key) is not None:
                found.append(data[key])
        if isinstance(data.get("memo"), dict):
            found.extend(data["memo"].values())
        failure = data.get("failure")
        if isinstance(failure, dict):
            found.extend(failure.get("details", []))
    return found


async def _run_sealed(client: Client) -> tuple[str, Receipt]:
    order = Order(sealed.SECRET, ["pen", "ink"])
    async with Worker(client, task_queue=sealed.QUEUE, workflows=sealed.WORKFLOWS,
                      activities=sealed.ACTIVITIES):
        handle = await client.start_workflow(SealedWorkflow.run, order, id="sealed-1",
                                             task_queue=sealed.QUEUE,
                                             memo={"secret": sealed.SECRET})
        assert await bounded(handle.execute_update(SealedWorkflow.add_item, "paper")) == 3
        assert await bounded(handle.query(SealedWorkflow.current_items)) == [
            "pen", "ink", "paper"]
        await handle.signal(SealedWorkflow.approve, "ok")
        result = await bounded(handle.result())
        description = await handle.describe()
        assert description.memo == {"secret": sealed.SECRET}
        return description.run_id, result


async def test_a_run_through_a_codec_is_encoded_at_rest_and_decoded_in_use(
        sealed_client: Client, raw_store: Store) -> None:
    run_id, result = await _run_sealed(sealed_client)
    assert result.customer == sealed.SECRET
    assert result.items == ["sealed:pen", "sealed:ink", "paper"]
    assert result.note == f"ok/{sealed.SECRET}"
    assert result.child == sealed.SECRET.upper()
    assert sealed.ATTEMPTS == [1, 2]  # the first attempt failed with details, then a retry

    at_rest = raw_store.history(run_id)
    payloads = _payloads_of(list(at_rest.events))
    assert len(payloads) >= 8
    assert all(is_envelope(p) for p in payloads), [p for p in payloads if not is_envelope(p)]
    assert sealed.SECRET not in at_rest.to_json()
    assert all(envelope_summary(p).startswith("<encoded binary/sealed, ") for p in payloads)
    assert sealed_client.store.history(run_id).started.args == [
        {"customer": sealed.SECRET, "items": ["pen", "ink"]}]


async def test_the_sqlite_file_never_holds_the_plain_text(tmp_path: Path) -> None:
    sealed.ATTEMPTS.clear()
    path = tmp_path / "file.db"
    client = await Client.connect(f"sqlite:///{path}", data_converter=sealed.sealed_converter)
    try:
        await _run_sealed(client)
    finally:
        client.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert sealed.SECRET.encode() not in raw
    assert b"sealed:pen" not in raw


async def test_the_recorded_history_replays_and_debugs_only_with_the_codec(
        sealed_client: Client, raw_store: Store) -> None:
    run_id, result = await _run_sealed(sealed_client)
    at_rest = History.from_json(raw_store.history(run_id).to_json())

    with_codec = Replayer(workflows=sealed.WORKFLOWS, data_converter=sealed.sealed_converter,
                          strict_result=True)
    replayed = await with_codec.replay_workflow(at_rest)
    assert replayed.replay_failure is None
    assert replayed.status == "completed"
    assert replayed.result == dataclasses.asdict(result)

    without = await Replayer(workflows=sealed.WORKFLOWS).replay_workflow(
        at_rest, raise_on_replay_failure=False)
    assert without.replay_failure is not None
    assert "RPL-CV01" in str(without.replay_failure)

    with Debugger(at_rest, workflows=sealed.WORKFLOWS,
                  data_converter=sealed.sealed_converter) as dbg:
        dbg.continue_()
        assert dbg.at_end
        assert dbg.query("current_items") == ["pen", "ink", "paper"]
        assert isinstance(dbg.history.events[0], WorkflowStarted)
        assert dbg.history.started.args[0]["customer"] == sealed.SECRET


async def test_a_codec_that_breaks_its_contract_is_named_and_nothing_is_written(
        tmp_path: Path) -> None:
    class Dropping(PayloadCodec):
        async def encode(self, payloads: Any) -> list[Payload]:
            return list(payloads)[:-1]

        async def decode(self, payloads: Any) -> list[Payload]:
            return list(payloads)

    store = SqliteStore(tmp_path / "bad.db")
    client = Client(store, data_converter=DataConverter(payload_codec=Dropping()))
    try:
        with pytest.raises(PayloadCodecError, match=r"RPL-CV02.*Dropping\.encode\(\) must "
                                                     r"return a list of 1 Payload"):
            await client.start_workflow(SealedWorkflow.run, Order("a", []), id="bad",
                                        task_queue="q")
        assert store.list_runs() == []
    finally:
        client.close()


async def test_plain_runs_from_before_the_codec_still_read(tmp_path: Path) -> None:
    """Payloads written without a codec are plain JSON; the codec passes them through."""
    path = tmp_path / "mixed.db"
    plain = await Client.connect(f"sqlite:///{path}")
    handle = await plain.start_workflow(SealedWorkflow.run, Order("old", ["x"]), id="old",
                                        task_queue=sealed.QUEUE)
    plain.close()
    sealed.ATTEMPTS.clear()
    client = await Client.connect(f"sqlite:///{path}", data_converter=sealed.sealed_converter)
    try:
        async with Worker(client, task_queue=sealed.QUEUE, workflows=sealed.WORKFLOWS,
                          activities=sealed.ACTIVITIES):
            again = client.get_workflow_handle(handle.id)
            await wait_until(lambda: sealed.ATTEMPTS == [1, 2])
            await again.signal(SealedWorkflow.approve, "late")
            result = await bounded(again.result(), 10)
            run_id = (await again.describe()).run_id
            mixed = client.store.history(run_id)
        assert result["customer"] == "old"  # no result type given: the data
        assert not is_envelope(mixed.started.args[0])
        raw = SqliteStore(path)
        try:
            at_rest = raw.history(run_id)
        finally:
            raw.close()
        assert not is_envelope(at_rest.started.args[0])  # written before the codec
        assert is_envelope(at_rest.events[-1].result)  # type: ignore[attr-defined]
        replayed = await Replayer(workflows=sealed.WORKFLOWS,
                                  data_converter=sealed.sealed_converter).replay_workflow(at_rest)
        assert replayed.status == "completed"
    finally:
        client.close()


def test_encoded_payloads_without_a_converter_fail_with_the_encoding_named() -> None:
    data = default().payload_converter.to_payload(b"\x00raw")
    assert data == {"$payload": {"metadata": {"encoding": "binary/plain"}, "data": "AHJhdw=="}}
    from replay.history import PayloadConverter
    with pytest.raises(EncodedPayloadError, match=r"RPL-CV01.*'binary/plain'.*as bytes"):
        PayloadConverter().from_payload(data, bytes)


def test_client_config_builds_an_equal_client(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "c.db")
    client = Client(store, data_converter=sealed.sealed_converter)
    config = client.config()
    assert config["store"] is store and config["data_converter"] is sealed.sealed_converter
    other = Client(**config)
    assert other.data_converter is sealed.sealed_converter
    assert other.converter is client.converter
    assert other.clock is client.clock and other.interceptors == client.interceptors
    config["data_converter"] = default()
    replaced = Client(**config)
    assert replaced.data_converter.payload_codec is None
    assert replaced.store is store
    store.close()


def test_payload_and_data_converter_together_are_refused(tmp_path: Path) -> None:
    store = MemoryStore()
    with pytest.raises(TypeError, match="data_converter= or payload_converter=, not both"):
        Client(store, data_converter=default(), converter=default().payload_converter)

