"""A payload codec that compresses and scrambles payloads, and a workflow that sends every
kind of payload through it: arguments, an activity's argument and result (and a
failed attempt's details), a child, a signal, an update with a validator, a query,
a memo, a side effect and a heartbeat.

The codec draws a fresh nonce per payload, so the same value never encodes the same
way twice: replay must compare decoded payloads. ``SECRET`` must never reach the
store in plain text. ``sealed_converter`` is what ``--data-converter`` names.
"""

from __future__ import annotations

import dataclasses
import os
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from replay import activity, workflow
from replay.common import RetryPolicy
from replay.converter import DataConverter, Payload, PayloadCodec, default
from replay.exceptions import ApplicationError

SECRET = "PLAINTEXT-SECRET-7d41"
SEALED = b"binary/sealed"
QUEUE = "sealed"


def _scramble(data: bytes, nonce: bytes) -> bytes:
    key = (nonce * (len(data) // len(nonce) + 1))[: len(data)]
    return bytes(a ^ b for a, b in zip(data, key, strict=True))


class SealedCodec(PayloadCodec):
    """zlib, then XOR with a per-payload random nonce (a stand-in for encryption)."""

    def __init__(self) -> None:
        self.encoded = 0
        self.decoded = 0

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        self.encoded += len(payloads)
        out = []
        for p in payloads:
            nonce = os.urandom(8)
            data = _scramble(zlib.compress(p.SerializeToString()), nonce)
            out.append(Payload(metadata={"encoding": SEALED, "nonce": nonce}, data=data))
        return out

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        self.decoded += len(payloads)
        out = []
        for p in payloads:
            if p.metadata.get("encoding") != SEALED:
                out.append(p)  # not ours (plain JSON, written before the codec was used)
                continue
            raw = zlib.decompress(_scramble(p.data, p.metadata["nonce"]))
            out.append(Payload.FromString(raw))
        return out


sealed_converter: DataConverter = dataclasses.replace(default(), payload_codec=SealedCodec())


@dataclass
class Order:
    customer: str
    items: list[str]


@dataclass
class Receipt:
    customer: str
    items: list[str]
    note: str
    child: str
    token: str


ATTEMPTS: list[int] = []


@activity.defn
async def seal_items(order: Order) -> list[str]:
    info = activity.info()
    ATTEMPTS.append(info.attempt)
    if info.attempt == 1:
        activity.heartbeat(f"halfway {SECRET}")
        raise ApplicationError(f"first attempt fails {len(order.items)}", SECRET)
    return [f"sealed:{item}" for item in order.items]


@workflow.defn
class SealedChild:
    @workflow.run
    async def run(self, word: str) -> str:
        return word.upper()


@workflow.defn
class SealedWorkflow:
    def __init__(self) -> None:
        self.items: list[str] = []
        self.note: str | None = None

    @workflow.run
    async def run(self, order: Order) -> Receipt:
        self.items = list(order.items)
        sealed = await workflow.execute_activity(
            seal_items, order, start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=10)))
        child = await workflow.execute_child_workflow(SealedChild.run, order.customer,
                                                      id=f"{workflow.info().workflow_id}-c")
        token = workflow.uuid4().hex[:8]
        await workflow.wait_condition(lambda: self.note is not None)
        assert self.note is not None
        memo = workflow.memo_value("secret", "", type_hint=str)
        return Receipt(order.customer, [*sealed, *self.items[len(order.items):]],
                       f"{self.note}/{memo}", child, token)

    @workflow.signal
    async def approve(self, note: str) -> None:
        self.note = note

    @workflow.update
    async def add_item(self, item: str) -> int:
        self.items.append(item)
        return len(self.items)

    @add_item.validator
    def _check_item(self, item: str) -> None:
        if not item:
            raise ValueError("empty item")

    @workflow.query
    def current_items(self) -> list[str]:
        return list(self.items)


WORKFLOWS: list[type] = [SealedWorkflow, SealedChild]
ACTIVITIES = [seal_items]
