"""Two worker processes share one PostgreSQL store; one is SIGKILLed, the other finishes.

``python examples/postgres_demo.py [URL]``: URL (or $REPLAY_POSTGRES_URL) names
the server, e.g. ``postgresql://user@host/db?schema=demo``; without one, a
throwaway server is started from the test extra's binaries (in a checkout).

1. start workers "host-a" and "host-b" (separate processes, TCP connections);
2. start 6 runs of a 6-step workflow;
3. once steps are running, kill -9 host-a, mid-work;
4. host-b finds host-a dead by its stale heartbeat, takes its leases over and
   completes every run;
5. check every history: each step completed exactly once, nothing lost.
"""

import asyncio
import collections
import os
import signal
import subprocess
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from examples.steps import StepsWorkflow
from replay.client import Client
from replay.history import ActivityCompleted, ActivityScheduled, WorkflowTaskCompleted

HERE = os.path.dirname(os.path.abspath(__file__))
RUNS, STEPS = 6, 6


def start_worker(url: str, identity: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "postgres_worker.py"), url,
                             identity], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    print(proc.stdout.readline().decode().strip(), flush=True)  # "<identity> ready"
    return proc


async def demo(url: str) -> int:
    client = await Client.connect(url)
    host_a = start_worker(url, "host-a")
    host_b = start_worker(url, "host-b")
    try:
        handles = [await client.start_workflow(StepsWorkflow.run, STEPS, id=f"steps-{i}",
                                               task_queue="steps") for i in range(RUNS)]
        while not any(isinstance(e, ActivityCompleted)
                      for h in handles for e in client.store.read(h.result_run_id or "")):
            await asyncio.sleep(0.02)
        host_a.send_signal(signal.SIGKILL)
        host_a.wait()
        print("killed host-a mid-work (kill -9)", flush=True)
        results = [await asyncio.wait_for(h.result(), 60) for h in handles]
    finally:
        for proc in (host_a, host_b):
            if proc.poll() is None:
                proc.terminate()
                proc.wait(10)
    print(f"results: {results}")
    problems = 0
    for h in handles:
        events = client.store.read(h.result_run_id or "")
        scheduled = [e.event_id for e in events if isinstance(e, ActivityScheduled)]
        done = collections.Counter(e.scheduled_event_id for e in events
                                   if isinstance(e, ActivityCompleted))
        hosts = sorted({e.identity for e in events if isinstance(e, WorkflowTaskCompleted)})
        ok = sorted(done) == scheduled and set(done.values()) == {1}
        problems += not ok
        print(f"{h.id}: {len(scheduled)} steps, each completed once: {ok}; "
              f"workflow tasks by {', '.join(hosts)}")
    client.close()
    print("every step completed exactly once" if not problems else f"{problems} bad runs")
    return 1 if problems or results != [sum(i * i for i in range(STEPS))] * RUNS else 0


def main() -> int:
    url = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("REPLAY_POSTGRES_URL")
    if url:
        return asyncio.run(demo(url))
    from tests import postgres_server  # a checkout: start a throwaway server

    server = postgres_server.start()
    try:
        return asyncio.run(demo(f"{server.url}?schema=demo_{uuid.uuid4().hex[:8]}"))
    finally:
        server.stop()


if __name__ == "__main__":
    raise SystemExit(main())
