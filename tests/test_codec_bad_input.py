"""Malformed buffers: every failure is one DecodeError naming message, version and field.

Truncation, lengths past the end, negative non-null lengths, varints longer than 5 bytes,
absurd array counts — never an IndexError, a struct.error, a hang or unbounded memory.
"""

from __future__ import annotations

import contextlib
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chronik.protocol.wire import DecodeError
from chronik_protocol.api_table import MESSAGES, construct_codec, message_class
from chronik_protocol.messages.api_versions_request import ApiVersionsRequest
from chronik_protocol.messages.metadata_request import MetadataRequest
from chronik_protocol.messages.produce_request import ProduceRequest
from chronik_protocol.messages.request_header import RequestHeader

from .protocol_values import message_value

KEY_MESSAGES = [
    "ProduceRequest",
    "FetchResponse",
    "MetadataResponse",
    "ApiVersionsRequest",
    "RequestHeader",
    "JoinGroupRequest",
    "OffsetCommitRequest",
    "DescribeConfigsResponse",
]


@pytest.mark.parametrize("name", KEY_MESSAGES)
def test_every_truncation_is_a_decode_error(name: str) -> None:
    cls = message_class(name)
    for version in cls.VERSIONS:
        value = message_value(construct_codec(name)[version], random.Random(version), "filled")
        data = bytes(value.encode(version))
        for cut in range(len(data)):
            with pytest.raises(DecodeError) as info:
                cls.decode(data[:cut], version)
            assert info.value.message == name and info.value.version == version
            assert info.value.field, f"{name} v{version} cut at {cut}: no field located ({info.value})"


def test_truncation_of_every_message_version() -> None:
    for name in MESSAGES:
        cls = message_class(name)
        for version in cls.VERSIONS:
            data = bytes(message_value(construct_codec(name)[version], random.Random(1), "filled").encode(version))
            for cut in {0, len(data) // 2, len(data) - 1} - {len(data)}:
                if cut < 0:
                    continue
                with pytest.raises(DecodeError):
                    cls.decode(data[:cut], version)


def test_length_past_the_end_names_the_field() -> None:
    # RequestHeader v1: api key, api version, correlation id, then client id claiming 100 bytes.
    with pytest.raises(DecodeError) as info:
        RequestHeader.decode(b"\x00\x12\x00\x03\x00\x00\x00\x07\x00\x64abc", 1)
    assert info.value.field == "client_id"
    assert "100" in info.value.reason


def test_negative_non_null_lengths() -> None:
    with pytest.raises(DecodeError, match="negative length -2"):
        RequestHeader.decode(b"\x00\x12\x00\x03\x00\x00\x00\x07\xff\xfe", 1)
    # Produce v3 topic name is not nullable: -1 is an error there.
    with pytest.raises(DecodeError) as info:
        ProduceRequest.decode(b"\xff\xff\x00\x01\x00\x00\x00\x10\x00\x00\x00\x01\xff\xff", 3)
    assert info.value.field == "topic_data[0].name"


def test_varint_longer_than_five_bytes() -> None:
    # ApiVersionsRequest v3: compact string length as a 6-byte varint.
    with pytest.raises(DecodeError, match="longer than 5 bytes") as info:
        ApiVersionsRequest.decode(b"\x81\x80\x80\x80\x80\x00", 3)
    assert info.value.field == "client_software_name"


def test_huge_array_count_fails_before_allocating() -> None:
    # MetadataRequest v1: topics array claiming 2**31-1 entries in a 6-byte buffer.
    with pytest.raises(DecodeError, match="cannot fit") as info:
        MetadataRequest.decode(b"\x7f\xff\xff\xff\x00\x00", 1)
    assert info.value.field == "topics"


def test_unknown_version_is_a_decode_error() -> None:
    with pytest.raises(DecodeError, match="unsupported version"):
        ProduceRequest.decode(b"", 999)


def test_invalid_utf8_is_a_decode_error() -> None:
    with pytest.raises(DecodeError, match="UTF-8"):
        RequestHeader.decode(b"\x00\x12\x00\x03\x00\x00\x00\x07\x00\x02\xff\xfe", 1)


CASES = [(n, v) for n in KEY_MESSAGES for v in message_class(n).VERSIONS]


@pytest.mark.parametrize(("name", "version"), CASES, ids=[f"{n}-v{v}" for n, v in CASES])
@settings(max_examples=40, deadline=None)
@given(data=st.binary(max_size=200))
def test_random_bytes_never_escape_as_other_errors(name: str, version: int, data: bytes) -> None:
    cls = message_class(name)
    with contextlib.suppress(DecodeError):
        cls.decode(data, version)


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32), flips=st.lists(st.integers(0, 10_000), min_size=1, max_size=4))
def test_bit_flips_decode_or_fail_cleanly(seed: int, flips: list[int]) -> None:
    con = construct_codec("FetchResponse")[12]
    data = bytearray(message_value(con, random.Random(seed), "random").encode(12))
    for f in flips:
        data[f % len(data)] ^= 1 << (f % 8)
    with contextlib.suppress(DecodeError):
        message_class("FetchResponse").decode(bytes(data), 12)


def test_any_negative_nullable_struct_marker_is_null() -> None:
    """Kafka reads a nullable struct's int8 marker as ``readByte() < 0`` → null."""
    import sys

    from chronik_protocol.messages.consumer_group_heartbeat_response import ConsumerGroupHeartbeatResponse

    # throttle 0, error 0, error_message null, member_id null, epoch 1, interval 2, marker, tags
    body = bytes.fromhex("00000000 0000 00 00 00000001 00000002".replace(" ", ""))
    pure = sys.modules[ConsumerGroupHeartbeatResponse.__module__]._DECODERS[0]
    for marker in (0xFF, 0x80, 0xFE):
        data = body + bytes([marker, 0])
        assert ConsumerGroupHeartbeatResponse.decode(data, 0).assignment is None
        assert pure(memoryview(data), 0)[0].assignment is None
    present = ConsumerGroupHeartbeatResponse.decode(body + b"\x01\x01\x00\x00", 0)  # empty topic list, no tags
    assert present.assignment is not None and present.assignment.topic_partitions == []


def test_pure_python_mode_reports_the_same_errors() -> None:
    """With CHRONIK_PURE_PYTHON=1 the native decoder is off and decoding still works and fails
    the same way (the fallback every machine without a C compiler runs)."""
    import subprocess
    import sys

    code = (
        "from chronik_protocol.messages import request_header as m\n"
        "from chronik.protocol.wire import DecodeError\n"
        "assert m._accel_decode is None\n"
        "h = m.RequestHeader.decode(b'\\x00\\x12\\x00\\x03\\x00\\x00\\x00\\x07\\x00\\x01a', 1)\n"
        "assert h.client_id == 'a' and h.correlation_id == 7\n"
        "try:\n"
        "    m.RequestHeader.decode(b'\\x00\\x12\\x00\\x03\\x00\\x00\\x00\\x07\\x00\\x64abc', 1)\n"
        "except DecodeError as e:\n"
        "    assert e.field == 'client_id', e\n"
        "else:\n"
        "    raise SystemExit('no DecodeError')\n"
    )
    env = {**__import__("os").environ, "CHRONIK_PURE_PYTHON": "1"}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
