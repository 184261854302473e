"""A minimal blocking Kafka client built on the generated codecs, for tests that need the raw
bytes a broker sends (e.g. stored record batches)."""

from __future__ import annotations

import socket
import struct

from chronik_protocol.api_table import APIS
from chronik_protocol.messages.fetch_request import FetchPartition, FetchRequest, FetchTopic
from chronik_protocol.messages.request_header import RequestHeader
from chronik_protocol.messages.response_header import ResponseHeader


def call(port: int, api_key: int, version: int, body: object, correlation_id: int = 1) -> object:
    """Send one request to 127.0.0.1:``port`` and return the decoded response body."""
    api = APIS[api_key]
    frame = bytearray()
    RequestHeader(
        request_api_key=api_key, request_api_version=version, correlation_id=correlation_id, client_id="chronik-tests"
    ).encode_into(frame, api.request_header_version(version))
    body.encode_into(frame, version)  # type: ignore[attr-defined]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(struct.pack(">i", len(frame)) + frame)
        size = struct.unpack(">i", _recv(s, 4))[0]
        data = memoryview(_recv(s, size))
    header, pos = ResponseHeader.decode_from(data, 0, api.response_header_version(version))
    assert header.correlation_id == correlation_id
    return api.response_class().decode_from(data, pos, version)[0]


def _recv(s: socket.socket, n: int) -> bytes:
    out = bytearray()
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            raise ConnectionError("connection closed")
        out += chunk
    return bytes(out)


def fetch_records(port: int, topic: str, partition: int, offset: int, max_bytes: int = 1 << 24) -> bytes:
    """The raw ``records`` of one partition from Fetch v12 (no waiting)."""
    req = FetchRequest(
        replica_id=-1,
        max_wait_ms=0,
        min_bytes=0,
        max_bytes=max_bytes,
        isolation_level=0,
        topics=[
            FetchTopic(
                topic=topic,
                partitions=[FetchPartition(partition=partition, fetch_offset=offset, partition_max_bytes=max_bytes)],
            )
        ],
    )
    resp = call(port, 1, 12, req)
    pd = resp.responses[0].partitions[0]  # type: ignore[attr-defined]
    assert pd.error_code == 0, pd
    return bytes(pd.records or b"")
