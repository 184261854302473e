"""The single-node broker's state: cluster identity, topics and partitions over storage.

Everything here runs on the reactor thread and is synchronous; handlers (one module per API
in ``chronik.broker.handlers``) read and change it. Waiting (long-polling fetches, group
commits) is arranged by the handlers through callbacks registered here.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from chronik.broker.fetch_sessions import FetchSessionCache
from chronik.broker.topics import Partition, Topic, kafka_uuid_string, new_topic_id
from chronik.quotas import ClientQuotas
from chronik.security.acl import Authorizer
from chronik.storage.api import Storage, TopicMeta

log = logging.getLogger("chronik.broker")

CLUSTER_ID_KEY = "cluster.id"
PRODUCER_ID_KEY = "producer.id.next"
PRODUCER_ID_BLOCK = 1000  # producer ids are reserved durably in blocks, as Kafka's controller hands them out


class Broker:
    """Cluster metadata and partition logs of one node."""

    def __init__(
        self,
        storage: Storage,
        topic_configs: Callable[[dict[str, str]], dict[str, Any]],
        *,
        node_id: int,
        host: str,
        port: int,
        cluster_id: str | None = None,
        now_ms: Callable[[], int] = lambda: int(time.time() * 1000),
        call_later: Callable[[float, Callable[[], None]], Any] | None = None,
    ) -> None:
        self.storage = storage
        self._topic_configs = topic_configs
        self.node_id = node_id
        self.host = host
        self.port = port
        #: advertised (host, port) per listener name; a client sees the one of the listener it connected to
        self.advertised: dict[str, tuple[str, int]] = {}
        self.now_ms = now_ms
        #: schedules a delayed call, returning an object with ``cancel()``/``active()`` (reactor.callLater)
        self.call_later = call_later
        #: set in sync mode (chronik.broker.group_commit.GroupCommit): acks wait for durability
        self.group_commit: Any = None
        self.fetch_sessions = FetchSessionCache()
        #: the group coordinator (chronik.broker.groups), attached by the group handlers on first use
        self.groups: Any = None
        #: called with each deleted Topic (the group coordinator drops its committed offsets)
        self.topic_deleted_hooks: list[Callable[[Topic], None]] = []
        #: ACL authorization (chronik.security.acl); the app enables it when authorizer.class.name is set
        self.authorizer = Authorizer.disabled()
        #: client quotas (chronik.quotas): durable entities, enforced by Produce/Fetch and the network layer
        self.quotas = ClientQuotas(storage)
        self.cluster_id = cluster_id or self._load_cluster_id()
        self.topics: dict[str, Topic] = {}
        self.topics_by_id: dict[uuid.UUID, Topic] = {}
        self._next_producer_id, self._producer_id_limit = 0, 0
        for meta in storage.topics():
            self._install(meta)
        log.info("loaded %d topics, cluster id %s", len(self.topics), self.cluster_id)

    # ---- identity --------------------------------------------------------------------------

    def address_for(self, listener_name: str | None) -> tuple[str, int]:
        """The advertised (host, port) for a client on ``listener_name`` (Kafka: the same listener's endpoint)."""
        if listener_name is not None:
            found = self.advertised.get(listener_name.upper())
            if found is not None:
                return found
        return self.host, self.port

    def _load_cluster_id(self) -> str:
        raw = self.storage.get_meta(CLUSTER_ID_KEY)
        if raw:
            return raw.decode()
        cluster_id = kafka_uuid_string(new_topic_id())
        self.storage.put_meta(CLUSTER_ID_KEY, cluster_id.encode())
        return cluster_id

    def next_producer_id(self) -> int:
        """A producer id never handed out before, across restarts."""
        if self._next_producer_id >= self._producer_id_limit:
            raw = self.storage.get_meta(PRODUCER_ID_KEY)
            start = int(raw) if raw else 0
            self._next_producer_id, self._producer_id_limit = start, start + PRODUCER_ID_BLOCK
            self.storage.put_meta(PRODUCER_ID_KEY, str(self._producer_id_limit).encode())
            self.storage.sync()
        pid = self._next_producer_id
        self._next_producer_id += 1
        return pid

    # ---- topics ----------------------------------------------------------------------------

    def _install(self, meta: TopicMeta) -> Topic:
        topic = Topic(meta.name, meta.topic_id, dict(meta.configs))
        topic.partitions = [
            Partition(topic, i, self.storage.partition(meta.topic_id, i)) for i in range(meta.partitions)
        ]
        self.topics[topic.name] = topic
        self.topics_by_id[topic.topic_id] = topic
        return topic

    def create_topic(self, name: str, partitions: int, configs: dict[str, str]) -> Topic:
        """Create and persist a topic (the caller validated name, count and configs)."""
        meta = TopicMeta(name, new_topic_id(), partitions, dict(configs))
        self.storage.create_topic(meta)
        log.info("created topic %s (%s) with %d partitions", name, kafka_uuid_string(meta.topic_id), partitions)
        return self._install(meta)

    def delete_topic(self, topic: Topic) -> None:
        self.storage.delete_topic(topic.topic_id)
        del self.topics[topic.name]
        del self.topics_by_id[topic.topic_id]
        for partition in topic.partitions:
            self.notify(partition)  # waiting fetches see the topic gone
        for hook in self.topic_deleted_hooks:
            hook(topic)
        log.info("deleted topic %s", topic.name)

    def add_partitions(self, topic: Topic, total: int) -> None:
        meta = topic.meta()
        meta.partitions = total
        self.storage.update_topic(meta)
        for i in range(len(topic.partitions), total):
            topic.partitions.append(Partition(topic, i, self.storage.partition(topic.topic_id, i)))

    def set_topic_configs(self, topic: Topic, configs: dict[str, str]) -> None:
        topic.configs = dict(configs)
        topic.effective = None
        self.storage.update_topic(topic.meta())

    def config(self, topic: Topic, name: str) -> Any:
        """The effective value of topic config ``name`` (topic override, broker synonym, default)."""
        if topic.effective is None:
            topic.effective = self._topic_configs(topic.configs)
        return topic.effective[name]

    def partition(self, topic: Topic | None, index: int) -> Partition | None:
        if topic is None or not 0 <= index < len(topic.partitions):
            return None
        return topic.partitions[index]

    # ---- waiting for data ------------------------------------------------------------------

    def notify(self, partition: Partition) -> None:
        """Wake whoever waits for data on ``partition`` (a long-polling fetch)."""
        if partition.waiters:
            waiters, partition.waiters = partition.waiters, []
            for wake in waiters:
                wake()
