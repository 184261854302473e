"""The group APIs over the wire (tests/raw_client.py): error codes and shapes as Kafka 4.4.0
answers them (each expectation was checked against the reference broker)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chronik.protocol.errors import ErrorCode
from chronik_protocol.messages.consumer_group_describe_request import ConsumerGroupDescribeRequest
from chronik_protocol.messages.consumer_group_heartbeat_request import ConsumerGroupHeartbeatRequest
from chronik_protocol.messages.create_topics_request import CreatableTopic, CreateTopicsRequest
from chronik_protocol.messages.delete_groups_request import DeleteGroupsRequest
from chronik_protocol.messages.delete_topics_request import DeleteTopicsRequest
from chronik_protocol.messages.describe_groups_request import DescribeGroupsRequest
from chronik_protocol.messages.find_coordinator_request import FindCoordinatorRequest
from chronik_protocol.messages.heartbeat_request import HeartbeatRequest
from chronik_protocol.messages.join_group_request import JoinGroupRequest, JoinGroupRequestProtocol
from chronik_protocol.messages.leave_group_request import LeaveGroupRequest, MemberIdentity
from chronik_protocol.messages.list_groups_request import ListGroupsRequest
from chronik_protocol.messages.offset_commit_request import (
    OffsetCommitRequest,
    OffsetCommitRequestPartition,
    OffsetCommitRequestTopic,
)
from chronik_protocol.messages.offset_delete_request import (
    OffsetDeleteRequest,
    OffsetDeleteRequestPartition,
    OffsetDeleteRequestTopic,
)
from chronik_protocol.messages.offset_fetch_request import (
    OffsetFetchRequest,
    OffsetFetchRequestGroup,
    OffsetFetchRequestTopic,
    OffsetFetchRequestTopics,
)
from chronik_protocol.messages.sync_group_request import SyncGroupRequest, SyncGroupRequestAssignment

from .broker_process import BrokerProcess
from .raw_client import call
from .test_groups import subscription


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    data: Path = tmp_path_factory.mktemp("groups") / "data"
    with BrokerProcess(data, "group.initial.rebalance.delay.ms=0", "group.min.session.timeout.ms=100") as b:
        resp: Any = call(b.port, 19, 7, CreateTopicsRequest(topics=[CreatableTopic("t", 3, 1)], timeout_ms=5000))
        assert resp.topics[0].error_code == 0
        yield b


def test_find_coordinator_every_shape(broker: BrokerProcess) -> None:
    port = broker.port
    r: Any = call(port, 10, 0, FindCoordinatorRequest(key="g"))
    assert (r.error_code, r.node_id, r.host, r.port) == (0, 1, "127.0.0.1", port)
    r = call(port, 10, 3, FindCoordinatorRequest(key="g", key_type=0))
    assert (r.error_code, r.error_message, r.node_id) == (0, "NONE", 1)
    r = call(port, 10, 3, FindCoordinatorRequest(key="tx", key_type=1))  # Kafka has transactions; we do not
    assert (r.error_code, r.node_id, r.port) == (ErrorCode.COORDINATOR_NOT_AVAILABLE, -1, -1)
    r = call(port, 10, 3, FindCoordinatorRequest(key="s", key_type=2))
    assert r.error_code == ErrorCode.INVALID_REQUEST
    for v in (4, 6):
        r = call(port, 10, v, FindCoordinatorRequest(key_type=0, coordinator_keys=["a", "b"]))
        assert [(c.key, c.node_id, c.port, c.error_code, c.error_message) for c in r.coordinators] == [
            ("a", 1, port, 0, ""),
            ("b", 1, port, 0, ""),
        ]
        r = call(port, 10, v, FindCoordinatorRequest(key_type=1, coordinator_keys=["x"]))
        assert [(c.node_id, c.error_code) for c in r.coordinators] == [(-1, ErrorCode.COORDINATOR_NOT_AVAILABLE)]


def test_unknown_groups(broker: BrokerProcess) -> None:
    port = broker.port
    r: Any = call(port, 15, 5, DescribeGroupsRequest(groups=["nope"], include_authorized_operations=True))
    assert (r.groups[0].error_code, r.groups[0].group_state, r.groups[0].authorized_operations) == (0, "Dead", 3400)
    r = call(port, 15, 6, DescribeGroupsRequest(groups=["nope"]))
    g = r.groups[0]
    assert (g.error_code, g.error_message, g.group_state) == (
        ErrorCode.GROUP_ID_NOT_FOUND,
        "Group nope not found.",
        "Dead",
    )
    r = call(port, 9, 7, OffsetFetchRequest(group_id="nope", topics=[OffsetFetchRequestTopic("t", [0])]))
    p = r.topics[0].partitions[0]
    assert (r.error_code, p.committed_offset, p.committed_leader_epoch, p.metadata, p.error_code) == (0, -1, -1, "", 0)
    r = call(port, 9, 7, OffsetFetchRequest(group_id="nope", topics=None))
    assert (r.error_code, r.topics) == (0, [])
    r = call(port, 13, 5, LeaveGroupRequest(group_id="nope", members=[MemberIdentity("m")]))
    assert (r.error_code, [(m.member_id, m.error_code) for m in r.members]) == (0, [("m", ErrorCode.UNKNOWN_MEMBER_ID)])
    assert call(port, 13, 2, LeaveGroupRequest(group_id="nope", member_id="m")).error_code == 25  # type: ignore[attr-defined]
    assert call(port, 12, 4, HeartbeatRequest(group_id="nope", member_id="m")).error_code == 25  # type: ignore[attr-defined]
    r = call(port, 42, 2, DeleteGroupsRequest(groups_names=["nope", ""]))
    assert [x.error_code for x in r.results] == [ErrorCode.GROUP_ID_NOT_FOUND] * 2
    topics = [OffsetDeleteRequestTopic("t", [OffsetDeleteRequestPartition(0)])]
    r = call(port, 47, 0, OffsetDeleteRequest(group_id="nope", topics=topics))
    assert r.error_code == ErrorCode.GROUP_ID_NOT_FOUND
    r = call(port, 8, 9, _commit("g-unknown-topic", "nosuch", 5, generation=3, member="m"))
    assert r.topics[0].partitions[0].error_code == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION


def _commit(group: str, topic: str, offset: int, *, generation: int = -1, member: str = "", meta: str = "") -> Any:
    return OffsetCommitRequest(
        group_id=group,
        generation_id_or_member_epoch=generation,
        member_id=member,
        topics=[OffsetCommitRequestTopic(topic, partitions=[OffsetCommitRequestPartition(0, offset, -1, 4, meta)])],
    )


def test_standalone_commit_fetch_describe_list_delete(broker: BrokerProcess) -> None:
    port = broker.port
    r: Any = call(port, 8, 9, _commit("solo", "t", 17, meta="m" * 10))
    assert r.topics[0].partitions[0].error_code == 0
    assert call(port, 8, 9, _commit("solo", "t", 1, meta="x" * 5000)).topics[0].partitions[0].error_code == (  # type: ignore[attr-defined]
        ErrorCode.OFFSET_METADATA_TOO_LARGE
    )
    assert call(port, 8, 9, _commit("", "t", 1)).topics[0].partitions[0].error_code == 0  # type: ignore[attr-defined]
    assert call(port, 8, 9, _commit("solo", "t", 1, generation=1, member="m")).topics[0].partitions[0].error_code == (  # type: ignore[attr-defined]
        ErrorCode.UNKNOWN_MEMBER_ID
    )
    for v in (1, 5, 7):
        r = call(port, 9, v, OffsetFetchRequest(group_id="solo", topics=[OffsetFetchRequestTopic("t", [0, 1])]))
        rows = [(p.partition_index, p.committed_offset, p.metadata) for p in r.topics[0].partitions]
        assert rows == [(0, 17, "m" * 10), (1, -1, "")]
        if v >= 5:
            assert r.topics[0].partitions[0].committed_leader_epoch == 4
    groups = [
        OffsetFetchRequestGroup("solo", topics=None),
        OffsetFetchRequestGroup("nope", topics=[OffsetFetchRequestTopics("t", partition_indexes=[2])]),
    ]
    r = call(port, 9, 9, OffsetFetchRequest(groups=groups))
    assert [
        (g.group_id, [(t.name, [p.committed_offset for p in t.partitions]) for t in g.topics]) for g in r.groups
    ] == [
        ("solo", [("t", [17])]),
        ("nope", [("t", [-1])]),
    ]
    r = call(port, 16, 5, ListGroupsRequest(states_filter=["empty"], types_filter=["Classic"]))
    assert ("solo", "", "Empty", "classic") in [
        (g.group_id, g.protocol_type, g.group_state, g.group_type) for g in r.groups
    ]
    r = call(port, 16, 4, ListGroupsRequest(states_filter=["stable"]))
    assert "solo" not in [g.group_id for g in r.groups]
    r = call(port, 15, 5, DescribeGroupsRequest(groups=["solo"]))
    assert (r.groups[0].error_code, r.groups[0].group_state, r.groups[0].members) == (0, "Empty", [])
    topics = [OffsetDeleteRequestTopic("t", [OffsetDeleteRequestPartition(0)]), OffsetDeleteRequestTopic("x", [])]
    r = call(port, 47, 0, OffsetDeleteRequest(group_id="solo", topics=topics))
    assert (r.error_code, r.topics[0].partitions[0].error_code) == (0, 0)
    r = call(port, 9, 7, OffsetFetchRequest(group_id="solo", topics=[OffsetFetchRequestTopic("t", [0])]))
    assert r.topics[0].partitions[0].committed_offset == -1
    call(port, 8, 9, _commit("solo", "t", 3))
    r = call(port, 42, 2, DeleteGroupsRequest(groups_names=["solo"]))
    assert r.results[0].error_code == 0
    r = call(port, 15, 6, DescribeGroupsRequest(groups=["solo"]))
    assert r.groups[0].error_code == ErrorCode.GROUP_ID_NOT_FOUND


def _join(port: int, version: int, member: str = "", session: int = 10_000, **kw: Any) -> Any:
    req = JoinGroupRequest(
        group_id=kw.get("group", "wire"),
        session_timeout_ms=session,
        rebalance_timeout_ms=10_000,
        member_id=member,
        group_instance_id=kw.get("instance"),
        protocol_type="consumer",
        protocols=[JoinGroupRequestProtocol("range", subscription("t"))],
    )
    return call(port, 11, version, req)


def test_empty_group_id_and_missing_protocol(broker: BrokerProcess) -> None:
    port = broker.port
    assert _join(port, 9, group="").error_code == ErrorCode.INVALID_GROUP_ID
    assert call(port, 12, 4, HeartbeatRequest("", 1, "m")).error_code == ErrorCode.INVALID_GROUP_ID  # type: ignore[attr-defined]
    r: Any = call(port, 13, 5, LeaveGroupRequest(group_id="", members=[MemberIdentity("m")]))
    assert (r.error_code, r.members) == (ErrorCode.INVALID_GROUP_ID, [])
    assert call(port, 47, 0, OffsetDeleteRequest(group_id="")).error_code == ErrorCode.INVALID_GROUP_ID  # type: ignore[attr-defined]
    sync = SyncGroupRequest(group_id="", generation_id=1, member_id="m")  # v5 needs protocol type and name
    assert call(port, 14, 5, sync).error_code == ErrorCode.INCONSISTENT_GROUP_PROTOCOL  # type: ignore[attr-defined]
    assert call(port, 14, 4, sync).error_code == ErrorCode.INVALID_GROUP_ID  # type: ignore[attr-defined]


def test_classic_member_lifecycle(broker: BrokerProcess) -> None:
    port = broker.port
    assert _join(port, 9, session=50).error_code == ErrorCode.INVALID_SESSION_TIMEOUT
    first = _join(port, 9)
    assert first.error_code == ErrorCode.MEMBER_ID_REQUIRED and first.member_id.startswith("chronik-tests-")
    joined = _join(port, 9, first.member_id)
    assert (joined.error_code, joined.generation_id, joined.leader, joined.protocol_type) == (
        0,
        1,
        first.member_id,
        "consumer",
    )
    old = _join(port, 3, group="wire-v3")  # before v4 a new member joins at once
    assert (old.error_code, old.generation_id) == (0, 1)
    mid = joined.member_id
    sync = SyncGroupRequest(
        group_id="wire",
        generation_id=1,
        member_id=mid,
        protocol_type="consumer",
        protocol_name="range",
        assignments=[SyncGroupRequestAssignment(mid, b"\x00\x01")],
    )
    r: Any = call(port, 14, 5, sync)
    assert (r.error_code, r.protocol_type, r.protocol_name, r.assignment) == (0, "consumer", "range", b"\x00\x01")
    sync.protocol_name = "roundrobin"
    assert call(port, 14, 5, sync).error_code == ErrorCode.INCONSISTENT_GROUP_PROTOCOL  # type: ignore[attr-defined]
    assert call(port, 12, 4, HeartbeatRequest("wire", 1, mid)).error_code == 0  # type: ignore[attr-defined]
    assert call(port, 12, 4, HeartbeatRequest("wire", 2, mid)).error_code == ErrorCode.ILLEGAL_GENERATION  # type: ignore[attr-defined]
    r = call(port, 8, 9, _commit("wire", "t", 9, generation=1, member=mid))
    assert r.topics[0].partitions[0].error_code == 0
    r = call(port, 8, 9, _commit("wire", "t", 9, generation=0, member=mid))
    assert r.topics[0].partitions[0].error_code == ErrorCode.ILLEGAL_GENERATION
    r = call(port, 15, 5, DescribeGroupsRequest(groups=["wire"]))
    g = r.groups[0]
    assert (g.group_state, g.protocol_type, g.protocol_data) == ("Stable", "consumer", "range")
    m = g.members[0]
    assert (m.member_id, m.client_id, m.client_host, m.member_assignment) == (
        mid,
        "chronik-tests",
        "/127.0.0.1",
        b"\x00\x01",
    )
    assert m.member_metadata == subscription("t")
    assert call(port, 42, 2, DeleteGroupsRequest(groups_names=["wire"])).results[0].error_code == (  # type: ignore[attr-defined]
        ErrorCode.NON_EMPTY_GROUP
    )
    topics = [OffsetDeleteRequestTopic("t", [OffsetDeleteRequestPartition(0)])]
    r = call(port, 47, 0, OffsetDeleteRequest(group_id="wire", topics=topics))
    assert r.topics[0].partitions[0].error_code == ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC
    r = call(port, 13, 5, LeaveGroupRequest(group_id="wire", members=[MemberIdentity(mid), MemberIdentity("zz")]))
    assert [x.error_code for x in r.members] == [0, ErrorCode.UNKNOWN_MEMBER_ID]
    r = call(port, 15, 5, DescribeGroupsRequest(groups=["wire"]))
    assert r.groups[0].group_state == "Empty"


def test_topic_deletion_removes_committed_offsets(broker: BrokerProcess) -> None:
    port = broker.port
    call(port, 19, 7, CreateTopicsRequest(topics=[CreatableTopic("doomed", 1, 1)], timeout_ms=5000))
    call(port, 8, 9, _commit("keeper", "doomed", 5))
    call(port, 8, 9, _commit("keeper", "t", 6))
    call(port, 20, 5, DeleteTopicsRequest(topic_names=["doomed"], timeout_ms=5000))
    time.sleep(1)  # Kafka drops them once the deletion reaches its metadata; we at once
    r: Any = call(port, 9, 7, OffsetFetchRequest(group_id="keeper", topics=None))
    assert [(t.name, t.partitions[0].committed_offset) for t in r.topics] == [("t", 6)]


def _cg_heartbeat(port: int, member: str, epoch: int, group: str = "g848", **kw: Any) -> Any:
    first = epoch == 0
    req = ConsumerGroupHeartbeatRequest(
        group_id=group,
        member_id=member,
        member_epoch=epoch,
        rebalance_timeout_ms=kw.get("rebalance", 1000 if first else -1),
        subscribed_topic_names=kw.get("topics", ["t"] if first else None),
        server_assignor=kw.get("assignor"),
        topic_partitions=kw.get("owned", [] if first else None),
    )
    return call(port, 68, 1, req)


def test_consumer_group_heartbeat_and_describe(broker: BrokerProcess) -> None:
    """KIP-848 over the wire; messages as Kafka 4.4.0 words them."""
    port = broker.port
    r = _cg_heartbeat(port, "", 0)
    assert (r.error_code, r.error_message) == (ErrorCode.INVALID_REQUEST, "MemberId can't be empty.")
    r = _cg_heartbeat(port, "m1", 0, rebalance=-1)
    assert r.error_message == "RebalanceTimeoutMs must be provided in first request."
    r = _cg_heartbeat(port, "m1", 0, topics=None)
    assert r.error_message == "Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining."
    assert _cg_heartbeat(port, "m1", 3).error_message == "Consumer group g848 not found."
    assert _cg_heartbeat(port, "m1", -3).error_message == "MemberEpoch is invalid."
    r = _cg_heartbeat(port, "m1", 0, assignor="zz")
    assert (r.error_code, r.error_message) == (
        ErrorCode.UNSUPPORTED_ASSIGNOR,
        "ServerAssignor zz is not supported. Supported assignors: uniform, range.",
    )
    joined = _cg_heartbeat(port, "m1", 0)
    assert (joined.error_code, joined.member_id, joined.heartbeat_interval_ms) == (0, "m1", 5000)
    assert [(len(tp.partitions)) for tp in joined.assignment.topic_partitions] == [3]
    epoch = joined.member_epoch
    r = _cg_heartbeat(port, "m1", epoch + 3)
    assert r.error_code == ErrorCode.FENCED_MEMBER_EPOCH and r.error_message.startswith(
        f"The consumer group member has a greater member epoch ({epoch + 3})"
    )
    assert _cg_heartbeat(port, "m2", 1).error_message == "Member m2 is not a member of group g848."
    call(port, 8, 9, _commit("classic-x", "t", 1))  # a classic group (it only commits offsets)
    r = call(port, 69, 1, ConsumerGroupDescribeRequest(group_ids=["g848", "nope848", "classic-x"]))
    g = r.groups[0]
    assert (g.error_code, g.group_state, g.group_epoch, g.assignment_epoch, g.assignor_name) == (
        0,
        "Stable",
        epoch,
        epoch,
        "uniform",
    )
    m = g.members[0]
    assert (m.member_id, m.member_epoch, m.client_host, m.subscribed_topic_names, m.member_type) == (
        "m1",
        epoch,
        "/127.0.0.1",
        ["t"],
        1,
    )
    assert [(tp.topic_name, tp.partitions) for tp in m.assignment.topic_partitions] == [("t", [0, 1, 2])]
    assert [(x.error_code, x.error_message) for x in r.groups[1:]] == [
        (ErrorCode.GROUP_ID_NOT_FOUND, "Group nope848 not found."),
        (ErrorCode.GROUP_ID_NOT_FOUND, "Group classic-x is not a consumer group."),
    ]
    r = call(port, 16, 5, ListGroupsRequest(types_filter=["consumer"]))
    assert [(x.group_id, x.protocol_type, x.group_state, x.group_type) for x in r.groups] == [
        ("g848", "consumer", "Stable", "consumer")
    ]
    r = call(port, 15, 6, DescribeGroupsRequest(groups=["g848"]))
    assert (r.groups[0].error_code, r.groups[0].error_message) == (
        ErrorCode.GROUP_ID_NOT_FOUND,
        "Group g848 is not a classic group.",
    )
    # offsets: the member commits with its epoch; a stale epoch is refused
    commit = _commit("g848", "t", 5, generation=epoch, member="m1")
    assert call(port, 8, 9, commit).topics[0].partitions[0].error_code == 0  # type: ignore[attr-defined]
    commit = _commit("g848", "t", 5, generation=epoch - 1, member="m1")
    assert call(port, 8, 9, commit).topics[0].partitions[0].error_code == ErrorCode.STALE_MEMBER_EPOCH  # type: ignore[attr-defined]
    assert call(port, 42, 2, DeleteGroupsRequest(groups_names=["g848"])).results[0].error_code == (  # type: ignore[attr-defined]
        ErrorCode.NON_EMPTY_GROUP
    )
    left = _cg_heartbeat(port, "m1", -1)
    assert (left.error_code, left.member_epoch, left.heartbeat_interval_ms) == (0, -1, 0)
    assert call(port, 42, 2, DeleteGroupsRequest(groups_names=["g848"])).results[0].error_code == 0  # type: ignore[attr-defined]


def test_every_version_answers(broker: BrokerProcess) -> None:
    """Each group API at each version it advertises decodes our answer without a server error."""
    port = broker.port
    for v in range(0, 10):
        r: Any = _join(port, v, group=f"ver-{v}")
        assert r.error_code in (0, ErrorCode.MEMBER_ID_REQUIRED), (v, r)
        mid = r.member_id
        if r.error_code:
            r = _join(port, v, mid, group=f"ver-{v}")
            assert r.error_code == 0, (v, r)
        if v <= 5:
            s = SyncGroupRequest(f"ver-{v}", r.generation_id, mid, None, "consumer", "range", [])
            assert call(port, 14, v, s).error_code == 0  # type: ignore[attr-defined]
        if v <= 4:
            assert call(port, 12, v, HeartbeatRequest(f"ver-{v}", r.generation_id, mid)).error_code == 0  # type: ignore[attr-defined]
        if v <= 5:
            leave = LeaveGroupRequest(group_id=f"ver-{v}", member_id=mid, members=[MemberIdentity(mid)])
            assert call(port, 13, v, leave).error_code == 0  # type: ignore[attr-defined]
    for v in range(0, 11):
        commit = _commit("ver-offsets", "t", 3)
        if v >= 10:
            commit.topics[0].topic_id = call(port, 3, 12, _metadata()).topics[0].topic_id  # type: ignore[attr-defined]
        assert call(port, 8, v, commit).topics[0].partitions[0].error_code == 0, v  # type: ignore[attr-defined]
        if v < 8:
            fetch = OffsetFetchRequest(group_id="ver-offsets", topics=[OffsetFetchRequestTopic("t", [0])])
            assert call(port, 9, v, fetch).topics[0].partitions[0].committed_offset == 3, v  # type: ignore[attr-defined]
        else:
            group = OffsetFetchRequestGroup("ver-offsets", topics=None)
            got: Any = call(port, 9, v, OffsetFetchRequest(groups=[group]))
            assert got.groups[0].topics[0].partitions[0].committed_offset == 3, v
    for v in range(0, 7):
        assert call(port, 15, v, DescribeGroupsRequest(groups=["ver-offsets"])).groups[0].group_state == "Empty"  # type: ignore[attr-defined]
    for v in range(0, 6):
        assert "ver-offsets" in [g.group_id for g in call(port, 16, v, ListGroupsRequest()).groups]  # type: ignore[attr-defined]
    for v in range(0, 4):
        call(port, 8, 9, _commit(f"ver-del-{v}", "t", 3))
        assert call(port, 42, v, DeleteGroupsRequest(groups_names=[f"ver-del-{v}"])).results[0].error_code == 0  # type: ignore[attr-defined]


def _metadata() -> Any:
    from chronik_protocol.messages.metadata_request import MetadataRequest, MetadataRequestTopic

    return MetadataRequest(topics=[MetadataRequestTopic(name="t")])
