"""Regressions for the differences the protocol sweep (conformance/chronik_conformance/sweep.py) found
between Chronik and Kafka 4.4.0: each test pins Kafka's answer, through a real broker and raw requests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from chronik.protocol.errors import ErrorCode
from chronik.protocol.records import SimpleRecord, build_batch
from chronik_protocol.messages.api_versions_request import ApiVersionsRequest
from chronik_protocol.messages.create_topics_request import CreatableTopic, CreateTopicsRequest
from chronik_protocol.messages.delete_topics_request import DeleteTopicsRequest, DeleteTopicState
from chronik_protocol.messages.describe_cluster_request import DescribeClusterRequest
from chronik_protocol.messages.describe_configs_request import DescribeConfigsRequest, DescribeConfigsResource
from chronik_protocol.messages.fetch_request import FetchPartition, FetchRequest, FetchTopic
from chronik_protocol.messages.list_offsets_request import ListOffsetsPartition, ListOffsetsRequest, ListOffsetsTopic
from chronik_protocol.messages.metadata_request import MetadataRequest, MetadataRequestTopic
from chronik_protocol.messages.offset_commit_request import (
    OffsetCommitRequest,
    OffsetCommitRequestPartition,
    OffsetCommitRequestTopic,
)
from chronik_protocol.messages.produce_request import PartitionProduceData, ProduceRequest, TopicProduceData
from tests.broker_process import BrokerProcess
from tests.raw_client import call

TOPIC = "sweep-reg"
#: AclEntry.supportedOperations(CLUSTER): CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS,
#: ALTER_CONFIGS, IDEMPOTENT_WRITE.
KAFKA_CLUSTER_OPERATIONS = 8096


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    with BrokerProcess(tmp_path_factory.mktemp("sweep-regressions") / "data") as b:
        created = call(b.port, 19, 7, CreateTopicsRequest(topics=[CreatableTopic(TOPIC, 2, 1)], timeout_ms=5000))
        assert created.topics[0].error_code == 0  # type: ignore[attr-defined]
        produced = produce(b.port, 9, 0, batch(3))
        assert produced.error_code == 0 and produced.base_offset == 0
        yield b


@pytest.fixture(scope="module")
def topic_id(broker: BrokerProcess) -> uuid.UUID:
    md = call(broker.port, 3, 12, MetadataRequest(topics=[MetadataRequestTopic(name=TOPIC)]))
    return md.topics[0].topic_id  # type: ignore[attr-defined,no-any-return]


def batch(n: int = 1) -> bytes:
    return bytes(build_batch([SimpleRecord(b"k", b"v", (), 1_000 * (i + 1)) for i in range(n)]))


def produce(
    port: int, version: int, partition: int, records: bytes, acks: int = -1, tid: uuid.UUID | None = None
) -> Any:
    td = TopicProduceData(name=TOPIC, partition_data=[PartitionProduceData(index=partition, records=records)])
    if tid is not None:
        td.topic_id = tid
    resp = call(port, 0, version, ProduceRequest(acks=acks, timeout_ms=5000, topic_data=[td]))
    return resp.responses[0].partition_responses[0]  # type: ignore[attr-defined]


def fetch(port: int, version: int, partition: int, offset: int, tid: uuid.UUID | None = None) -> Any:
    ft = FetchTopic(topic=TOPIC, partitions=[FetchPartition(partition=partition, fetch_offset=offset)])
    if tid is not None:
        ft.topic_id = tid
    req = FetchRequest(replica_id=-1, max_wait_ms=0, min_bytes=0, max_bytes=1 << 20, session_epoch=-1, topics=[ft])
    return call(port, 1, version, req).responses[0].partitions[0]  # type: ignore[attr-defined]


def list_offsets(port: int, version: int, *partitions: tuple[int, int]) -> list[Any]:
    parts = [ListOffsetsPartition(partition_index=p, timestamp=ts) for p, ts in partitions]
    req = ListOffsetsRequest(replica_id=-1, topics=[ListOffsetsTopic(name=TOPIC, partitions=parts)])
    return call(port, 2, version, req).topics[0].partitions  # type: ignore[attr-defined,no-any-return]


# -- Produce ------------------------------------------------------------------------------------------


def test_produce_unknown_partition_answers_offsets_minus_one(broker: BrokerProcess) -> None:
    r = produce(broker.port, 9, 99, batch())
    assert (r.error_code, r.base_offset, r.log_start_offset) == (ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1, -1)


def test_produce_invalid_acks_is_invalid_required_acks(broker: BrokerProcess) -> None:
    r = produce(broker.port, 9, 1, batch(), acks=2)
    assert (r.error_code, r.base_offset, r.log_start_offset) == (ErrorCode.INVALID_REQUIRED_ACKS, -1, -1)


def test_produce_corrupt_or_request_level_invalid_batch_has_no_log_start_offset(broker: BrokerProcess) -> None:
    bad = bytearray(batch())
    bad[-1] ^= 0xFF
    r = produce(broker.port, 9, 1, bytes(bad))
    assert (r.error_code, r.base_offset, r.log_start_offset) == (ErrorCode.CORRUPT_MESSAGE, -1, -1)
    r = produce(broker.port, 9, 1, b"")
    assert (r.error_code, r.log_start_offset) == (ErrorCode.INVALID_RECORD, -1)


def test_produce_v13_known_topic_id_unknown_partition(broker: BrokerProcess, topic_id: uuid.UUID) -> None:
    r = produce(broker.port, 13, 99, batch(), tid=topic_id)
    assert r.error_code == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
    r = produce(broker.port, 13, 0, batch(), tid=uuid.uuid4())
    assert (r.error_code, r.base_offset) == (ErrorCode.UNKNOWN_TOPIC_ID, -1)


# -- Fetch --------------------------------------------------------------------------------------------


def test_fetch_partition_in_error_answers_offsets_minus_one(broker: BrokerProcess, topic_id: uuid.UUID) -> None:
    for pd in (fetch(broker.port, 12, 0, 99), fetch(broker.port, 12, 99, 0)):
        assert pd.error_code in (ErrorCode.OFFSET_OUT_OF_RANGE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
        assert (pd.high_watermark, pd.last_stable_offset, pd.log_start_offset) == (-1, -1, -1)
    pd = fetch(broker.port, 13, 99, 0, tid=topic_id)
    assert (pd.error_code, pd.high_watermark) == (ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1)
    pd = fetch(broker.port, 13, 0, 0, tid=uuid.uuid4())
    assert (pd.error_code, pd.high_watermark) == (ErrorCode.UNKNOWN_TOPIC_ID, -1)


# -- ListOffsets --------------------------------------------------------------------------------------


def test_list_offsets_not_found_and_pending_upload(broker: BrokerProcess) -> None:
    after, pending = list_offsets(broker.port, 11, (0, 10**12)), list_offsets(broker.port, 11, (1, -6))
    for r in (after[0], pending[0]):
        assert (r.error_code, r.offset, r.timestamp, r.leader_epoch) == (0, -1, -1, -1)
    found = list_offsets(broker.port, 11, (0, 2_000))[0]
    assert (found.offset, found.timestamp, found.leader_epoch) == (1, 2_000, 0)


def test_list_offsets_duplicate_partition_is_one_invalid_request(broker: BrokerProcess) -> None:
    results = list_offsets(broker.port, 7, (0, -1), (0, -1), (1, -1))
    assert [(r.partition_index, r.error_code, r.offset) for r in results] == [
        (0, ErrorCode.INVALID_REQUEST, -1),
        (1, 0, 0),
    ]


# -- Metadata, DescribeCluster, ApiVersions -----------------------------------------------------------


def test_metadata_answers_a_repeated_topic_once(broker: BrokerProcess) -> None:
    req = MetadataRequest(topics=[MetadataRequestTopic(name=TOPIC), MetadataRequestTopic(name=TOPIC)])
    assert [t.name for t in call(broker.port, 3, 12, req).topics] == [TOPIC]  # type: ignore[attr-defined]


def test_cluster_authorized_operations_are_kafkas_cluster_set(broker: BrokerProcess) -> None:
    md = call(broker.port, 3, 8, MetadataRequest(topics=[], include_cluster_authorized_operations=True))
    assert md.cluster_authorized_operations == KAFKA_CLUSTER_OPERATIONS  # type: ignore[attr-defined]
    dc = call(broker.port, 60, 0, DescribeClusterRequest(include_cluster_authorized_operations=True))
    assert dc.cluster_authorized_operations == KAFKA_CLUSTER_OPERATIONS  # type: ignore[attr-defined]


def test_init_producer_id_v6_is_not_advertised(broker: BrokerProcess) -> None:
    """v6 (KIP-939) is unstable in Kafka 4.4, which advertises 0-5."""
    resp = call(broker.port, 18, 3, ApiVersionsRequest(client_software_name="t", client_software_version="1"))
    ranges = {k.api_key: (k.min_version, k.max_version) for k in resp.api_keys}  # type: ignore[attr-defined]
    assert ranges[22] == (0, 5)


# -- CreateTopics, DeleteTopics -----------------------------------------------------------------------


def create(port: int, *topics: CreatableTopic) -> list[Any]:
    return call(port, 19, 7, CreateTopicsRequest(topics=list(topics), timeout_ms=5000)).topics  # type: ignore[attr-defined,no-any-return]


def test_create_topics_duplicate_name_gets_one_result_and_errors_have_empty_configs(broker: BrokerProcess) -> None:
    results = create(broker.port, CreatableTopic("dup-t", 1, 1), CreatableTopic("dup-t", 1, 1))
    assert [(r.name, r.error_code, r.configs) for r in results] == [("dup-t", ErrorCode.INVALID_REQUEST, [])]
    exists = create(broker.port, CreatableTopic(TOPIC, 1, 1))[0]
    assert (exists.error_code, exists.configs) == (ErrorCode.TOPIC_ALREADY_EXISTS, [])


def test_create_topics_name_colliding_on_dot_and_underscore(broker: BrokerProcess) -> None:
    assert create(broker.port, CreatableTopic("coll.ide", 1, 1))[0].error_code == 0
    assert create(broker.port, CreatableTopic("coll_ide", 1, 1))[0].error_code == ErrorCode.INVALID_TOPIC_EXCEPTION


def test_create_topics_lists_kafka_4_4_topic_configs(broker: BrokerProcess) -> None:
    configs = {c.name: c.value for c in create(broker.port, CreatableTopic("cfg-44", 1, 1))[0].configs}
    assert configs["remote.copy.lag.ms"] == "0"
    assert configs["remote.copy.lag.bytes"] == "-1"
    assert configs["max.decompressed.message.bytes"] == "2147483639"
    assert configs["errors.deadletterqueue.group.enable"] == "false"


def test_delete_topics_duplicates_and_name_with_id_are_invalid_requests(broker: BrokerProcess) -> None:
    assert create(broker.port, CreatableTopic("del-dup", 1, 1))[0].error_code == 0
    resp = call(broker.port, 20, 5, DeleteTopicsRequest(topic_names=["del-dup", "del-dup"], timeout_ms=5000))
    assert [(r.name, r.error_code) for r in resp.responses] == [("del-dup", ErrorCode.INVALID_REQUEST)]  # type: ignore[attr-defined]
    md = call(broker.port, 3, 12, MetadataRequest(topics=[MetadataRequestTopic(name="del-dup")]))
    assert md.topics[0].error_code == 0  # type: ignore[attr-defined]  # not deleted
    both = DeleteTopicState(name="del-dup", topic_id=md.topics[0].topic_id)  # type: ignore[attr-defined]
    resp = call(broker.port, 20, 6, DeleteTopicsRequest(topics=[both], timeout_ms=5000))
    assert resp.responses[0].error_code == ErrorCode.INVALID_REQUEST  # type: ignore[attr-defined]


# -- DescribeConfigs ----------------------------------------------------------------------------------


def describe(port: int, rtype: int, name: str, keys: list[str] | None, docs: bool = False) -> list[Any]:
    res = DescribeConfigsResource(resource_type=rtype, resource_name=name, configuration_keys=keys)
    req = DescribeConfigsRequest(resources=[res], include_synonyms=False, include_documentation=docs)
    return call(port, 32, 4, req).results[0].configs  # type: ignore[attr-defined,no-any-return]


def test_broker_logger_entries_have_unknown_type_and_empty_documentation(broker: BrokerProcess) -> None:
    (root,) = describe(broker.port, 8, "1", ["root"])
    assert (root.config_type, root.documentation) == (0, "")


def test_topic_documentation_is_kafka_4_4s(broker: BrokerProcess) -> None:
    (segment_bytes,) = describe(broker.port, 2, TOPIC, ["segment.bytes"], docs=True)
    assert segment_bytes.documentation.endswith("The active segment is rolled once it reaches this size.")


# -- OffsetCommit -------------------------------------------------------------------------------------


def offset_commit(port: int, version: int, group: str, generation: int, partition: int, tid: uuid.UUID | None) -> int:
    part = OffsetCommitRequestPartition(partition_index=partition, committed_offset=1)
    topic = OffsetCommitRequestTopic(name=TOPIC if tid is None else "", partitions=[part])
    if tid is not None:
        topic.topic_id = tid
    req = OffsetCommitRequest(group_id=group, generation_id_or_member_epoch=generation, member_id="", topics=[topic])
    return call(port, 8, version, req).topics[0].partitions[0].error_code  # type: ignore[attr-defined,no-any-return]


def test_offset_commit_with_generation_to_unknown_group(broker: BrokerProcess) -> None:
    """``OffsetMetadataManager``: GROUP_ID_NOT_FOUND from v9, ILLEGAL_GENERATION before."""
    assert offset_commit(broker.port, 8, "no-such-group-8", 3, 0, None) == ErrorCode.ILLEGAL_GENERATION
    assert offset_commit(broker.port, 9, "no-such-group-9", 3, 0, None) == ErrorCode.GROUP_ID_NOT_FOUND


def test_offset_commit_v10_known_topic_id_unknown_partition(broker: BrokerProcess, topic_id: uuid.UUID) -> None:
    assert offset_commit(broker.port, 10, "g-v10", -1, 99, topic_id) == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
    assert offset_commit(broker.port, 10, "g-v10", -1, 0, uuid.uuid4()) == ErrorCode.UNKNOWN_TOPIC_ID
    assert offset_commit(broker.port, 10, "g-v10", -1, 0, topic_id) == ErrorCode.NONE
