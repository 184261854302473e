"""Incremental fetch sessions (KIP-227; Kafka's FetchSession.scala / FetchManager).

A consumer first sends a full fetch with session id 0 and epoch 0 (INITIAL): the broker
answers in full and, when it has room, with a new session id. Later requests name that id and
the next epoch (1, 2, …, wrapping to 1) and list only what changed — partitions to add or
update, and ``forgotten_topics_data`` to drop — and the response carries only partitions with
news: records, an error, or a changed high watermark, last stable offset or log start offset.
Epoch -1 (FINAL) with a session id closes it; id 0 with epoch -1 is a sessionless full fetch.
An unknown id → FETCH_SESSION_ID_NOT_FOUND, a wrong epoch → INVALID_FETCH_SESSION_EPOCH.
"""

from __future__ import annotations

import itertools
import random
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

INITIAL_EPOCH, FINAL_EPOCH = 0, -1
INT32_MAX = 0x7FFFFFFF
DEFAULT_SLOTS = 1000  # Kafka's max.incremental.fetch.session.cache.slots


@dataclass(slots=True)
class SessionPartition:
    """One partition of a session, with what the client was last told about it."""

    topic: str
    topic_id: uuid.UUID
    partition: int
    fetch_offset: int
    max_bytes: int
    current_leader_epoch: int = -1
    high_watermark: int = -1
    last_stable_offset: int = -1
    log_start_offset: int = -1


Key = tuple[Any, int]  # (topic name, or topic id in v13+, partition)


@dataclass(slots=True)
class FetchSession:
    id: int
    epoch: int  # the epoch the next incremental request must carry
    partitions: dict[Key, SessionPartition]
    last_used: float


def next_epoch(epoch: int) -> int:
    return 1 if epoch >= INT32_MAX else epoch + 1


class FetchSessionCache:
    """Sessions by id; the least recently used one is evicted when all slots are taken."""

    def __init__(self, slots: int = DEFAULT_SLOTS, clock: Any = time.monotonic) -> None:
        self.slots = slots
        self.clock = clock
        self.sessions: OrderedDict[int, FetchSession] = OrderedDict()
        self._ids = itertools.count(random.randint(1, 1 << 20))

    def create(self, partitions: dict[Key, SessionPartition]) -> int:
        """A new session holding ``partitions``; 0 when sessions are disabled (no slots)."""
        if self.slots <= 0:
            return 0
        while len(self.sessions) >= self.slots:
            self.sessions.popitem(last=False)
        sid = next(self._ids) & INT32_MAX or next(self._ids)
        self.sessions[sid] = FetchSession(sid, 1, partitions, self.clock())
        return sid

    def get(self, session_id: int) -> FetchSession | None:
        session = self.sessions.get(session_id)
        if session is not None:
            session.last_used = self.clock()
            self.sessions.move_to_end(session_id)
        return session

    def remove(self, session_id: int) -> None:
        self.sessions.pop(session_id, None)
