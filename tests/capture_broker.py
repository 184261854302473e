"""A capture endpoint for real Kafka producers: it speaks just enough of the protocol
(ApiVersions, Metadata, Produce) through the generated codecs for a client to send its
record batches, and keeps the ``records`` bytes exactly as they arrived.

It is test equipment for the codec layer — proving that batches written by librdkafka and
by the Java producer decode — not a broker: one partition per topic, nothing stored but the
captured bytes, offsets counted per partition.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections import defaultdict
from typing import Any

from chronik_protocol.api_table import APIS
from chronik_protocol.messages.api_versions_response import ApiVersion, ApiVersionsResponse
from chronik_protocol.messages.metadata_response import (
    MetadataResponse,
    MetadataResponseBroker,
    MetadataResponsePartition,
    MetadataResponseTopic,
)
from chronik_protocol.messages.produce_request import ProduceRequest
from chronik_protocol.messages.produce_response import (
    PartitionProduceResponse,
    ProduceResponse,
    TopicProduceResponse,
)
from chronik_protocol.messages.request_header import RequestHeader
from chronik_protocol.messages.response_header import ResponseHeader

#: What the capture endpoint advertises: versions both old and new clients use, no topic ids
#: (Fetch and FindCoordinator are never served, but librdkafka enables magic v2 batches only with
#: Fetch v4+ and lz4 only with FindCoordinator: its feature map in rdkafka_feature.c).
SUPPORTED = {18: (0, 3), 3: (0, 12), 0: (3, 12), 1: (4, 12), 10: (0, 2)}
_LEN = struct.Struct(">i")


class CaptureBroker:
    """Listens on 127.0.0.1:<free port> in a thread; ``captured[(topic, partition)]`` holds the
    ``records`` payloads of every Produce request, in arrival order."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        self.captured: dict[tuple[str, int], list[bytes]] = defaultdict(list)
        self.offsets: dict[tuple[str, int], int] = defaultdict(int)
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._stop = False
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> CaptureBroker:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop = True
        self.sock.close()

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            buf = b""
            while not self._stop:
                try:
                    chunk = conn.recv(1 << 16)
                except OSError:
                    return
                if not chunk:
                    return
                buf += chunk
                while len(buf) >= 4:
                    (size,) = _LEN.unpack_from(buf)
                    if len(buf) < 4 + size:
                        break
                    frame, buf = memoryview(buf[4 : 4 + size]), buf[4 + size :]
                    try:
                        reply = self._handle(frame)
                    except Exception as exc:  # recorded for the test to report
                        self.errors.append(repr(exc))
                        return
                    if reply is not None:
                        conn.sendall(_LEN.pack(len(reply)) + reply)

    def _handle(self, frame: memoryview) -> bytes | None:
        api_key, api_version = struct.unpack_from(">hh", frame)
        api = APIS[api_key]
        header, pos = RequestHeader.decode_from(frame, 0, api.request_header_version(api_version))
        out = bytearray()
        ResponseHeader(correlation_id=header.correlation_id).encode_into(out, api.response_header_version(api_version))
        if api_key == 18:
            error = 0
            if api_version > SUPPORTED[18][1]:  # KIP-511: answer in v0 with UNSUPPORTED_VERSION
                error, api_version = 35, 0
            keys = [ApiVersion(api_key=k, min_version=lo, max_version=hi) for k, (lo, hi) in sorted(SUPPORTED.items())]
            ApiVersionsResponse(error_code=error, api_keys=keys).encode_into(out, api_version)
            return bytes(out)
        if api_key == 3:
            request = api.request_class().decode_from(frame, pos, api_version)[0]
            names = [t.name for t in request.topics] if request.topics else []
            topics = [
                MetadataResponseTopic(
                    name=name,
                    partitions=[
                        MetadataResponsePartition(partition_index=0, leader_id=0, replica_nodes=[0], isr_nodes=[0])
                    ],
                )
                for name in names
            ]
            broker = MetadataResponseBroker(node_id=0, host="127.0.0.1", port=self.port)
            MetadataResponse(brokers=[broker], controller_id=0, cluster_id="capture", topics=topics).encode_into(
                out, api_version
            )
            return bytes(out)
        if api_key == 0:
            request, _ = ProduceRequest.decode_from(frame, pos, api_version)
            responses = []
            for topic in request.topic_data:
                parts = []
                for part in topic.partition_data:
                    key = (topic.name, part.index)
                    with self._lock:
                        self.captured[key].append(bytes(part.records or b""))
                        base = self.offsets[key]
                        self.offsets[key] += 1_000_000  # distinct per request; the test does not read offsets
                    parts.append(PartitionProduceResponse(index=part.index, base_offset=base))
                responses.append(TopicProduceResponse(name=topic.name, partition_responses=parts))
            if request.acks == 0:
                return None
            ProduceResponse(responses=responses).encode_into(out, api_version)
            return bytes(out)
        raise ValueError(f"capture endpoint does not serve API {api_key} v{api_version}")
