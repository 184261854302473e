"""Topics and partitions as the single-node broker holds them in memory, over storage."""

from __future__ import annotations

import base64
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from chronik.storage.api import PartitionLog, TopicMeta

MAX_NAME_LENGTH = 249  # Kafka's Topic.MAX_NAME_LENGTH
_LEGAL = re.compile(r"^[a-zA-Z0-9._-]+$")


def topic_name_error(name: str | None) -> str | None:
    """Why ``name`` is not a legal topic name (Kafka's ``Topic.validate``), or None."""
    if not name:
        return "Topic name is illegal, it can't be empty"
    if name in {".", ".."}:
        return 'Topic name cannot be "." or ".."'
    if len(name) > MAX_NAME_LENGTH:
        return f"Topic name is illegal, it can't be longer than {MAX_NAME_LENGTH} characters, topic name: {name}"
    if not _LEGAL.match(name):
        return (
            f"Topic name \"{name}\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' "
            "and '-'"
        )
    return None


def kafka_uuid_string(u: uuid.UUID) -> str:
    """``org.apache.kafka.common.Uuid.toString()``: url-safe base64, no padding."""
    return base64.urlsafe_b64encode(u.bytes).decode().rstrip("=")


def new_topic_id() -> uuid.UUID:
    """A random topic id as Kafka makes them (``Uuid.randomUuid``): never zero, never the
    metadata topic's id (1), never one whose string form starts with '-'."""
    while True:
        u = uuid.uuid4()
        if u.int > 1 and not kafka_uuid_string(u).startswith("-"):
            return u


@dataclass(eq=False)
class Partition:
    """One partition: its log and who waits for data on it (long-polling fetches)."""

    topic: Topic
    index: int
    log: PartitionLog
    leader_epoch: int = 0
    producers: Any = None  # chronik.broker.producer_state.ProducerStates, loaded lazily
    waiters: list[Any] = field(default_factory=list)

    @property
    def high_watermark(self) -> int:
        return self.log.log_end_offset


@dataclass(eq=False)
class Topic:
    """A topic: name, id, explicit configs, partitions."""

    name: str
    topic_id: uuid.UUID
    configs: dict[str, str]
    partitions: list[Partition] = field(default_factory=list)
    effective: dict[str, Any] | None = None  # typed effective configs, computed on first use

    def meta(self) -> TopicMeta:
        return TopicMeta(self.name, self.topic_id, len(self.partitions), dict(self.configs))

    def is_internal(self) -> bool:
        return self.name in {"__consumer_offsets", "__transaction_state"}
