"""One Kafka client connection, sans-I/O: bytes in → requests out; responses in → bytes out.

No sockets, no event loop (h11's shape): the network adapter feeds :meth:`Connection.receive_data`
with whatever the socket delivered and acts on the events it returns; it hands each finished
response to :meth:`Connection.respond` and writes the bytes that come back.

Rules (Apache Kafka's, checked in its source; file names in parentheses):

Framing (``NetworkReceive.readFrom``)
  Every request is an int32 size followed by that many bytes. A negative size, or one larger
  than ``socket.request.max.bytes`` (``max_request_size``; a size equal to it is accepted), is
  an ``InvalidReceiveException`` and the broker closes the connection: :class:`Close`.

Request header (``RequestHeader.parse``, ``Processor.parseRequestHeader`` in SocketServer.scala)
  The api key and version are read from the fixed prefix before anything else: the header
  version follows from the API's flexible versions (v2 if flexible, else v1; ControlledShutdown
  v0 uses v0), and the ClientId keeps its int16 length even in v2. An api key the broker does not
  know or does not enable is an ``InvalidRequestException``: the connection is closed. A null
  ClientId is read as ``""`` ("due to a quirk in the protocol, client ID is marked as nullable").

ApiVersions at a version the broker does not know (``RequestContext.parseRequest``,
``ApiKeys.isVersionEnabled``, KIP-511)
  Accepted whatever the version: the body is not parsed and the answer is written in the v0
  format with UNSUPPORTED_VERSION (35), so the client can retry with the highest version we list.

Other APIs at a version outside what we implement
  Kafka 4.x closes the connection (``parseRequestHeader`` throws ``UnsupportedVersionException``).
  By default we instead answer with an error response carrying UNSUPPORTED_VERSION and the
  request's correlation id (:func:`error_response`), which a client that did not negotiate
  versions can report; ``close_on_unsupported_version=True`` gives Kafka's exact behaviour. A
  version our codecs cannot encode, and an acks=0 Produce (its client reads no response), still
  close the connection.

Request body (``RequestContext.parseRequest``)
  Any failure to parse the body is an ``InvalidRequestException``: the connection is closed.

Responses (``RequestChannel``, ``Processor``)
  Responses go out in request order on each connection (Kafka even reads one request at a time).
  Every request gets a slot; :meth:`Connection.respond` fills it and returns whatever is now
  sendable in order; :meth:`Connection.no_response` releases a slot that gets no answer
  (acks=0 Produce). The response header is v1 if the API version is flexible, else v0, and always
  v0 for ApiVersions.

SASL (``SaslServerAuthenticator``, KIP-43)
  After SaslHandshake v0 the client sends raw SASL tokens: size-prefixed frames without a Kafka
  header. With ``raw_frames`` set, every frame is a :class:`RawFrame` event instead of a request;
  :func:`frame_raw` frames a token for the reply. The adapter sets and clears it.

Buffering: a frame that arrives whole inside one ``receive_data`` chunk is parsed in place from
that (immutable) chunk; a frame that spans chunks is assembled in a buffer allocated once at its
announced size, so each byte is copied at most once, never once per read. Decoded ``records``
fields stay zero-copy slices of that buffer.
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from chronik.protocol.errors import ErrorCode
from chronik.protocol.wire import DecodeError

__all__ = [
    "Close",
    "Connection",
    "DataToSend",
    "Event",
    "RawFrame",
    "Request",
    "RequestReceived",
    "error_response",
    "frame_raw",
]

#: Kafka's ``socket.request.max.bytes`` default (100 MiB).
DEFAULT_MAX_REQUEST_SIZE: Final = 104_857_600

_API_VERSIONS_KEY: Final = 18
_PRODUCE_KEY: Final = 0
_SIZE = struct.Struct(">i")
_PREFIX = struct.Struct(">hhi")  # api key, api version, correlation id: every header version starts so


@dataclass(slots=True, eq=False)
class Request:
    """A decoded request: the header's facts, the header and the body (a generated message).

    ``body`` is ``None`` only for an ApiVersions request at a version we do not know (Kafka does
    not parse it either). ``size`` is the frame size (header + body bytes, without the length).
    """

    api_key: int
    api_version: int
    correlation_id: int
    client_id: str
    header: Any
    body: Any
    size: int
    seq: int = field(default=-1, repr=False)  # response slot, assigned by the Connection


@dataclass(slots=True)
class RequestReceived:
    """A request for the broker to handle; answer it with ``respond`` or ``no_response``."""

    request: Request


@dataclass(slots=True)
class DataToSend:
    """Bytes the connection answered by itself (an unsupported version) that are sendable now."""

    data: bytes


@dataclass(slots=True)
class Close:
    """Close the connection (Kafka closes it, and logs why); ``reason`` is for our log line."""

    reason: str


@dataclass(slots=True)
class RawFrame:
    """A frame read while ``raw_frames`` is set: a raw SASL token (SaslHandshake v0)."""

    data: bytes


Event = RequestReceived | DataToSend | Close | RawFrame


def frame_raw(data: bytes) -> bytes:
    """``data`` with its int32 size prefix (a raw SASL token reply)."""
    return _SIZE.pack(len(data)) + data


_CLASSES: dict[int, tuple[Any, Any]] = {}


def _classes(api_key: int) -> tuple[Any, Any]:
    """(request class, response class) of an API, imported on first use."""
    pair = _CLASSES.get(api_key)
    if pair is None:
        from chronik_protocol.api_table import APIS

        spec = APIS[api_key]
        pair = _CLASSES[api_key] = (spec.request_class(), spec.response_class())
    return pair


class Connection:
    """Framing, request headers and the in-order response queue of one client connection.

    ``versions(api_key)`` gives the (min, max) versions we implement for an API, or ``None`` when
    we do not implement it. ``api_versions_table()`` gives the ``(api_key, min, max)`` rows the
    v0 answer to an unknown ApiVersions version lists (default: every API ``versions`` knows).
    """

    def __init__(
        self,
        max_request_size: int,
        versions: Callable[[int], tuple[int, int] | None],
        *,
        api_versions_table: Callable[[], Iterable[tuple[int, int, int]]] | None = None,
        close_on_unsupported_version: bool = False,
    ) -> None:
        from chronik_protocol.api_table import APIS
        from chronik_protocol.messages.request_header import RequestHeader
        from chronik_protocol.messages.response_header import ResponseHeader

        self._apis = APIS
        self._request_header = RequestHeader
        self._response_header = ResponseHeader
        self.max_request_size = max_request_size
        self._versions = versions
        self._api_versions_table = api_versions_table
        self._close_on_unsupported = close_on_unsupported_version
        self.closed = False
        #: frames are raw SASL tokens (:class:`RawFrame`), not requests (after SaslHandshake v0)
        self.raw_frames = False
        # Framing state: the int32 size split across reads, or a frame being assembled.
        self._size_bytes = bytearray()
        self._frame: bytearray | None = None
        self._frame_view: memoryview | None = None
        self._filled = 0
        # Response slots: seq numbers are handed out in arrival order and sent in that order.
        self._next_seq = 0
        self._send_seq = 0
        self._open: dict[int, int] = {}  # seq -> request size, awaiting respond()/no_response()
        self._done: dict[int, tuple[bytes | None, int]] = {}  # seq -> (encoded response or None, size)
        self._outstanding_bytes = 0
        self._queued_bytes = 0

    # ------------------------------------------------------------------------------------------
    # Incoming bytes

    def receive_data(self, data: bytes | bytearray | memoryview) -> list[Event]:
        """Feed bytes from the socket; return the events they complete, in order.

        After a :class:`Close` event nothing more is parsed: later calls return ``[]``. Requests
        received before it can still be answered (the adapter decides whether to send).
        """
        if self.closed or not data:
            return []
        if not isinstance(data, bytes):
            data = bytes(data)  # frames parsed in place must not change under us
        events: list[Event] = []
        view = memoryview(data)
        n = len(view)
        pos = 0
        frame = self._frame
        if frame is not None:  # continue a frame that spans reads: one copy per byte, at most
            take = min(len(frame) - self._filled, n)
            assert self._frame_view is not None
            self._frame_view[self._filled : self._filled + take] = view[:take]
            self._filled += take
            pos = take
            if self._filled < len(frame):
                return events
            whole = self._frame_view
            self._frame = self._frame_view = None
            self._filled = 0
            self._handle_frame(whole, events)
        while pos < n and not self.closed:
            if self._size_bytes or n - pos < 4:  # the size itself is split across reads
                take = min(4 - len(self._size_bytes), n - pos)
                self._size_bytes += view[pos : pos + take]
                pos += take
                if len(self._size_bytes) < 4:
                    break
                (size,) = _SIZE.unpack(self._size_bytes)
                self._size_bytes.clear()
            else:
                (size,) = _SIZE.unpack_from(view, pos)
                pos += 4
            if size < 0:
                self._close(events, f"invalid request size {size}")
                break
            if size > self.max_request_size:
                self._close(events, f"request size {size} larger than socket.request.max.bytes {self.max_request_size}")
                break
            if n - pos >= size:  # whole frame in this chunk: parse in place
                self._handle_frame(view[pos : pos + size], events)
                pos += size
            else:  # allocate once at the announced size (as NetworkReceive does), fill as data comes
                self._frame = bytearray(size)
                self._frame_view = memoryview(self._frame)
                self._filled = n - pos
                self._frame_view[: self._filled] = view[pos:]
                pos = n
        return events

    def _close(self, events: list[Event], reason: str) -> None:
        self.closed = True
        self._frame = self._frame_view = None
        events.append(Close(reason))

    def _handle_frame(self, frame: memoryview, events: list[Event]) -> None:
        size = len(frame)
        if self.raw_frames:
            events.append(RawFrame(bytes(frame)))
            return
        if size < _PREFIX.size:
            self._close(events, f"request of {size} bytes is too short for a request header")
            return
        api_key, api_version, correlation_id = _PREFIX.unpack_from(frame, 0)
        spec = self._apis.get(api_key)
        if spec is None:
            self._close(events, f"unknown API key {api_key} (correlation id {correlation_id})")
            return
        implemented = self._versions(api_key)
        if implemented is None:
            self._close(events, f"API {spec.name} (key {api_key}) is not enabled (correlation id {correlation_id})")
            return
        header, pos = self._decode_header(frame, spec, api_key, api_version, correlation_id, events)
        if header is None:
            return
        lo, hi = implemented
        if lo <= api_version <= hi:
            body = self._decode_body(frame, pos, api_key, api_version, correlation_id, spec, events)
            if body is None:
                return
            request = self._new_request(api_key, api_version, correlation_id, header, body, size)
            events.append(RequestReceived(request))
        elif api_key == _API_VERSIONS_KEY:
            self._answer_unknown_api_versions(api_version, correlation_id, header, size, events)
        else:
            self._answer_unsupported_version(frame, pos, spec, api_key, api_version, correlation_id, header, events)

    def _decode_header(
        self, frame: memoryview, spec: Any, api_key: int, api_version: int, correlation_id: int, events: list[Event]
    ) -> tuple[Any, int]:
        try:
            header, pos = self._request_header.decode_from(frame, 0, spec.request_header_version(api_version))
        except Exception as exc:  # DecodeError, or anything else a malformed header provokes
            what = f"malformed {spec.name} v{api_version} request header (correlation id {correlation_id})"
            self._close(events, f"{what}: {exc}")
            return None, 0
        if header.client_id is None:
            header.client_id = ""  # Kafka: a null client id is the empty client id
        return header, pos

    def _decode_body(
        self,
        frame: memoryview,
        pos: int,
        api_key: int,
        api_version: int,
        correlation_id: int,
        spec: Any,
        events: list[Event],
    ) -> Any:
        try:
            body, _end = _classes(api_key)[0].decode_from(frame, pos, api_version)
        except DecodeError as exc:
            self._close(events, f"invalid {spec.name} v{api_version} request (correlation id {correlation_id}): {exc}")
            return None
        except Exception as exc:
            self._close(
                events,
                f"invalid {spec.name} v{api_version} request (correlation id {correlation_id}): "
                f"{type(exc).__name__}: {exc}",
            )
            return None
        return body

    def _new_request(
        self, api_key: int, api_version: int, correlation_id: int, header: Any, body: Any, size: int
    ) -> Request:
        seq = self._next_seq
        self._next_seq = seq + 1
        self._open[seq] = size
        self._outstanding_bytes += size
        return Request(api_key, api_version, correlation_id, header.client_id, header, body, size, seq)

    def _answer_unknown_api_versions(
        self, api_version: int, correlation_id: int, header: Any, size: int, events: list[Event]
    ) -> None:
        """KIP-511: v0 format, UNSUPPORTED_VERSION, and the API table so the client can retry.

        Kafka lists only the ApiVersions row here (``ApiVersionsRequest.getErrorResponse``); we
        list every row we advertise (a superset: clients look up the ApiVersions row).
        """
        from chronik_protocol.messages.api_versions_response import ApiVersion, ApiVersionsResponse

        if self._api_versions_table is not None:
            rows = list(self._api_versions_table())
        else:
            rows = [(k, *v) for k in sorted(self._apis) if (v := self._versions(k)) is not None]
        response = ApiVersionsResponse(
            error_code=ErrorCode.UNSUPPORTED_VERSION, api_keys=[ApiVersion(k, lo, hi) for k, lo, hi in rows]
        )
        request = self._new_request(_API_VERSIONS_KEY, api_version, correlation_id, header, None, size)
        self._queue(events, self._respond(request, response, 0))

    def _answer_unsupported_version(
        self,
        frame: memoryview,
        pos: int,
        spec: Any,
        api_key: int,
        api_version: int,
        correlation_id: int,
        header: Any,
        events: list[Event],
    ) -> None:
        lo, hi = self._versions(api_key) or (0, -1)
        what = (
            f"{spec.name} v{api_version} is not supported (we implement v{lo}-v{hi}; correlation id {correlation_id})"
        )
        if self._close_on_unsupported or not spec.min_version <= api_version <= spec.max_version:
            self._close(events, what)
            return
        body = self._decode_body(frame, pos, api_key, api_version, correlation_id, spec, events)
        if body is None:
            return
        if api_key == _PRODUCE_KEY and getattr(body, "acks", -1) == 0:
            self._close(events, what + "; acks=0, so no error response can be sent")
            return
        request = self._new_request(api_key, api_version, correlation_id, header, body, len(frame))
        self._queue(events, self._respond(request, error_response(request, ErrorCode.UNSUPPORTED_VERSION), api_version))

    @staticmethod
    def _queue(events: list[Event], data: bytes) -> None:
        if data:
            events.append(DataToSend(data))

    # ------------------------------------------------------------------------------------------
    # Outgoing bytes

    @property
    def outstanding(self) -> int:
        """Requests received and not yet sent or released (answered ones waiting for earlier ones count)."""
        return self._next_seq - self._send_seq

    @property
    def outstanding_bytes(self) -> int:
        """Frame bytes of the requests counted by :attr:`outstanding` (memory they may pin)."""
        return self._outstanding_bytes

    @property
    def queued_bytes(self) -> int:
        """Encoded response bytes waiting for an earlier request's response."""
        return self._queued_bytes

    def respond(self, request: Request, response: Any) -> bytes:
        """Encode ``response`` for ``request``; return the bytes now sendable in request order.

        The result may hold several responses (this one released those queued behind it) or be
        empty (an earlier request is still pending). Raises ``EncodeError`` if the response cannot
        be encoded at the request's version, leaving the slot open (answer it again, e.g. with
        :func:`error_response`). Raises ``ValueError`` for a request already answered.
        """
        if request.api_key != response.API_KEY:
            raise ValueError(f"{response.NAME} is not a response to API key {request.api_key}")
        return self._respond(request, response, request.api_version)

    def no_response(self, request: Request) -> bytes:
        """Release ``request``'s slot without a response (acks=0 Produce); return sendable bytes."""
        return self._complete(request, None)

    def _respond(self, request: Request, response: Any, version: int) -> bytes:
        if request.seq not in self._open:
            raise ValueError(f"request {request.seq} (correlation id {request.correlation_id}) was already answered")
        spec = self._apis[request.api_key]
        out = bytearray(4)
        self._response_header(request.correlation_id).encode_into(out, spec.response_header_version(version))
        response.encode_into(out, version)
        _SIZE.pack_into(out, 0, len(out) - 4)
        return self._complete(request, bytes(out))

    def _complete(self, request: Request, data: bytes | None) -> bytes:
        seq = request.seq
        size = self._open.pop(seq, None)
        if size is None:
            raise ValueError(f"request {seq} (correlation id {request.correlation_id}) was already answered")
        if seq == self._send_seq and not self._done:  # the common case: nothing waits behind it
            self._send_seq = seq + 1
            self._outstanding_bytes -= size
            return data or b""
        self._done[seq] = (data, size)
        if data:
            self._queued_bytes += len(data)
        parts: list[bytes] = []
        while self._send_seq in self._done:
            ready, ready_size = self._done.pop(self._send_seq)
            self._outstanding_bytes -= ready_size
            self._send_seq += 1
            if ready:
                self._queued_bytes -= len(ready)
                parts.append(ready)
        if not parts:
            return b""
        return parts[0] if len(parts) == 1 else b"".join(parts)


# ----------------------------------------------------------------------------------------------
# Error responses


_K_INT16, _K_INT32, _K_UUID, _K_STRING, _K_STRUCT, _K_ARRAY = 3, 5, 9, 10, 13, 14

#: Fields that carry an item's error (``partition_error_code``: AddPartitionsToTxn).
_ERROR_FIELDS: Final = frozenset({"error_code", "partition_error_code"})

#: A response item's identity field → the request fields it may be copied from.
_TOPIC = ("name", "topic", "topic_name")
_PARTITION = ("partition_index", "partition", "index", "partition_id")
_IDENTITY: Final[dict[str, tuple[str, ...]]] = {
    "name": _TOPIC,
    "topic": ("topic", "name", "topic_name"),
    "topic_name": ("topic_name", "name", "topic"),
    "topic_id": ("topic_id",),
    "partition_index": _PARTITION,
    "partition": ("partition", "partition_index", "index", "partition_id"),
    "index": ("index", "partition_index", "partition", "partition_id"),
    "partition_id": ("partition_id", "partition_index", "partition", "index"),
    "group_id": ("group_id",),
    "member_id": ("member_id",),
    "group_instance_id": ("group_instance_id",),
    "transactional_id": ("transactional_id",),
    "producer_id": ("producer_id",),
    "resource_type": ("resource_type",),
    "resource_name": ("resource_name",),
    "user": ("user", "name"),
    "entity_type": ("entity_type",),
    "entity_name": ("entity_name",),
}
#: A response item with no other scalar field is a bare result, one per request item.
_BARE_RESULT: Final = frozenset({"error_code", "error_message"})
#: For a request array of plain strings/ints: which response item field takes the value.
_SCALAR_TARGETS: Final = {
    _K_STRING: ("group_id", "transactional_id", "key", "name", "topic", "topic_name", "user"),
    _K_INT32: _PARTITION,
}
#: Response array → request array, where names differ and more than one request array fits.
_ARRAY_ALIASES: Final = {"responses": ("topics", "topic_data", "resources"), "results": ("topics",)}


def _schema_fields(schema: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """(kind, nullable, compact, name, elem_kind, sub) of every field, regular then tagged."""
    return [*schema[2], *(t[1:] for t in schema[3])]


_HAS_ERROR: dict[int, bool] = {}


def _has_error(schema: tuple[Any, ...]) -> bool:
    key = id(schema)
    found = _HAS_ERROR.get(key)
    if found is None:
        found = False
        for kind, _n, _c, name, elem, sub in _schema_fields(schema):
            if (name in _ERROR_FIELDS and kind == _K_INT16) or (
                sub is not None and (kind == _K_STRUCT or elem == _K_STRUCT) and _has_error(sub)
            ):
                found = True
                break
        _HAS_ERROR[key] = found
    return found


def _coerce(value: Any, kind: int, nullable: bool) -> tuple[bool, Any]:
    """Whether ``value`` fits a response field of ``kind``, and the value to set."""
    if kind == _K_STRING:
        if value is None:
            return True, None if nullable else ""
        return isinstance(value, str), value
    if kind in (2, _K_INT16, 4, _K_INT32, 6, 7):  # int8 (e.g. resource_type), int16, uint16, int32, uint32, int64
        return isinstance(value, int) and not isinstance(value, bool), value
    if kind == _K_UUID:
        return value is not None and type(value).__name__ == "UUID", value
    return False, None


def _compatible(rsp_sub: tuple[Any, ...], req_elem: int, req_sub: tuple[Any, ...] | None) -> bool:
    """Whether request items (structs ``req_sub`` or scalars of ``req_elem``) can stand for response items.

    They can when a response item's identity field (topic name, partition index, group id, ...)
    has a source in the request item, or when response items are bare results (only an error
    code and message besides nested arrays), answered one per request item as Kafka's CreateAcls
    and DeleteAcls do.
    """
    rsp_fields = _schema_fields(rsp_sub)
    rsp_names = {f[3] for f in rsp_fields}
    if req_sub is None:
        found = any(t in rsp_names for t in _SCALAR_TARGETS.get(req_elem, ()))
    else:
        req_names = {f[3] for f in _schema_fields(req_sub)}
        found = any(name in _IDENTITY and any(s in req_names for s in _IDENTITY[name]) for name in rsp_names)
    return found or all(f[3] in _BARE_RESULT for f in rsp_fields if f[0] not in (_K_ARRAY, _K_STRUCT))


_Source = tuple[str, int, "tuple[Any, ...] | None"]


def _pair_array(name: str, rsp_sub: tuple[Any, ...], req_fields: list[tuple[Any, ...]]) -> list[_Source]:
    """The request arrays whose items the response array ``name`` answers, in order.

    The request array of the same name, else a known alias, else the only fitting one; when
    several fit and none is named, all of them (AlterUserScramCredentials answers deletions and
    upsertions in one ``results``).
    """
    candidates = [
        (f[3], f[4], f[5] if f[4] == _K_STRUCT else None)
        for f in req_fields
        if f[0] == _K_ARRAY and _compatible(rsp_sub, f[4], f[5] if f[4] == _K_STRUCT else None)
    ]
    for candidate in candidates:
        if candidate[0] == name:
            return [candidate]
    for alias in _ARRAY_ALIASES.get(name, ()):
        for candidate in candidates:
            if candidate[0] == alias:
                return [candidate]
    return candidates


def _build(schema: tuple[Any, ...], req: Any, req_schema: tuple[Any, ...] | None, code: int, top: bool) -> Any:
    obj = schema[0]()
    fields = _schema_fields(schema)
    has_error = False
    for kind, _n, _c, name, _e, _s in fields:
        if name in _ERROR_FIELDS and kind == _K_INT16:
            setattr(obj, name, code)
            has_error = True
    if (top and has_error) or req is None or req_schema is None:
        return obj  # a top-level error code says it all (Kafka's getErrorResponse for most APIs)
    req_fields = _schema_fields(req_schema)
    req_names = {f[3] for f in req_fields}
    for kind, nullable, _c, name, elem, sub in fields:
        if kind == _K_ARRAY:
            if elem != _K_STRUCT or sub is None:
                continue
            if _has_error(sub):
                sources = _pair_array(name, sub, req_fields)
            elif all(f[3] in _IDENTITY for f in _schema_fields(sub)):
                # an item's identity may itself be a list (AlterClientQuotas' entity)
                sources = [s for s in _pair_array(name, sub, req_fields) if s[0] == name and s[2] is not None]
            else:
                continue
            built = []
            for req_name, req_elem, req_sub in sources:
                for item in getattr(req, req_name, None) or ():
                    if req_sub is not None:
                        built.append(_build(sub, item, req_sub, code, False))
                    else:
                        built.append(_from_scalar(sub, item, req_elem, code))
            if sources:
                setattr(obj, name, built)
        elif kind != _K_STRUCT and name in _IDENTITY:
            for source in _IDENTITY[name]:
                if source in req_names:
                    ok, value = _coerce(getattr(req, source, None), kind, nullable)
                    if ok:
                        setattr(obj, name, value)
                    break
    return obj


def _from_scalar(schema: tuple[Any, ...], value: Any, kind: int, code: int) -> Any:
    obj = _build(schema, None, None, code, False)
    by_name = {f[3]: f for f in _schema_fields(schema)}
    for target in _SCALAR_TARGETS.get(kind, ()):
        f = by_name.get(target)
        if f is not None:
            ok, coerced = _coerce(value, f[0], f[1])
            if ok:
                setattr(obj, target, coerced)
            break
    return obj


def _message_schema(cls: Any, version: int) -> tuple[Any, ...]:
    schema = sys.modules[cls.__module__].SCHEMAS.get(version)
    if schema is None:
        raise ValueError(f"{cls.NAME} has no version {version}")
    return schema  # type: ignore[no-any-return]


def error_response(request: Request, error_code: int) -> Any:
    """A well-formed response to ``request`` (its API and version) reporting ``error_code``.

    As Kafka's ``AbstractRequest.getErrorResponse`` does: the top-level ``error_code`` when the
    response version has one; otherwise the error on every item, mirroring the request's items
    (topics, partitions, groups, ...) with their names, ids and indexes. Everything else keeps the
    spec defaults, so the response always encodes.
    """
    request_cls, response_cls = _classes(request.api_key)
    schema = _message_schema(response_cls, request.api_version)
    req_schema = _message_schema(request_cls, request.api_version) if request.body is not None else None
    return _build(schema, request.body, req_schema, int(error_code), True)
