"""Construct building blocks for Kafka's protocol types.

The generated ``chronik_protocol.constructs.<message>`` modules declare one
``construct.Struct`` per message version from these classes: unsigned varints (5 bytes at
most), int16/int32-length and compact (varint N+1) strings, bytes and arrays with -1/0 for
null, nullable structs (an int8 -1/1 marker, as Kafka's generated code writes them), uuids,
and the tagged-field section of flexible versions (fields equal to their default are
omitted; unknown tags are kept and written back in tag order).

This codec is the declarative, introspectable twin of the straight-line codecs: tests walk
it to generate values and compare both codecs byte for byte, and when a straight-line
decode fails it is re-run here because Construct reports the path of the failing field.
"""

from __future__ import annotations

import importlib
import io
import uuid
from typing import Any

import construct as c

from .wire import DecodeError, uvarint

MAX_UVARINT_BYTES = 5


class KafkaWireError(c.ConstructError):
    """A malformed value inside a Kafka message (carries Construct's field path)."""


def _read(stream: Any, n: int, path: str) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise c.StreamError(f"needed {n} bytes, only {len(data)} left", path=path)
    return data


class UVarInt(c.Construct):
    """Kafka's unsigned varint (``ByteUtils.readUnsignedVarint``): at most 5 bytes, 32 bits."""

    def _parse(self, stream: Any, context: Any, path: str) -> int:
        value = shift = 0
        for _ in range(MAX_UVARINT_BYTES):
            b = _read(stream, 1, path)[0]
            value |= (b & 0x7F) << shift
            if b < 0x80:
                if value > 0xFFFFFFFF:
                    raise KafkaWireError("varint does not fit 32 bits", path=path)
                return value
            shift += 7
        raise KafkaWireError("varint is longer than 5 bytes", path=path)

    def _build(self, obj: int, stream: Any, context: Any, path: str) -> int:
        stream.write(uvarint(obj))
        return obj


uvarint_con = UVarInt()
_I16 = c.Int16sb
_I32 = c.Int32sb


class _Sized(c.Construct):
    """Length-prefixed payload: int16/int32 length, or compact uvarint N+1; -1/0 is null."""

    def __init__(self, compact: bool, nullable: bool, wide: bool) -> None:
        super().__init__()
        self.compact, self.nullable, self.wide = compact, nullable, wide

    def _length(self, stream: Any, context: Any, path: str) -> int:
        if self.compact:
            return uvarint_con._parsereport(stream, context, path) - 1
        return (_I32 if self.wide else _I16)._parsereport(stream, context, path)

    def _write_length(self, n: int, stream: Any, context: Any, path: str) -> None:
        if self.compact:
            uvarint_con._build(n + 1, stream, context, path)
        else:
            (_I32 if self.wide else _I16)._build(n, stream, context, path)

    def _payload(self, stream: Any, context: Any, path: str) -> bytes | None:
        n = self._length(stream, context, path)
        if n < 0:
            if not self.nullable:
                raise KafkaWireError("null for a non-nullable field", path=path)
            if n != -1:
                raise KafkaWireError(f"negative length {n}", path=path)
            return None
        return _read(stream, n, path)


class KString(_Sized):
    """A Kafka string: int16 length (or compact); strict UTF-8."""

    def __init__(self, compact: bool, nullable: bool) -> None:
        super().__init__(compact, nullable, wide=False)

    def _parse(self, stream: Any, context: Any, path: str) -> str | None:
        raw = self._payload(stream, context, path)
        if raw is None:
            return None
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise KafkaWireError(f"invalid UTF-8: {exc}", path=path) from None

    def _build(self, obj: str | None, stream: Any, context: Any, path: str) -> Any:
        if obj is None:
            if not self.nullable:
                raise KafkaWireError("null for a non-nullable string", path=path)
            self._write_length(-1, stream, context, path)
            return obj
        raw = obj.encode()
        if not self.compact and len(raw) > 0x7FFF:
            raise KafkaWireError("string longer than 32767 bytes", path=path)
        self._write_length(len(raw), stream, context, path)
        stream.write(raw)
        return obj


class KBytes(_Sized):
    """Kafka bytes or records: int32 length (or compact)."""

    def __init__(self, compact: bool, nullable: bool) -> None:
        super().__init__(compact, nullable, wide=True)

    def _parse(self, stream: Any, context: Any, path: str) -> bytes | None:
        return self._payload(stream, context, path)

    def _build(self, obj: bytes | None, stream: Any, context: Any, path: str) -> Any:
        if obj is None:
            if not self.nullable:
                raise KafkaWireError("null for non-nullable bytes", path=path)
            self._write_length(-1, stream, context, path)
            return obj
        self._write_length(len(obj), stream, context, path)
        stream.write(bytes(obj))
        return obj


class KArray(_Sized):
    """A Kafka array: int32 count (or compact) then the elements; null is -1 (compact 0)."""

    def __init__(self, subcon: c.Construct, compact: bool, nullable: bool) -> None:
        super().__init__(compact, nullable, wide=True)
        self.subcon = subcon

    def _parse(self, stream: Any, context: Any, path: str) -> list[Any] | None:
        n = self._length(stream, context, path)
        if n < 0:
            if not self.nullable:
                raise KafkaWireError("null for a non-nullable array", path=path)
            if n != -1:
                raise KafkaWireError(f"negative array length {n}", path=path)
            return None
        remaining = _remaining(stream)
        if n > remaining:
            raise KafkaWireError(f"array of {n} elements cannot fit in the {remaining} bytes left", path=path)
        return [self.subcon._parsereport(stream, context, f"{path} -> [{i}]") for i in range(n)]

    def _build(self, obj: list[Any] | None, stream: Any, context: Any, path: str) -> Any:
        if obj is None:
            if not self.nullable:
                raise KafkaWireError("null for a non-nullable array", path=path)
            self._write_length(-1, stream, context, path)
            return obj
        self._write_length(len(obj), stream, context, path)
        for i, item in enumerate(obj):
            self.subcon._build(item, stream, context, f"{path} -> [{i}]")
        return obj


def _remaining(stream: Any) -> int:
    pos = stream.tell()
    end = stream.seek(0, io.SEEK_END)
    stream.seek(pos)
    return end - pos


class KNullable(c.Subconstruct):
    """A nullable struct: int8 -1 for null, 1 then the struct (Kafka's generated code)."""

    def _parse(self, stream: Any, context: Any, path: str) -> Any:
        marker = c.Int8sb._parsereport(stream, context, path)
        if marker < 0:
            return None
        return self.subcon._parsereport(stream, context, path)

    def _build(self, obj: Any, stream: Any, context: Any, path: str) -> Any:
        if obj is None:
            stream.write(b"\xff")
            return obj
        stream.write(b"\x01")
        return self.subcon._build(obj, stream, context, path)


class KUuid(c.Construct):
    """A 16-byte uuid as ``uuid.UUID``."""

    def _parse(self, stream: Any, context: Any, path: str) -> uuid.UUID:
        return uuid.UUID(bytes=_read(stream, 16, path))

    def _build(self, obj: uuid.UUID, stream: Any, context: Any, path: str) -> Any:
        stream.write(obj.bytes)
        return obj


class TaggedField:
    """A known tagged field: tag, attribute name, spec name, codec, default (for omission)."""

    __slots__ = ("default", "name", "spec_name", "subcon", "tag")

    def __init__(self, tag: int, name: str, spec_name: str, subcon: c.Construct, default: Any) -> None:
        self.tag, self.name, self.spec_name, self.subcon, self.default = tag, name, spec_name, subcon, default


class KTaggedFields(c.Construct):
    """The tagged-field section: uvarint count, then (uvarint tag, uvarint size, payload).

    Parses to ``{"values": {name: value}, "unknown": [(tag, bytes)]}``; builds from the same,
    omitting known fields equal to their default, merging unknown tags in ascending order.
    """

    def __init__(self, fields: list[TaggedField], reserved: list[int] | None = None) -> None:
        super().__init__()
        self.fields = fields
        self.by_tag = {f.tag: f for f in fields}
        #: tags this struct uses in other versions; Kafka rejects them here
        self.reserved = frozenset(reserved or ())

    def _parse(self, stream: Any, context: Any, path: str) -> dict[str, Any]:
        values: dict[str, Any] = {}
        unknown: list[tuple[int, bytes]] = []
        count = uvarint_con._parsereport(stream, context, path)
        if count > _remaining(stream):
            raise KafkaWireError(f"{count} tagged fields cannot fit", path=path)
        for _ in range(count):
            tag = uvarint_con._parsereport(stream, context, path)
            size = uvarint_con._parsereport(stream, context, path)
            payload = _read(stream, size, f"{path} -> tag {tag}")
            field = self.by_tag.get(tag)
            if tag in self.reserved:
                raise KafkaWireError(f"tag {tag} is not valid for this version", path=path)
            if field is None:
                unknown.append((tag, payload))
                continue
            sub = io.BytesIO(payload)
            values[field.name] = field.subcon._parsereport(sub, context, f"{path} -> {field.name}")
            if sub.tell() != size:
                raise KafkaWireError(f"tagged field {tag} has the wrong size", path=f"{path} -> {field.name}")
        return {"values": values, "unknown": unknown}

    def _build(self, obj: dict[str, Any], stream: Any, context: Any, path: str) -> Any:
        items: list[tuple[int, bytes]] = []
        for f in self.fields:
            value = obj["values"].get(f.name, f.default)
            if value is None and f.default is None:
                continue
            if value is not None and f.default is not None and value == f.default:
                continue
            sub = io.BytesIO()
            f.subcon._build(value, sub, context, f"{path} -> {f.name}")
            items.append((f.tag, sub.getvalue()))
        items.extend(obj.get("unknown") or ())
        items.sort(key=lambda t: t[0])
        stream.write(uvarint(len(items)))
        for tag, data in items:
            stream.write(uvarint(tag))
            stream.write(uvarint(len(data)))
            stream.write(data)
        return obj


class KMessage(c.Adapter):
    """Maps a ``construct.Struct`` of one struct version to and from its generated class.

    ``fields`` lists ``(attribute, spec name)`` of the regular fields in wire order; the
    Struct's last subcon is ``tagged`` (a :class:`KTaggedFields`) in flexible versions.
    """

    def __init__(self, cls: type, fields: list[tuple[str, str]], struct: c.Struct, flexible: bool) -> None:
        super().__init__(struct)
        self.cls = cls
        self.fields = fields
        self.flexible = flexible

    @property
    def tagged(self) -> KTaggedFields | None:
        return self.subcon.subcons[-1].subcon if self.flexible else None  # type: ignore[no-any-return]

    def _decode(self, obj: Any, context: Any, path: str) -> Any:
        kwargs = {name: obj[name] for name, _ in self.fields}
        if self.flexible:
            kwargs.update(obj["tagged"]["values"])
            kwargs["unknown_tagged_fields"] = obj["tagged"]["unknown"] or None
        return self.cls(**kwargs)

    def _encode(self, obj: Any, context: Any, path: str) -> dict[str, Any]:
        out = {name: getattr(obj, name) for name, _ in self.fields}
        if self.flexible:
            tagged = self.tagged
            assert tagged is not None
            out["tagged"] = {
                "values": {f.name: getattr(obj, f.name) for f in tagged.fields},
                "unknown": obj.unknown_tagged_fields or [],
            }
        return out


def parse(con: c.Construct, data: bytes | bytearray | memoryview) -> Any:
    """Parse a whole message with a Construct codec."""
    return con.parse(bytes(data))


def build(con: c.Construct, obj: Any) -> bytes:
    return con.build(obj)  # type: ignore[no-any-return]


def _path_of(exc: c.ConstructError) -> str:
    path = getattr(exc, "path", None) or ""
    parts = [p.strip() for p in path.split("->")]
    parts = [p for p in parts if p and p not in {"(parsing)", "(building)"}]
    return ".".join(parts).replace(".[", "[")


def locate_error(module: str, message: str, buf: memoryview, pos: int, version: int, exc: BaseException) -> DecodeError:
    """Turn a straight-line decoder failure into a :class:`DecodeError` naming the field.

    Re-parses with the Construct codec, which tracks the path of the field being read.
    """
    reason = str(exc) or type(exc).__name__
    if type(exc).__name__ == "error":  # struct.error: ran out of bytes in a fixed-width run
        reason = "buffer ends inside a field"
    try:
        con = importlib.import_module(f"chronik_protocol.constructs.{module}").STRUCTS[version]
        con.parse(bytes(buf[pos:]))
    except c.ConstructError as cexc:
        text = str(cexc).split("\n")[-1].strip() or reason
        return DecodeError(message, version, _path_of(cexc), text)
    except Exception:  # the slow path is diagnostic only: keep the original reason
        return DecodeError(message, version, "", reason)
    return DecodeError(message, version, "", reason)
