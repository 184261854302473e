"""Partition administration APIs: CreatePartitions, DeleteRecords, DescribeCluster,
DescribeLogDirs, OffsetForLeaderEpoch, DescribeTopicPartitions, ElectLeaders,
Alter/ListPartitionReassignments.

Three layers: the handlers in-process over the memory engine (edge cases, exact messages); raw
requests over TCP at every version the broker advertises (the codecs encode every answer);
real clients against ``chronik start`` — confluent-kafka and the Java Admin client of every
pinned release.
"""

from __future__ import annotations

import shutil
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaException, Producer, TopicCollection, TopicPartition
from confluent_kafka.admin import AdminClient, NewPartitions, NewTopic

from chronik.broker.core import Broker
from chronik.broker.handlers import (
    alter_partition_reassignments,
    create_partitions,
    delete_records,
    describe_cluster,
    describe_log_dirs,
    describe_topic_partitions,
    elect_leaders,
    list_partition_reassignments,
    offset_for_leader_epoch,
)
from chronik.broker.handlers.metadata import CLUSTER_OPERATIONS, NO_OPERATIONS, TOPIC_OPERATIONS
from chronik.config import BrokerConfig, effective_topic_configs
from chronik.protocol.errors import ErrorCode
from chronik.protocol.records import RecordBatch, SimpleRecord, build_batch
from chronik.protocol.wire import ZERO_UUID
from chronik.storage.api import BatchEntry
from chronik.storage.memory import MemoryStorage
from chronik_protocol.api_table import APIS, RELEASES
from chronik_protocol.messages.alter_partition_reassignments_request import (
    AlterPartitionReassignmentsRequest,
    ReassignablePartition,
    ReassignableTopic,
)
from chronik_protocol.messages.create_partitions_request import (
    CreatePartitionsAssignment,
    CreatePartitionsRequest,
    CreatePartitionsTopic,
)
from chronik_protocol.messages.delete_records_request import (
    DeleteRecordsPartition,
    DeleteRecordsRequest,
    DeleteRecordsTopic,
)
from chronik_protocol.messages.describe_cluster_request import DescribeClusterRequest
from chronik_protocol.messages.describe_log_dirs_request import DescribableLogDirTopic, DescribeLogDirsRequest
from chronik_protocol.messages.describe_topic_partitions_request import (
    Cursor,
    DescribeTopicPartitionsRequest,
    TopicRequest,
)
from chronik_protocol.messages.elect_leaders_request import ElectLeadersRequest, TopicPartitions
from chronik_protocol.messages.list_partition_reassignments_request import (
    ListPartitionReassignmentsRequest,
    ListPartitionReassignmentsTopics,
)
from chronik_protocol.messages.offset_for_leader_epoch_request import (
    OffsetForLeaderEpochRequest,
    OffsetForLeaderPartition,
    OffsetForLeaderTopic,
)
from chronik_protocol.messages.request_header import RequestHeader
from chronik_protocol.messages.response_header import ResponseHeader
from tests.javacheck.runner import java_available, lib_dir

from .broker_process import BrokerProcess

TIMEOUT = 15
NODE = 1
ROOT = Path(__file__).resolve().parent.parent


# -- in-process: the handlers over the memory engine ------------------------------------------------


def make_broker(**broker_values: str) -> Broker:
    config = BrokerConfig.from_values(broker_values)
    return Broker(
        MemoryStorage(),
        lambda overrides: effective_topic_configs(overrides, config),
        node_id=NODE,
        host="127.0.0.1",
        port=9092,
        cluster_id="test-cluster",
    )


def append(broker: Broker, topic: str, n: int, partition: int = 0) -> None:
    """Append ``n`` one-record batches to the partition (as the produce path stores them)."""
    plog = broker.topics[topic].partitions[partition].log
    for _ in range(n):
        base = plog.log_end_offset
        data = bytes(build_batch([SimpleRecord(key=b"k", value=b"v", timestamp=1_700_000_000_000)], base_offset=base))
        view = RecordBatch(data)
        plog.append([(data, BatchEntry(base, view.last_offset, view.max_timestamp, len(data)))])


def cp_topic(name: str, count: int, assignments: list[list[int]] | None = None) -> CreatePartitionsTopic:
    return CreatePartitionsTopic(
        name=name,
        count=count,
        assignments=None if assignments is None else [CreatePartitionsAssignment(broker_ids=a) for a in assignments],
    )


def cp(broker: Broker, *topics: CreatePartitionsTopic, validate_only: bool = False) -> dict[str, tuple[int, Any]]:
    req = CreatePartitionsRequest(topics=list(topics), timeout_ms=1000, validate_only=validate_only)
    return {r.name: (r.error_code, r.error_message) for r in create_partitions.handle(broker, 3, req).results}


def test_create_partitions_increases_and_validates() -> None:
    b = make_broker()
    b.create_topic("t", 2, {})
    assert cp(b, cp_topic("t", 4)) == {"t": (0, None)}
    assert len(b.topics["t"].partitions) == 4 and len(b.storage.partition(b.topics["t"].topic_id, 3).entries()) == 0
    assert cp(b, cp_topic("t", 4)) == {"t": (ErrorCode.INVALID_PARTITIONS, "Topic already has 4 partition(s).")}
    assert cp(b, cp_topic("t", 3)) == {
        "t": (ErrorCode.INVALID_PARTITIONS, "The topic t currently has 4 partition(s); 3 would not be an increase.")
    }
    assert cp(b, cp_topic("nope", 3)) == {"nope": (ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, None)}
    assert cp(b, cp_topic("t", 6), validate_only=True) == {"t": (0, None)}
    assert len(b.topics["t"].partitions) == 4
    # manual assignments: one per new partition, only this broker, once, replication factor 1
    assert cp(b, cp_topic("t", 6, [[NODE]])) == {
        "t": (
            ErrorCode.INVALID_REPLICA_ASSIGNMENT,
            "Attempted to add 2 additional partition(s), but only 1 assignment(s) were specified.",
        )
    }
    assert cp(b, cp_topic("t", 5, [[7]]))["t"] == (
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        "The manual partition assignment includes broker 7, but no such broker is registered.",
    )
    assert cp(b, cp_topic("t", 5, [[]]))["t"][1] == "The manual partition assignment includes an empty replica list."
    assert cp(b, cp_topic("t", 5, [[NODE, NODE]]))["t"] == (
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        f"The manual partition assignment includes the broker {NODE} more than once.",
    )
    assert cp(b, cp_topic("t", 6, [[NODE], [NODE]])) == {"t": (0, None)}
    assert len(b.topics["t"].partitions) == 6
    # a name twice → INVALID_REQUEST once, listed first; the others still run
    b.create_topic("u", 1, {})
    req = CreatePartitionsRequest(topics=[cp_topic("u", 2), cp_topic("t", 7), cp_topic("t", 8)], timeout_ms=0)
    results = create_partitions.handle(b, 0, req).results
    assert [(r.name, r.error_code, r.error_message) for r in results] == [
        ("t", ErrorCode.INVALID_REQUEST, "Duplicate topic name."),
        ("u", 0, None),
    ]
    assert len(b.topics["t"].partitions) == 6 and len(b.topics["u"].partitions) == 2


def test_create_partitions_bounds_one_request() -> None:
    b = make_broker()
    b.create_topic("big", 1, {})
    assert cp(b, cp_topic("big", 2**31 - 1))["big"] == (
        ErrorCode.POLICY_VIOLATION,
        "Unable to perform excessively large batch operation.",
    )
    assert cp(b, cp_topic("big", 10001)) == {"big": (0, None)}
    assert len(b.topics["big"].partitions) == 10001


def sync_now(broker: Broker) -> Any:
    """A ``sync`` for the handler that syncs at once (no reactor thread pool in these tests)."""
    from twisted.internet.defer import succeed

    def sync() -> Any:
        broker.storage.sync()
        return succeed(None)

    return sync


def answer(result: Any) -> Any:
    """The value of a handler's answer (a Deferred that has fired, or the response itself)."""
    from twisted.internet.defer import Deferred

    if not isinstance(result, Deferred):
        return result
    out: list[Any] = []
    result.addBoth(out.append)
    assert out, "the answer did not fire"
    return out[0]


def dr(broker: Broker, topic: str, *offsets: tuple[int, int]) -> list[tuple[int, int, int]]:
    req = DeleteRecordsRequest(
        topics=[
            DeleteRecordsTopic(
                name=topic, partitions=[DeleteRecordsPartition(partition_index=p, offset=o) for p, o in offsets]
            )
        ],
        timeout_ms=1000,
    )
    (t,) = answer(delete_records.handle(broker, 2, req, sync=sync_now(broker))).topics
    return [(p.partition_index, p.error_code, p.low_watermark) for p in t.partitions]


def test_delete_records_moves_the_log_start() -> None:
    b = make_broker()
    b.create_topic("d", 2, {})
    append(b, "d", 10)
    woken: list[int] = []
    b.topics["d"].partitions[0].waiters.append(lambda: woken.append(1))
    assert dr(b, "d", (0, 4)) == [(0, 0, 4)]
    assert woken == [1]
    log = b.topics["d"].partitions[0].log
    assert (log.log_start_offset, log.log_end_offset) == (4, 10)
    assert dr(b, "d", (0, 2)) == [(0, 0, 4)]  # never backwards: the current low watermark
    assert dr(b, "d", (0, 11)) == [(0, ErrorCode.OFFSET_OUT_OF_RANGE, -1)]
    assert dr(b, "d", (0, -2)) == [(0, ErrorCode.OFFSET_OUT_OF_RANGE, -1)]
    assert dr(b, "d", (0, -1)) == [(0, 0, 10)]  # -1: the high watermark
    assert log.log_start_offset == 10
    assert dr(b, "d", (1, -1), (2, 0)) == [(1, 0, 0), (2, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1)]
    assert dr(b, "nope", (0, 0)) == [(0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1)]
    b.create_topic("c", 1, {"cleanup.policy": "compact"})
    assert dr(b, "c", (0, 0)) == [(0, ErrorCode.POLICY_VIOLATION, -1)]
    b.create_topic("cd", 1, {"cleanup.policy": "compact,delete"})
    assert dr(b, "cd", (0, 0)) == [(0, 0, 0)]


def test_describe_cluster() -> None:
    b = make_broker()
    for v in (0, 1, 2):
        r = describe_cluster.handle(b, v, DescribeClusterRequest(include_cluster_authorized_operations=v == 1))
        assert (r.error_code, r.cluster_id, r.controller_id, r.endpoint_type) == (0, "test-cluster", NODE, 1)
        assert [(x.broker_id, x.host, x.port, x.rack, x.is_fenced) for x in r.brokers] == [
            (NODE, "127.0.0.1", 9092, None, False)
        ]
        assert r.cluster_authorized_operations == (CLUSTER_OPERATIONS if v == 1 else NO_OPERATIONS)
    r = describe_cluster.handle(b, 1, DescribeClusterRequest(endpoint_type=2))
    assert r.error_code == ErrorCode.MISMATCHED_ENDPOINT_TYPE and not r.brokers
    assert (
        r.error_message
        == "The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER"
    )
    r = describe_cluster.handle(b, 2, DescribeClusterRequest(endpoint_type=9))
    assert (r.error_code, r.error_message) == (ErrorCode.UNSUPPORTED_ENDPOINT_TYPE, "Unsupported endpoint type 9")


def test_describe_log_dirs(tmp_path: Path) -> None:
    b = make_broker()
    b.create_topic("a", 2, {})
    b.create_topic("b", 1, {})
    append(b, "a", 3, partition=1)
    r = describe_log_dirs.handle(b, 4, DescribeLogDirsRequest(topics=None), log_dir=tmp_path)
    (res,) = r.results
    assert (r.error_code, res.error_code, res.log_dir) == (0, 0, str(tmp_path))
    sizes = {
        (t.name, p.partition_index): (p.partition_size, p.offset_lag, p.is_future_key)
        for t in res.topics
        for p in t.partitions
    }
    size = b.topics["a"].partitions[1].log.size_bytes()
    assert size > 0
    assert sizes == {("a", 0): (0, 0, False), ("a", 1): (size, 0, False), ("b", 0): (0, 0, False)}
    usage = shutil.disk_usage(tmp_path)
    assert res.total_bytes == usage.total and 0 < res.usable_bytes <= usage.total
    wanted = [DescribableLogDirTopic(topic="a", partitions=[1, 7]), DescribableLogDirTopic(topic="zz", partitions=[0])]
    (res,) = describe_log_dirs.handle(b, 1, DescribeLogDirsRequest(topics=wanted), log_dir=tmp_path).results
    assert [(t.name, [p.partition_index for p in t.partitions]) for t in res.topics] == [("a", [1])]
    (res,) = describe_log_dirs.handle(b, 1, DescribeLogDirsRequest(topics=[]), log_dir=tmp_path).results
    assert res.topics == []


def ofle(broker: Broker, topic: str, partition: int, epoch: int, current: int = -1) -> tuple[int, int, int]:
    req = OffsetForLeaderEpochRequest(
        replica_id=-1,
        topics=[
            OffsetForLeaderTopic(
                topic=topic,
                partitions=[
                    OffsetForLeaderPartition(partition=partition, current_leader_epoch=current, leader_epoch=epoch)
                ],
            )
        ],
    )
    (t,) = offset_for_leader_epoch.handle(broker, 4, req).topics
    (p,) = t.partitions
    return p.error_code, p.leader_epoch, p.end_offset


def test_offset_for_leader_epoch() -> None:
    b = make_broker()
    b.create_topic("e", 1, {})
    assert ofle(b, "e", 0, 0) == (0, 0, 0)
    append(b, "e", 5)
    assert ofle(b, "e", 0, 0) == (0, 0, 5)  # the current epoch ends at the log end
    assert ofle(b, "e", 0, 0, current=0) == (0, 0, 5)
    assert ofle(b, "e", 0, 1) == (0, -1, -1)  # an epoch we never had: undefined, no error
    assert ofle(b, "e", 0, -1) == (0, -1, -1)
    assert ofle(b, "e", 0, 0, current=1) == (ErrorCode.UNKNOWN_LEADER_EPOCH, -1, -1)
    b.topics["e"].partitions[0].leader_epoch = 2  # as if two elections had happened
    assert ofle(b, "e", 0, 2, current=1) == (ErrorCode.FENCED_LEADER_EPOCH, -1, -1)
    assert ofle(b, "e", 0, 1, current=2) == (0, 1, 0)  # before the first cached epoch: its start offset
    b.topics["e"].partitions[0].leader_epoch = 0
    assert ofle(b, "e", 1, 0) == (ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1, -1)
    assert ofle(b, "nope", 0, 0) == (ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1, -1)


def dtp(
    broker: Broker,
    names: list[str],
    limit: int = 2000,
    cursor: tuple[str, int] | None = None,
    max_partitions: int = 2000,
) -> tuple[list[tuple[str, int, list[int]]], tuple[str, int] | None]:
    req = DescribeTopicPartitionsRequest(
        topics=[TopicRequest(name=n) for n in names],
        response_partition_limit=limit,
        cursor=None if cursor is None else Cursor(topic_name=cursor[0], partition_index=cursor[1]),
    )
    r = describe_topic_partitions.handle(broker, 0, req, max_partitions=max_partitions)
    nc = None if r.next_cursor is None else (r.next_cursor.topic_name, r.next_cursor.partition_index)
    return [(t.name, t.error_code, [p.partition_index for p in t.partitions]) for t in r.topics], nc


def test_describe_topic_partitions_pages() -> None:
    b = make_broker()
    b.create_topic("a", 3, {})
    b.create_topic("b", 2, {})
    b.create_topic("c", 1, {})
    assert dtp(b, []) == ([("a", 0, [0, 1, 2]), ("b", 0, [0, 1]), ("c", 0, [0])], None)
    assert dtp(b, [], limit=2) == ([("a", 0, [0, 1])], ("a", 2))
    assert dtp(b, [], limit=2, cursor=("a", 2)) == ([("a", 0, [2]), ("b", 0, [0])], ("b", 1))
    assert dtp(b, [], limit=2, cursor=("b", 1)) == ([("b", 0, [1]), ("c", 0, [0])], None)
    assert dtp(b, [], limit=3) == ([("a", 0, [0, 1, 2])], ("b", 0))  # exactly full: the next topic
    assert dtp(b, [], limit=0) == ([("a", 0, [0])], ("a", 1))  # at least one partition
    assert dtp(b, [], max_partitions=4) == ([("a", 0, [0, 1, 2]), ("b", 0, [0])], ("b", 1))
    unknown = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
    assert dtp(b, ["c", "zz", "a", "c", "bad name"]) == (
        [("a", 0, [0, 1, 2]), ("bad name", ErrorCode.INVALID_TOPIC_EXCEPTION, []), ("c", 0, [0]), ("zz", unknown, [])],
        None,
    )
    assert dtp(b, ["c", "b"], cursor=("c", 0)) == ([("c", 0, [0])], None)
    invalid = ErrorCode.INVALID_REQUEST
    assert dtp(b, ["c", "b"], cursor=("a", 0)) == ([("c", invalid, []), ("b", invalid, [])], None)
    assert dtp(b, ["a"], cursor=("a", -1)) == ([("a", invalid, [])], None)
    assert dtp(b, [], cursor=("bb", 0)) == ([("c", 0, [0])], None)  # a cursor topic that is gone: the next ones
    req = DescribeTopicPartitionsRequest(topics=[TopicRequest(name="a")], response_partition_limit=10, cursor=None)
    (t,) = describe_topic_partitions.handle(b, 0, req, max_partitions=10).topics
    assert (t.topic_id, t.is_internal, t.topic_authorized_operations) == (
        b.topics["a"].topic_id,
        False,
        TOPIC_OPERATIONS,
    )
    p = t.partitions[0]
    assert (
        p.leader_id,
        p.leader_epoch,
        p.replica_nodes,
        p.isr_nodes,
        p.eligible_leader_replicas,
        p.offline_replicas,
    ) == (
        NODE,
        0,
        [NODE],
        [NODE],
        [],
        [],
    )
    req = DescribeTopicPartitionsRequest(topics=[TopicRequest(name="zz")], response_partition_limit=10, cursor=None)
    (t,) = describe_topic_partitions.handle(b, 0, req, max_partitions=10).topics
    assert (t.topic_id, t.partitions) == (ZERO_UUID, [])


def el(broker: Broker, version: int, topics: dict[str, list[int]] | None, election_type: int = 0) -> Any:
    req = ElectLeadersRequest(
        election_type=election_type,
        topic_partitions=None
        if topics is None
        else [TopicPartitions(topic=t, partitions=ps) for t, ps in topics.items()],
        timeout_ms=1000,
    )
    r = elect_leaders.handle(broker, version, req)
    return r.error_code, {
        t.topic: [(p.partition_id, p.error_code, p.error_message) for p in t.partition_result]
        for t in r.replica_election_results
    }


def test_elect_leaders() -> None:
    b = make_broker()
    b.create_topic("x", 2, {})
    b.create_topic("w", 1, {})
    not_needed = (ErrorCode.ELECTION_NOT_NEEDED, "Leader election not needed for topic partition.")
    for election_type in (0, 1):
        assert el(b, 2, {"x": [0, 5], "nope": [0]}, election_type) == (
            0,
            {
                "x": [(0, *not_needed), (5, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "No such partition as x-5")],
                "nope": [(0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "No such topic as nope")],
            },
        )
    assert el(b, 0, {"x": [1]}) == (0, {"x": [(1, *not_needed)]})
    assert el(b, 1, None) == (0, {"w": [], "x": []})
    assert el(b, 2, {"x": [0]}, election_type=7) == (
        ErrorCode.INVALID_REQUEST,
        {"x": [(0, ErrorCode.INVALID_REQUEST, "Unknown election type 7")]},
    )


def test_partition_reassignments() -> None:
    b = make_broker()
    b.create_topic("r", 1, {})

    def alter(version: int, replicas: list[int] | None, topic: str = "r", index: int = 0) -> tuple[int, str | None]:
        req = AlterPartitionReassignmentsRequest(
            timeout_ms=1000,
            allow_replication_factor_change=False,
            topics=[
                ReassignableTopic(
                    name=topic, partitions=[ReassignablePartition(partition_index=index, replicas=replicas)]
                )
            ],
        )
        r = alter_partition_reassignments.handle(b, version, req)
        assert (r.error_code, r.error_message, r.allow_replication_factor_change) == (0, None, version == 0)
        (t,) = r.responses
        (p,) = t.partitions
        return p.error_code, p.error_message

    assert alter(0, [NODE]) == (0, None)
    assert alter(1, [NODE]) == (0, None)
    assert alter(1, [2]) == (
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        "The manual partition assignment includes broker 2, but no such broker is registered.",
    )
    assert alter(1, [NODE, 2])[0] == ErrorCode.INVALID_REPLICA_ASSIGNMENT
    assert alter(1, [])[0] == ErrorCode.INVALID_REPLICA_ASSIGNMENT
    assert alter(1, [NODE, NODE])[0] == ErrorCode.INVALID_REPLICA_ASSIGNMENT
    assert alter(1, None) == (ErrorCode.NO_REASSIGNMENT_IN_PROGRESS, "No partition reassignment is in progress.")
    assert alter(1, [NODE], topic="nope") == (
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        "Unable to find a topic named nope.",
    )
    assert alter(1, [NODE], index=3) == (ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "Unable to find partition r:3.")
    for topics in (None, [ListPartitionReassignmentsTopics(name="r", partition_indexes=[0])]):
        r = list_partition_reassignments.handle(0, ListPartitionReassignmentsRequest(timeout_ms=1000, topics=topics))
        assert (r.error_code, r.error_message, r.topics) == (0, None, [])


# -- a broker process: raw requests at every version, then real clients ------------------------------


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    with BrokerProcess(tmp_path_factory.mktemp("admin-partitions") / "data") as b:
        yield b


def call(port: int, api_key: int, version: int, body: Any, correlation_id: int = 7) -> Any:
    out = bytearray()
    spec = APIS[api_key]
    RequestHeader(api_key, version, correlation_id, "raw").encode_into(out, spec.request_header_version(version))
    body.encode_into(out, version)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(struct.pack(">i", len(out)) + out)
        data = b""
        while len(data) < 4 or len(data) < 4 + struct.unpack(">i", data[:4])[0]:
            chunk = s.recv(65536)
            assert chunk, "connection closed instead of a response"
            data += chunk
    view = memoryview(data)[4:]
    header, pos = ResponseHeader.decode_from(view, 0, spec.response_header_version(version))
    response, end = spec.response_class().decode_from(view, pos, version)
    assert (header.correlation_id, end) == (correlation_id, len(view))
    return response


def versions(api_key: int) -> list[int]:
    return list(range(APIS[api_key].min_version, APIS[api_key].max_version + 1))


def produce(bootstrap: str, topic: str, n: int, partition: int = 0) -> None:
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
    for i in range(n):
        p.produce(topic, value=b"v%d" % i, partition=partition)
        p.flush(TIMEOUT)  # one batch per record: offsets land inside the log, not only at batch edges
    assert p.flush(TIMEOUT) == 0


def test_raw_every_version(broker: BrokerProcess) -> None:
    port = broker.port
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("raw", 2)])["raw"].result(TIMEOUT)
    produce(broker.bootstrap, "raw", 3)
    for v in versions(37):
        req = CreatePartitionsRequest(topics=[cp_topic("raw", 3 + v)], timeout_ms=1000, validate_only=False)
        (r,) = call(port, 37, v, req).results
        assert (r.name, r.error_code, r.error_message) == ("raw", 0, None)
        req = CreatePartitionsRequest(topics=[cp_topic("raw", 3 + v)], timeout_ms=1000, validate_only=False)
        (r,) = call(port, 37, v, req).results
        assert (r.error_code, r.error_message) == (
            ErrorCode.INVALID_PARTITIONS,
            f"Topic already has {3 + v} partition(s).",
        )
    for v in versions(21):
        req = DeleteRecordsRequest(
            topics=[DeleteRecordsTopic(name="raw", partitions=[DeleteRecordsPartition(partition_index=0, offset=v)])],
            timeout_ms=1000,
        )
        ((p,),) = [t.partitions for t in call(port, 21, v, req).topics]
        assert (p.partition_index, p.error_code, p.low_watermark) == (0, 0, v)
    for v in versions(60):
        r = call(port, 60, v, DescribeClusterRequest(include_cluster_authorized_operations=True))
        assert (r.error_code, r.controller_id, r.cluster_authorized_operations) == (0, NODE, CLUSTER_OPERATIONS)
        assert [(x.broker_id, x.host, x.port) for x in r.brokers] == [(NODE, "127.0.0.1", port)]
    assert call(port, 60, 1, DescribeClusterRequest(endpoint_type=2)).error_code == ErrorCode.MISMATCHED_ENDPOINT_TYPE
    for v in versions(35):
        req = DescribeLogDirsRequest(topics=[DescribableLogDirTopic(topic="raw", partitions=[0, 1])])
        r = call(port, 35, v, req)
        (res,) = r.results
        assert res.log_dir == str(broker.data_dir.absolute())
        ((p0, p1),) = [t.partitions for t in res.topics]
        assert p0.partition_size > 0 and p1.partition_size == 0
        assert (res.total_bytes > 0) == (v >= 4)
    for v in versions(23):
        req = OffsetForLeaderEpochRequest(
            replica_id=-1,
            topics=[
                OffsetForLeaderTopic(
                    topic="raw",
                    partitions=[
                        OffsetForLeaderPartition(partition=0, current_leader_epoch=0, leader_epoch=0),
                        OffsetForLeaderPartition(partition=0, current_leader_epoch=0, leader_epoch=3),
                    ],
                )
            ],
        )
        ((a, b),) = [t.partitions for t in call(port, 23, v, req).topics]
        assert (a.error_code, a.end_offset, b.error_code, b.end_offset) == (0, 3, 0, -1)
        assert (a.leader_epoch, b.leader_epoch) == ((0, -1) if v >= 1 else (-1, -1))
    for v in versions(75):
        req = DescribeTopicPartitionsRequest(
            topics=[TopicRequest(name="raw"), TopicRequest(name="nope")], response_partition_limit=2, cursor=None
        )
        r = call(port, 75, v, req)
        assert [(t.name, t.error_code, len(t.partitions)) for t in r.topics] == [("nope", 3, 0), ("raw", 0, 2)]
        assert (r.next_cursor.topic_name, r.next_cursor.partition_index) == ("raw", 2)
    for v in versions(43):
        req = ElectLeadersRequest(election_type=0, topic_partitions=[TopicPartitions(topic="raw", partitions=[0])])
        ((p,),) = [t.partition_result for t in call(port, 43, v, req).replica_election_results]
        assert p.error_code == ErrorCode.ELECTION_NOT_NEEDED
    for v in versions(45):
        req = AlterPartitionReassignmentsRequest(
            topics=[
                ReassignableTopic(
                    name="raw",
                    partitions=[
                        ReassignablePartition(partition_index=0, replicas=[NODE]),
                        ReassignablePartition(partition_index=1, replicas=[NODE + 1]),
                    ],
                )
            ]
        )
        ((a, b),) = [t.partitions for t in call(port, 45, v, req).responses]
        assert (a.error_code, b.error_code) == (0, ErrorCode.INVALID_REPLICA_ASSIGNMENT)
    for v in versions(46):
        r = call(port, 46, v, ListPartitionReassignmentsRequest(topics=None))
        assert (r.error_code, r.topics) == (0, [])


def test_confluent_create_partitions(broker: BrokerProcess) -> None:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("grow", 1)])["grow"].result(TIMEOUT)
    admin.create_partitions([NewPartitions("grow", 3)])["grow"].result(TIMEOUT)
    assert len(admin.list_topics("grow", timeout=TIMEOUT).topics["grow"].partitions) == 3
    with pytest.raises(KafkaException) as same:
        admin.create_partitions([NewPartitions("grow", 3)])["grow"].result(TIMEOUT)
    assert same.value.args[0].name() == "INVALID_PARTITIONS"
    assert "Topic already has 3 partition(s)." in same.value.args[0].str()
    with pytest.raises(KafkaException) as fewer:
        admin.create_partitions([NewPartitions("grow", 2)])["grow"].result(TIMEOUT)
    assert fewer.value.args[0].name() == "INVALID_PARTITIONS"
    with pytest.raises(KafkaException) as other:
        admin.create_partitions([NewPartitions("grow", 4, [[NODE + 5]])])["grow"].result(TIMEOUT)
    assert other.value.args[0].name() == "INVALID_REPLICA_ASSIGNMENT"
    admin.create_partitions([NewPartitions("grow", 4, [[NODE]])], validate_only=True)["grow"].result(TIMEOUT)
    assert len(admin.list_topics("grow", timeout=TIMEOUT).topics["grow"].partitions) == 3
    admin.create_partitions([NewPartitions("grow", 4, [[NODE]])])["grow"].result(TIMEOUT)
    with pytest.raises(KafkaException) as unknown:
        admin.create_partitions([NewPartitions("never", 4)])["never"].result(TIMEOUT)
    assert unknown.value.args[0].name() == "UNKNOWN_TOPIC_OR_PART"
    produce(broker.bootstrap, "grow", 2, partition=3)  # the new partition takes records
    desc = admin.describe_topics(TopicCollection(["grow"]))["grow"].result(TIMEOUT)
    assert [p.id for p in desc.partitions] == [0, 1, 2, 3]
    assert all(p.leader.id == NODE and [r.id for r in p.replicas] == [NODE] for p in desc.partitions)


def consume_from(bootstrap: str, topic: str, offset: int, n: int, timeout: float = TIMEOUT) -> list[tuple[int, bytes]]:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "unused",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "fetch.wait.max.ms": 100,
        }
    )
    got: list[tuple[int, bytes]] = []
    try:
        consumer.assign([TopicPartition(topic, 0, offset)])
        deadline = time.monotonic() + timeout
        while len(got) < n and time.monotonic() < deadline:
            for m in consumer.consume(10, timeout=0.5):
                assert not m.error(), m.error()
                got.append((m.offset(), m.value()))
    finally:
        consumer.close()
    return got


def test_confluent_delete_records_then_consume(broker: BrokerProcess) -> None:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("trim", 1)])["trim"].result(TIMEOUT)
    produce(broker.bootstrap, "trim", 10)
    (f,) = admin.delete_records([TopicPartition("trim", 0, 6)]).values()
    assert f.result(TIMEOUT).low_watermark == 6
    (f,) = admin.delete_records([TopicPartition("trim", 0, 2)]).values()
    assert f.result(TIMEOUT).low_watermark == 6  # never backwards
    (f,) = admin.delete_records([TopicPartition("trim", 0, 11)]).values()
    with pytest.raises(KafkaException) as beyond:
        f.result(TIMEOUT)
    assert beyond.value.args[0].name() == "OFFSET_OUT_OF_RANGE"
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "unused"})
    try:
        assert consumer.get_watermark_offsets(TopicPartition("trim", 0), timeout=TIMEOUT) == (6, 10)
    finally:
        consumer.close()
    assert consume_from(broker.bootstrap, "trim", 6, 4) == [(i, b"v%d" % i) for i in range(6, 10)]
    (f,) = admin.delete_records([TopicPartition("trim", 0, -1)]).values()  # -1: up to the high watermark
    assert f.result(TIMEOUT).low_watermark == 10


def test_confluent_reading_below_the_low_watermark_resets(broker: BrokerProcess) -> None:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("trim-reset", 1)])["trim-reset"].result(TIMEOUT)
    produce(broker.bootstrap, "trim-reset", 10)
    (f,) = admin.delete_records([TopicPartition("trim-reset", 0, 6)]).values()
    assert f.result(TIMEOUT).low_watermark == 6
    # below the low watermark → OFFSET_OUT_OF_RANGE → auto.offset.reset=earliest → the low watermark
    assert consume_from(broker.bootstrap, "trim-reset", 1, 4, timeout=5) == [(i, b"v%d" % i) for i in range(6, 10)]


def test_confluent_delete_records_survives_kill(tmp_path: Path) -> None:
    b = BrokerProcess(tmp_path / "data").start()
    try:
        admin = AdminClient({"bootstrap.servers": b.bootstrap})
        admin.create_topics([NewTopic("durable", 1)])["durable"].result(TIMEOUT)
        produce(b.bootstrap, "durable", 5)
        (f,) = admin.delete_records([TopicPartition("durable", 0, 3)]).values()
        assert f.result(TIMEOUT).low_watermark == 3
        b.kill()  # no shutdown: the answer came after the sync
        b.start()
        consumer = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "unused"})
        try:
            low, _ = consumer.get_watermark_offsets(TopicPartition("durable", 0), timeout=TIMEOUT)
        finally:
            consumer.close()
        assert low == 3
    finally:
        if b.proc is not None and b.proc.poll() is None:
            b.stop()


def test_confluent_cluster_topics_and_elections(broker: BrokerProcess) -> None:
    from confluent_kafka import ElectionType

    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("desc", 2)])["desc"].result(TIMEOUT)
    cluster = admin.describe_cluster(include_authorized_operations=True).result(TIMEOUT)
    assert [(n.id, n.host, n.port) for n in cluster.nodes] == [(NODE, "127.0.0.1", broker.port)]
    assert cluster.controller.id == NODE and cluster.cluster_id == admin.list_topics(timeout=TIMEOUT).cluster_id
    assert cluster.authorized_operations
    topics = admin.describe_topics(TopicCollection(["desc", "absent"]))
    assert len(topics["desc"].result(TIMEOUT).partitions) == 2
    with pytest.raises(KafkaException) as absent:
        topics["absent"].result(TIMEOUT)
    assert absent.value.args[0].name() == "UNKNOWN_TOPIC_OR_PART"
    assert set(admin.list_topics(timeout=TIMEOUT).topics) >= {"desc"}
    f = admin.elect_leaders(ElectionType.PREFERRED, [TopicPartition("desc", 0), TopicPartition("desc", 1)])
    results = f.result(TIMEOUT)
    assert sorted((tp.partition, err.name() if err else None) for tp, err in results.items()) == [
        (0, "ELECTION_NOT_NEEDED"),
        (1, "ELECTION_NOT_NEEDED"),
    ]


# -- the Java Admin client ----------------------------------------------------------------------------

JAVA_PROGRAM = r"""
import java.util.*;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.*;
import org.apache.kafka.common.errors.*;
import org.apache.kafka.common.serialization.*;

public class AdminPartitions {
    static void check(boolean ok, Object what) { if (!ok) throw new AssertionError(String.valueOf(what)); }

    static Throwable cause(KafkaFuture<?> f) throws Exception {
        try { f.get(); } catch (ExecutionException e) { return e.getCause(); }
        throw new AssertionError("expected a failure");
    }

    public static void main(String[] args) throws Exception {
        String topic = "java-admin";
        Properties common = new Properties();
        common.put("bootstrap.servers", args[0]);
        try (Admin admin = Admin.create(common)) {
            DescribeClusterResult cluster =
                admin.describeCluster(new DescribeClusterOptions().includeAuthorizedOperations(true));
            Collection<Node> nodes = cluster.nodes().get();
            int node = nodes.iterator().next().id();
            check(nodes.size() == 1 && cluster.controller().get().id() == node, nodes);
            check(!cluster.clusterId().get().isEmpty(), "cluster id");
            check(cluster.authorizedOperations().get().contains(
                org.apache.kafka.common.acl.AclOperation.DESCRIBE), "ops");

            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
            admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(5))).all().get();
            Throwable same = cause(admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(5))).all());
            check(same instanceof InvalidPartitionsException
                && same.getMessage().equals("Topic already has 5 partition(s)."), same);
            Throwable other = cause(admin.createPartitions(
                Map.of(topic, NewPartitions.increaseTo(6, List.of(List.of(node + 3))))).all());
            check(other instanceof InvalidReplicaAssignmentException, other);

            // describeTopics: DescribeTopicPartitions in 4.x, paging 2 partitions at a time
            DescribeTopicsOptions paging = new DescribeTopicsOptions().partitionSizeLimitPerResponse(2);
            TopicDescription d = admin.describeTopics(List.of(topic), paging).allTopicNames().get().get(topic);
            check(d.partitions().size() == 5, d);
            for (int i = 0; i < 5; i++) {
                TopicPartitionInfo p = d.partitions().get(i);
                check(p.partition() == i && p.leader().id() == node
                    && p.replicas().size() == 1 && p.isr().size() == 1, p);
            }
            Throwable missing =
                cause(admin.describeTopics(List.of("java-missing")).topicNameValues().get("java-missing"));
            check(missing instanceof UnknownTopicOrPartitionException, missing);

            try (KafkaProducer<String, String> producer =
                    new KafkaProducer<>(common, new StringSerializer(), new StringSerializer())) {
                for (int i = 0; i < 10; i++) producer.send(new ProducerRecord<>(topic, 0, null, "v" + i)).get();
            }
            TopicPartition tp0 = new TopicPartition(topic, 0);
            long low = admin.deleteRecords(Map.of(tp0, RecordsToDelete.beforeOffset(4)))
                .lowWatermarks().get(tp0).get().lowWatermark();
            check(low == 4, "low watermark " + low);
            Throwable beyond = cause(admin.deleteRecords(Map.of(tp0, RecordsToDelete.beforeOffset(99))).all());
            check(beyond instanceof org.apache.kafka.common.errors.OffsetOutOfRangeException, beyond);

            Map<Integer, Map<String, LogDirDescription>> dirs =
                admin.describeLogDirs(List.of(node)).allDescriptions().get();
            LogDirDescription dir = dirs.get(node).values().iterator().next();
            check(dirs.get(node).size() == 1 && dir.error() == null, dirs);
            ReplicaInfo info = dir.replicaInfos().get(tp0);
            check(info != null && info.size() > 0 && info.offsetLag() == 0 && !info.isFuture(), dir.replicaInfos());
            check(dir.totalBytes().isPresent() && dir.usableBytes().getAsLong() > 0, "total/usable bytes");

            check(admin.listPartitionReassignments().reassignments().get().isEmpty(), "reassignments");
            AlterPartitionReassignmentsResult alter = admin.alterPartitionReassignments(Map.of(
                tp0, Optional.of(new NewPartitionReassignment(List.of(node))),
                new TopicPartition(topic, 1), Optional.of(new NewPartitionReassignment(List.of(node + 1)))));
            alter.values().get(tp0).get();
            Throwable elsewhere = cause(alter.values().get(new TopicPartition(topic, 1)));
            check(elsewhere instanceof InvalidReplicaAssignmentException, elsewhere);

            Map<TopicPartition, Optional<Throwable>> elected =
                admin.electLeaders(ElectionType.PREFERRED, Set.of(tp0)).partitions().get();
            check(elected.get(tp0).isPresent()
                && elected.get(tp0).get() instanceof ElectionNotNeededException, elected);
        }
        // the consumer validates a position with a leader epoch through OffsetsForLeaderEpoch
        Properties cp = new Properties();
        cp.putAll(common);
        cp.put("auto.offset.reset", "earliest");
        try (KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(cp, new StringDeserializer(), new StringDeserializer())) {
            TopicPartition tp0 = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp0));
            consumer.seek(tp0, new OffsetAndMetadata(6, Optional.of(0), ""));
            List<String> values = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 30000;
            while (values.size() < 4 && System.currentTimeMillis() < deadline)
                for (ConsumerRecord<String, String> r : consumer.poll(java.time.Duration.ofMillis(200)))
                    values.add(r.offset() + "=" + r.value());
            check(values.equals(List.of("6=v6", "7=v7", "8=v8", "9=v9")), values);
            consumer.seek(tp0, 1);  // below the low watermark: reset to earliest (4)
            values.clear();
            while (values.size() < 6 && System.currentTimeMillis() < deadline)
                for (ConsumerRecord<String, String> r : consumer.poll(java.time.Duration.ofMillis(200)))
                    values.add(r.offset() + "=" + r.value());
            check(values.get(0).equals("4=v4") && values.size() == 6, values);
        }
        System.out.println("OK admin partitions");
    }
}
"""


class ApiKeyProxy:
    """A TCP proxy in front of the broker recording the API key of every request passing through
    (the broker advertises the proxy, so clients send everything through it)."""

    def __init__(self, target_port: int) -> None:
        from tests.broker_process import free_port

        self.port = free_port()
        self.target_port = target_port
        self.keys: set[int] = set()
        self.server = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            threading.Thread(target=self._requests, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()

    def _requests(self, src: socket.socket, dst: socket.socket) -> None:
        buf = b""
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
                buf += chunk
                while len(buf) >= 6 and len(buf) >= 4 + struct.unpack(">i", buf[:4])[0]:
                    self.keys.add(struct.unpack(">h", buf[4:6])[0])
                    buf = buf[4 + struct.unpack(">i", buf[:4])[0] :]
        except OSError:
            pass
        finally:
            dst.close()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            dst.close()

    def close(self) -> None:
        self.server.close()


@pytest.mark.skipif(not java_available(), reason="java/javac not on PATH: install a JDK 17 (scripts/test does)")
@pytest.mark.parametrize("release", RELEASES)
def test_java_admin(tmp_path: Path, release: str) -> None:
    from tests.broker_process import free_port

    if not lib_dir(release).is_dir():
        subprocess.run([str(ROOT / "scripts" / "java-deps")], check=True)
    source = tmp_path / "AdminPartitions.java"
    source.write_text(JAVA_PROGRAM)
    port = free_port()
    proxy = ApiKeyProxy(port)
    try:
        with BrokerProcess(
            tmp_path / "data", f"advertised.listeners=PLAINTEXT://127.0.0.1:{proxy.port}", port=port
        ) as broker:
            proc = subprocess.run(
                ["java", "-cp", f"{lib_dir(release)}/*", str(source), f"127.0.0.1:{proxy.port}"],
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-6000:] + broker.log()[-3000:]
            assert "OK admin partitions" in proc.stdout
    finally:
        proxy.close()
    # every API of this module went over the wire (describeTopics: DescribeTopicPartitions, 75)
    assert {37, 21, 60, 35, 23, 75, 43, 45, 46} <= proxy.keys, sorted(proxy.keys)
