"""The sans-I/O connection: framing, request headers, version checks, in-order responses.

No sockets: bytes go in, events and bytes come out (Kafka's behaviour in each test's docstring).
"""

from __future__ import annotations

import struct
import time
import uuid
from typing import Any

import pytest

from chronik.protocol.connection import (
    Close,
    Connection,
    DataToSend,
    Request,
    RequestReceived,
    error_response,
)
from chronik.protocol.errors import ErrorCode
from chronik_protocol.api_table import APIS
from chronik_protocol.messages.api_versions_request import ApiVersionsRequest
from chronik_protocol.messages.api_versions_response import ApiVersionsResponse
from chronik_protocol.messages.metadata_request import MetadataRequest, MetadataRequestTopic
from chronik_protocol.messages.metadata_response import MetadataResponse
from chronik_protocol.messages.produce_request import PartitionProduceData, ProduceRequest, TopicProduceData
from chronik_protocol.messages.produce_response import ProduceResponse
from chronik_protocol.messages.request_header import RequestHeader
from chronik_protocol.messages.response_header import ResponseHeader

#: What the connection under test implements: ApiVersions all, Metadata 0-12, Produce 3-13.
IMPLEMENTED = {18: (0, 5), 3: (0, 12), 0: (3, 13)}
MAX = 1 << 20


def connection(**kwargs: Any) -> Connection:
    return Connection(kwargs.pop("max_request_size", MAX), IMPLEMENTED.get, **kwargs)


def frame(api_key: int, version: int, correlation_id: int, body: Any, client_id: str | None = "test") -> bytes:
    out = bytearray()
    RequestHeader(api_key, version, correlation_id, client_id).encode_into(
        out, APIS[api_key].request_header_version(version)
    )
    body.encode_into(out, version)
    return struct.pack(">i", len(out)) + bytes(out)


def raw_frame(payload: bytes) -> bytes:
    return struct.pack(">i", len(payload)) + payload


def api_versions(correlation_id: int, version: int = 3) -> bytes:
    return frame(18, version, correlation_id, ApiVersionsRequest("chronik-test", "1.0"))


def metadata(correlation_id: int, version: int = 12, topics: list[str] | None = None) -> bytes:
    body = MetadataRequest(topics=None if topics is None else [MetadataRequestTopic(name=t) for t in topics])
    return frame(3, version, correlation_id, body)


def produce(correlation_id: int, version: int = 9, acks: int = -1, records: bytes = b"") -> bytes:
    body = ProduceRequest(
        acks=acks,
        timeout_ms=1000,
        topic_data=[
            TopicProduceData(name="t", partition_data=[PartitionProduceData(index=0, records=records)]),
            TopicProduceData(name="u", partition_data=[PartitionProduceData(index=1), PartitionProduceData(index=2)]),
        ],
    )
    return frame(0, version, correlation_id, body)


def requests(events: list[Any]) -> list[Request]:
    assert all(isinstance(e, RequestReceived) for e in events), events
    return [e.request for e in events]


def split_responses(data: bytes) -> list[bytes]:
    out, pos = [], 0
    while pos < len(data):
        (n,) = struct.unpack_from(">i", data, pos)
        out.append(data[pos + 4 : pos + 4 + n])
        pos += 4 + n
    assert pos == len(data)
    return out


def correlation_ids(data: bytes) -> list[int]:
    return [struct.unpack_from(">i", r)[0] for r in split_responses(data)]


# ---------------------------------------------------------------------------------------------
# Framing


def test_a_frame_split_byte_by_byte_yields_one_request_at_its_last_byte() -> None:
    conn = connection()
    data = api_versions(7)
    for b in data[:-1]:
        assert conn.receive_data(bytes([b])) == []
    (request,) = requests(conn.receive_data(data[-1:]))
    assert (request.api_key, request.api_version, request.correlation_id) == (18, 3, 7)
    assert request.client_id == "test"
    assert request.body == ApiVersionsRequest("chronik-test", "1.0")
    assert request.size == len(data) - 4


def test_many_frames_in_one_chunk_come_out_in_order_and_a_tail_waits() -> None:
    conn = connection()
    data = b"".join(metadata(i, topics=[f"t{i}"]) if i % 2 else api_versions(i) for i in range(50))
    tail = api_versions(50)
    got = requests(conn.receive_data(data + tail[:6]))
    assert [r.correlation_id for r in got] == list(range(50))
    assert got[1].body.topics[0].name == "t1"
    assert [r.correlation_id for r in requests(conn.receive_data(tail[6:]))] == [50]


def test_a_frame_of_exactly_max_request_size_is_accepted_one_byte_more_closes() -> None:
    """NetworkReceive: ``receiveSize > maxSize`` is an InvalidReceiveException (equal is fine)."""
    conn = connection(max_request_size=100)
    assert conn.receive_data(struct.pack(">i", 100)) == []
    assert not conn.closed
    conn = connection(max_request_size=100)
    (event,) = conn.receive_data(struct.pack(">i", 101) + b"x" * 10)
    assert isinstance(event, Close) and "101" in event.reason and "socket.request.max.bytes" in event.reason
    assert conn.closed
    assert conn.receive_data(api_versions(1)) == []  # nothing is parsed after a Close


def test_an_oversized_size_split_across_reads_closes() -> None:
    conn = connection(max_request_size=100)
    assert conn.receive_data(b"\x00\x00") == []
    (event,) = conn.receive_data(b"\x10\x00")
    assert isinstance(event, Close)


@pytest.mark.parametrize("size", [-1, -2**31])
def test_a_negative_size_closes(size: int) -> None:
    """NetworkReceive: ``receiveSize < 0`` → "Invalid receive (size = -1)", connection closed."""
    conn = connection()
    events = conn.receive_data(api_versions(1) + struct.pack(">i", size) + api_versions(2))
    assert [type(e) for e in events] == [RequestReceived, Close]
    assert "invalid request size" in events[1].reason


@pytest.mark.parametrize("payload", [b"", b"\x00\x12\x00\x03\x00\x00"])
def test_a_frame_too_short_for_a_header_closes(payload: bytes) -> None:
    (event,) = connection().receive_data(raw_frame(payload))
    assert isinstance(event, Close) and "too short" in event.reason


def test_a_malformed_header_closes() -> None:
    # ApiVersions v3 (header v2): client id length 50 runs past the end of the frame.
    (event,) = connection().receive_data(raw_frame(struct.pack(">hhih", 18, 3, 1, 50) + b"abc"))
    assert isinstance(event, Close) and "header" in event.reason


# ---------------------------------------------------------------------------------------------
# Header and version checks


def test_a_null_client_id_reads_as_empty() -> None:
    """RequestHeader.parse: "we treat a null client ID as equivalent to an empty client ID"."""
    (request,) = requests(connection().receive_data(frame(3, 4, 1, MetadataRequest(), client_id=None)))
    assert request.client_id == "" and request.header.client_id == ""


def test_header_version_follows_the_api_version() -> None:
    conn = connection()
    # Metadata v8 uses header v1, v9 header v2 (flexible): a wrong guess would shift the body.
    got = requests(conn.receive_data(metadata(1, 8, ["a"]) + metadata(2, 9, ["b"])))
    assert [r.body.topics[0].name for r in got] == ["a", "b"]
    assert got[1].header.unknown_tagged_fields is None


@pytest.mark.parametrize("api_key", [-1, 95, 1000, 32767])
def test_an_unknown_api_key_closes(api_key: int) -> None:
    """RequestHeader.parse: ApiKeys.forId fails → InvalidRequestException → connection closed."""
    (event,) = connection().receive_data(raw_frame(struct.pack(">hhih", api_key, 0, 9, 0)))
    assert isinstance(event, Close) and "unknown API key" in event.reason


def test_a_known_api_we_do_not_implement_closes() -> None:
    """Processor.parseRequestHeader: an API that is not enabled → InvalidRequestException."""
    from chronik_protocol.messages.list_groups_request import ListGroupsRequest

    (event,) = connection().receive_data(frame(16, 3, 5, ListGroupsRequest()))
    assert isinstance(event, Close) and "ListGroups" in event.reason and "not enabled" in event.reason


def test_an_unsupported_version_gets_an_error_response_with_its_correlation_id() -> None:
    conn = connection()
    events = conn.receive_data(metadata(41, 13, ["x"]))  # we implement Metadata v0-12
    (event,) = events
    assert isinstance(event, DataToSend)
    (response,) = split_responses(event.data)
    header, pos = ResponseHeader.decode_from(memoryview(response), 0, 1)  # Metadata v13 is flexible
    assert header.correlation_id == 41
    body = MetadataResponse.decode(response[pos:], 13)
    assert body.error_code == ErrorCode.UNSUPPORTED_VERSION  # v13 has a top-level error code
    assert conn.outstanding == 0 and not conn.closed


def test_an_unsupported_version_without_a_top_level_error_marks_every_partition() -> None:
    conn = connection()
    (event,) = conn.receive_data(produce(3, version=2))  # we implement Produce v3-13 (Kafka 4: v0-2 removed)
    (response,) = split_responses(event.data)
    assert struct.unpack_from(">i", response)[0] == 3
    body = ProduceResponse.decode(response[4:], 2)
    got = {(t.name, p.index): p.error_code for t in body.responses for p in t.partition_responses}
    assert got == {("t", 0): 35, ("u", 1): 35, ("u", 2): 35}


def test_an_unsupported_acks0_produce_closes_since_no_response_may_be_sent() -> None:
    (event,) = connection().receive_data(produce(3, version=2, acks=0))
    assert isinstance(event, Close) and "acks=0" in event.reason


def test_a_version_our_codecs_do_not_know_closes() -> None:
    (event,) = connection().receive_data(raw_frame(struct.pack(">hhih", 3, 99, 7, 0)))
    assert isinstance(event, Close) and "v99" in event.reason


def test_kafkas_exact_behaviour_closes_on_an_unsupported_version() -> None:
    """Kafka 4.x: parseRequestHeader throws UnsupportedVersionException → connection closed."""
    (event,) = connection(close_on_unsupported_version=True).receive_data(metadata(1, 13))
    assert isinstance(event, Close) and "not supported" in event.reason


def test_an_unsupported_version_waits_behind_earlier_requests() -> None:
    conn = connection()
    events = conn.receive_data(metadata(1) + metadata(2, 13))
    assert [type(e) for e in events] == [RequestReceived]  # the error answer is queued behind request 1
    data = conn.respond(events[0].request, MetadataResponse())
    assert correlation_ids(data) == [1, 2]


@pytest.mark.parametrize("version", [6, 9, 32767])
def test_api_versions_at_an_unknown_version_answers_v0_with_error_35_and_our_table(version: int) -> None:
    """KIP-511 / RequestContext.parseRequest: the body is not parsed; the answer is v0 (header v0)."""
    conn = connection()
    payload = bytearray()
    RequestHeader(18, version, 77, "future-client").encode_into(payload, 2)
    payload += b"\xde\xad\xbe\xef"  # a body from the future: never parsed
    (event,) = conn.receive_data(raw_frame(bytes(payload)))
    assert isinstance(event, DataToSend)
    (response,) = split_responses(event.data)
    assert struct.unpack_from(">i", response)[0] == 77  # response header v0: just the correlation id
    body = ApiVersionsResponse.decode(response[4:], 0)
    assert body.error_code == ErrorCode.UNSUPPORTED_VERSION
    assert [(k.api_key, k.min_version, k.max_version) for k in body.api_keys] == sorted(
        (k, lo, hi) for k, (lo, hi) in IMPLEMENTED.items()
    )
    assert conn.outstanding == 0


def test_api_versions_error_table_comes_from_the_advertised_table() -> None:
    # We implement ApiVersions v0-3 here, so a v4 request (which our codecs know) is "unknown" too.
    conn = Connection(MAX, {18: (0, 3)}.get, api_versions_table=lambda: [(0, 0, 13), (18, 0, 3)])
    (event,) = conn.receive_data(api_versions(1, version=4))
    body = ApiVersionsResponse.decode(split_responses(event.data)[0][4:], 0)
    assert [(k.api_key, k.min_version, k.max_version) for k in body.api_keys] == [(0, 0, 13), (18, 0, 3)]


def test_a_body_decode_error_closes() -> None:
    """RequestContext.parseRequest: any parse failure → InvalidRequestException → closed."""
    conn = connection()
    good = metadata(1, 4, ["topic"])
    truncated = raw_frame(good[4:-3])
    events = conn.receive_data(good + truncated + metadata(3))
    assert [type(e) for e in events] == [RequestReceived, Close]
    assert "Metadata v4" in events[1].reason
    # A huge array length is an error, not an allocation.
    huge = raw_frame(good[4:-13] + struct.pack(">i", 2**31 - 1))
    (event,) = connection().receive_data(huge)
    assert isinstance(event, Close)


# ---------------------------------------------------------------------------------------------
# Responses


def test_responses_go_out_in_request_order_when_handlers_finish_out_of_order() -> None:
    conn = connection()
    r1, r2, r3 = requests(conn.receive_data(metadata(1) + api_versions(2) + metadata(3)))
    assert conn.outstanding == 3
    assert conn.respond(r3, MetadataResponse()) == b""
    assert conn.outstanding == 3 and conn.queued_bytes > 0
    assert correlation_ids(conn.respond(r1, MetadataResponse())) == [1]
    assert correlation_ids(conn.respond(r2, ApiVersionsResponse())) == [2, 3]
    assert conn.outstanding == 0 and conn.queued_bytes == 0 and conn.outstanding_bytes == 0


def test_no_response_releases_a_slot_without_bytes() -> None:
    """acks=0 Produce: no response at all, and the next response is not held back."""
    conn = connection()
    r1, r2, r3 = requests(conn.receive_data(produce(1, acks=0) + metadata(2) + produce(3, acks=0)))
    assert conn.respond(r2, MetadataResponse()) == b""
    assert correlation_ids(conn.no_response(r1)) == [2]
    assert conn.no_response(r3) == b""
    assert conn.outstanding == 0


def test_outstanding_bytes_count_request_frames() -> None:
    conn = connection()
    data = produce(1, records=b"x" * 1000)
    (r,) = requests(conn.receive_data(data))
    assert conn.outstanding_bytes == len(data) - 4
    conn.respond(r, ProduceResponse())
    assert conn.outstanding_bytes == 0


def test_answering_twice_or_with_the_wrong_api_raises() -> None:
    conn = connection()
    r1, _r2 = requests(conn.receive_data(metadata(1) + metadata(2)))
    with pytest.raises(ValueError, match="not a response"):
        conn.respond(r1, ApiVersionsResponse())
    conn.respond(r1, MetadataResponse())
    with pytest.raises(ValueError, match="already answered"):
        conn.respond(r1, MetadataResponse())
    with pytest.raises(ValueError, match="already answered"):
        conn.no_response(r1)


def test_an_unencodable_response_leaves_the_slot_open() -> None:
    from chronik.protocol.wire import EncodeError

    conn = connection()
    (r,) = requests(conn.receive_data(metadata(1, 12)))
    with pytest.raises(EncodeError):
        conn.respond(r, MetadataResponse(throttle_time_ms="soon"))  # type: ignore[arg-type]
    assert correlation_ids(conn.respond(r, error_response(r, ErrorCode.UNKNOWN_SERVER_ERROR))) == [1]


@pytest.mark.parametrize(
    ("data", "response", "header_version"),
    [
        (metadata(5, 8), MetadataResponse(), 0),
        (metadata(5, 9), MetadataResponse(), 1),
        (api_versions(5, 3), ApiVersionsResponse(), 0),  # ApiVersions: always v0 (KIP-511)
        (produce(5, 9), ProduceResponse(), 1),
    ],
)
def test_response_header_version(data: bytes, response: Any, header_version: int) -> None:
    conn = connection()
    (r,) = requests(conn.receive_data(data))
    (out,) = split_responses(conn.respond(r, response))
    expected = bytearray()
    ResponseHeader(5).encode_into(expected, header_version)
    response.encode_into(expected, r.api_version)
    assert out == bytes(expected)


def test_requests_before_a_close_can_still_be_answered() -> None:
    conn = connection()
    events = conn.receive_data(metadata(1) + struct.pack(">i", -5))
    assert [type(e) for e in events] == [RequestReceived, Close]
    assert correlation_ids(conn.respond(events[0].request, MetadataResponse())) == [1]


# ---------------------------------------------------------------------------------------------
# Large frames


def test_a_50_mib_frame_from_64_kib_chunks_is_assembled_in_linear_time() -> None:
    """Each byte is copied once into a buffer allocated at the announced size (NetworkReceive
    allocates the same way), never re-copied per read like Int32StringReceiver's buffer; the
    decoded records stay a zero-copy view of that buffer."""
    payload = bytes(range(256)) * (50 * 1024 * 1024 // 256)
    data = produce(9, records=payload)
    conn = connection(max_request_size=100 * 1024 * 1024)
    chunk = 64 * 1024
    chunks = [data[i : i + chunk] for i in range(0, len(data), chunk)]
    timings = []
    events: list[Any] = []
    start = time.perf_counter()
    for c in chunks:
        t = time.perf_counter()
        events += conn.receive_data(c)
        timings.append(time.perf_counter() - t)
    total = time.perf_counter() - start
    (request,) = requests(events)
    records = request.body.topic_data[0].partition_data[0].records
    assert isinstance(records, memoryview) and len(records) == len(payload)
    assert records == payload
    assert isinstance(records.obj, bytearray) and len(records.obj) == len(data) - 4  # the frame buffer itself
    # Quadratic re-copying would move ~20 GB here (minutes); linear assembly is ~50 MB of copies.
    assert total < 5.0, f"{total:.2f} s"
    n = len(timings) // 10
    early, late = sorted(timings[1 : n + 1])[n // 2], sorted(timings[-n - 1 : -1])[n // 2]
    assert late < early * 10 + 0.001, (early, late)  # per-read cost does not grow with the frame


def test_a_frame_inside_one_chunk_is_parsed_in_place() -> None:
    data = produce(1, records=b"r" * 5000)
    (request,) = requests(connection().receive_data(data))
    records = request.body.topic_data[0].partition_data[0].records
    assert records.obj is data  # a view of the chunk Twisted handed us: no copy at all


def test_error_response_needs_a_version_our_codecs_have() -> None:
    assert error_response(Request(18, 2, 1, "", RequestHeader(), None, 0), 35).error_code == 35
    with pytest.raises(ValueError, match="no version 9"):
        error_response(Request(18, 9, 1, "", RequestHeader(), None, 0), 35)


def test_topic_ids_survive_into_error_responses() -> None:
    topic_id = uuid.uuid4()
    body = ProduceRequest(topic_data=[TopicProduceData(topic_id=topic_id, partition_data=[PartitionProduceData(3)])])
    response = error_response(Request(0, 13, 1, "", RequestHeader(), body, 0), ErrorCode.NOT_LEADER_OR_FOLLOWER)
    assert response.responses[0].topic_id == topic_id
    assert response.responses[0].partition_responses[0].index == 3
    assert response.responses[0].partition_responses[0].error_code == ErrorCode.NOT_LEADER_OR_FOLLOWER
    response.encode(13)
