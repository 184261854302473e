"""Group metadata and committed offsets in the store's metadata keyspace (Kafka keeps both in
``__consumer_offsets``: GroupMetadata and OffsetCommit records).

Keys (``Storage.put_meta_batch`` writes them atomically, ``meta_items`` reloads them):

====================================  =========================================================
``group.m.<group id>``                the group: JSON (type, protocol, generation, leader,
                                      state timestamp, members with metadata and assignment)
``group.o.<json [group, topic, p]>``  one committed offset: JSON (offset, leader epoch,
                                      metadata, commit and expire timestamps)
====================================  =========================================================

What is persisted follows Kafka: the group record on a completed rebalance (Empty) and on the
leader's SyncGroup (with every member's assignment), and on a static member's replacement; a
deleted group is a tombstone. A group loaded with members is Stable, without members Empty.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from chronik.broker.groups.classic import ClassicGroup, GroupState, Member
from chronik.storage.api import Storage

GROUP_PREFIX = "group.m."
OFFSET_PREFIX = "group.o."


@dataclass(slots=True)
class CommittedOffset:
    """One committed offset (Kafka's ``OffsetAndMetadata``)."""

    offset: int
    leader_epoch: int
    metadata: str
    commit_ms: int
    expire_ms: int | None = None  # explicit expiry (OffsetCommit v2-v4 retention_time_ms)


def group_key(group_id: str) -> str:
    return GROUP_PREFIX + group_id


def offset_key(group_id: str, topic: str, partition: int) -> str:
    return OFFSET_PREFIX + json.dumps([group_id, topic, partition], separators=(",", ":"))


def encode_offset(o: CommittedOffset) -> bytes:
    return json.dumps([o.offset, o.leader_epoch, o.metadata, o.commit_ms, o.expire_ms]).encode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def encode_group(group: ClassicGroup, assignment: dict[str, bytes] | None = None) -> bytes:
    """Kafka's GroupMetadataValue: members with the selected protocol's metadata and assignment."""
    members = []
    for m in group.members.values():
        members.append(
            {
                "id": m.member_id,
                "instance": m.group_instance_id,
                "client": m.client_id,
                "host": m.client_host,
                "rebalance": m.rebalance_timeout_ms,
                "session": m.session_timeout_ms,
                "protocols": [[n, _b64(d)] for n, d in m.protocols],
                "assignment": _b64((assignment or {}).get(m.member_id, m.assignment)),
            }
        )
    doc = {
        "type": group.protocol_type,
        "protocol": group.protocol_name,
        "generation": group.generation_id,
        "leader": group.leader_id,
        "ts": group.state_timestamp,
        "members": members,
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def decode_group(group_id: str, raw: bytes, now_ms: int) -> ClassicGroup:
    doc: dict[str, Any] = json.loads(raw)
    group = ClassicGroup(group_id, now_ms)
    group.protocol_type = doc["type"]
    group.generation_id = doc["generation"]
    group.state_timestamp = doc["ts"]
    for md in doc["members"]:
        member = Member(
            md["id"],
            md["instance"],
            md["client"],
            md["host"],
            md["rebalance"],
            md["session"],
            doc["type"] or "",
            [(n, base64.b64decode(d)) for n, d in md["protocols"]],
            base64.b64decode(md["assignment"]),
        )
        group.add(member, None)
    group.protocol_type = doc["type"]
    group.leader_id = doc["leader"] if doc["leader"] in group.members else group.leader_id
    group.protocol_name = doc["protocol"] if group.members else None
    group.state = GroupState.STABLE if group.members else GroupState.EMPTY
    group.subscribed_topics = group.compute_subscribed_topics()
    return group


class GroupStore:
    """Reads and writes groups and offsets through the storage metadata API."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def load(self, now_ms: int) -> tuple[dict[str, ClassicGroup], dict[str, dict[tuple[str, int], CommittedOffset]]]:
        groups = {}
        for key, raw in self.storage.meta_items(GROUP_PREFIX):
            gid = key[len(GROUP_PREFIX) :]
            groups[gid] = decode_group(gid, raw, now_ms)
        offsets: dict[str, dict[tuple[str, int], CommittedOffset]] = {}
        for key, raw in self.storage.meta_items(OFFSET_PREFIX):
            gid, topic, partition = json.loads(key[len(OFFSET_PREFIX) :])
            offset, epoch, metadata, commit_ms, expire_ms = json.loads(raw)
            offsets.setdefault(gid, {})[(topic, partition)] = CommittedOffset(
                offset, epoch, metadata, commit_ms, expire_ms
            )
        return groups, offsets

    def write(
        self,
        groups: dict[str, bytes | None] | None = None,
        offsets: dict[tuple[str, str, int], CommittedOffset | None] | None = None,
    ) -> None:
        """Write group records (None: delete) and offsets (None: delete) in one atomic batch."""
        items: dict[str, bytes | None] = {}
        for gid, value in (groups or {}).items():
            items[group_key(gid)] = value
        for (gid, topic, partition), o in (offsets or {}).items():
            items[offset_key(gid, topic, partition)] = None if o is None else encode_offset(o)
        if items:
            self.storage.put_meta_batch(items)
