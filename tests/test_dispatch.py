"""The dispatcher, error responses for every API and version, and the ApiVersions handler."""

from __future__ import annotations

import logging
import sys
import uuid
from typing import Any

import pytest
from twisted.internet.defer import Deferred, fail, succeed

from chronik.broker.dispatch import NO_RESPONSE, Dispatcher, Handler, RequestContext
from chronik.broker.handlers import api_versions
from chronik.protocol.connection import Request, error_response
from chronik.protocol.errors import ErrorCode
from chronik_protocol.api_table import APIS
from chronik_protocol.messages.api_versions_request import ApiVersionsRequest
from chronik_protocol.messages.api_versions_response import ApiVersionsResponse
from chronik_protocol.messages.metadata_request import MetadataRequest, MetadataRequestTopic
from chronik_protocol.messages.metadata_response import MetadataResponse
from chronik_protocol.messages.request_header import RequestHeader

# Schema-table kinds (see chronik.protocol.wire): used to build populated requests generically.
K_BOOL, K_INT8, K_INT16, K_UINT16, K_INT32, K_UINT32, K_INT64, K_FLOAT64, K_UUID = range(1, 10)
K_STRING, K_BYTES, K_RECORDS, K_STRUCT, K_ARRAY = range(10, 15)


def make_request(api_key: int, version: int, body: Any, correlation_id: int = 1) -> Request:
    header = RequestHeader(api_key, version, correlation_id, "client")
    return Request(api_key, version, correlation_id, "client", header, body, 0)


def ctx_for(request: Request) -> RequestContext:
    return RequestContext(request, ("127.0.0.1", 5555), "PLAINTEXT", "127.0.0.1:9092-127.0.0.1:5555-0")


def metadata_request(version: int = 12) -> Request:
    return make_request(3, version, MetadataRequest(topics=[MetadataRequestTopic(name="t")]))


# ---------------------------------------------------------------------------------------------
# Dispatcher


def test_handler_exception_becomes_unknown_server_error_with_a_logged_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(ctx: RequestContext, body: Any) -> Any:
        raise RuntimeError("boom")

    d = Dispatcher()
    d.register(3, Handler(0, 12, broken))
    with caplog.at_level(logging.ERROR, logger="chronik.broker.dispatch"):
        response = d.dispatch(ctx_for(metadata_request()))
    assert isinstance(response, MetadataResponse)
    assert [(t.name, t.error_code) for t in response.topics] == [("t", ErrorCode.UNKNOWN_SERVER_ERROR)]
    (record,) = caplog.records
    assert record.exc_info is not None and "boom" in str(record.exc_info[1])
    assert "correlation id 1" in record.getMessage()


def test_a_failed_deferred_becomes_unknown_server_error(caplog: pytest.LogCaptureFixture) -> None:
    d = Dispatcher()
    d.register(3, Handler(0, 12, lambda ctx, body: fail(ValueError("late boom"))))
    with caplog.at_level(logging.ERROR, logger="chronik.broker.dispatch"):
        result = d.dispatch(ctx_for(metadata_request()))
    assert isinstance(result, Deferred)
    got: list[Any] = []
    result.addCallback(got.append)
    assert got[0].topics[0].error_code == ErrorCode.UNKNOWN_SERVER_ERROR
    assert "late boom" in str(caplog.records[0].exc_info[1])  # type: ignore[index]


def test_deferred_coroutine_and_no_response_results_pass_through() -> None:
    d = Dispatcher()
    pending: Deferred[Any] = Deferred()
    d.register(3, Handler(0, 12, lambda ctx, body: pending))
    got: list[Any] = []
    d.dispatch(ctx_for(metadata_request())).addCallback(got.append)
    pending.callback(MetadataResponse(cluster_id="c"))
    assert got[0].cluster_id == "c"

    async def coro(ctx: RequestContext, body: Any) -> Any:
        return await succeed(MetadataResponse(cluster_id="async"))

    d.register(3, Handler(0, 12, coro))
    d.dispatch(ctx_for(metadata_request())).addCallback(got.append)
    assert got[1].cluster_id == "async"

    d.register(0, Handler(3, 13, lambda ctx, body: NO_RESPONSE))
    assert d.dispatch(ctx_for(make_request(0, 9, None))) is NO_RESPONSE


def test_a_handler_returning_none_is_an_error(caplog: pytest.LogCaptureFixture) -> None:
    d = Dispatcher()
    d.register(3, Handler(0, 12, lambda ctx, body: None))
    with caplog.at_level(logging.ERROR, logger="chronik.broker.dispatch"):
        assert d.dispatch(ctx_for(metadata_request())).topics[0].error_code == -1


def test_handlers_see_the_connection_facts() -> None:
    seen: list[RequestContext] = []
    d = Dispatcher()
    d.register(3, Handler(0, 12, lambda ctx, body: seen.append(ctx) or MetadataResponse()))
    d.dispatch(ctx_for(metadata_request()))
    (ctx,) = seen
    assert ctx.principal == "User:ANONYMOUS" and ctx.listener_name == "PLAINTEXT"
    assert ctx.peer == ("127.0.0.1", 5555) and ctx.connection_id.endswith("-0")
    assert (ctx.api_key, ctx.api_version, ctx.correlation_id, ctx.client_id) == (3, 12, 1, "client")


def test_registration_is_limited_to_versions_the_codecs_speak() -> None:
    d = Dispatcher()
    with pytest.raises(ValueError, match="outside"):
        d.register(3, Handler(0, APIS[3].max_version + 1, lambda ctx, body: None))
    with pytest.raises(ValueError, match="unknown API key"):
        d.register(500, Handler(0, 0, lambda ctx, body: None))
    with pytest.raises(ValueError, match="advertised min"):
        d.register(0, Handler(3, 13, lambda ctx, body: None, advertised_min=5))
    assert d.versions(3) is None


def test_produce_is_accepted_from_3_but_advertised_from_0() -> None:
    """KAFKA-18659: Kafka 4 lists Produce from v0 although it rejects v0-2."""
    d = Dispatcher()
    d.register(0, Handler(3, 13, lambda ctx, body: NO_RESPONSE, advertised_min=0))
    api_versions.register(d)
    assert d.versions(0) == (3, 13)
    assert d.advertised() == [(0, 0, 13), (18, 0, 5)]


# ---------------------------------------------------------------------------------------------
# error_response for every API and version


def _schema(cls: Any, version: int) -> Any:
    return sys.modules[cls.__module__].SCHEMAS[version]


def _sample(kind: int, nullable: bool, depth: int, i: int) -> Any:
    return {
        K_BOOL: True,
        K_INT8: 1,
        K_INT16: 2 + i,
        K_UINT16: 3,
        K_INT32: 4 + i,
        K_UINT32: 5,
        K_INT64: 6,
        K_FLOAT64: 0.5,
        K_UUID: uuid.UUID(int=7 + i),
        K_STRING: f"s{depth}{i}",
        K_BYTES: b"b",
        K_RECORDS: b"",
    }[kind]


def populated(schema: Any, depth: int = 0, i: int = 0) -> Any:
    """A message with every field set and two items in every array (recursively)."""
    obj = schema[0]()
    for kind, nullable, _compact, name, elem, sub in [*schema[2], *(t[1:] for t in schema[3])]:
        if kind == K_ARRAY:
            if elem == K_STRUCT:
                value = [populated(sub, depth + 1, j) for j in range(2)]
            else:
                value = [_sample(elem, False, depth + 1, j) for j in range(2)]
        elif kind == K_STRUCT:
            value = populated(sub, depth + 1, i)
        else:
            value = _sample(kind, nullable, depth, i)
        setattr(obj, name, value)
    return obj


#: Responses whose error fields the request's items cannot be mapped to: DescribeLogDirs v0-2 has
#: none (Kafka answers an empty result list too), AlterReplicaLogDirs answers per topic what the
#: request lists per log dir.
NOWHERE_FOR_AN_ERROR = {(35, 0), (35, 1), (35, 2), (34, 0), (34, 1), (34, 2)}

ALL_VERSIONS = [(key, v) for key, spec in sorted(APIS.items()) for v in range(spec.min_version, spec.max_version + 1)]


@pytest.mark.parametrize(("api_key", "version"), ALL_VERSIONS)
def test_error_response_encodes_for_every_api_and_version(api_key: int, version: int) -> None:
    spec = APIS[api_key]
    request_cls, response_cls = spec.request_class(), spec.response_class()
    for body in (None, request_cls(), populated(_schema(request_cls, version))):
        response = error_response(make_request(api_key, version, body), ErrorCode.UNKNOWN_SERVER_ERROR)
        assert type(response) is response_cls
        data = response.encode(version)
        assert response_cls.decode(data, version) == response
    assert _error_codes(response) or (api_key, version) in NOWHERE_FOR_AN_ERROR, (
        f"{spec.name} v{version}: the error is nowhere in the response"
    )


def _error_codes(msg: Any) -> list[int]:
    """Every error code in a message, or [] if it has none set."""
    found = []
    for name in getattr(msg, "__slots__", ()):
        value = getattr(msg, name, None)
        if name in ("error_code", "partition_error_code") and value:
            found.append(value)
        elif isinstance(value, list):
            for item in value:
                found += _error_codes(item)
        elif hasattr(value, "__slots__"):
            found += _error_codes(value)
    return found


def test_error_response_without_a_top_level_error_marks_every_requested_item() -> None:
    from chronik_protocol.messages.produce_request import PartitionProduceData, ProduceRequest, TopicProduceData

    body = ProduceRequest(
        topic_data=[
            TopicProduceData(name="a", partition_data=[PartitionProduceData(0), PartitionProduceData(5)]),
            TopicProduceData(name="b", partition_data=[PartitionProduceData(1)]),
        ]
    )
    response = error_response(make_request(0, 9, body), ErrorCode.NOT_LEADER_OR_FOLLOWER)
    got = [(t.name, p.index, p.error_code) for t in response.responses for p in t.partition_responses]
    assert got == [("a", 0, 6), ("a", 5, 6), ("b", 1, 6)]


def test_error_response_uses_the_top_level_error_code_when_there_is_one() -> None:
    from chronik_protocol.messages.fetch_request import FetchPartition, FetchRequest, FetchTopic

    body = FetchRequest(topics=[FetchTopic(topic="a", partitions=[FetchPartition(partition=0)])])
    response = error_response(make_request(1, 12, body), ErrorCode.UNKNOWN_SERVER_ERROR)
    assert response.error_code == -1 and response.responses == []


@pytest.mark.parametrize(
    ("api_key", "version", "build", "extract"),
    [
        (  # Metadata before v13: per topic (names copied; a null name is "" where the response needs one)
            3,
            11,
            lambda m: m.MetadataRequest(topics=[m.MetadataRequestTopic(name="x"), m.MetadataRequestTopic(name=None)]),
            lambda r: [(t.name, t.error_code) for t in r.topics],
        ),
        (  # DescribeGroups: request items are plain strings
            15,
            5,
            lambda m: m.DescribeGroupsRequest(groups=["g1", "g2"]),
            lambda r: [(g.group_id, g.error_code) for g in r.groups],
        ),
        (  # DeleteGroups: results ← groups_names
            42,
            2,
            lambda m: m.DeleteGroupsRequest(groups_names=["g"]),
            lambda r: [(g.group_id, g.error_code) for g in r.results],
        ),
        (  # FindCoordinator v4+: batched keys
            10,
            4,
            lambda m: m.FindCoordinatorRequest(coordinator_keys=["k1", "k2"]),
            lambda r: [(c.key, c.error_code) for c in r.coordinators],
        ),
        (  # OffsetFetch v8+: per group, per topic, per partition index
            9,
            8,
            lambda m: m.OffsetFetchRequest(
                groups=[
                    m.OffsetFetchRequestGroup(
                        group_id="g", topics=[m.OffsetFetchRequestTopics(name="t", partition_indexes=[3, 4])]
                    )
                ]
            ),
            lambda r: [
                (
                    g.group_id,
                    g.error_code,
                    [(t.name, [(p.partition_index, p.error_code) for p in t.partitions]) for t in g.topics],
                )
                for g in r.groups
            ],
        ),
        (  # CreateTopics: per topic name (configs are not echoed)
            19,
            5,
            lambda m: m.CreateTopicsRequest(topics=[m.CreatableTopic(name="new")]),
            lambda r: [(t.name, t.error_code) for t in r.topics],
        ),
        (  # ListOffsets
            2,
            7,
            lambda m: m.ListOffsetsRequest(
                topics=[m.ListOffsetsTopic(name="t", partitions=[m.ListOffsetsPartition(partition_index=2)])]
            ),
            lambda r: [(t.name, [(p.partition_index, p.error_code) for p in t.partitions]) for t in r.topics],
        ),
        (  # OffsetCommit
            8,
            8,
            lambda m: m.OffsetCommitRequest(
                topics=[m.OffsetCommitRequestTopic(name="t", partitions=[m.OffsetCommitRequestPartition(1)])]
            ),
            lambda r: [(t.name, [(p.partition_index, p.error_code) for p in t.partitions]) for t in r.topics],
        ),
    ],
)
def test_error_response_mirrors_request_items(api_key: int, version: int, build: Any, extract: Any) -> None:
    module = sys.modules[APIS[api_key].request_class().__module__]
    response = error_response(make_request(api_key, version, build(module)), 29)
    expected = {
        3: [("x", 29), ("", 29)],
        15: [("g1", 29), ("g2", 29)],
        42: [("g", 29)],
        10: [("k1", 29), ("k2", 29)],
        9: [("g", 29, [("t", [(3, 29), (4, 29)])])],
        19: [("new", 29)],
        2: [("t", [(2, 29)])],
        8: [("t", [(1, 29)])],
    }[api_key]
    assert extract(response) == expected
    response.encode(version)
    if api_key == 19:
        assert response.topics[0].configs == []


def test_error_response_copies_identity_lists_and_answers_bare_results_per_item() -> None:
    from chronik_protocol.messages import alter_client_quotas_request as q
    from chronik_protocol.messages import alter_user_scram_credentials_request as s
    from chronik_protocol.messages import create_acls_request as a

    entry = q.EntryData(entity=[q.EntityData("user", "alice")], ops=[q.OpData("k", 1.0)])
    response = error_response(make_request(49, 1, q.AlterClientQuotasRequest(entries=[entry])), 31)
    assert [(e.error_code, [(x.entity_type, x.entity_name) for x in e.entity]) for e in response.entries] == [
        (31, [("user", "alice")])
    ]
    creations = [a.AclCreation(resource_name="r1"), a.AclCreation(resource_name="r2")]
    response = error_response(make_request(30, 3, a.CreateAclsRequest(creations=creations)), 31)
    assert [r.error_code for r in response.results] == [31, 31]
    body = s.AlterUserScramCredentialsRequest(
        deletions=[s.ScramCredentialDeletion(name="a")], upsertions=[s.ScramCredentialUpsertion(name="b")]
    )
    response = error_response(make_request(51, 0, body), 31)
    assert [(r.user, r.error_code) for r in response.results] == [("a", 31), ("b", 31)]


# ---------------------------------------------------------------------------------------------
# ApiVersions handler


def api_versions_dispatcher(**options: Any) -> tuple[Dispatcher, api_versions.ApiVersionsHandler]:
    d = Dispatcher()
    d.register(3, Handler(0, 12, lambda ctx, body: MetadataResponse()))
    d.register(0, Handler(3, 13, lambda ctx, body: NO_RESPONSE, advertised_min=0))
    handler = api_versions.register(d, **options)
    return d, handler


def ask(d: Dispatcher, version: int, body: ApiVersionsRequest | None = None) -> ApiVersionsResponse:
    body = body or ApiVersionsRequest("confluent-kafka-python", "2.16.1-rdkafka-2.16.0")
    response = d.dispatch(ctx_for(make_request(18, version, body)))
    data = response.encode(version)
    return ApiVersionsResponse.decode(data, version)


@pytest.mark.parametrize("version", range(6))
def test_api_versions_advertises_exactly_the_registered_ranges(version: int) -> None:
    d, _ = api_versions_dispatcher()
    response = ask(d, version)
    assert response.error_code == 0 and response.throttle_time_ms == 0
    rows = [(k.api_key, k.min_version, k.max_version) for k in response.api_keys]
    assert rows == [(0, 0, 13), (3, 0, 12), (18, 0, 5)]
    assert response.supported_features == [] and response.finalized_features == []
    assert response.finalized_features_epoch == -1


@pytest.mark.parametrize("name", ["", "-lead", "trail-", "spa ce", "ünï"])
def test_api_versions_v3_rejects_invalid_client_software(name: str) -> None:
    """ApiVersionsRequest.isValid (v3+) → INVALID_REQUEST, as KafkaApis answers."""
    d, _ = api_versions_dispatcher()
    assert ask(d, 3, ApiVersionsRequest(name, "1.0")).error_code == ErrorCode.INVALID_REQUEST
    assert ask(d, 3, ApiVersionsRequest("ok", name)).error_code == ErrorCode.INVALID_REQUEST
    assert ask(d, 2).error_code == 0  # v0-2 carry no software fields


def test_api_versions_v5_cluster_and_node_checks() -> None:
    d, _ = api_versions_dispatcher(cluster_id="abc", node_id=1)
    base = {"client_software_name": "c", "client_software_version": "1"}
    assert ask(d, 5, ApiVersionsRequest(**base, cluster_id="abc")).error_code == ErrorCode.INVALID_REQUEST
    assert ask(d, 5, ApiVersionsRequest(**base, node_id=1)).error_code == ErrorCode.INVALID_REQUEST
    assert ask(d, 5, ApiVersionsRequest(**base, cluster_id="abc", node_id=1)).error_code == 0
    assert ask(d, 5, ApiVersionsRequest(**base, cluster_id="xyz", node_id=1)).error_code == 129
    assert ask(d, 5, ApiVersionsRequest(**base, cluster_id="abc", node_id=2)).error_code == 129
    assert ask(d, 5, ApiVersionsRequest(**base)).error_code == 0


def test_api_versions_features_follow_kafka_17011() -> None:
    """Below v4 a supported feature with min 0 is left out; a finalized level 0 is never listed."""
    _, handler = api_versions_dispatcher(
        supported_features=[("metadata.version", 7, 27), ("group.version", 0, 1)],
        finalized_features=[("metadata.version", 27), ("group.version", 0)],
        finalized_features_epoch=5,
    )
    d = handler.dispatcher
    v3, v4 = ask(d, 3), ask(d, 4)
    assert [(f.name, f.min_version, f.max_version) for f in v3.supported_features] == [("metadata.version", 7, 27)]
    assert [(f.name, f.min_version) for f in v4.supported_features] == [("metadata.version", 7), ("group.version", 0)]
    for r in (v3, v4):
        assert [(f.name, f.min_version_level, f.max_version_level) for f in r.finalized_features] == [
            ("metadata.version", 27, 27)
        ]
        assert r.finalized_features_epoch == 5


def test_error_response_copies_int8_identities() -> None:
    """A config resource's int8 ``resource_type`` is echoed with its name (librdkafka matches on both)."""
    from chronik.protocol.connection import Request, error_response
    from chronik_protocol.messages.incremental_alter_configs_request import (
        AlterConfigsResource,
        IncrementalAlterConfigsRequest,
    )

    body = IncrementalAlterConfigsRequest(resources=[AlterConfigsResource(resource_type=2, resource_name="t")])
    request = Request(api_key=44, api_version=1, correlation_id=5, client_id="c", header=None, body=body, size=0)
    response = error_response(request, 40)
    (item,) = response.responses
    assert (item.resource_type, item.resource_name, item.error_code) == (2, "t", 40)
