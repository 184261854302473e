"""Bad input over a raw TCP socket against a running ``chronik start``: Kafka's answer to each.

One broker process serves every case (``socket.request.max.bytes=100000``); after each case a
real client (confluent-kafka) still produces and consumes, and for cases where the broker closes
the connection its log has the matching ``closing connection`` line.
"""

from __future__ import annotations

import socket
import struct
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from chronik.protocol.errors import ErrorCode
from chronik.protocol.records import (
    ControlRecordType,
    SimpleRecord,
    build_batch,
    build_control_batch,
    build_legacy_message_set,
    crc32c,
)
from chronik_protocol.api_table import APIS
from chronik_protocol.messages.api_versions_request import ApiVersionsRequest
from chronik_protocol.messages.api_versions_response import ApiVersionsResponse
from chronik_protocol.messages.fetch_request import FetchPartition, FetchRequest, FetchTopic
from chronik_protocol.messages.metadata_request import MetadataRequest, MetadataRequestTopic
from chronik_protocol.messages.produce_request import PartitionProduceData, ProduceRequest, TopicProduceData
from chronik_protocol.messages.request_header import RequestHeader
from chronik_protocol.messages.response_header import ResponseHeader

from .broker_process import BrokerProcess

MAX_REQUEST = 100_000
TOPIC = "bad-input"
SMALL_TOPIC = "bad-input-small"  # max.message.bytes=1000
PRODUCE_V = 9


# -- raw client ---------------------------------------------------------------------------------


def encode_request(api_key: int, version: int, correlation_id: int, body: Any, client_id: str | None = "raw") -> bytes:
    """Header + body, without the size prefix."""
    out = bytearray()
    RequestHeader(api_key, version, correlation_id, client_id).encode_into(
        out, APIS[api_key].request_header_version(version)
    )
    body.encode_into(out, version)
    return bytes(out)


def framed(payload: bytes) -> bytes:
    return struct.pack(">i", len(payload)) + payload


def decode_response(api_key: int, version: int, data: bytes) -> tuple[int, Any]:
    """(correlation id, response) from one response frame (without its size)."""
    view = memoryview(data)
    header, pos = ResponseHeader.decode_from(view, 0, APIS[api_key].response_header_version(version))
    body, end = APIS[api_key].response_class().decode_from(view, pos, version)
    assert end == len(data), f"{end} of {len(data)} bytes decoded"
    return header.correlation_id, body


class Raw:
    """A blocking socket speaking Kafka frames."""

    def __init__(self, port: int, timeout: float = 5.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Raw:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_request(self, api_key: int, version: int, correlation_id: int, body: Any) -> None:
        self.send(framed(encode_request(api_key, version, correlation_id, body)))

    def _read_exact(self, n: int) -> bytes | None:
        buf = bytearray()
        while len(buf) < n:
            try:
                chunk = self.sock.recv(n - len(buf))
            except ConnectionResetError:
                return None
            if not chunk:
                return None
            buf += chunk
        return bytes(buf)

    def read_frame(self) -> bytes | None:
        """One response frame's bytes (without the size), or None at EOF."""
        size = self._read_exact(4)
        if size is None:
            return None
        (n,) = struct.unpack(">i", size)
        return self._read_exact(n)

    def read_response(self, api_key: int, version: int) -> tuple[int, Any]:
        data = self.read_frame()
        assert data is not None, "connection closed instead of a response"
        return decode_response(api_key, version, data)

    def call(self, api_key: int, version: int, correlation_id: int, body: Any) -> Any:
        self.send_request(api_key, version, correlation_id, body)
        got, response = self.read_response(api_key, version)
        assert got == correlation_id
        return response

    def assert_closed(self) -> None:
        """The broker closes the connection without sending anything."""
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            return
        except TimeoutError:
            pytest.fail("the broker did not close the connection")
        assert data == b"", f"expected the connection to be closed, got {data[:64]!r}"


# -- record batches -------------------------------------------------------------------------------


def batch(n: int = 3, value_size: int = 10) -> bytearray:
    return build_batch([SimpleRecord(b"k%d" % i, b"v" * value_size, (), 1_700_000_000_000 + i) for i in range(n)])


def recrc(b: bytearray) -> bytearray:
    struct.pack_into(">I", b, 17, crc32c(b[21:]))
    return b


def produce_body(records: bytes | None, topic: str = TOPIC, acks: int = -1) -> ProduceRequest:
    return ProduceRequest(
        acks=acks,
        timeout_ms=5000,
        topic_data=[TopicProduceData(name=topic, partition_data=[PartitionProduceData(index=0, records=records)])],
    )


def produce_error(port: int, records: bytes | None, topic: str = TOPIC) -> tuple[int, str | None]:
    with Raw(port) as raw:
        response = raw.call(0, PRODUCE_V, 77, produce_body(records, topic))
    (partition,) = response.responses[0].partition_responses
    return partition.error_code, partition.error_message


# -- real-client round trip -----------------------------------------------------------------------


def round_trip(bootstrap: str, n: int = 20) -> None:
    """A fresh topic: confluent-kafka produces ``n`` records and consumes them back identical."""
    topic = f"rt-{uuid.uuid4().hex[:10]}"
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 1})
    failures: list[str] = []
    sent = [(b"k%d" % i, b"value-%d" % i) for i in range(n)]
    for key, value in sent:
        producer.produce(topic, key=key, value=value, partition=0, on_delivery=lambda e, _m: e and failures.append(e))
    assert producer.flush(30) == 0 and failures == []
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "bad-input", "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, 0, 0)])
    got: list[tuple[bytes, bytes]] = []
    deadline = time.monotonic() + 30
    try:
        while len(got) < n and time.monotonic() < deadline:
            for m in consumer.consume(num_messages=100, timeout=0.5):
                if m.error():
                    raise KafkaException(m.error())
                got.append((m.key(), m.value()))
    finally:
        consumer.close()
    assert got == sent


def wait_for_log(broker: BrokerProcess, needle: str, timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        log = broker.log()
        for line in log.splitlines():
            if "closing connection" in line and needle in line:
                return line
        if time.monotonic() > deadline:
            pytest.fail(f"no 'closing connection ... {needle}' line in the broker log:\n{log[-3000:]}")
        time.sleep(0.05)


# -- fixtures ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    data = tmp_path_factory.mktemp("bad-input") / "data"
    with BrokerProcess(data, f"socket.request.max.bytes={MAX_REQUEST}") as b:
        admin = AdminClient({"bootstrap.servers": b.bootstrap})
        futures = admin.create_topics(
            [NewTopic(TOPIC, 1), NewTopic(SMALL_TOPIC, 1, config={"max.message.bytes": "1000"})]
        )
        for f in futures.values():
            f.result(10)
        yield b
        assert b.proc is not None and b.proc.poll() is None, "the broker died"
        assert "Traceback" not in b.log(), b.log()[-5000:]


@pytest.fixture
def port(broker: BrokerProcess) -> Iterator[int]:
    yield broker.port
    round_trip(broker.bootstrap)  # after every bad case the broker still serves real clients


# -- framing and headers: the connection is closed ---------------------------------------------------


def test_frame_larger_than_socket_request_max_bytes_closes(broker: BrokerProcess, port: int) -> None:
    with Raw(port) as raw:
        raw.send(struct.pack(">i", MAX_REQUEST + 1) + b"\x00" * 100)
        raw.assert_closed()
    wait_for_log(broker, f"request size {MAX_REQUEST + 1} larger than socket.request.max.bytes {MAX_REQUEST}")


def test_frame_of_exactly_socket_request_max_bytes_is_read(port: int) -> None:
    """A size equal to the limit is accepted (it is read, then fails as an unknown API key)."""
    with Raw(port) as raw:
        raw.send(struct.pack(">i", MAX_REQUEST) + struct.pack(">hhi", 0x7ABC, 0, 1) + b"\x00" * (MAX_REQUEST - 8))
        raw.assert_closed()


def test_negative_frame_size_closes(broker: BrokerProcess, port: int) -> None:
    with Raw(port) as raw:
        raw.send(struct.pack(">i", -7))
        raw.assert_closed()
    wait_for_log(broker, "invalid request size -7")


def test_unknown_api_key_closes(broker: BrokerProcess, port: int) -> None:
    with Raw(port) as raw:
        raw.send(framed(struct.pack(">hhi", 9999, 0, 4242) + b"\x00\x03abc"))
        raw.assert_closed()
    wait_for_log(broker, "unknown API key 9999 (correlation id 4242)")


def test_known_but_unimplemented_api_closes(broker: BrokerProcess, port: int) -> None:
    """An API the broker does not enable (AlterReplicaLogDirs, key 34, here) is Kafka's InvalidRequestException."""
    with Raw(port) as raw:
        raw.send(framed(struct.pack(">hhi", 34, 1, 4343) + b"\x00\x03abc"))
        raw.assert_closed()
    wait_for_log(broker, "(key 34) is not enabled (correlation id 4343)")


def test_truncated_body_closes(broker: BrokerProcess, port: int) -> None:
    payload = encode_request(3, 12, 5151, MetadataRequest(topics=[MetadataRequestTopic(name="some-topic")]))
    with Raw(port) as raw:
        raw.send(framed(payload[:-6]))  # a correct size for a body cut short
        raw.assert_closed()
    wait_for_log(broker, "invalid Metadata v12 request (correlation id 5151)")


def test_truncated_header_closes(broker: BrokerProcess, port: int) -> None:
    with Raw(port) as raw:
        raw.send(framed(struct.pack(">hhi", 3, 12, 6161) + b"\x00\x40ab"))  # client id says 64 bytes
        raw.assert_closed()
    wait_for_log(broker, "malformed Metadata v12 request header (correlation id 6161)")


def test_frame_shorter_than_a_header_closes(broker: BrokerProcess, port: int) -> None:
    with Raw(port) as raw:
        raw.send(framed(b"\x00\x03\x00"))
        raw.assert_closed()
    wait_for_log(broker, "request of 3 bytes is too short for a request header")


# -- versions ----------------------------------------------------------------------------------------


def test_unsupported_version_gets_an_error_response(port: int) -> None:
    """Produce v2 is advertised (min 0) but not served (KIP-896): UNSUPPORTED_VERSION, same correlation id."""
    with Raw(port) as raw:
        raw.send_request(0, 2, 31337, produce_body(bytes(batch())))
        corr, response = raw.read_response(0, 2)
        assert corr == 31337
        (partition,) = response.responses[0].partition_responses
        assert partition.error_code == ErrorCode.UNSUPPORTED_VERSION
        # The connection stays usable.
        assert raw.call(3, 12, 31338, MetadataRequest(topics=None)).brokers


def test_api_versions_unknown_version_answers_v0_with_the_table(port: int) -> None:
    with Raw(port) as raw:
        raw.send(framed(struct.pack(">hhi", 18, 127, 909) + b"\x00\x03raw\x00" + b"garbage that is not parsed"))
        data = raw.read_frame()
        assert data is not None
        corr, response = decode_response(18, 0, data)  # header v0, body v0
        assert corr == 909
        assert isinstance(response, ApiVersionsResponse)
        assert response.error_code == ErrorCode.UNSUPPORTED_VERSION == 35
        keys = {a.api_key: (a.min_version, a.max_version) for a in response.api_keys}
        assert keys[18][1] >= 3 and 0 in keys and 1 in keys and 3 in keys
        # The client retries with our max: a normal answer on the same connection.
        retry = raw.call(18, keys[18][1], 910, ApiVersionsRequest("raw", "1.0"))
        assert retry.error_code == 0


# -- produce validation ------------------------------------------------------------------------------


def test_produce_flipped_crc_byte_is_corrupt_message(port: int) -> None:
    b = batch()
    b[17] ^= 0x01
    assert produce_error(port, bytes(b))[0] == ErrorCode.CORRUPT_MESSAGE


def test_produce_flipped_payload_byte_is_corrupt_message(port: int) -> None:
    b = batch()
    b[-3] ^= 0x40
    assert produce_error(port, bytes(b))[0] == ErrorCode.CORRUPT_MESSAGE


@pytest.mark.parametrize("magic", [0, 1])
def test_produce_legacy_magic_is_invalid_record(port: int, magic: int) -> None:
    """Kafka's ProduceRequest.validateRecords: v3+ must carry magic v2 → InvalidRecordException."""
    legacy = build_legacy_message_set([SimpleRecord(b"k", b"v", (), 1_700_000_000_000)], magic=magic)
    assert produce_error(port, bytes(legacy))[0] == ErrorCode.INVALID_RECORD


def test_produce_magic_above_2_is_corrupt_message(port: int) -> None:
    """ByteBufferLogInputStream: an unknown magic is a CorruptRecordException."""
    b = batch()
    b[16] = 3
    assert produce_error(port, bytes(recrc(b)))[0] == ErrorCode.CORRUPT_MESSAGE


def test_produce_batch_larger_than_max_message_bytes(port: int) -> None:
    big = batch(5, 400)
    assert len(big) > 1000
    assert produce_error(port, bytes(big), SMALL_TOPIC)[0] == ErrorCode.MESSAGE_TOO_LARGE
    small = batch(1, 10)
    assert produce_error(port, bytes(small), SMALL_TOPIC)[0] == ErrorCode.NONE


@pytest.mark.parametrize("count", [2, 4, 0, -1])
def test_produce_record_count_disagreeing_with_last_offset_delta(port: int, count: int) -> None:
    b = batch(3)
    struct.pack_into(">i", b, 57, count)
    assert produce_error(port, bytes(recrc(b)))[0] == ErrorCode.INVALID_RECORD


def test_produce_control_batch_is_invalid_record(port: int) -> None:
    control = build_control_batch(
        ControlRecordType.COMMIT, producer_id=1000, producer_epoch=0, timestamp=1_700_000_000_000
    )
    assert produce_error(port, bytes(control))[0] == ErrorCode.INVALID_RECORD


def test_produce_two_batches_in_one_partition_is_invalid_record(port: int) -> None:
    assert produce_error(port, bytes(batch(2) + batch(2)))[0] == ErrorCode.INVALID_RECORD


def test_produce_no_batch_is_invalid_record(port: int) -> None:
    assert produce_error(port, b"")[0] == ErrorCode.INVALID_RECORD


@pytest.mark.parametrize("length", [-1, -2147483648, 0, 13])
def test_produce_negative_or_tiny_batch_length_is_corrupt_message(port: int, length: int) -> None:
    b = batch()
    struct.pack_into(">i", b, 8, length)
    assert produce_error(port, bytes(b))[0] == ErrorCode.CORRUPT_MESSAGE


def test_produce_batch_length_beyond_the_data_is_corrupt_message(port: int) -> None:
    b = batch()
    struct.pack_into(">i", b, 8, len(b) + 100)
    assert produce_error(port, bytes(b))[0] == ErrorCode.CORRUPT_MESSAGE


def test_produce_trailing_bytes_after_the_batch(port: int) -> None:
    """Kafka trims fewer than 12 trailing bytes (UnifiedLog.trimInvalidBytes); we reject them: both are safe."""
    error, _ = produce_error(port, bytes(batch() + b"\x00\x00\x00"))
    assert error in (ErrorCode.NONE, ErrorCode.CORRUPT_MESSAGE)


# -- fetch -------------------------------------------------------------------------------------------


def test_fetch_beyond_the_high_watermark_is_offset_out_of_range(port: int) -> None:
    assert produce_error(port, bytes(batch(2)))[0] == ErrorCode.NONE
    with Raw(port) as raw:
        fetch = FetchRequest(
            max_wait_ms=0,
            min_bytes=1,
            topics=[
                FetchTopic(topic=TOPIC, partitions=[FetchPartition(fetch_offset=10**9, partition_max_bytes=1 << 20)])
            ],
        )
        response = raw.call(1, 12, 8080, fetch)
    (partition,) = response.responses[0].partitions
    assert partition.error_code == ErrorCode.OFFSET_OUT_OF_RANGE
    # Kafka's createLogReadResult(e): a partition in error carries no offsets (the protocol sweep saw -1)
    assert (partition.high_watermark, partition.last_stable_offset, partition.log_start_offset) == (-1, -1, -1)


# -- acks=0 and pipelining ---------------------------------------------------------------------------


def test_acks_zero_gets_no_response(port: int) -> None:
    with Raw(port) as raw:
        raw.send_request(0, PRODUCE_V, 1, produce_body(bytes(batch()), acks=0))
        response = raw.call(3, 12, 3, MetadataRequest(topics=[MetadataRequestTopic(name=TOPIC)]))
        assert response.topics[0].name == TOPIC


def test_acks_zero_produce_that_fails_closes_the_connection(port: int) -> None:
    """``KafkaApis.handleProduceRequest``: an acks=0 produce with an error gets no response, the connection
    is closed so the producer notices and refreshes its metadata; requests behind it are not processed."""
    with Raw(port) as raw:
        ok = raw.call(3, 12, 1, MetadataRequest(topics=[MetadataRequestTopic(name=TOPIC)]))
        assert ok.topics[0].name == TOPIC
        corrupt = batch()
        corrupt[17] ^= 0x01  # a CRC byte: CORRUPT_MESSAGE
        raw.send_request(0, PRODUCE_V, 2, produce_body(bytes(corrupt), acks=0))
        raw.send_request(3, 12, 3, MetadataRequest(topics=[MetadataRequestTopic(name=TOPIC)]))
        raw.assert_closed()
    with Raw(port) as raw:
        raw.send_request(0, PRODUCE_V, 5, produce_body(bytes(batch()), topic="no-such-topic", acks=0))
        raw.assert_closed()
    with Raw(port) as raw:  # the broker keeps serving others
        assert raw.call(3, 12, 4, MetadataRequest(topics=[MetadataRequestTopic(name=TOPIC)])).topics[0].name == TOPIC


def test_pipelined_responses_arrive_in_request_order(port: int) -> None:
    """Mixed APIs, including slow long-poll fetches and acks=0 produces, written back to back."""
    fetch = FetchRequest(
        max_wait_ms=200,
        min_bytes=1 << 20,  # waits the full max_wait_ms
        topics=[FetchTopic(topic=TOPIC, partitions=[FetchPartition(fetch_offset=0, partition_max_bytes=1 << 20)])],
    )
    plan: list[tuple[int, int, Any]] = []
    for i in range(60):
        kind = i % 5
        if kind == 0:
            plan.append((1, 12, fetch))
        elif kind == 1:
            plan.append((0, PRODUCE_V, produce_body(bytes(batch(1)))))
        elif kind == 2:
            plan.append((0, PRODUCE_V, produce_body(bytes(batch(1)), acks=0)))
        elif kind == 3:
            plan.append((3, 12, MetadataRequest(topics=[MetadataRequestTopic(name=TOPIC)])))
        else:
            plan.append((18, 3, ApiVersionsRequest("raw", "1.0")))
    with Raw(port, timeout=20) as raw:
        raw.send(b"".join(framed(encode_request(k, v, 1000 + i, body)) for i, (k, v, body) in enumerate(plan)))
        expected = [(1000 + i, k, v) for i, (k, v, body) in enumerate(plan) if not (k == 0 and body.acks == 0)]
        for corr, key, version in expected:
            got, _response = raw.read_response(key, version)
            assert got == corr


# -- metadata ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [10, 11])
def test_metadata_topic_by_id_before_v12_is_invalid_request(port: int, version: int) -> None:
    """Kafka's handleTopicMetadataRequest: "Topic name can not be null for version 10/11" → INVALID_REQUEST.

    Found by the fuzzer: we answered with a null name the v10-11 response cannot encode.
    """
    topic_id = uuid.UUID(int=12345)
    with Raw(port) as raw:
        response = raw.call(
            3, version, 4040, MetadataRequest(topics=[MetadataRequestTopic(topic_id=topic_id, name=None)])
        )
        (topic,) = response.topics
        assert (topic.error_code, topic.name, topic.topic_id) == (ErrorCode.INVALID_REQUEST, "", topic_id)
        response = raw.call(
            3, version, 4041, MetadataRequest(topics=[MetadataRequestTopic(topic_id=topic_id, name=TOPIC)])
        )
        (topic,) = response.topics
        assert (topic.error_code, topic.name) == (ErrorCode.INVALID_REQUEST, TOPIC)
        response = raw.call(3, version, 4042, MetadataRequest(topics=[MetadataRequestTopic(name=TOPIC)]))
        assert response.topics[0].error_code == ErrorCode.NONE


def test_metadata_unknown_topic_id_at_v12(port: int) -> None:
    topic_id = uuid.UUID(int=54321)
    with Raw(port) as raw:
        response = raw.call(3, 12, 4043, MetadataRequest(topics=[MetadataRequestTopic(topic_id=topic_id, name=None)]))
    (topic,) = response.topics
    assert (topic.error_code, topic.name, topic.topic_id) == (ErrorCode.UNKNOWN_TOPIC_ID, None, topic_id)


def test_produce_negative_record_length_inside_a_crc_valid_batch_is_invalid_record(port: int) -> None:
    """Kafka iterates the records (DefaultRecord.readFrom): a bad record structure is InvalidRecordException."""
    b = batch(1)
    b[61] = 0x01  # the record's length varint: zigzag -1
    assert produce_error(port, bytes(recrc(b)))[0] == ErrorCode.INVALID_RECORD
