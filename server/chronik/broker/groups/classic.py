"""A classic (JoinGroup/SyncGroup) group's membership, as Kafka's ``ClassicGroup`` keeps it.

Pure data and bookkeeping, no timers and no I/O: the rules that move a group between states
live in :mod:`chronik.broker.groups.coordinator`. States: Empty, PreparingRebalance,
CompletingRebalance, Stable, Dead. A member waiting for its JoinGroup (or SyncGroup) response
holds a callback (``awaiting_join`` / ``awaiting_sync``) that the coordinator completes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from chronik_protocol.messages.consumer_protocol_subscription import ConsumerProtocolSubscription

CONSUMER_PROTOCOL_TYPE = "consumer"

Respond = Callable[[Any], None]


class GroupState(Enum):
    """Classic group states (``ClassicGroupState``) with the names DescribeGroups/ListGroups use."""

    EMPTY = "Empty"
    PREPARING_REBALANCE = "PreparingRebalance"
    COMPLETING_REBALANCE = "CompletingRebalance"
    STABLE = "Stable"
    DEAD = "Dead"


#: States a group may enter PreparingRebalance from (``ClassicGroupState.validPreviousStates``).
CAN_REBALANCE = {GroupState.STABLE, GroupState.COMPLETING_REBALANCE, GroupState.EMPTY}


@dataclass(eq=False)
class Member:
    """One member (``ClassicGroupMember``): protocols in preference order, timeouts, assignment."""

    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    rebalance_timeout_ms: int
    session_timeout_ms: int
    protocol_type: str
    protocols: list[tuple[str, bytes]]
    assignment: bytes = b""
    is_new: bool = False
    awaiting_join: Respond | None = None
    awaiting_sync: Respond | None = None

    def protocol_names(self) -> list[str]:
        return [name for name, _ in self.protocols]

    def metadata(self, protocol: str | None) -> bytes:
        for name, data in self.protocols:
            if name == protocol:
                return data
        return b""

    def matches(self, protocols: list[tuple[str, bytes]]) -> bool:
        """Same protocols, in the same order, with the same metadata (a rejoin changing nothing)."""
        return [(n, bytes(m)) for n, m in protocols] == [(n, bytes(m)) for n, m in self.protocols]

    def vote(self, candidates: set[str]) -> str | None:
        """The first of this member's protocols that every member supports."""
        return next((n for n in self.protocol_names() if n in candidates), None)

    def has_satisfied_heartbeat(self) -> bool:
        """Kafka: a new member may expire while awaiting join; members awaiting a rebalance are alive."""
        if self.is_new:
            return False
        return self.awaiting_join is not None or self.awaiting_sync is not None


@dataclass(eq=False)
class ClassicGroup:
    """A classic group's state; generation 0 and Empty when new."""

    group_id: str
    now_ms: int
    state: GroupState = GroupState.EMPTY
    previous_state: GroupState | None = None
    state_timestamp: int = 0
    generation_id: int = 0
    protocol_type: str | None = None
    protocol_name: str | None = None
    leader_id: str | None = None
    members: dict[str, Member] = field(default_factory=dict)
    static_members: dict[str, str] = field(default_factory=dict)  # group instance id → member id
    pending_members: set[str] = field(default_factory=set)  # KIP-394: handed an id, not joined yet
    pending_sync: set[str] = field(default_factory=set)
    supported_protocols: dict[str, int] = field(default_factory=dict)
    new_member_added: bool = False
    subscribed_topics: set[str] | None = None

    def __post_init__(self) -> None:
        self.state_timestamp = self.now_ms

    # ---- state ---------------------------------------------------------------------------------

    def transition(self, state: GroupState, now_ms: int) -> None:
        self.previous_state, self.state = self.state, state
        self.state_timestamp = now_ms

    def is_state(self, *states: GroupState) -> bool:
        return self.state in states

    def can_rebalance(self) -> bool:
        return self.state in CAN_REBALANCE

    # ---- members -------------------------------------------------------------------------------

    def has_member(self, member_id: str) -> bool:
        return member_id in self.members

    def is_leader(self, member_id: str) -> bool:
        return self.leader_id == member_id

    def static_member_id(self, instance_id: str | None) -> str | None:
        return None if instance_id is None else self.static_members.get(instance_id)

    def add(self, member: Member, respond: Respond | None) -> None:
        if not self.members:
            self.protocol_type = member.protocol_type
        self.members[member.member_id] = member
        if self.leader_id is None:
            self.leader_id = member.member_id
        if member.group_instance_id is not None:
            self.static_members[member.group_instance_id] = member.member_id
        for name in member.protocol_names():
            self.supported_protocols[name] = self.supported_protocols.get(name, 0) + 1
        member.awaiting_join = respond
        self.pending_members.discard(member.member_id)

    def remove(self, member_id: str) -> Member | None:
        self.pending_members.discard(member_id)
        self.pending_sync.discard(member_id)
        member = self.members.pop(member_id, None)
        if member is None:
            return None
        for name in member.protocol_names():
            self.supported_protocols[name] -= 1
        if member.group_instance_id is not None and self.static_members.get(member.group_instance_id) == member_id:
            del self.static_members[member.group_instance_id]
        if self.leader_id == member_id:
            self.leader_id = next(iter(self.members), None)
        return member

    def update_member(
        self,
        member: Member,
        protocols: list[tuple[str, bytes]],
        rebalance_ms: int,
        session_ms: int,
        respond: Respond | None,
    ) -> None:
        for name in member.protocol_names():
            self.supported_protocols[name] -= 1
        member.protocols = protocols
        for name in member.protocol_names():
            self.supported_protocols[name] = self.supported_protocols.get(name, 0) + 1
        member.rebalance_timeout_ms, member.session_timeout_ms = rebalance_ms, session_ms
        member.awaiting_join = respond

    def replace_static_member(self, instance_id: str, old_id: str, new_id: str) -> Member:
        """KIP-345: the member with ``instance_id`` takes ``new_id``; the caller fences the old id."""
        member = self.members.pop(old_id)
        member.member_id = new_id
        self.members[new_id] = member
        if self.leader_id == old_id:
            self.leader_id = new_id
        self.static_members[instance_id] = new_id
        self.pending_sync.discard(old_id)
        return member

    def awaiting_join_count(self) -> int:
        return sum(1 for m in self.members.values() if m.awaiting_join is not None)

    def has_all_members_joined(self) -> bool:
        return len(self.members) == self.awaiting_join_count() and not self.pending_members

    def not_yet_rejoined(self) -> list[Member]:
        return [m for m in self.members.values() if m.awaiting_join is None]

    def rebalance_timeout_ms(self) -> int:
        """The longest rebalance timeout of the members (Kafka's ``rebalanceTimeoutMs``)."""
        return max((m.rebalance_timeout_ms for m in self.members.values()), default=0)

    # ---- protocols -----------------------------------------------------------------------------

    def supports_protocols(self, protocol_type: str, protocols: list[tuple[str, bytes]]) -> bool:
        """A joining member must share the group's protocol type and one protocol all members support."""
        if self.state == GroupState.EMPTY:
            return bool(protocol_type) and bool(protocols)
        n = len(self.members)
        return self.protocol_type == protocol_type and any(
            self.supported_protocols.get(p, 0) == n for p, _ in protocols
        )

    def select_protocol(self) -> str | None:
        """The protocol supported by all members that gets the most first-choice votes."""
        n = len(self.members)
        candidates = {p for p, c in self.supported_protocols.items() if c == n and n}
        votes: dict[str, int] = {}
        for m in self.members.values():
            choice = m.vote(candidates)
            if choice is not None:
                votes[choice] = votes.get(choice, 0) + 1
        best = None
        for name, count in votes.items():  # first maximum, like Java's stream max over a HashMap
            if best is None or count > votes[best]:
                best = name
        return best

    def maybe_elect_new_joined_leader(self) -> bool:
        """If the leader did not rejoin, make the first rejoined member leader; False if none rejoined."""
        if self.leader_id is None:
            return False
        leader = self.members.get(self.leader_id)
        if leader is not None and leader.awaiting_join is not None:
            return True
        for m in self.members.values():
            if m.awaiting_join is not None:
                self.leader_id = m.member_id
                return True
        return False

    def init_next_generation(self, now_ms: int) -> None:
        self.generation_id += 1
        if self.members:
            self.protocol_name = self.select_protocol()
            self.subscribed_topics = self.compute_subscribed_topics()
            self.transition(GroupState.COMPLETING_REBALANCE, now_ms)
        else:
            self.protocol_name = None
            self.subscribed_topics = self.compute_subscribed_topics()
            self.transition(GroupState.EMPTY, now_ms)
        self.pending_sync.clear()

    def compute_subscribed_topics(self) -> set[str] | None:
        """Topics the members subscribe to (consumer protocol only; None when unknown)."""
        if self.protocol_type != CONSUMER_PROTOCOL_TYPE or self.protocol_name is None:
            return set() if not self.members else None
        topics: set[str] = set()
        for m in self.members.values():
            sub = parse_subscription(m.metadata(self.protocol_name))
            if sub is None:
                return None
            topics.update(sub)
        return topics

    def is_subscribed_to(self, topic: str) -> bool:
        return self.subscribed_topics is not None and topic in self.subscribed_topics


def parse_subscription(metadata: bytes) -> list[str] | None:
    """Topics of a ConsumerProtocolSubscription (version in the first two bytes), or None."""
    if len(metadata) < 2:
        return None
    version = int.from_bytes(metadata[:2], "big", signed=True)
    try:
        sub = ConsumerProtocolSubscription.decode(memoryview(metadata)[2:], min(max(version, 0), 3))
    except Exception:
        return None
    return list(sub.topics)
