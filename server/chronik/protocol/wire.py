"""Primitives shared by the generated message codecs (``chronik_protocol``).

The generated straight-line codecs read from a ``memoryview`` with an explicit position and
append to a ``bytearray``. This module holds what they share: the pre-compiled ``struct``
formats, unsigned varints (Kafka's ``ByteUtils.readUnsignedVarint``, at most 5 bytes), the
``DEFAULT`` sentinel for mutable defaults, and the two error types.

Errors: anything malformed in a buffer surfaces as :class:`DecodeError` carrying the API
(or message) name, the version and the field path; a value that cannot be written surfaces
as :class:`EncodeError`. Generated code raises :class:`Malformed` internally (cheap, no
context) and the message's ``decode`` converts it, locating the field by re-parsing with
the Construct codec, which tracks paths.
"""

from __future__ import annotations

import os
import struct
import uuid
from typing import Any, Final

__all__ = [
    "DEFAULT",
    "ZERO_UUID",
    "DecodeError",
    "EncodeError",
    "Malformed",
    "read_uvarint",
    "uvarint",
]

ZERO_UUID: Final = uuid.UUID(int=0)

#: The largest varint Kafka reads for a 32-bit value: 5 bytes (``ByteUtils.readUnsignedVarint``).
MAX_UVARINT_BYTES: Final = 5


class _Default:
    """Sentinel for "use the field's default" in generated constructors (lists, structs)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "DEFAULT"

    def __reduce__(self) -> str:
        return "DEFAULT"


DEFAULT: Final[Any] = _Default()


class Malformed(ValueError):
    """Raised inside generated decoders; converted to :class:`DecodeError` by ``decode``."""


class DecodeError(ValueError):
    """A buffer that is not a valid encoding of ``message`` at ``version``.

    ``field`` is the dotted path of the field being read when decoding failed (``""`` when
    it could not be located), ``reason`` says what was wrong.
    """

    def __init__(self, message: str, version: int, field: str, reason: str) -> None:
        self.message = message
        self.version = version
        self.field = field
        self.reason = reason
        where = f" field {field}" if field else ""
        super().__init__(f"cannot decode {message} v{version}{where}: {reason}")


class EncodeError(ValueError):
    """A message value that cannot be written at ``version`` (wrong type, out of range, null
    where the version does not allow it, unknown version)."""

    def __init__(self, message: str, version: int, reason: str) -> None:
        self.message = message
        self.version = version
        self.reason = reason
        super().__init__(f"cannot encode {message} v{version}: {reason}")


# Pre-compiled big-endian formats used by the generated code. Runs of fixed-width fields get
# their own formats, declared in each generated module.
I8: Final = struct.Struct(">b")
I16: Final = struct.Struct(">h")
U16: Final = struct.Struct(">H")
I32: Final = struct.Struct(">i")
U32: Final = struct.Struct(">I")
I64: Final = struct.Struct(">q")
F64: Final = struct.Struct(">d")


def read_uvarint(buf: memoryview, pos: int) -> tuple[int, int]:
    """Read an unsigned varint of at most 5 bytes; return ``(value, new_pos)``.

    Kafka rejects a sixth continuation byte ("Varint is too long"), so do we.
    """
    b = buf[pos]
    if b < 0x80:
        return b, pos + 1
    value = b & 0x7F
    shift = 7
    pos += 1
    while True:
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            if value > 0xFFFFFFFF:
                raise Malformed("varint does not fit 32 bits")
            return value, pos
        shift += 7
        if shift >= 7 * MAX_UVARINT_BYTES:
            raise Malformed("varint is longer than 5 bytes")


_SMALL_UVARINTS: Final = tuple(bytes((i,)) for i in range(0x80))


def uvarint(value: int) -> bytes:
    """Encode ``value`` (0 ≤ value < 2**32) as an unsigned varint."""
    if value < 0x80:
        if value < 0:
            raise ValueError(f"unsigned varint cannot hold {value}")
        return _SMALL_UVARINTS[value]
    if value > 0xFFFFFFFF:
        raise ValueError(f"unsigned varint cannot hold {value}")
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


# --------------------------------------------------------------------------------------------
# Readers used by generated decoders (strings, bytes and counts are read inline there).


def _check_end(buf: memoryview, end: int) -> None:
    if end > len(buf):
        raise Malformed(f"length runs {end - len(buf)} bytes past the end of the buffer")


def skip_tag(buf: memoryview, pos: int) -> tuple[int, int, int]:
    """Read a tagged field's tag and size; return ``(tag, start, end)`` of its payload."""
    tag, pos = read_uvarint(buf, pos)
    size, pos = read_uvarint(buf, pos)
    end = pos + size
    _check_end(buf, end)
    return tag, pos, end


# --------------------------------------------------------------------------------------------
# Writers used by generated encoders: they append to a bytearray.


def write_string16(out: bytearray, value: str) -> None:
    raw = value.encode()
    if len(raw) > 0x7FFF:
        raise ValueError(f"string of {len(raw)} bytes is longer than 32767")
    out += I16.pack(len(raw))
    out += raw


def write_nstring16(out: bytearray, value: str | None) -> None:
    if value is None:
        out += b"\xff\xff"
    else:
        write_string16(out, value)


def write_cstring(out: bytearray, value: str) -> None:
    raw = value.encode()
    out += uvarint(len(raw) + 1)
    out += raw


def write_ncstring(out: bytearray, value: str | None) -> None:
    if value is None:
        out.append(0)
    else:
        raw = value.encode()
        out += uvarint(len(raw) + 1)
        out += raw


def write_bytes32(out: bytearray, value: bytes | bytearray | memoryview) -> None:
    out += I32.pack(len(value))
    out += value


def write_nbytes32(out: bytearray, value: bytes | bytearray | memoryview | None) -> None:
    if value is None:
        out += b"\xff\xff\xff\xff"
    else:
        out += I32.pack(len(value))
        out += value


def write_count32(out: bytearray, values: list[Any] | None) -> None:
    out += b"\xff\xff\xff\xff" if values is None else I32.pack(len(values))


def write_ccount(out: bytearray, values: list[Any] | None) -> None:
    out += b"\x00" if values is None else uvarint(len(values) + 1)


def write_tagged(
    out: bytearray, known: list[tuple[int, bytes | bytearray]], unknown: list[tuple[int, bytes]] | None
) -> None:
    """Write the tagged-field section: known and unknown tags merged in ascending order."""
    fields = sorted(known + list(unknown), key=lambda t: t[0]) if unknown else known
    out += uvarint(len(fields))
    for tag, data in fields:
        out += uvarint(tag)
        out += uvarint(len(data))
        out += data


#: Per struct code, ``struct.Struct`` formats for fixed-width arrays of 0..63 elements.
FIXED_ARRAYS: Final = {code: tuple(struct.Struct(f">{n}{code}") for n in range(64)) for code in "?bhHiIqd"}


def pack_fixed_array(values: list[Any], code: str) -> bytes:
    """``values`` (fixed-width elements of struct code ``code``) packed in one call."""
    n = len(values)
    fmt = FIXED_ARRAYS[code][n] if n < 64 else struct.Struct(f">{n}{code}")
    return fmt.pack(*values)


# --------------------------------------------------------------------------------------------
# Schema tables for the native decoder (chronik._accel). Each generated message module holds,
# per struct version, ``(cls, flexible, fields, tagged, defaults, reserved_tags)``:
#   fields:   ((kind, nullable, compact, slot, elem_kind, sub), ...) in wire order
#   tagged:   ((tag, kind, nullable, compact, slot, elem_kind, sub), ...) by tag
#   defaults: ((slot, mode, value), ...) for every slot not read from the regular fields;
#             mode DEFAULT_CONST shares ``value`` (immutable), DEFAULT_LIST makes a new list,
#             DEFAULT_STRUCT calls ``value()`` (a generated class)
# ``sub`` is the schema of a struct (or of an array's struct elements), else None.
K_BOOL, K_INT8, K_INT16, K_UINT16, K_INT32, K_UINT32, K_INT64, K_FLOAT64, K_UUID = range(1, 10)
K_STRING, K_BYTES, K_RECORDS, K_STRUCT, K_ARRAY = range(10, 15)
DEFAULT_CONST, DEFAULT_LIST, DEFAULT_STRUCT = 0, 1, 2


def native_decoder() -> tuple[Any, type[BaseException]]:
    """``(decode, Malformed)`` of the C decoder ``chronik._accel``, or ``(None, Malformed)``
    when it is not built or ``CHRONIK_PURE_PYTHON=1`` asks for the pure-Python codecs."""
    if os.environ.get("CHRONIK_PURE_PYTHON") == "1":
        return None, Malformed
    try:
        from chronik import _accel
    except ImportError:
        return None, Malformed
    return _accel.decode, _accel.Malformed
