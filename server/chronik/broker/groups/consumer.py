"""KIP-848 consumer groups: ConsumerGroupHeartbeat state, server-side assignment, reconciliation.

As Kafka's ``GroupMetadataManager.consumerGroupHeartbeat`` and ``CurrentAssignmentBuilder``:

- The group epoch is bumped when membership, a subscription (names or regex) or the partition
  counts of subscribed topics change; the target assignment is then recomputed by the assignor
  (``uniform`` or ``range``, the member's ``server_assignor`` or the first of
  ``group.consumer.assignors``) and stamped with that epoch.
- Each member reconciles towards the target: partitions it must give up are first revoked
  (state UNREVOKED_PARTITIONS, epoch unchanged) until the member's heartbeat no longer owns
  them; then it moves to the target epoch and gets the new partitions that no other member
  still owns (UNRELEASED_PARTITIONS until they are released), else STABLE. A member that does
  not revoke within its rebalance timeout, or stops heartbeating for
  ``group.consumer.session.timeout.ms``, is fenced (removed) and the group epoch bumped.
- Member epoch checks: a higher epoch than the member's, or a lower one other than the
  previous epoch with owned partitions within the assignment → FENCED_MEMBER_EPOCH; unknown
  member → UNKNOWN_MEMBER_ID. Epoch -1 leaves; -2 is a static member's temporary leave (its
  assignment is kept for the session timeout and handed to the next member with its
  ``instance_id``; a second live member with that id → UNRELEASED_INSTANCE_ID).
- v1 (KIP-1082): the client generates its member id; v0: the coordinator does on epoch 0.
- ``subscribed_topic_regex`` (KIP-848 regex subscriptions) is matched whole against topic
  names (Python ``re`` standing in for RE2/J), internal topics excluded.
- An Empty classic group (offsets only) becomes a consumer group on the first heartbeat, and
  an Empty consumer group a classic one on the first JoinGroup; non-empty groups of the other
  type are refused (GROUP_ID_NOT_FOUND here, INCONSISTENT_GROUP_PROTOCOL for JoinGroup).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chronik.broker.groups.assignors import ASSIGNORS
from chronik.broker.groups.coordinator import GroupCoordinator
from chronik.protocol.errors import ErrorCode
from chronik_protocol.messages.consumer_group_heartbeat_request import ConsumerGroupHeartbeatRequest
from chronik_protocol.messages.consumer_group_heartbeat_response import (
    Assignment,
    ConsumerGroupHeartbeatResponse,
    TopicPartitions,
)

log = logging.getLogger("chronik.groups")

PREFIX = "group.c."
LEAVE, STATIC_LEAVE = -1, -2
STABLE, UNREVOKED, UNRELEASED = "stable", "unrevoked_partitions", "unreleased_partitions"
TopicInfo = tuple[uuid.UUID, int]  # topic id, partition count
Parts = dict[str, set[int]]


@dataclass(frozen=True, slots=True)
class ConsumerGroupConfig:
    """``group.consumer.*`` (Kafka 4.4.0 defaults)."""

    session_timeout_ms: int = 45000
    heartbeat_interval_ms: int = 5000
    max_size: int = 2**31 - 1
    assignors: tuple[str, ...] = ("uniform", "range")

    @classmethod
    def from_broker(cls, config: Any) -> ConsumerGroupConfig:
        given = {name: value for name, value, _ in getattr(config, "ignored", ())}
        names = tuple(
            a.strip().rsplit(".", 1)[-1].lower().replace("assignor", "")
            for a in given.get("group.consumer.assignors", "uniform,range").split(",")
            if a.strip()
        )
        return cls(
            session_timeout_ms=int(given.get("group.consumer.session.timeout.ms", 45000)),
            heartbeat_interval_ms=int(given.get("group.consumer.heartbeat.interval.ms", 5000)),
            max_size=int(given.get("group.consumer.max.size", 2**31 - 1)),
            assignors=tuple(n for n in names if n in ASSIGNORS) or ("uniform", "range"),
        )


@dataclass(eq=False)
class ConsumerMember:
    member_id: str
    instance_id: str | None
    rack_id: str | None
    client_id: str
    client_host: str
    subscribed_names: list[str]
    regex: str | None
    server_assignor: str | None
    rebalance_timeout_ms: int
    epoch: int = 0
    previous_epoch: int = -1
    state: str = STABLE
    assigned: Parts = field(default_factory=dict)
    revoking: Parts = field(default_factory=dict)
    #: topic → partition → the member epoch it was assigned at (KIP-1251 commit checks)
    partition_epochs: dict[str, dict[int, int]] = field(default_factory=dict)

    def stamp(self, before: Parts) -> None:
        """Partitions new to the member get its current epoch; kept ones keep theirs."""
        stamped: dict[str, dict[int, int]] = {}
        for parts in (self.assigned, self.revoking):
            for t, ps in parts.items():
                for p in ps:
                    old = self.partition_epochs.get(t, {}).get(p)
                    kept = old is not None and p in before.get(t, ())
                    stamped.setdefault(t, {})[p] = old if kept else self.epoch  # type: ignore[assignment]
        self.partition_epochs = stamped


@dataclass(eq=False)
class ConsumerGroup:
    group_id: str
    epoch: int = 0
    assignment_epoch: int = 0
    members: dict[str, ConsumerMember] = field(default_factory=dict)
    target: dict[str, Parts] = field(default_factory=dict)
    partition_counts: dict[str, int] = field(default_factory=dict)
    assignor: str = "uniform"

    def static_member(self, instance_id: str | None) -> ConsumerMember | None:
        return next((m for m in self.members.values() if instance_id and m.instance_id == instance_id), None)

    def state(self) -> str:
        if not self.members:
            return "Empty"
        if self.assignment_epoch < self.epoch:
            return "Assigning"
        if any(m.epoch != self.assignment_epoch or m.state != STABLE for m in self.members.values()):
            return "Reconciling"
        return "Stable"

    def owner(self, topic: str, partition: int, exclude: str) -> str | None:
        for m in self.members.values():
            if m.member_id != exclude and (
                partition in m.assigned.get(topic, ()) or partition in m.revoking.get(topic, ())
            ):
                return m.member_id
        return None


def _parts_json(parts: Parts) -> dict[str, list[int]]:
    return {t: sorted(ps) for t, ps in parts.items() if ps}


def _parts(doc: dict[str, list[int]]) -> Parts:
    return {t: set(ps) for t, ps in doc.items()}


class ConsumerGroups:
    """The KIP-848 groups; registered as an extension of the classic coordinator."""

    def __init__(
        self,
        classic: GroupCoordinator,
        config: ConsumerGroupConfig,
        topics: Callable[[], dict[str, TopicInfo]],
    ) -> None:
        self.classic = classic
        self.config = config
        self.topics = topics
        self.storage = classic.store.storage
        self.groups: dict[str, ConsumerGroup] = {}
        #: set whenever a group is written; the heartbeat handler waits for durability, then clears it
        self.dirty = False
        for key, raw in self.storage.meta_items(PREFIX):
            group = self._decode(key[len(PREFIX) :], raw)
            self.groups[group.group_id] = group
            placeholder = classic.groups.get(group.group_id)
            if placeholder is not None and not placeholder.members:
                del classic.groups[group.group_id]  # created for its offsets; the group is ours
            for m in group.members.values():
                self._schedule_session(group, m)
        classic.extensions.append(self)

    # ---- persistence -------------------------------------------------------------------------------

    def _persist(self, group: ConsumerGroup) -> None:
        doc = {
            "epoch": group.epoch,
            "assignment_epoch": group.assignment_epoch,
            "assignor": group.assignor,
            "counts": group.partition_counts,
            "target": {m: _parts_json(p) for m, p in group.target.items()},
            "members": [
                {
                    "id": m.member_id,
                    "instance": m.instance_id,
                    "rack": m.rack_id,
                    "client": m.client_id,
                    "host": m.client_host,
                    "names": m.subscribed_names,
                    "regex": m.regex,
                    "assignor": m.server_assignor,
                    "rebalance": m.rebalance_timeout_ms,
                    "epoch": m.epoch,
                    "previous": m.previous_epoch,
                    "state": m.state,
                    "assigned": _parts_json(m.assigned),
                    "revoking": _parts_json(m.revoking),
                    "epochs": {t: {str(p): e for p, e in ps.items()} for t, ps in m.partition_epochs.items()},
                }
                for m in group.members.values()
            ],
        }
        self.storage.put_meta(PREFIX + group.group_id, json.dumps(doc, separators=(",", ":")).encode())
        self.dirty = True

    @staticmethod
    def _decode(group_id: str, raw: bytes) -> ConsumerGroup:
        doc = json.loads(raw)
        group = ConsumerGroup(group_id, doc["epoch"], doc["assignment_epoch"], assignor=doc["assignor"])
        group.partition_counts = dict(doc["counts"])
        group.target = {m: _parts(p) for m, p in doc["target"].items()}
        for md in doc["members"]:
            m = ConsumerMember(
                md["id"], md["instance"], md["rack"], md["client"], md["host"], md["names"], md["regex"],
                md["assignor"], md["rebalance"], md["epoch"], md["previous"], md["state"],
                _parts(md["assigned"]), _parts(md["revoking"]),
            )  # fmt: skip
            m.partition_epochs = {t: {int(p): e for p, e in ps.items()} for t, ps in md.get("epochs", {}).items()}
            group.members[m.member_id] = m
        return group

    # ---- extension hooks used by the classic coordinator and the handlers ----------------------------

    def owns(self, group_id: str) -> bool:
        return group_id in self.groups

    def drop_if_empty(self, group_id: str) -> bool:
        """An Empty consumer group gives way to a classic group (its offsets stay)."""
        group = self.groups.get(group_id)
        if group is None or group.members:
            return group is None
        del self.groups[group_id]
        self.storage.put_meta(PREFIX + group_id, None)
        return True

    def listing(self) -> list[tuple[str, str, str, str]]:
        return [(gid, "consumer", g.state(), "consumer") for gid, g in self.groups.items()]

    def validate_offset_commit(
        self, group_id: str, epoch: int, member_id: str, version: int
    ) -> int | Callable[[str, int], int]:
        """The member's epoch must be current; an older one (a commit racing the heartbeat that moved the
        member on) is accepted per partition when the member was assigned it at or before that epoch
        (KIP-1251's per-partition assignment epochs), else STALE_MEMBER_EPOCH."""
        group = self.groups[group_id]
        if epoch < 0 and not group.members:
            return ErrorCode.NONE
        member = group.members.get(member_id)
        if member is None:
            return ErrorCode.UNKNOWN_MEMBER_ID
        if version < 9:
            return ErrorCode.UNSUPPORTED_VERSION
        if epoch == member.epoch:
            return ErrorCode.NONE
        if epoch > member.epoch:
            return ErrorCode.STALE_MEMBER_EPOCH

        def check(topic: str, partition: int) -> int:
            assigned_at = member.partition_epochs.get(topic, {}).get(partition)
            ok = assigned_at is not None and assigned_at <= epoch
            return ErrorCode.NONE if ok else ErrorCode.STALE_MEMBER_EPOCH

        return check

    def validate_offset_fetch(self, group_id: str, member_id: str | None, epoch: int) -> int:
        if member_id is None and epoch < 0:
            return ErrorCode.NONE
        member = self.groups[group_id].members.get(member_id or "")
        if member is None:
            return ErrorCode.UNKNOWN_MEMBER_ID
        return ErrorCode.NONE if epoch == member.epoch else ErrorCode.STALE_MEMBER_EPOCH

    def delete_group(self, group_id: str) -> int:
        if self.groups[group_id].members:
            return ErrorCode.NON_EMPTY_GROUP
        del self.groups[group_id]
        self.classic.store.write(offsets=self.classic.offsets.delete_group_changes(group_id))
        self.storage.put_meta(PREFIX + group_id, None)
        return ErrorCode.NONE

    def subscribed_topics(self, group: ConsumerGroup) -> set[str]:
        return set(group.partition_counts)

    def subscribed_checker(self, group_id: str) -> Callable[[str], bool]:
        group = self.groups[group_id]
        return lambda topic: bool(group.members) and topic in self.subscribed_topics(group)

    def cleanup(self, now_ms: int, retention_ms: int) -> int:
        """Offsets expire ``retention_ms`` after their commit unless the group subscribes to the topic."""
        expired = 0
        for gid, group in list(self.groups.items()):
            subscribed = self.subscribed_topics(group) if group.members else set()
            expired += self.classic.offsets.expire(
                gid, now_ms, retention_ms, lambda o: o.commit_ms, subscribed.__contains__
            )
        return expired

    # ---- ConsumerGroupHeartbeat ------------------------------------------------------------------------

    def _invalid(self, req: ConsumerGroupHeartbeatRequest, version: int) -> tuple[int, str] | None:
        if not req.group_id:
            return ErrorCode.INVALID_REQUEST, "GroupId can't be empty."
        if req.instance_id == "":
            return ErrorCode.INVALID_REQUEST, "InstanceId can't be empty."
        if req.rack_id == "":
            return ErrorCode.INVALID_REQUEST, "RackId can't be empty."
        if version >= 1 and not req.member_id:
            return ErrorCode.INVALID_REQUEST, "MemberId can't be empty."
        epoch = req.member_epoch
        if epoch > 0 or epoch == LEAVE:
            if not req.member_id:
                return ErrorCode.INVALID_REQUEST, "MemberId can't be empty."
        elif epoch == 0:
            if req.rebalance_timeout_ms == -1:
                return ErrorCode.INVALID_REQUEST, "RebalanceTimeoutMs must be provided in first request."
            if req.topic_partitions is None or req.topic_partitions:
                return ErrorCode.INVALID_REQUEST, "TopicPartitions must be empty when (re-)joining."
            if req.subscribed_topic_names is None and req.subscribed_topic_regex is None:
                return (
                    ErrorCode.INVALID_REQUEST,
                    "Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.",
                )
        elif epoch == STATIC_LEAVE:
            if not req.member_id:
                return ErrorCode.INVALID_REQUEST, "MemberId can't be empty."
            if req.instance_id is None:
                return ErrorCode.INVALID_REQUEST, "InstanceId can't be null."
        else:
            return ErrorCode.INVALID_REQUEST, "MemberEpoch is invalid."
        if req.server_assignor is not None and req.server_assignor not in self.config.assignors:
            supported = ", ".join(self.config.assignors)
            return (
                ErrorCode.UNSUPPORTED_ASSIGNOR,
                f"ServerAssignor {req.server_assignor} is not supported. Supported assignors: {supported}.",
            )
        if req.subscribed_topic_regex:
            try:
                re.compile(req.subscribed_topic_regex)
            except re.error as exc:
                return ErrorCode.INVALID_REGULAR_EXPRESSION, f"SubscribedTopicRegex is invalid: {exc}"
        return None

    @staticmethod
    def _error(error: int, message: str | None = None) -> ConsumerGroupHeartbeatResponse:
        return ConsumerGroupHeartbeatResponse(error_code=error, error_message=message)

    def heartbeat(
        self, req: ConsumerGroupHeartbeatRequest, version: int, client_id: str, client_host: str
    ) -> ConsumerGroupHeartbeatResponse:
        invalid = self._invalid(req, version)
        if invalid:
            return self._error(*invalid)
        gid = req.group_id
        if req.member_epoch in (LEAVE, STATIC_LEAVE):
            return self._leave(req)
        group = self.groups.get(gid)
        if group is None:
            classic = self.classic.groups.get(gid)
            if classic is not None:
                if classic.members:
                    return self._error(ErrorCode.GROUP_ID_NOT_FOUND, f"Group {gid} is not a consumer group.")
                del self.classic.groups[gid]  # an Empty classic group (offsets only) becomes a consumer group
                self.classic.store.write(groups={gid: None})
            if req.member_epoch != 0:
                return self._error(ErrorCode.GROUP_ID_NOT_FOUND, f"Consumer group {gid} not found.")
            group = self.groups[gid] = ConsumerGroup(gid, assignor=self.config.assignors[0])
        member_id = req.member_id or str(uuid.uuid4())
        member = group.members.get(member_id)
        bump = False
        if req.member_epoch == 0:
            if member is None:
                static = group.static_member(req.instance_id)
                if static is not None:
                    if static.epoch != STATIC_LEAVE:
                        return self._error(
                            ErrorCode.UNRELEASED_INSTANCE_ID,
                            f"Static member {static.member_id} with instance id {req.instance_id} is not released yet.",
                        )
                    member = self._replace_static(group, static, member_id)
                else:
                    if len(group.members) >= self.config.max_size:
                        return self._error(
                            ErrorCode.GROUP_MAX_SIZE_REACHED,
                            f"The consumer group has reached its maximum capacity of {self.config.max_size} members.",
                        )
                    member = ConsumerMember(
                        member_id, req.instance_id, req.rack_id, client_id, client_host, [], None, None,
                        req.rebalance_timeout_ms,
                    )  # fmt: skip
                    group.members[member_id] = member
                    bump = True
                    log.info("consumer group %s: member %s joins", gid, member_id)
        else:
            if member is None:
                return self._error(ErrorCode.UNKNOWN_MEMBER_ID, f"Member {member_id} is not a member of group {gid}.")
            if req.instance_id is not None and member.instance_id != req.instance_id:
                return self._error(ErrorCode.FENCED_INSTANCE_ID, "Instance id does not match the member.")
            owned = self._owned(req)
            if req.member_epoch > member.epoch or (
                req.member_epoch < member.epoch
                and (req.member_epoch != member.previous_epoch or not _subset(owned, member.assigned))
            ):
                return self._error(
                    ErrorCode.FENCED_MEMBER_EPOCH,
                    f"The consumer group member has a {'greater' if req.member_epoch > member.epoch else 'smaller'} "
                    f"member epoch ({req.member_epoch}) than the one known by the group coordinator "
                    f"({member.epoch}). The member must abandon all its partitions and rejoin.",
                )
        before = (member.epoch, member.state, _parts_json(member.assigned), _parts_json(member.revoking))
        if req.rebalance_timeout_ms != -1:
            member.rebalance_timeout_ms = req.rebalance_timeout_ms
        member.client_id, member.client_host = client_id, client_host
        if req.rack_id is not None:
            member.rack_id = req.rack_id
        if req.subscribed_topic_names is not None and sorted(req.subscribed_topic_names) != sorted(
            member.subscribed_names
        ):
            member.subscribed_names = sorted(set(req.subscribed_topic_names))
            bump = True
        if req.subscribed_topic_regex is not None and (req.subscribed_topic_regex or None) != member.regex:
            member.regex = req.subscribed_topic_regex or None
            bump = True
        if req.server_assignor is not None and req.server_assignor != member.server_assignor:
            member.server_assignor = req.server_assignor
            bump = True
        counts = self._partition_counts(group)
        if counts != group.partition_counts:
            group.partition_counts = counts
            bump = True
        if bump:
            self._bump_and_assign(group)
        self._reconcile(group, member, self._owned(req))
        after = (member.epoch, member.state, _parts_json(member.assigned), _parts_json(member.revoking))
        if bump or before != after or req.member_epoch == 0:
            self._persist(group)
        self._schedule_session(group, member)
        self._schedule_revocation(group, member)
        response = ConsumerGroupHeartbeatResponse(
            member_id=member_id, member_epoch=member.epoch, heartbeat_interval_ms=self.config.heartbeat_interval_ms
        )
        full = (
            req.rebalance_timeout_ms != -1
            and (req.subscribed_topic_names is not None or req.subscribed_topic_regex is not None)
            and req.topic_partitions is not None
        )
        if req.member_epoch == 0 or full or before[2] != after[2]:
            response.assignment = self._assignment(member.assigned)
        return response

    def _owned(self, req: ConsumerGroupHeartbeatRequest) -> Parts | None:
        if req.topic_partitions is None:
            return None
        by_id = {tid: name for name, (tid, _) in self.topics().items()}
        owned: Parts = {}
        for tp in req.topic_partitions:
            name = by_id.get(tp.topic_id)
            if name is not None:
                owned.setdefault(name, set()).update(tp.partitions)
        return owned

    def _assignment(self, parts: Parts) -> Assignment:
        topics = self.topics()
        return Assignment(
            topic_partitions=[
                TopicPartitions(topic_id=topics[t][0], partitions=sorted(ps))
                for t, ps in sorted(parts.items())
                if ps and t in topics
            ]
        )

    def _partition_counts(self, group: ConsumerGroup) -> dict[str, int]:
        topics = self.topics()
        wanted: set[str] = set()
        for m in group.members.values():
            wanted.update(t for t in m.subscribed_names if t in topics)
            if m.regex:
                pattern = re.compile(m.regex)
                wanted.update(t for t in topics if not t.startswith("__") and pattern.fullmatch(t))
        return {t: topics[t][1] for t in sorted(wanted)}

    def _member_topics(self, group: ConsumerGroup, member: ConsumerMember) -> set[str]:
        topics = set(t for t in member.subscribed_names if t in group.partition_counts)
        if member.regex:
            pattern = re.compile(member.regex)
            topics.update(t for t in group.partition_counts if pattern.fullmatch(t))
        return topics

    def _bump_and_assign(self, group: ConsumerGroup) -> None:
        group.epoch += 1
        chosen = next((m.server_assignor for m in group.members.values() if m.server_assignor), None)
        group.assignor = chosen or self.config.assignors[0]
        subscriptions = {mid: self._member_topics(group, m) for mid, m in group.members.items()}
        group.target = ASSIGNORS[group.assignor](subscriptions, group.partition_counts, group.target)
        group.assignment_epoch = group.epoch
        log.info("consumer group %s: epoch %d, target assignment by %s", group.group_id, group.epoch, group.assignor)

    def _reconcile(self, group: ConsumerGroup, member: ConsumerMember, owned: Parts | None) -> None:
        """Kafka's ``CurrentAssignmentBuilder``: revoke first, then move to the target epoch."""
        before = {t: set(ps) for t, ps in member.assigned.items()}
        for t, ps in member.revoking.items():
            before.setdefault(t, set()).update(ps)
        self._next_assignment(group, member, owned)
        member.stamp(before)

    def _next_assignment(self, group: ConsumerGroup, member: ConsumerMember, owned: Parts | None) -> None:
        if member.state == UNREVOKED:
            if owned is None or any(owned.get(t, set()) & ps for t, ps in member.revoking.items()):
                return
            member.revoking = {}
        elif member.state == STABLE and member.epoch == group.assignment_epoch:
            return
        target = group.target.get(member.member_id, {})
        keep: Parts = {}
        revoke: Parts = {}
        for topic in set(target) | set(member.assigned):
            current, wanted = member.assigned.get(topic, set()), target.get(topic, set())
            if current & wanted:
                keep[topic] = current & wanted
            if current - wanted:
                revoke[topic] = current - wanted
        if revoke and (owned is None or any(owned.get(t, set()) & ps for t, ps in revoke.items())):
            member.assigned, member.revoking, member.state = keep, revoke, UNREVOKED
            return
        unreleased = False
        for topic, wanted in target.items():
            for p in wanted - keep.get(topic, set()):
                if group.owner(topic, p, member.member_id) is None:
                    keep.setdefault(topic, set()).add(p)
                else:
                    unreleased = True
        if member.epoch != group.assignment_epoch:
            member.previous_epoch, member.epoch = member.epoch, group.assignment_epoch
        member.assigned, member.revoking = keep, {}
        member.state = UNRELEASED if unreleased else STABLE

    def _replace_static(self, group: ConsumerGroup, old: ConsumerMember, member_id: str) -> ConsumerMember:
        """A static member back after a temporary leave: the new member id takes its assignment and epoch."""
        old_id = old.member_id
        del group.members[old_id]
        for kind in ("cg-session", "cg-revoke"):
            self.classic.timers.cancel((kind, group.group_id, old_id))
        old.member_id, old.epoch = member_id, max(old.previous_epoch, 0)
        group.members[member_id] = old
        if old_id in group.target:
            group.target[member_id] = group.target.pop(old_id)
        log.info("consumer group %s: static member %s rejoins as %s", group.group_id, old.instance_id, member_id)
        return old

    def _leave(self, req: ConsumerGroupHeartbeatRequest) -> ConsumerGroupHeartbeatResponse:
        group = self.groups.get(req.group_id)
        member = None if group is None else group.members.get(req.member_id)
        if group is None or member is None:
            return self._error(ErrorCode.UNKNOWN_MEMBER_ID, f"Member {req.member_id} is not a member of the group.")
        if req.member_epoch == STATIC_LEAVE:
            member.previous_epoch, member.epoch = member.epoch, STATIC_LEAVE
            self._persist(group)
            log.info("consumer group %s: static member %s leaves temporarily", group.group_id, member.instance_id)
        else:
            self._remove(group, member, "left the group")
        return ConsumerGroupHeartbeatResponse(member_id=req.member_id, member_epoch=req.member_epoch)

    def _remove(self, group: ConsumerGroup, member: ConsumerMember, why: str) -> None:
        group.members.pop(member.member_id, None)
        group.target.pop(member.member_id, None)
        for kind in ("cg-session", "cg-revoke"):
            self.classic.timers.cancel((kind, group.group_id, member.member_id))
        log.info("consumer group %s: member %s %s", group.group_id, member.member_id, why)
        group.partition_counts = self._partition_counts(group)
        self._bump_and_assign(group)
        self._persist(group)

    def _schedule_session(self, group: ConsumerGroup, member: ConsumerMember) -> None:
        gid, mid = group.group_id, member.member_id
        self.classic.timers.schedule(
            ("cg-session", gid, mid), self.config.session_timeout_ms, lambda: self._fence(gid, mid, "session timed out")
        )

    def _schedule_revocation(self, group: ConsumerGroup, member: ConsumerMember) -> None:
        gid, mid, key = group.group_id, member.member_id, ("cg-revoke", group.group_id, member.member_id)
        if member.state != UNREVOKED:
            self.classic.timers.cancel(key)
        elif not self.classic.timers.is_scheduled(key):
            self.classic.timers.schedule(
                key, member.rebalance_timeout_ms, lambda: self._fence(gid, mid, "did not revoke in time")
            )

    def _fence(self, gid: str, mid: str, why: str) -> None:
        group = self.groups.get(gid)
        member = None if group is None else group.members.get(mid)
        if group is not None and member is not None:
            self._remove(group, member, f"fenced: {why}")


def _subset(owned: Parts | None, assigned: Parts) -> bool:
    if owned is None:
        return True
    return all(ps <= assigned.get(t, set()) for t, ps in owned.items())
