"""KIP-848 consumer groups without sockets: epochs, revocation before assignment, assignors, fencing."""

from __future__ import annotations

import uuid
from typing import Any

from twisted.internet.task import Clock

from chronik.broker.groups.assignors import range_assign, uniform_assign
from chronik.broker.groups.consumer import ConsumerGroupConfig, ConsumerGroups
from chronik.broker.groups.coordinator import GroupConfig, GroupCoordinator
from chronik.protocol.errors import ErrorCode
from chronik.storage.memory import MemoryStorage
from chronik_protocol.messages.consumer_group_heartbeat_request import (
    ConsumerGroupHeartbeatRequest,
    TopicPartitions,
)

T, U = uuid.UUID(int=10), uuid.UUID(int=11)


class Harness:
    def __init__(self, storage: MemoryStorage | None = None, **config: Any) -> None:
        self.clock = Clock()
        self.storage = storage or MemoryStorage()
        self.topics = {"t": (T, 6), "u": (U, 2)}
        self.config = ConsumerGroupConfig(**config)
        self.open()

    def open(self) -> None:
        self.classic = GroupCoordinator(
            self.storage,
            GroupConfig(),
            now_ms=lambda: int(self.clock.seconds() * 1000),
            call_later=self.clock.callLater,
        )
        self.groups = ConsumerGroups(self.classic, self.config, lambda: dict(self.topics))

    def hb(self, member: str, epoch: int, owned: dict[uuid.UUID, list[int]] | None = None, **kw: Any) -> Any:
        first = epoch == 0
        req = ConsumerGroupHeartbeatRequest(
            group_id=kw.get("group", "cg"),
            member_id=member,
            member_epoch=epoch,
            instance_id=kw.get("instance"),
            rebalance_timeout_ms=kw.get("rebalance", 30000 if first else -1),
            subscribed_topic_names=kw.get("topics", ["t"] if first else None),
            subscribed_topic_regex=kw.get("regex"),
            server_assignor=kw.get("assignor"),
            topic_partitions=[]
            if first
            else (None if owned is None else [TopicPartitions(t, p) for t, p in owned.items()]),
        )
        return self.groups.heartbeat(req, 1, "client", "/127.0.0.1")


def parts(resp: Any) -> dict[uuid.UUID, list[int]]:
    return {tp.topic_id: list(tp.partitions) for tp in resp.assignment.topic_partitions}


def test_join_gets_everything_then_revokes_before_the_second_member_gets_any() -> None:
    h = Harness()
    a = h.hb("a", 0)
    assert (a.error_code, a.member_epoch, parts(a)) == (0, 1, {T: [0, 1, 2, 3, 4, 5]})
    b = h.hb("b", 0)
    assert (b.member_epoch, parts(b)) == (2, {})  # a still owns everything: nothing free yet
    a2 = h.hb("a", 1, {T: [0, 1, 2, 3, 4, 5]})  # a is asked to give up half, epoch unchanged
    assert a2.member_epoch == 1 and len(parts(a2)[T]) == 3
    assert h.groups.groups["cg"].state() == "Reconciling"
    kept = parts(a2)[T]
    b2 = h.hb("b", 2, {})
    assert b2.assignment is None or parts(b2) == {}  # still not released
    a3 = h.hb("a", 1, {T: kept})  # a acknowledges the revocation and moves to epoch 2
    assert a3.member_epoch == 2
    b3 = h.hb("b", 2, {})
    assert sorted(parts(b3)[T]) == sorted(set(range(6)) - set(kept))
    h.hb("b", 2, {T: parts(b3)[T]})
    assert h.groups.groups["cg"].state() == "Stable"


def test_epoch_errors_and_validation() -> None:
    h = Harness()
    h.hb("a", 0)
    assert h.hb("a", 5, {}).error_code == ErrorCode.FENCED_MEMBER_EPOCH
    assert h.hb("zz", 1, {}).error_code == ErrorCode.UNKNOWN_MEMBER_ID
    assert h.hb("", 0).error_code == ErrorCode.INVALID_REQUEST
    assert (
        h.hb("x", 0, topics=None).error_message
        == "Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining."
    )
    assert h.hb("x", 0, rebalance=-1).error_code == ErrorCode.INVALID_REQUEST
    assert h.hb("x", -3).error_code == ErrorCode.INVALID_REQUEST
    assert h.hb("x", 0, assignor="sticky").error_code == ErrorCode.UNSUPPORTED_ASSIGNOR
    assert h.hb("x", 0, topics=None, regex="(").error_code == ErrorCode.INVALID_REGULAR_EXPRESSION
    assert h.hb("y", 1, {}, group="nope").error_code == ErrorCode.GROUP_ID_NOT_FOUND


def test_leave_and_session_expiry_bump_the_epoch() -> None:
    h = Harness(session_timeout_ms=10_000)
    h.hb("a", 0)
    h.hb("b", 0)
    left = h.hb("b", -1)
    assert (left.error_code, left.member_epoch) == (0, -1)
    g = h.groups.groups["cg"]
    assert list(g.members) == ["a"] and g.epoch == 3
    h.hb("c", 0)
    for _ in range(3):
        h.clock.advance(4)
        h.hb("a", h.groups.groups["cg"].members["a"].epoch, None)
    assert list(g.members) == ["a"]  # c never heartbeated again: fenced


def test_member_that_does_not_revoke_is_fenced_after_rebalance_timeout() -> None:
    h = Harness(session_timeout_ms=60_000)
    h.hb("a", 0, rebalance=5000)
    h.hb("b", 0)
    h.hb("a", 1, {T: list(range(6))})  # asked to revoke
    h.clock.advance(6)
    assert "a" not in h.groups.groups["cg"].members


def test_regex_subscription_and_new_topics() -> None:
    h = Harness()
    r = h.hb("a", 0, topics=None, regex="t|v")
    assert parts(r) == {T: list(range(6))}
    h.topics["v"] = (uuid.UUID(int=12), 1)
    r = h.hb("a", 1, {T: list(range(6))})
    assert r.member_epoch == 2 and parts(r)[uuid.UUID(int=12)] == [0]


def test_static_member_temporary_leave_and_return() -> None:
    h = Harness()
    first = h.hb("a", 0, instance="i")
    assert h.hb("a", -2, instance="i").member_epoch == -2  # a static member's temporary leave keeps its place
    back = h.hb("a2", 0, instance="i")
    assert (back.error_code, back.member_epoch, parts(back)) == (0, first.member_epoch, parts(first))
    assert h.hb("a3", 0, instance="i").error_code == ErrorCode.UNRELEASED_INSTANCE_ID
    assert list(h.groups.groups["cg"].members) == ["a2"] and h.groups.groups["cg"].epoch == 1


def test_offset_commit_and_fetch_checks_and_persistence() -> None:
    h = Harness()
    h.hb("a", 0)
    g = h.classic
    assert g.validate_offset_commit("cg", 1, "a", None, 9) == 0
    assert g.validate_offset_commit("cg", 2, "a", None, 9) == ErrorCode.STALE_MEMBER_EPOCH  # newer than the member's
    older = g.validate_offset_commit("cg", 0, "a", None, 9)
    assert callable(older) and older("t", 0) == ErrorCode.STALE_MEMBER_EPOCH  # assigned at epoch 1 > 0
    assert g.validate_offset_commit("cg", 1, "a", None, 8) == ErrorCode.UNSUPPORTED_VERSION
    assert g.validate_offset_commit("cg", 1, "x", None, 9) == ErrorCode.UNKNOWN_MEMBER_ID
    assert g.validate_offset_fetch("cg", "a", 1) == 0 and g.validate_offset_fetch("cg", "a", 0) == 113
    assert g.validate_offset_fetch("cg", None, -1) == 0
    h.classic.close()
    h.open()  # reload from storage
    m = h.groups.groups["cg"].members["a"]
    assert (m.epoch, {t: sorted(p) for t, p in m.assigned.items()}) == (1, {"t": list(range(6))})
    assert h.hb("a", 1, {T: list(range(6))}).error_code == 0


def test_assignors() -> None:
    subs = {"a": {"t"}, "b": {"t", "u"}, "c": {"u"}}
    counts = {"t": 5, "u": 2}
    r = range_assign(subs, counts, {})
    assert r == {"a": {"t": {0, 1, 2}}, "b": {"t": {3, 4}, "u": {0}}, "c": {"u": {1}}}
    u = uniform_assign(subs, counts, {})
    every = sorted((t, p) for m in u.values() for t, ps in m.items() for p in ps)
    assert every == [("t", p) for p in range(5)] + [("u", 0), ("u", 1)]
    assert all(t in subs[m] for m, a in u.items() for t in a)
    sticky = uniform_assign({"a": {"t"}, "b": {"t"}}, {"t": 4}, {"a": {"t": {0, 1, 2, 3}}})
    assert len(sticky["a"]["t"]) == 2 and sticky["a"]["t"] <= {0, 1, 2, 3}


def test_commit_with_the_previous_epoch_racing_a_heartbeat() -> None:
    """KIP-1251: a commit sent before the member learnt its new epoch is accepted for partitions it
    held at that epoch."""
    h = Harness()
    h.hb("a", 0)
    h.hb("b", 0)
    kept = parts(h.hb("a", 1, {T: list(range(6))}))[T]
    assert h.hb("a", 1, {T: kept}).member_epoch == 2
    check = h.classic.validate_offset_commit("cg", 1, "a", None, 9)
    assert callable(check)
    assert [check("t", p) for p in kept] == [0, 0, 0]
    revoked = sorted(set(range(6)) - set(kept))
    assert check("t", revoked[0]) == ErrorCode.STALE_MEMBER_EPOCH
    b = parts(h.hb("b", 2, {}))[T]
    h.hb("b", 2, {T: b})
    check_b = h.classic.validate_offset_commit("cg", 1, "b", None, 9)
    assert callable(check_b) and check_b("t", b[0]) == ErrorCode.STALE_MEMBER_EPOCH  # b got it at epoch 2
