"""Has work for this worker come since it last looked? The store's wake-up scope says.

A worker skips a poll (for workflow tasks, queries, timers, cancellations) while
no commit has landed since the last look that found nothing. "A commit" is one
this worker could act on, as the store's unscoped ``wait_changed`` sees them: on
a store whose commits name what they concern (PostgreSQL, where the commits of
every process arrive), commits that give one of the worker's task queues work;
elsewhere any commit. So a worker does not poll after every step of runs that
another process steps by itself.
"""

from __future__ import annotations

from replay.history import Store


async def changed_since(store: Store, since: int | None, token: int) -> bool:
    """True if a commit the worker's waits would wake for landed after ``since`` (a
    ``change_token()``; None: never looked), as of ``token`` (the token now).

    Never suspends: it asks the store's ``wait_changed`` without waiting.
    """
    if since is None:
        return True
    if since == token:
        return False
    return await store.wait_changed(0, since=since)
