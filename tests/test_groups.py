"""The classic group coordinator without sockets: a fake clock drives its timers."""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet.task import Clock

from chronik.broker.groups.classic import GroupState
from chronik.broker.groups.coordinator import GroupConfig, GroupCoordinator
from chronik.broker.groups.persistence import CommittedOffset
from chronik.protocol.errors import ErrorCode
from chronik.storage.memory import MemoryStorage
from chronik_protocol.messages.consumer_protocol_subscription import ConsumerProtocolSubscription
from chronik_protocol.messages.join_group_request import JoinGroupRequest, JoinGroupRequestProtocol
from chronik_protocol.messages.sync_group_request import SyncGroupRequest, SyncGroupRequestAssignment

SESSION, REBALANCE = 10_000, 30_000


class Harness:
    def __init__(self, storage: MemoryStorage | None = None, **config: Any) -> None:
        self.clock = Clock()
        self.storage = storage or MemoryStorage()
        self.config = GroupConfig(initial_rebalance_delay_ms=config.pop("delay", 0), **config)
        self.coordinator = self.open()

    def open(self) -> GroupCoordinator:
        return GroupCoordinator(
            self.storage, self.config, now_ms=lambda: int(self.clock.seconds() * 1000), call_later=self.clock.callLater
        )

    def join(
        self,
        member_id: str = "",
        *,
        group: str = "g",
        version: int = 9,
        instance: str | None = None,
        topics: tuple[str, ...] = ("t",),
        protocols: list[tuple[str, bytes]] | None = None,
        session: int = SESSION,
        rebalance: int = REBALANCE,
    ) -> list[Any]:
        """Send a JoinGroup; the returned list gets the response when it comes."""
        if protocols is None:
            protocols = [("range", subscription(*topics))]
        req = JoinGroupRequest(
            group_id=group,
            session_timeout_ms=session,
            rebalance_timeout_ms=rebalance,
            member_id=member_id,
            group_instance_id=instance,
            protocol_type="consumer",
            protocols=[JoinGroupRequestProtocol(n, m) for n, m in protocols],
        )
        out: list[Any] = []
        self.coordinator.join(req, version, "client", "/127.0.0.1", out.append)
        return out

    def join_new(self, **kw: Any) -> list[Any]:
        """KIP-394: the MEMBER_ID_REQUIRED round trip, then the real join."""
        first = self.join(**kw)
        assert first[0].error_code == ErrorCode.MEMBER_ID_REQUIRED
        return self.join(first[0].member_id, **kw)

    def sync(
        self, member_id: str, generation: int, assignments: dict[str, bytes] | None = None, **kw: Any
    ) -> list[Any]:
        req = SyncGroupRequest(
            group_id=kw.get("group", "g"),
            generation_id=generation,
            member_id=member_id,
            group_instance_id=kw.get("instance"),
            protocol_type=kw.get("protocol_type", "consumer"),
            protocol_name=kw.get("protocol_name", "range"),
            assignments=[SyncGroupRequestAssignment(m, a) for m, a in (assignments or {}).items()],
        )
        out: list[Any] = []
        self.coordinator.sync(req, out.append)
        return out

    def advance(self, ms: int) -> None:
        self.clock.advance(ms / 1000)

    def group(self, gid: str = "g") -> Any:
        return self.coordinator.groups[gid]


def subscription(*topics: str) -> bytes:
    return b"\x00\x01" + bytes(ConsumerProtocolSubscription(topics=list(topics)).encode(1))


def stable_pair(h: Harness) -> tuple[str, str, int]:
    """Two members joined and synced: (leader, follower, generation)."""
    a = h.join_new()
    h.advance(0)
    assert a[0].error_code == 0  # a joined alone (delay 0): generation 1
    gen = a[0].generation_id
    assert h.sync(a[0].member_id, gen, {a[0].member_id: b"A"})[0].error_code == 0
    b = h.join_new()  # b's arrival rebalances the Stable group
    assert not b
    assert h.coordinator.heartbeat("g", gen, a[0].member_id, None) == ErrorCode.REBALANCE_IN_PROGRESS
    ra = h.join(a[0].member_id)
    assert ra[0].error_code == 0 and b[0].error_code == 0
    gen = ra[0].generation_id
    leader = ra[0].leader
    follower = b[0].member_id if leader == a[0].member_id else a[0].member_id
    fs = h.sync(follower, gen)
    assert not fs  # parked until the leader syncs
    ls = h.sync(leader, gen, {leader: b"L", follower: b"F"})
    assert (ls[0].assignment, fs[0].assignment) == (b"L", b"F")
    assert h.group().state == GroupState.STABLE
    return leader, follower, gen


def test_member_id_required_then_join_sync_heartbeat() -> None:
    h = Harness()
    first = h.join(version=4)
    assert first[0].error_code == ErrorCode.MEMBER_ID_REQUIRED and first[0].member_id.startswith("client-")
    assert h.group().pending_members == {first[0].member_id}
    joined = h.join(first[0].member_id, version=4)
    assert not joined  # waits for the initial delay (0 ms: the next reactor turn)
    h.advance(0)
    r = joined[0]
    assert (r.error_code, r.generation_id, r.leader, r.protocol_name) == (0, 1, r.member_id, "range")
    assert [m.member_id for m in r.members] == [r.member_id]
    s = h.sync(r.member_id, 1, {r.member_id: b"assignment"})
    assert (s[0].error_code, s[0].assignment, s[0].protocol_name) == (0, b"assignment", "range")
    assert h.coordinator.heartbeat("g", 1, r.member_id, None) == 0
    assert h.coordinator.heartbeat("g", 0, r.member_id, None) == ErrorCode.ILLEGAL_GENERATION
    assert h.coordinator.heartbeat("g", 1, "nobody", None) == ErrorCode.UNKNOWN_MEMBER_ID
    assert h.coordinator.heartbeat("other", 1, r.member_id, None) == ErrorCode.UNKNOWN_MEMBER_ID


def test_old_versions_join_without_round_trip() -> None:
    h = Harness()
    r = h.join(version=3)
    h.advance(0)
    assert r[0].error_code == 0 and r[0].generation_id == 1


def test_pending_member_expires_after_session_timeout() -> None:
    h = Harness()
    first = h.join()
    h.advance(SESSION + 1)
    assert not h.group().pending_members
    assert h.join(first[0].member_id)[0].error_code == ErrorCode.UNKNOWN_MEMBER_ID


def test_initial_rebalance_delay_collects_members() -> None:
    h = Harness(delay=3000)
    a = h.join_new()
    h.advance(2000)
    b = h.join_new()
    h.advance(1000)
    h.advance(2500)  # b's arrival extended the delay by another 3 s
    assert not a and not b
    h.advance(500)
    assert a[0].generation_id == b[0].generation_id == 1
    assert len(a[0].members) + len(b[0].members) == 2


def test_new_member_rebalances_stable_group() -> None:
    h = Harness()
    leader, follower, gen = stable_pair(h)
    c = h.join_new()
    assert h.group().state == GroupState.PREPARING_REBALANCE
    assert h.coordinator.heartbeat("g", gen, follower, None) == ErrorCode.REBALANCE_IN_PROGRESS
    rl, rf = h.join(leader), h.join(follower)
    assert rl[0].generation_id == rf[0].generation_id == c[0].generation_id == gen + 1
    assert len(rl[0].members) == 3


def test_session_expiry_removes_member_and_rebalances() -> None:
    h = Harness()
    leader, follower, gen = stable_pair(h)
    for _ in range(4):  # the leader heartbeats, the follower went silent
        h.advance(SESSION // 3)
        h.coordinator.heartbeat("g", gen, leader, None)
    assert follower not in h.group().members
    assert h.group().state == GroupState.PREPARING_REBALANCE
    r = h.join(leader)
    assert r[0].generation_id == gen + 1 and [m.member_id for m in r[0].members] == [leader]


def test_rebalance_timeout_kicks_members_that_do_not_rejoin() -> None:
    h = Harness()
    leader, follower, gen = stable_pair(h)
    h.coordinator.heartbeat("g", gen, follower, None)
    r = h.join(leader)  # the leader rejoining forces a rebalance
    assert not r
    h.advance(REBALANCE)
    assert r[0].generation_id == gen + 1 and follower not in h.group().members
    assert h.coordinator.heartbeat("g", gen, follower, None) == ErrorCode.UNKNOWN_MEMBER_ID


def test_pending_sync_expiry_removes_member() -> None:
    h = Harness()
    a = h.join_new()
    h.advance(0)
    gen = a[0].generation_id
    h.advance(REBALANCE + 1)  # never synced
    assert not h.group().members
    assert h.group().state == GroupState.EMPTY and h.group().generation_id == gen + 1


def test_changed_subscription_triggers_rebalance_unchanged_does_not() -> None:
    h = Harness()
    leader, follower, gen = stable_pair(h)
    same = h.join(follower)
    assert same[0].generation_id == gen and h.group().state == GroupState.STABLE
    changed = h.join(follower, topics=("t", "u"))
    assert not changed and h.group().state == GroupState.PREPARING_REBALANCE
    h.join(leader)
    assert changed[0].generation_id == gen + 1
    assert h.group().subscribed_topics == {"t", "u"}


def test_protocol_selected_by_votes_and_inconsistent_protocol() -> None:
    h = Harness(delay=100)
    sub = subscription("t")
    a = h.join_new(protocols=[("roundrobin", sub), ("range", sub)])
    b = h.join_new(protocols=[("range", sub), ("roundrobin", sub)])
    c = h.join_new(protocols=[("range", sub)])
    bad = h.join(protocols=[("sticky", sub)])
    assert bad[0].error_code == ErrorCode.INCONSISTENT_GROUP_PROTOCOL
    h.advance(100)
    h.advance(100)  # the delay was extended once: members kept arriving
    assert {a[0].protocol_name, b[0].protocol_name, c[0].protocol_name} == {"range"}
    other_type = JoinGroupRequest(group_id="g", session_timeout_ms=SESSION, member_id="", protocol_type="connect")
    other_type.protocols = [JoinGroupRequestProtocol("range", sub)]
    out: list[Any] = []
    h.coordinator.join(other_type, 9, "c", "/h", out.append)
    assert out[0].error_code == ErrorCode.INCONSISTENT_GROUP_PROTOCOL


def test_join_validation_errors() -> None:
    h = Harness(max_size=1, min_session_timeout_ms=1000, max_session_timeout_ms=20_000)
    assert h.join(session=999)[0].error_code == ErrorCode.INVALID_SESSION_TIMEOUT
    assert h.join(session=20_001)[0].error_code == ErrorCode.INVALID_SESSION_TIMEOUT
    assert h.join(group="")[0].error_code == ErrorCode.INVALID_GROUP_ID
    assert h.join("someone")[0].error_code == ErrorCode.UNKNOWN_MEMBER_ID  # unknown group, known id
    a = h.join_new()
    h.advance(0)
    assert a[0].error_code == 0
    assert h.join(version=3)[0].error_code == ErrorCode.GROUP_MAX_SIZE_REACHED


def test_sync_errors() -> None:
    h = Harness()
    _leader, follower, gen = stable_pair(h)
    assert h.sync("nobody", gen)[0].error_code == ErrorCode.UNKNOWN_MEMBER_ID
    assert h.sync(follower, gen + 5)[0].error_code == ErrorCode.ILLEGAL_GENERATION
    assert h.sync(follower, gen, protocol_name="other")[0].error_code == ErrorCode.INCONSISTENT_GROUP_PROTOCOL
    assert h.sync(follower, gen, protocol_type="connect")[0].error_code == ErrorCode.INCONSISTENT_GROUP_PROTOCOL
    assert h.sync(follower, gen)[0].assignment == b"F"  # Stable: the current assignment again
    h.join_new()
    assert h.sync(follower, gen)[0].error_code == ErrorCode.REBALANCE_IN_PROGRESS


def test_static_member_rejoin_replaces_without_rebalance() -> None:
    h = Harness()
    a = h.join(instance="i-a")  # static members skip the member id round trip
    h.advance(0)
    b = h.join(instance="i-b")
    gen = a[0].generation_id
    h.sync(a[0].member_id, gen, {a[0].member_id: b"A"})
    ra = h.join(a[0].member_id, instance="i-a")
    gen = ra[0].generation_id
    h.sync(b[0].member_id, gen)
    h.sync(ra[0].leader, gen, {a[0].member_id: b"A", b[0].member_id: b"B"})
    assert h.group().state == GroupState.STABLE
    # b restarts: same instance id, unknown member id
    nb = h.join(instance="i-b")
    assert nb[0].error_code == 0 and nb[0].generation_id == gen and nb[0].member_id != b[0].member_id
    assert not nb[0].skip_assignment and nb[0].members == []
    assert h.group().state == GroupState.STABLE
    assert h.sync(nb[0].member_id, gen, instance="i-b")[0].assignment == b"B"
    assert h.coordinator.heartbeat("g", gen, b[0].member_id, "i-b") == ErrorCode.FENCED_INSTANCE_ID
    assert h.coordinator.heartbeat("g", gen, nb[0].member_id, "i-b") == 0
    # the leader restarting gets the members and skips the assignment (KIP-814)
    na = h.join(instance="i-a")
    assert na[0].skip_assignment and len(na[0].members) == 2 and na[0].leader == na[0].member_id
    # static members that do not rejoin are not kicked by the rebalance timeout
    h.join(nb[0].member_id, instance="i-b", topics=("t", "u"))
    for _ in range(REBALANCE // 5000 - 1):
        h.advance(5000)
        assert h.coordinator.heartbeat("g", gen, na[0].member_id, "i-a") == ErrorCode.REBALANCE_IN_PROGRESS
    h.advance(5000)
    assert len(h.group().members) == 2 and h.group().generation_id == gen + 1


def test_leave_group_single_batched_and_by_instance() -> None:
    h = Harness()
    leader, follower, gen = stable_pair(h)
    assert h.coordinator.leave("g", [("nobody", None)]) == (0, [ErrorCode.UNKNOWN_MEMBER_ID])
    assert h.coordinator.leave("nope", [(leader, None)])[0] == ErrorCode.UNKNOWN_MEMBER_ID
    assert h.coordinator.leave("g", [(follower, None)]) == (0, [0])
    assert h.group().state == GroupState.PREPARING_REBALANCE
    r = h.join(leader)
    assert r[0].generation_id == gen + 1
    s = h.join(instance="s1")
    assert not s
    assert h.coordinator.leave("g", [("", "s1")]) == (0, [0])
    assert s[0].error_code == ErrorCode.UNKNOWN_MEMBER_ID


def test_offset_commit_validation() -> None:
    h = Harness()
    c = h.coordinator
    assert c.validate_offset_commit("solo", -1, "", None, 8) == 0  # creates an Empty group
    assert h.group("solo").state == GroupState.EMPTY
    assert c.validate_offset_commit("missing", 3, "m", None, 8) == ErrorCode.ILLEGAL_GENERATION
    assert c.validate_offset_commit("", -1, "", None, 8) == 0  # Kafka 4.4.0 accepts an empty group id
    leader, _follower, gen = stable_pair(h)
    assert c.validate_offset_commit("g", gen, leader, None, 8) == 0
    assert c.validate_offset_commit("g", gen - 1, leader, None, 8) == ErrorCode.ILLEGAL_GENERATION
    assert c.validate_offset_commit("g", gen, "x", None, 8) == ErrorCode.UNKNOWN_MEMBER_ID
    assert c.validate_offset_commit("g", -1, "", None, 8) == ErrorCode.UNKNOWN_MEMBER_ID  # not Empty


def test_groups_and_offsets_survive_reload() -> None:
    h = Harness()
    leader, follower, gen = stable_pair(h)
    h.coordinator.offsets.commit("g", {("t", 0): CommittedOffset(42, 3, "meta", 1, None)})
    h.coordinator.validate_offset_commit("solo", -1, "", None, 8)
    h.coordinator.offsets.commit("solo", {("t", 1): CommittedOffset(7, -1, "", 1, None)})
    h.coordinator.close()
    h.coordinator = h.open()
    g = h.group()
    assert (g.state, g.generation_id, g.leader_id, g.protocol_name) == (GroupState.STABLE, gen, leader, "range")
    assert {m: x.assignment for m, x in g.members.items()} == {leader: b"L", follower: b"F"}
    assert h.coordinator.offsets.get("g", "t", 0) == CommittedOffset(42, 3, "meta", 1, None)
    assert h.group("solo").state == GroupState.EMPTY
    # members still heartbeating keep their generation; silent ones expire and the group rebalances
    assert h.coordinator.heartbeat("g", gen, leader, None) == 0
    h.advance(SESSION // 2)
    h.coordinator.heartbeat("g", gen, leader, None)
    h.advance(SESSION // 2 + 1)
    assert follower not in g.members and g.state == GroupState.PREPARING_REBALANCE


def test_offset_retention_expires_empty_groups() -> None:
    h = Harness(offsets_retention_ms=60_000)
    c = h.coordinator
    c.validate_offset_commit("solo", -1, "", None, 8)
    c.offsets.commit("solo", {("t", 0): CommittedOffset(1, -1, "", 0, None)})
    h.advance(30_000)
    assert c.cleanup_expired() == 0
    h.advance(30_000)
    assert c.cleanup_expired() == 1
    assert "solo" not in c.groups and h.storage.meta_items("group.") == []


def test_topic_deletion_drops_offsets() -> None:
    h = Harness()
    h.coordinator.validate_offset_commit("solo", -1, "", None, 8)
    h.coordinator.offsets.commit(
        "solo", {("t", 0): CommittedOffset(1, -1, "", 0, None), ("u", 0): CommittedOffset(2, -1, "", 0, None)}
    )
    h.coordinator.topic_deleted("t")
    assert list(h.coordinator.offsets.all("solo")) == [("u", 0)]
    assert len(h.storage.meta_items("group.o.")) == 1


@pytest.mark.parametrize("state", ["empty", "stable"])
def test_delete_group(state: str) -> None:
    h = Harness()
    if state == "stable":
        stable_pair(h)
        assert h.coordinator.delete_group("g") == ErrorCode.NON_EMPTY_GROUP
    else:
        h.coordinator.validate_offset_commit("g", -1, "", None, 8)
        h.coordinator.offsets.commit("g", {("t", 0): CommittedOffset(1, -1, "", 0, None)})
        assert h.coordinator.delete_group("g") == 0
        assert h.storage.meta_items("group.") == []
    assert h.coordinator.delete_group("nope") == ErrorCode.GROUP_ID_NOT_FOUND


def test_static_leader_rejoining_below_v9_is_told_the_old_leader_and_no_members() -> None:
    """Before JoinGroup v9 there is no skip_assignment: Kafka names the old leader id and lists no
    members, so the returning leader acts as a follower and the stored assignment stays (no rebalance)."""
    h = Harness()
    a = h.join(instance="i-a")
    h.advance(0)
    b = h.join(instance="i-b")
    gen = a[0].generation_id
    h.sync(a[0].member_id, gen, {a[0].member_id: b"A"})
    ra = h.join(a[0].member_id, instance="i-a")
    gen = ra[0].generation_id
    h.sync(b[0].member_id, gen)
    h.sync(ra[0].leader, gen, {a[0].member_id: b"A", b[0].member_id: b"B"})
    assert h.group().state == GroupState.STABLE and h.group().leader_id == a[0].member_id
    na = h.join(instance="i-a", version=7)
    assert na[0].error_code == 0 and na[0].generation_id == gen
    assert na[0].leader == a[0].member_id != na[0].member_id
    assert na[0].members == [] and not na[0].skip_assignment
    assert h.group().state == GroupState.STABLE
    assert h.sync(na[0].member_id, gen, instance="i-a")[0].assignment == b"A"
