"""The Twisted adapter: Twisted's test doubles for the protocol logic, real sockets for the rest.

``StringTransport`` + ``MemoryReactorClock`` drive one connection without sockets or sleeping
(idle timeout, backpressure, logging); a private reactor running in a thread serves a real
listener for a raw-socket client and for librdkafka.
"""

from __future__ import annotations

import logging
import re
import socket
import struct
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from twisted.internet.defer import Deferred
from twisted.internet.testing import MemoryReactorClock, StringTransport

from chronik.broker.dispatch import NO_RESPONSE, Dispatcher, Handler, RequestContext
from chronik.broker.handlers import api_versions
from chronik.net.server import KafkaServerFactory, KafkaServerProtocol, listen
from chronik.protocol.errors import ErrorCode
from chronik_protocol.api_table import APIS
from chronik_protocol.messages.api_versions_request import ApiVersionsRequest
from chronik_protocol.messages.api_versions_response import ApiVersionsResponse
from chronik_protocol.messages.metadata_request import MetadataRequest, MetadataRequestTopic
from chronik_protocol.messages.metadata_response import MetadataResponse
from chronik_protocol.messages.produce_request import ProduceRequest
from chronik_protocol.messages.request_header import RequestHeader


def frame(api_key: int, version: int, correlation_id: int, body: Any) -> bytes:
    out = bytearray()
    RequestHeader(api_key, version, correlation_id, "net-test").encode_into(
        out, APIS[api_key].request_header_version(version)
    )
    body.encode_into(out, version)
    return struct.pack(">i", len(out)) + bytes(out)


def api_versions_request(correlation_id: int, version: int = 3) -> bytes:
    return frame(18, version, correlation_id, ApiVersionsRequest("chronik-test", "1.0"))


def metadata_request(correlation_id: int) -> bytes:
    return frame(3, 12, correlation_id, MetadataRequest(topics=[MetadataRequestTopic(name="t")]))


def responses(data: bytes) -> list[tuple[int, bytes]]:
    """(correlation id, rest) of each response in ``data`` (header v0 and v1 start alike)."""
    out, pos = [], 0
    while pos < len(data):
        (n,) = struct.unpack_from(">i", data, pos)
        out.append((struct.unpack_from(">i", data, pos + 4)[0], data[pos + 8 : pos + 4 + n]))
        pos += 4 + n
    assert pos == len(data)
    return out


class Transport(StringTransport):
    """A StringTransport that records TCP_NODELAY (it has no such method)."""

    nodelay: bool | None = None

    def setTcpNoDelay(self, enabled: bool) -> None:
        self.nodelay = enabled


class Harness:
    """One protocol on a StringTransport, with a dispatcher whose Metadata answers are controllable."""

    def __init__(self, **factory_options: Any) -> None:
        self.clock = MemoryReactorClock()
        self.dispatcher = Dispatcher()
        api_versions.register(self.dispatcher)
        self.pending: list[Deferred[Any]] = []
        self.dispatcher.register(3, Handler(0, 12, self._metadata))
        self.dispatcher.register(0, Handler(3, 13, lambda ctx, body: NO_RESPONSE, advertised_min=0))
        self.factory = KafkaServerFactory(self.dispatcher, reactor=self.clock, **factory_options)
        self.proto: KafkaServerProtocol = self.factory.buildProtocol(None)
        self.transport = Transport()
        self.proto.makeConnection(self.transport)

    def _metadata(self, ctx: RequestContext, body: Any) -> Deferred[Any]:
        d: Deferred[Any] = Deferred()
        self.pending.append(d)
        return d

    def send(self, data: bytes) -> list[tuple[int, bytes]]:
        self.transport.clear()
        self.proto.dataReceived(data)
        return responses(self.transport.value())

    def take(self) -> list[tuple[int, bytes]]:
        out = responses(self.transport.value())
        self.transport.clear()
        return out


def test_connection_made_sets_tcp_nodelay_and_registers_for_write_backpressure() -> None:
    h = Harness()
    assert h.transport.nodelay is True
    assert h.transport.producer is h.proto and h.transport.streaming is True
    assert h.proto.connection_id == "10.0.0.1:12345-192.168.1.1:54321-0"
    assert h.factory.buildProtocol(None).index == 1


def test_a_request_gets_its_response() -> None:
    h = Harness()
    ((correlation_id, body),) = h.send(api_versions_request(5))
    assert correlation_id == 5
    rows = [(k.api_key, k.min_version, k.max_version) for k in ApiVersionsResponse.decode(body, 3).api_keys]
    assert rows == [(0, 0, 13), (3, 0, 12), (18, 0, 5)]


def test_deferred_responses_are_written_in_request_order() -> None:
    h = Harness()
    assert h.send(metadata_request(1) + api_versions_request(2) + metadata_request(3)) == []
    h.pending[1].callback(MetadataResponse(cluster_id="third"))
    assert h.take() == []
    h.pending[0].callback(MetadataResponse(cluster_id="first"))
    assert [c for c, _ in h.take()] == [1, 2, 3]


def test_acks0_style_no_response_writes_nothing_and_blocks_nothing() -> None:
    h = Harness()
    produce = frame(0, 9, 1, ProduceRequest(acks=0))
    assert [c for c, _ in h.send(produce + api_versions_request(2))] == [2]


def test_reading_pauses_while_too_many_requests_are_unanswered() -> None:
    h = Harness(max_outstanding_requests=2)
    h.send(metadata_request(1))
    assert h.transport.producerState == "producing"
    h.send(metadata_request(2))
    assert h.transport.producerState == "paused"
    h.pending[0].callback(MetadataResponse())
    assert h.transport.producerState == "producing"
    assert [c for c, _ in h.take()] == [1]


def test_reading_pauses_while_too_many_request_bytes_are_unanswered() -> None:
    h = Harness(max_outstanding_bytes=100)
    big = frame(3, 12, 1, MetadataRequest(topics=[MetadataRequestTopic(name="x" * 200)]))
    h.send(big)
    assert h.transport.producerState == "paused"
    h.pending[0].callback(MetadataResponse())
    assert h.transport.producerState == "producing"


def test_reading_pauses_while_the_client_does_not_read_our_responses() -> None:
    h = Harness()
    h.proto.pauseProducing()  # what the transport does when its write buffer is full
    assert h.transport.producerState == "paused"
    h.proto.resumeProducing()
    assert h.transport.producerState == "producing"
    h.send(metadata_request(1))
    h.proto.pauseProducing()
    h.pending[0].callback(MetadataResponse())  # answering does not resume while the client is slow
    assert h.transport.producerState == "paused"


def test_an_idle_connection_is_closed_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    h = Harness(connections_max_idle_ms=1000)
    with caplog.at_level(logging.INFO, logger="chronik.net"):
        h.clock.advance(0.6)
        h.send(api_versions_request(1))  # activity: the clock restarts
        h.clock.advance(0.6)
        assert not h.transport.disconnecting
        h.clock.advance(0.5)
        assert h.transport.disconnecting
    (record,) = [r for r in caplog.records if r.name == "chronik.net"]
    assert "192.168.1.1:54321" in record.getMessage() and "idle" in record.getMessage()


def test_a_connection_waiting_on_us_is_not_idle() -> None:
    h = Harness(connections_max_idle_ms=1000)
    h.send(metadata_request(1))
    h.clock.advance(5)
    assert not h.transport.disconnecting
    h.pending[0].callback(MetadataResponse())
    h.clock.advance(0.5)
    assert not h.transport.disconnecting
    h.clock.advance(1.5)
    assert h.transport.disconnecting


def test_connection_lost_cancels_the_idle_timer_and_drops_late_answers() -> None:
    h = Harness(connections_max_idle_ms=1000)
    h.send(metadata_request(1))
    assert h.clock.getDelayedCalls()
    h.proto.connectionLost(None)
    assert not h.clock.getDelayedCalls()
    h.transport.clear()
    h.pending[0].callback(MetadataResponse())
    assert h.transport.value() == b""


def test_the_factory_counts_unanswered_requests_and_closes_everything(caplog: pytest.LogCaptureFixture) -> None:
    h = Harness()
    h.send(metadata_request(1))
    assert h.factory.outstanding_requests() == 1
    h.pending[0].callback(MetadataResponse())
    assert h.factory.outstanding_requests() == 0
    with caplog.at_level(logging.INFO, logger="chronik.net"):
        h.factory.close_all("broker shutting down")
    assert h.transport.disconnecting
    assert "broker shutting down" in caplog.records[-1].getMessage()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (struct.pack(">i", 2000) + b"x" * 10, "socket.request.max.bytes"),
        (struct.pack(">i", -1), "invalid request size"),
        (struct.pack(">ihhih", 10, 999, 0, 1, 0), "unknown API key 999"),
        (struct.pack(">ihhih", 10, 16, 3, 1, 0), "not enabled"),
    ],
)
def test_protocol_violations_close_the_connection_with_a_log_line(
    data: bytes, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    h = Harness(max_request_size=1000)
    with caplog.at_level(logging.INFO, logger="chronik.net"):
        answered = h.send(api_versions_request(1) + data)
    assert [c for c, _ in answered] == [1]  # what came before the bad frame is still answered
    assert h.transport.disconnecting
    (record,) = [r for r in caplog.records if r.name == "chronik.net"]
    assert record.levelno == logging.WARNING
    assert reason in record.getMessage() and "192.168.1.1:54321" in record.getMessage()
    assert h.send(api_versions_request(2)) == []  # nothing more is read


def test_a_handler_exception_is_an_error_response_not_a_dropped_connection(caplog: pytest.LogCaptureFixture) -> None:
    h = Harness()
    h.dispatcher.register(3, Handler(0, 12, lambda ctx, body: 1 / 0))
    with caplog.at_level(logging.ERROR):
        ((correlation_id, body),) = h.send(metadata_request(7))
    assert correlation_id == 7
    response = MetadataResponse.decode(body[1:], 12)  # header v1: skip its empty tagged fields
    assert response.topics[0].error_code == ErrorCode.UNKNOWN_SERVER_ERROR
    assert not h.transport.disconnecting
    assert any("ZeroDivisionError" in r.exc_text for r in caplog.records if r.exc_text)


def test_an_unencodable_response_falls_back_to_an_error_response(caplog: pytest.LogCaptureFixture) -> None:
    h = Harness()
    h.dispatcher.register(3, Handler(0, 12, lambda ctx, body: MetadataResponse(throttle_time_ms="x")))
    with caplog.at_level(logging.ERROR, logger="chronik.net"):
        ((_correlation_id, body),) = h.send(metadata_request(8))
    assert MetadataResponse.decode(body[1:], 12).topics[0].error_code == ErrorCode.UNKNOWN_SERVER_ERROR
    assert "cannot send the response" in caplog.records[0].getMessage()


# ---------------------------------------------------------------------------------------------
# Real sockets: a private reactor (not the global one) runs in a thread for this module.


@pytest.fixture(scope="module")
def live() -> Iterator[tuple[Any, int]]:
    from twisted.internet.selectreactor import SelectReactor
    from twisted.internet.threads import blockingCallFromThread

    reactor = SelectReactor()
    thread = threading.Thread(target=reactor.run, kwargs={"installSignalHandlers": False}, daemon=True)
    thread.start()
    dispatcher = Dispatcher()
    api_versions.register(dispatcher)
    dispatcher.register(0, Handler(3, 13, lambda ctx, body: NO_RESPONSE, advertised_min=0))
    factory = KafkaServerFactory(dispatcher, reactor=reactor)
    port = blockingCallFromThread(reactor, listen, reactor, factory, "127.0.0.1", 0)
    try:
        yield reactor, port.getHost().port
    finally:
        blockingCallFromThread(reactor, port.stopListening)
        reactor.callFromThread(reactor.stop)
        thread.join(10)


def exchange(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        (n,) = struct.unpack(">i", _recv_exactly(s, 4))
        return _recv_exactly(s, n)


def _recv_exactly(s: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        assert chunk, "connection closed"
        buf += chunk
    return bytes(buf)


def test_a_raw_socket_client_gets_a_correct_api_versions_v3_response(live: tuple[Any, int]) -> None:
    _, port = live
    response = exchange(port, api_versions_request(42, 3))
    assert struct.unpack_from(">i", response)[0] == 42  # header v0 even though v3 is flexible
    body = ApiVersionsResponse.decode(response[4:], 3)
    assert body.error_code == 0 and body.throttle_time_ms == 0
    assert [(k.api_key, k.min_version, k.max_version) for k in body.api_keys] == [(0, 0, 13), (18, 0, 5)]


def test_a_raw_socket_client_from_the_future_gets_the_v0_fallback(live: tuple[Any, int]) -> None:
    _, port = live
    payload = bytearray()
    RequestHeader(18, 100, 43, "future").encode_into(payload, 2)
    payload += b"\x07future\x041.0\x00\x00"
    response = exchange(port, struct.pack(">i", len(payload)) + bytes(payload))
    assert struct.unpack_from(">i", response)[0] == 43
    body = ApiVersionsResponse.decode(response[4:], 0)
    assert body.error_code == ErrorCode.UNSUPPORTED_VERSION
    assert (18, 0, 5) in [(k.api_key, k.min_version, k.max_version) for k in body.api_keys]


def test_librdkafka_negotiates_api_versions_against_the_listener(live: tuple[Any, int]) -> None:
    confluent_kafka = pytest.importorskip("confluent_kafka")
    _, port = live
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    logger = logging.getLogger("chronik.test.librdkafka")
    logger.addHandler(Collect())
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    producer = confluent_kafka.Producer(
        {"bootstrap.servers": f"127.0.0.1:{port}", "debug": "protocol,broker,feature", "logger": logger}
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any("APIVERSION_QUERY -> UP" in x for x in lines):
            producer.poll(0.1)
    finally:
        producer.flush(0)
        del producer
    text = "\n".join(lines)
    sent = re.search(r"Sent ApiVersionRequest \(v(\d+)", text)
    received = re.search(r"Received ApiVersionResponse \(v(\d+)", text)
    assert sent and received, text[-3000:]
    assert sent.group(1) == received.group(1)
    # librdkafka lists the ranges it learned from our response.
    assert "ApiKey ApiVersion (18) Versions 0..5" in text
    assert "ApiKey Produce (0) Versions 0..13" in text  # advertised from 0 (KAFKA-18659)
    assert "APIVERSION_QUERY -> UP" in text
    assert "ApiVersionRequest failed" not in text
