"""How a worker waits out a passing store fault: capped backoff, and logs a person can read.

A StoreUnavailableError (the write lock held elsewhere past the busy timeout,
a full disk, an I/O error) means nothing was written and the same work may
succeed later. The worker's poll loop asks :class:`FaultBackoff` how long to
wait before its next pass, and tells it when a pass succeeds again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from replay.history import StoreUnavailableError

FIRST_DELAY = 0.05
"""Seconds before the first retry after a passing store fault."""
MAX_DELAY = 2.0
"""The cap of the doubling delay between retries."""
REPEAT_LOG = 30.0
"""While a fault lasts, it is logged again at most this often (and when it changes)."""


class FaultBackoff:
    """Delays between retries of a worker's poll loop while its store is unavailable.

    The first fault of an episode is logged at WARNING, then again when its
    reason changes or every ``REPEAT_LOG`` seconds; the pass that succeeds
    afterwards logs at INFO how long the store was unavailable.
    """

    def __init__(self, log: logging.Logger, describe: str,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._log = log
        self._describe = describe
        self._clock = clock
        self._delay = 0.0
        self._since: float | None = None
        self._logged_at = 0.0
        self._reason = ""
        self._retries = 0
        self.survived = 0
        """Passing faults waited out so far (every episode)."""

    def failed(self, exc: StoreUnavailableError) -> float:
        """Record a fault; the seconds to wait before the next pass."""
        now = self._clock()
        self._delay = min(MAX_DELAY, self._delay * 2) if self._delay else FIRST_DELAY
        self._retries += 1
        self.survived += 1
        if self._since is None or exc.reason != self._reason or \
                now - self._logged_at >= REPEAT_LOG:
            if self._since is None:
                self._since = now
            self._log.warning(
                "%s: the store is unavailable (%s); nothing was lost, retrying in %.2fs "
                "(backoff up to %.0fs): %s", self._describe, exc.reason or "fault",
                self._delay, MAX_DELAY, exc)
            self._logged_at = now
            self._reason = exc.reason
        return self._delay

    def succeeded(self) -> None:
        """A pass went through: end the episode, if one was running."""
        if self._since is None:
            return
        self._log.info("%s: the store is available again after %.2fs and %d retries",
                       self._describe, self._clock() - self._since, self._retries)
        self._since = None
        self._delay = 0.0
        self._retries = 0
        self._reason = ""
