"""Property-based round trips for every (message, version) in the pinned specs.

For each: decode(encode(m)) == m with the straight-line codec (pure Python and, when built,
the native decoder), the Construct codec builds the
identical bytes and parses them back to the same value, and unknown tagged fields survive.
"""

from __future__ import annotations

import random
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chronik_protocol.api_table import MESSAGES, construct_codec, message_class

from .protocol_values import message_value

CASES = [(name, v) for name in sorted(MESSAGES) for v in message_class(name).VERSIONS]


def _roundtrip(name: str, version: int, value: object) -> None:
    cls = message_class(name)
    con = construct_codec(name)[version]
    fast = bytes(value.encode(version))  # type: ignore[attr-defined]
    assert con.build(value) == fast, "Construct and straight-line codecs disagree on the bytes"
    decoded = cls.decode(fast, version)  # the native decoder when built
    assert decoded == value
    pure, end = sys.modules[cls.__module__]._DECODERS[version](memoryview(fast), 0)
    assert pure == value and end == len(fast)
    assert con.parse(fast) == value
    assert bytes(decoded.encode(version)) == fast


def test_every_message_version_is_covered() -> None:
    assert len(CASES) > 700
    assert {"ProduceRequest", "FetchResponse", "RequestHeader", "ResponseHeader"} <= set(MESSAGES)


@pytest.mark.parametrize(("name", "version"), CASES, ids=[f"{n}-v{v}" for n, v in CASES])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rnd=st.randoms(use_true_random=False))
def test_roundtrip(name: str, version: int, rnd: random.Random) -> None:
    con = construct_codec(name)[version]
    mode = rnd.choice(["random", "random", "filled", "nulls"])
    value = message_value(con, rnd, mode, unknown_tags=con.flexible and rnd.random() < 0.5)
    _roundtrip(name, version, value)


@pytest.mark.parametrize(("name", "version"), CASES, ids=[f"{n}-v{v}" for n, v in CASES])
def test_defaults_roundtrip(name: str, version: int) -> None:
    _roundtrip(name, version, message_class(name)())
