"""Consumer groups and committed offsets: the broker's group coordinator.

- :mod:`.classic`: a classic group's members and states (Kafka's ``ClassicGroup``).
- :mod:`.coordinator`: the JoinGroup/SyncGroup/Heartbeat/LeaveGroup rules, timers, deletes.
- :mod:`.consumer`, :mod:`.assignors`: KIP-848 consumer groups (ConsumerGroupHeartbeat).
- :mod:`.offsets`: committed offsets and their retention.
- :mod:`.persistence`: groups and offsets in the store's metadata keys (restored on start).
- :mod:`.timers`: keyed timers over the broker's ``call_later``.

The single node is the coordinator of every group. Handlers reach the coordinator through
:func:`coordinator`, which creates it on first use and hooks topic deletion.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chronik.broker.groups.consumer import ConsumerGroupConfig, ConsumerGroups
from chronik.broker.groups.coordinator import GroupConfig, GroupCoordinator

if TYPE_CHECKING:
    from chronik.broker.handlers import HandlerEnv

__all__ = ["ConsumerGroups", "GroupConfig", "GroupCoordinator", "consumer_groups", "coordinator"]


def coordinator(env: HandlerEnv) -> GroupCoordinator:
    """The broker's group coordinator, created (and loaded from storage) on first use."""
    broker = env.broker
    existing = broker.groups
    if existing is None:
        existing = GroupCoordinator(
            broker.storage,
            GroupConfig.from_broker(env.config),
            now_ms=broker.now_ms,
            call_later=broker.call_later,
        )
        ConsumerGroups(
            existing,
            ConsumerGroupConfig.from_broker(env.config),
            lambda: {name: (t.topic_id, len(t.partitions)) for name, t in broker.topics.items()},
        )
        broker.groups = existing
        broker.topic_deleted_hooks.append(lambda topic: existing.topic_deleted(topic.name))
    return existing


def consumer_groups(env: HandlerEnv) -> ConsumerGroups:
    """The KIP-848 consumer groups (an extension of the coordinator)."""
    return next(e for e in coordinator(env).extensions if isinstance(e, ConsumerGroups))
