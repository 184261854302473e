"""chronik._accel, the native decoder: it must agree exactly with the generated Python decoders.

For every message and version, random / filled / null values (with unknown tagged fields on
flexible versions) decode to an equal object, field by field and type by type, ending at the
end of the buffer; records stay zero-copy slices of the input. For malformed input (every
truncation of large messages, bit flips, byte edits, random bytes) ``_accel.decode`` either
raises ``Malformed`` exactly when the Python decoder fails, or returns exactly what it returns.
"""

from __future__ import annotations

import contextlib
import copy
import gc
import importlib
import pickle
import random
import struct
import sys
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chronik.protocol import wire
from chronik_protocol.api_table import MESSAGES, construct_codec

from .protocol_values import message_value

_accel = pytest.importorskip(
    "chronik._accel", reason="chronik._accel is not built (no C compiler at install time): pure-Python codecs only"
)

MODES = ("random", "filled", "nulls")
# Large or structurally varied messages: records, UUIDs, nullable structs, tagged structs and
# arrays, reserved tags, float64, uint16.
KEY_MESSAGES = [
    "ProduceRequest",
    "FetchResponse",
    "FetchRequest",
    "MetadataResponse",
    "ApiVersionsResponse",
    "DescribeConfigsResponse",
    "ConsumerGroupHeartbeatResponse",
    "BrokerHeartbeatRequest",
    "FetchSnapshotResponse",
    "VoteResponse",
    "RequestHeader",
]


def module_of(name: str) -> Any:
    return importlib.import_module(MESSAGES[name])


def versions(name: str) -> list[int]:
    return sorted(module_of(name).SCHEMAS)


def encoded(name: str, version: int, seed: int, mode: str) -> tuple[Any, bytes]:
    value = message_value(
        construct_codec(name)[version], random.Random(seed), mode, unknown_tags=version_is_flexible(name, version)
    )
    return value, bytes(value.encode(version))


def version_is_flexible(name: str, version: int) -> bool:
    return bool(module_of(name).SCHEMAS[version][1])


# --------------------------------------------------------------------------------------------
# Exact comparison: ``==`` on generated classes ignores types (True == 1) and fails on NaN, and
# treats an empty unknown-tag list like None; this compares type by type, floats by bits.


def slot_names(cls: type) -> tuple[str, ...]:
    slots = cls.__slots__
    return (slots,) if isinstance(slots, str) else tuple(slots)


def assert_same(a: Any, b: Any, path: str = "") -> None:
    assert type(a) is type(b), f"{path}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, float):
        assert struct.pack(">d", a) == struct.pack(">d", b), f"{path}: {a!r} != {b!r}"
    elif isinstance(a, memoryview):
        assert a.tobytes() == b.tobytes(), f"{path}: records differ"
    elif isinstance(a, uuid.UUID):
        assert a.int == b.int and a.is_safe is b.is_safe, f"{path}: {a!r} != {b!r}"
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), f"{path}: length {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{path}[{i}]")
    elif hasattr(type(a), "__slots__") and type(a).__module__.startswith("chronik_protocol"):
        for slot in slot_names(type(a)):
            assert_same(getattr(a, slot), getattr(b, slot), f"{path}.{slot}")
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def memoryviews(value: Any) -> list[memoryview]:
    """Every memoryview (records field) reachable from a decoded value."""
    if isinstance(value, memoryview):
        return [value]
    if isinstance(value, list):
        return [mv for x in value for mv in memoryviews(x)]
    if hasattr(type(value), "__slots__") and type(value).__module__.startswith("chronik_protocol"):
        return [mv for slot in slot_names(type(value)) for mv in memoryviews(getattr(value, slot))]
    return []


# --------------------------------------------------------------------------------------------
# Valid values.


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_decodes_like_python(name: str) -> None:
    module = module_of(name)
    for version in versions(name):
        schema = module.SCHEMAS[version]
        for seed in range(3):
            for mode in MODES:
                value, data = encoded(name, version, seed, mode)
                buf = memoryview(data)
                obj, pos = _accel.decode(schema, buf, 0)
                where = f"{name} v{version} {mode} seed {seed}"
                assert pos == len(data), where
                assert obj == value, where
                expected, expected_pos = module._DECODERS[version](memoryview(data), 0)
                assert pos == expected_pos, where
                assert_same(obj, expected, where)
                for mv in memoryviews(obj):
                    assert mv.obj is data, f"{where}: records are not a slice of the input"


def test_records_are_zero_copy_slices() -> None:
    from chronik_protocol.messages import produce_request as m

    seen = 0
    for version in (3, 9, m.ProduceRequest.VERSIONS[-1]):
        _, data = encoded("ProduceRequest", version, 7, "filled")
        for source in (data, bytearray(data)):
            buf = memoryview(source)
            obj, _ = _accel.decode(m.SCHEMAS[version], buf, 0)
            for mv in memoryviews(obj):
                seen += 1
                assert mv.obj is source and mv.readonly == buf.readonly
                start = bytes(source).index(mv.tobytes())
                same = buf[start : start + len(mv)]  # what the Python codec returns
                assert mv == same and mv.tobytes() == same.tobytes() and mv.tolist() == same.tolist()
                assert (mv.shape, mv.strides, mv.nbytes, mv.format, mv.itemsize, mv.ndim) == (
                    same.shape,
                    same.strides,
                    same.nbytes,
                    same.format,
                    same.itemsize,
                    same.ndim,
                )
                assert mv.c_contiguous and mv.f_contiguous and mv.contiguous
                assert bytes(mv[1:5]) == bytes(same[1:5]) and bytes(mv[::-1]) == bytes(same[::-1])
                if mv.readonly:
                    assert hash(mv) == hash(same.tobytes())
                if isinstance(source, bytearray):  # shares memory: writes show through
                    start = bytes(source).index(mv.tobytes())
                    source[start] ^= 0xFF
                    assert mv[0] == source[start]
                    source[start] ^= 0xFF
    assert seen


def test_accepts_bytes_bytearray_and_offsets() -> None:
    from chronik_protocol.messages import fetch_response as m

    version = 12
    value, data = encoded("FetchResponse", version, 3, "filled")
    # bytes-like input: records are slices of a memoryview over it
    for source in (data, bytearray(data)):
        obj, pos = _accel.decode(m.SCHEMAS[version], source, 0)
        assert pos == len(data) and obj == value
        assert all(mv.obj is source for mv in memoryviews(obj))
    # a message in the middle of a larger buffer
    framed = b"\x01\x02\x03" + data + b"\xff\xfe"
    obj, pos = _accel.decode(m.SCHEMAS[version], memoryview(framed), 3)
    assert obj == value and pos == 3 + len(data)
    with pytest.raises(_accel.Malformed):
        _accel.decode(m.SCHEMAS[version], memoryview(framed), len(framed) + 1)
    with pytest.raises(_accel.Malformed):
        _accel.decode(m.SCHEMAS[version], memoryview(framed), -1)
    with pytest.raises(_accel.Malformed):  # not byte-indexed: left to the Python decoder
        _accel.decode(m.SCHEMAS[version], memoryview(bytes(8)).cast("i"), 0)
    with pytest.raises(TypeError):
        _accel.decode(m.SCHEMAS[version], "not a buffer", 0)


def test_malformed_is_a_value_error() -> None:
    assert issubclass(_accel.Malformed, ValueError)


# --------------------------------------------------------------------------------------------
# UUIDs are built without UUID.__init__: check they are indistinguishable from real ones.


class _UuidHolder:
    __slots__ = ("u", "unknown_tagged_fields", "us")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _UuidHolder) and (self.u, self.us) == (other.u, other.us)


_UUID_SCHEMA = (
    _UuidHolder,
    False,
    ((wire.K_UUID, False, False, "u", 0, None), (wire.K_ARRAY, False, False, "us", wire.K_UUID, None)),
    (),
    (),
    (),
)


def test_uuids_equal_real_uuids() -> None:
    rng = random.Random(5)
    raws = [bytes(16), b"\xff" * 16, bytes(range(16)), b"\x80" + bytes(15), uuid.uuid4().bytes]
    raws += [rng.randbytes(16) for _ in range(50)]
    for raw in raws:
        data = raw + struct.pack(">i", 2) + raw + bytes(16)
        obj, pos = _accel.decode(_UUID_SCHEMA, memoryview(data), 0)
        assert pos == len(data) and obj.unknown_tagged_fields is None
        real = uuid.UUID(bytes=raw)
        for u, want in ((obj.u, real), (obj.us[0], real), (obj.us[1], uuid.UUID(int=0))):
            assert type(u) is uuid.UUID
            assert u == want and hash(u) == hash(want) and repr(u) == repr(want) and str(u) == str(want)
            assert u.bytes == want.bytes and u.int == want.int and u.version == want.version
            assert u.is_safe is uuid.SafeUUID.unknown
            assert {u: 1}[want] == 1
            assert pickle.loads(pickle.dumps(u)) == want and copy.deepcopy(u) == want
            with pytest.raises(TypeError):
                u.int = 5  # still immutable
    assert _accel.FAST_UUID  # built by slot writes on this Python


# --------------------------------------------------------------------------------------------
# Malformed input: agreement with the Python decoder.


def python_decode(module: Any, version: int, data: bytes, pos: int = 0) -> tuple[Any, int] | None:
    try:
        return module._DECODERS[version](memoryview(data), pos)  # type: ignore[no-any-return]
    except module._DECODE_ERRORS:
        return None


def native_decode(module: Any, version: int, data: bytes, pos: int = 0) -> tuple[Any, int] | None:
    try:
        return _accel.decode(module.SCHEMAS[version], memoryview(data), pos)  # type: ignore[no-any-return]
    except _accel.Malformed:
        return None


def assert_agrees(module: Any, version: int, data: bytes, where: str, pos: int = 0) -> bool:
    """Both decoders fail, or both succeed with the same object and position; True if valid."""
    expected = python_decode(module, version, data, pos)
    got = native_decode(module, version, data, pos)
    if expected is None:
        assert got is None, f"{where}: Python rejects {data.hex()} but the native decoder accepts it"
        return False
    assert got is not None, f"{where}: the native decoder rejects {data.hex()}, Python accepts it"
    assert got[1] == expected[1], where
    assert_same(got[0], expected[0], where)
    return True


@pytest.mark.parametrize("name", KEY_MESSAGES)
def test_every_truncation_is_rejected(name: str) -> None:
    module = module_of(name)
    for version in versions(name):
        _, data = encoded(name, version, version, "filled")
        for cut in range(len(data)):
            assert not assert_agrees(module, version, data[:cut], f"{name} v{version} cut {cut}")
            with pytest.raises(_accel.Malformed):
                _accel.decode(module.SCHEMAS[version], memoryview(data[:cut]), 0)
        # and inside a larger buffer, cut at the same places
        for cut in range(0, len(data), max(1, len(data) // 16)):
            assert_agrees(module, version, b"\x00\x7f" + data[:cut], f"{name} v{version} cut {cut}", pos=2)


@pytest.mark.parametrize("name", KEY_MESSAGES)
def test_every_bit_flip_agrees(name: str) -> None:
    module = module_of(name)
    for version in versions(name):
        _, data = encoded(name, version, 11, "random")
        for bit in range(len(data) * 8):
            flipped = bytearray(data)
            flipped[bit // 8] ^= 1 << (bit % 8)
            assert_agrees(module, version, bytes(flipped), f"{name} v{version} bit {bit}")


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_byte_edits_agree(name: str) -> None:
    """Every message version: random bit flips, byte values at length-ish extremes, splices."""
    module = module_of(name)
    rng = random.Random(name)
    specials = (0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF)
    for version in versions(name):
        _, data = encoded(name, version, 1, "filled")
        for i in range(40):
            edited = bytearray(data)
            op = i % 4
            if op == 0 and edited:
                bit = rng.randrange(len(edited) * 8)
                edited[bit // 8] ^= 1 << (bit % 8)
            elif op == 1 and edited:
                edited[rng.randrange(len(edited))] = rng.choice(specials)
            elif op == 2:
                at = rng.randrange(len(edited) + 1)
                edited[at:at] = bytes(rng.choice(specials) for _ in range(rng.randint(1, 5)))
            elif edited:
                at = rng.randrange(len(edited))
                del edited[at : at + rng.randint(1, 5)]
            assert_agrees(module, version, bytes(edited), f"{name} v{version} edit {i}")


ALL_VERSIONS = [(name, v) for name in sorted(MESSAGES) for v in versions(name)]


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(ALL_VERSIONS), st.binary(max_size=96))
def test_random_bytes_agree(target: tuple[str, int], data: bytes) -> None:
    name, version = target
    assert_agrees(module_of(name), version, data, f"{name} v{version}")


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(KEY_MESSAGES),
    st.integers(0, 10_000),
    st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), min_size=1, max_size=4),
)
def test_overwritten_valid_messages_agree(name: str, seed: int, edits: list[tuple[int, int]]) -> None:
    module = module_of(name)
    vs = versions(name)
    version = vs[seed % len(vs)]
    _, data = encoded(name, version, seed, MODES[seed % 3])
    edited = bytearray(data)
    for at, byte in edits:
        if edited:
            edited[at % len(edited)] = byte
    assert_agrees(module, version, bytes(edited), f"{name} v{version} seed {seed}")


def test_varint_limits() -> None:
    """Compact lengths as varints: 5 bytes is the limit, and the value must fit 32 bits."""
    from chronik_protocol.messages import api_versions_request as m

    version = 3  # ClientSoftwareName / ClientSoftwareVersion: compact strings, then tags

    def body(length: bytes) -> bytes:
        return length + b"abc" + b"\x02z" + b"\x00"

    cases = {
        b"\x04": True,
        b"\x84\x00": True,  # non-minimal encodings are accepted, like Kafka
        b"\x84\x80\x80\x80\x00": True,  # 5 bytes
        b"\x84\x80\x80\x80\x80\x00": False,  # 6 bytes
        b"\xff\xff\xff\xff\x0f": False,  # 2**32 - 1: fits, but runs past the end
        b"\xff\xff\xff\xff\x1f": False,  # does not fit 32 bits
        b"\x80": False,  # truncated
    }
    for length, valid in cases.items():
        data = body(length)
        assert assert_agrees(m, version, data, length.hex()) is valid, length.hex()


def test_tagged_fields() -> None:
    """Known tags of the wrong size, reserved tags, unknown tags, repeated tags."""
    from chronik_protocol.messages import api_versions_response as m

    version = 3
    head = b"\x00\x00" + b"\x01" + b"\x00\x00\x00\x00"  # error_code, no api_keys, throttle

    def tags(*fields: tuple[int, bytes]) -> bytes:
        out = bytearray(wire.uvarint(len(fields)))
        for tag, payload in fields:
            out += wire.uvarint(tag) + wire.uvarint(len(payload)) + payload
        return head + bytes(out)

    epoch = struct.pack(">q", 77)
    assert assert_agrees(m, version, tags((1, epoch)), "epoch")
    assert not assert_agrees(m, version, tags((1, epoch + b"\x00")), "long epoch")
    assert not assert_agrees(m, version, tags((1, epoch[:7])), "short epoch")
    assert assert_agrees(m, version, tags((1, epoch), (1, struct.pack(">q", 5))), "repeated")
    obj, _ = _accel.decode(m.SCHEMAS[version], memoryview(tags((1, epoch), (1, struct.pack(">q", 5)))), 0)
    assert obj.finalized_features_epoch == 5
    obj, _ = _accel.decode(m.SCHEMAS[version], memoryview(tags((9, b"xy"), (3, b"\x02"), (200, b""))), 0)
    assert obj.unknown_tagged_fields == [(9, b"xy"), (200, b"")] and obj.zk_migration_ready is True
    obj, _ = _accel.decode(m.SCHEMAS[version], memoryview(tags()), 0)
    assert obj.unknown_tagged_fields is None and obj.supported_features == [] and obj.finalized_features_epoch == -1
    assert obj.supported_features is not m.SCHEMAS[version][4][0][2]  # DEFAULT_LIST: a new list each time
    assert not assert_agrees(m, version, tags((2, b"\x00")), "null non-nullable tagged array")

    from chronik_protocol.messages import fetch_request as f

    reserved_version = next(v for v, s in f.SCHEMAS.items() if s[1] and s[5])
    value = message_value(construct_codec("FetchRequest")[reserved_version], random.Random(0), "nulls")
    data = bytes(value.encode(reserved_version))
    reserved = f.SCHEMAS[reserved_version][5][0]
    assert data[-1] == 0
    bad = data[:-1] + bytes([1, reserved, 0])
    assert not assert_agrees(f, reserved_version, bad, "reserved tag")


def test_arrays_that_cannot_fit_are_rejected_early() -> None:
    from chronik_protocol.messages import metadata_response as m

    for version in (1, 12):
        _, data = encoded("MetadataResponse", version, 0, "filled")
        schema = m.SCHEMAS[version]
        brokers_at = 4 if version >= 3 else 0  # after throttle_time_ms
        huge = struct.pack(">i", 0x7FFFFFFF) if version < 9 else wire.uvarint(0xFFFFFFFF)
        old = 4 if version < 9 else len(wire.uvarint(len(m.MetadataResponse.decode(data, version).brokers) + 1))
        bad = data[:brokers_at] + huge + data[brokers_at + old :]
        assert not assert_agrees(m, version, bad, f"v{version} huge count")
        with pytest.raises(_accel.Malformed, match="cannot fit"):
            _accel.decode(schema, memoryview(bad), 0)


# --------------------------------------------------------------------------------------------
# Schema compilation errors (tables that would leave a slot unset, or are not slots).


class _Plain:
    __slots__ = ("a", "unknown_tagged_fields")


class _WithDict:
    unknown_tagged_fields = None

    def __init__(self) -> None:
        self.a = 0


def test_bad_schemas_are_refused() -> None:
    a16 = (wire.K_INT16, False, False, "a", 0, None)
    _accel.compile((_Plain, False, (a16,), (), (), ()))
    with pytest.raises(TypeError, match="never sets"):
        _accel.compile((_Plain, False, (), (), (), ()))
    with pytest.raises(TypeError, match="more than once"):
        _accel.compile((_Plain, False, (a16,), (), (("a", wire.DEFAULT_CONST, 0),), ()))
    with pytest.raises(TypeError, match="slots"):
        _accel.compile((_Plain, False, ((wire.K_INT16, False, False, "b", 0, None),), (), (), ()))
    with pytest.raises(TypeError):
        _accel.compile((_WithDict, False, (a16,), (), (), ()))
    with pytest.raises(ValueError, match="kind"):
        _accel.compile((_Plain, False, ((99, False, False, "a", 0, None),), (), (), ()))
    with pytest.raises(TypeError):
        _accel.compile((_Plain, False, (a16,), (), ()))
    with pytest.raises(ValueError, match="non-flexible"):
        _accel.compile((_Plain, False, (), ((0, wire.K_INT16, False, True, "a", 0, None),), (), ()))


def test_default_structs_are_fresh_instances() -> None:
    """DEFAULT_STRUCT defaults are rebuilt natively: equal to ``value()``, never shared."""
    from chronik_protocol.messages import fetch_response as m

    version = 12
    schema = m.SCHEMAS[version]
    _, data = encoded("FetchResponse", version, 0, "nulls")
    first, _ = _accel.decode(schema, memoryview(data), 0)
    second, _ = _accel.decode(schema, memoryview(data), 0)
    partitions = [p for t in first.responses for p in t.partitions]
    partitions += [p for t in second.responses for p in t.partitions]
    assert len(partitions) >= 2
    part_schema = next(f[5] for f in schema[2] if f[3] == "responses")
    part_schema = next(f[5] for f in part_schema[2] if f[3] == "partitions")
    struct_defaults = [(slot, make) for slot, mode, make in part_schema[4] if mode == wire.DEFAULT_STRUCT]
    assert struct_defaults
    for slot, make in struct_defaults:
        values = [getattr(p, slot) for p in partitions]
        assert len({id(v) for v in values}) == len(values), f"{slot}: default instances are shared"
        for v in values:
            assert_same(v, make(), slot)


class _Odd:
    __slots__ = ("meta", "unknown_tagged_fields")
    made = 0

    def __init__(self) -> None:
        _Odd.made += 1
        self.meta = {"mutable": True}  # not rebuildable natively: value() is called each time
        self.unknown_tagged_fields = None


class _HasOdd:
    __slots__ = ("a", "odd", "unknown_tagged_fields")


def test_default_struct_fallback_calls_value() -> None:
    schema = (
        _HasOdd,
        False,
        ((wire.K_INT8, False, False, "a", 0, None),),
        (),
        (("odd", wire.DEFAULT_STRUCT, _Odd),),
        (),
    )
    _accel.compile(schema)
    made = _Odd.made
    one, _ = _accel.decode(schema, b"\x05", 0)
    two, _ = _accel.decode(schema, b"\x06", 0)
    assert _Odd.made == made + 2
    assert (one.a, two.a) == (5, 6) and one.odd.meta == {"mutable": True} and one.odd.meta is not two.odd.meta


# --------------------------------------------------------------------------------------------
# No leaks: pymalloc block counts stay flat over many decodes, valid and malformed.


def test_no_leaks() -> None:
    from chronik_protocol.messages import fetch_response as f
    from chronik_protocol.messages import metadata_response as md

    cases = []
    for name, module, version in (("FetchResponse", f, 12), ("MetadataResponse", md, 12), ("FetchResponse", f, 16)):
        _, data = encoded(name, version, 2, "filled")
        cases.append((module.SCHEMAS[version], data))
        cases.append((module.SCHEMAS[version], data[: len(data) * 2 // 3]))  # malformed
        bad = bytearray(data)
        bad[-1] = 0x05  # tagged count past the end
        cases.append((module.SCHEMAS[version], bytes(bad)))

    def run(n: int) -> None:
        for _ in range(n):
            for schema, data in cases:
                with contextlib.suppress(_accel.Malformed):
                    _accel.decode(schema, memoryview(data), 0)

    run(200)
    gc.collect()
    before = sys.getallocatedblocks()
    run(3000)
    gc.collect()
    grown = sys.getallocatedblocks() - before
    assert grown < 500, f"{grown} memory blocks still allocated after 3000 rounds"


class _Scalars:
    __slots__ = ("b", "f", "i8", "i16", "i32", "i64", "u16", "u32", "unknown_tagged_fields")


_SCALARS = (
    ("b", wire.K_BOOL, "?"),
    ("i8", wire.K_INT8, "b"),
    ("i16", wire.K_INT16, "h"),
    ("u16", wire.K_UINT16, "H"),
    ("i32", wire.K_INT32, "i"),
    ("u32", wire.K_UINT32, "I"),
    ("i64", wire.K_INT64, "q"),
    ("f", wire.K_FLOAT64, "d"),
)
_SCALAR_SCHEMA = (_Scalars, False, tuple((kind, False, False, slot, 0, None) for slot, kind, _ in _SCALARS), (), (), ())
_SCALAR_FORMAT = struct.Struct(">" + "".join(code for _, _, code in _SCALARS))


def test_scalars_bit_for_bit() -> None:
    """Every fixed-width kind against ``struct``: extremes, any nonzero bool, NaN payloads, -0.0."""
    rng = random.Random(3)
    samples = [bytes(_SCALAR_FORMAT.size), b"\xff" * _SCALAR_FORMAT.size, b"\x80" * _SCALAR_FORMAT.size]
    samples += [rng.randbytes(_SCALAR_FORMAT.size) for _ in range(300)]
    nan = bytes.fromhex("7ff8000000000123")
    samples += [s[:-8] + special for s in samples[:3] for special in (nan, struct.pack(">d", -0.0))]
    for data in samples:
        obj, pos = _accel.decode(_SCALAR_SCHEMA, memoryview(data), 0)
        assert pos == len(data)
        for (slot, _, _), want in zip(_SCALARS, _SCALAR_FORMAT.unpack(data), strict=True):
            assert_same(getattr(obj, slot), want, slot)
        for cut in (0, 1, len(data) - 1):
            with pytest.raises(_accel.Malformed):
                _accel.decode(_SCALAR_SCHEMA, memoryview(data[:cut]), 0)
