"""A payload codec: every payload is compressed before it is stored and decompressed
when it is read, and the workflow and activity code never notice.

Written for the familiar SDK; docs/migrating.md says what to change to run it here.
"""

import asyncio
import dataclasses
import zlib
from collections.abc import Sequence
from datetime import timedelta

from temporalio import activity, converter, workflow
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.converter import PayloadCodec
from temporalio.worker import Worker

TASK_QUEUE = "compressed"
ENCODING = b"binary/zlib"


class CompressionCodec(PayloadCodec):
    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [Payload(metadata={"encoding": ENCODING},
                        data=zlib.compress(p.SerializeToString()))
                for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out: list[Payload] = []
        for p in payloads:
            if p.metadata.get("encoding", b"") != ENCODING:
                out.append(p)
                continue
            out.append(Payload.FromString(zlib.decompress(p.data)))
        return out


@activity.defn
async def shout(text: str) -> str:
    return text.upper()


@workflow.defn
class ShoutWorkflow:
    @workflow.run
    async def run(self, text: str) -> str:
        loud = await workflow.execute_activity(shout, text,
                                               start_to_close_timeout=timedelta(seconds=5))
        return f"{loud}!"


async def main() -> None:
    data_converter = dataclasses.replace(converter.default(),
                                         payload_codec=CompressionCodec())
    client = await Client.connect("localhost:7233", data_converter=data_converter)
    async with Worker(client, task_queue=TASK_QUEUE, workflows=[ShoutWorkflow],
                      activities=[shout]):
        result = await client.execute_workflow(ShoutWorkflow.run, "squeezed " * 20,
                                               id="shout-1", task_queue=TASK_QUEUE)
        print(result[:20], len(result))


if __name__ == "__main__":
    asyncio.run(main())
