"""Group commit: one fsync makes every pending write durable (sync mode).

With ``log.flush.interval.messages=1`` (or a topic's ``flush.messages=1``) a produce is
acknowledged only once its batch is on disk. Appends are written without sync on the reactor
thread; each acknowledgement then waits here. One ``storage.sync()`` runs at a time in a worker
thread (rocksdict's ``flush_wal(True)`` releases the GIL, so the reactor keeps serving);
everything that asked while it ran waits for the next one, which then covers all of them —
one fsync per round, not per request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred

log = logging.getLogger("chronik.broker")


class GroupCommit:
    """Batches durability waits into as few ``sync`` calls as possible."""

    def __init__(self, sync: Callable[[], None], run_in_thread: Callable[[Callable[[], None]], Deferred[Any]]) -> None:
        self._sync = sync
        self._run_in_thread = run_in_thread
        self._waiting: list[Deferred[None]] = []
        self._running = False
        self.syncs = 0  # how many fsync rounds ran (for tests and metrics)

    def wait(self) -> Deferred[None]:
        """A Deferred firing once everything written before this call is durable."""
        d: Deferred[None] = Deferred()
        self._waiting.append(d)
        if not self._running:
            self._start()
        return d

    def _start(self) -> None:
        batch, self._waiting = self._waiting, []
        self._running = True
        self.syncs += 1
        self._run_in_thread(self._sync).addBoth(self._finished, batch)

    def _finished(self, result: Any, batch: list[Deferred[None]]) -> None:
        self._running = False
        failed = result if hasattr(result, "raiseException") else None
        if failed is not None:
            log.error("sync failed: %s", failed.getErrorMessage())
        for d in batch:
            if failed is not None:
                d.errback(failed)
            else:
                d.callback(None)
        if self._waiting:
            self._start()
