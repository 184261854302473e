"""Random and mutated request frames against a running ``chronik start``; then the broker must be fine.

Seeds: for every API the broker's ApiVersions response lists, and every version of it, requests
filled with random (but encodable) field values from the generated schemas, encoded with our
codecs. Each frame is then sent as is or mutated (bit flips, truncation, size and length fields
overwritten with large or negative values, random tag sections, random bytes, whole random
frames) by several workers over fresh or reused connections, reading what comes back with a
short timeout. Afterwards: the process is alive; its log has no traceback, no handler failure
and no ERROR line (a ``closing connection`` WARNING is the expected answer to malformed input);
no response carried UNKNOWN_SERVER_ERROR; every response decodes and echoes its correlation id;
records produced before the fuzzing are intact; and confluent-kafka produces 1,000 records and
consumes them back identical.

Reproducible: ``CHRONIK_FUZZ_SEED`` (default fixed) and ``CHRONIK_FUZZ_FRAMES`` (default 3000);
the seed is in every failure message. Each worker's frame sequence depends only on the seed.
"""

from __future__ import annotations

import os
import random
import socket
import struct
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from chronik.protocol.records import Codec, SimpleRecord, build_batch
from chronik.protocol.wire import (
    K_ARRAY,
    K_BOOL,
    K_BYTES,
    K_FLOAT64,
    K_INT8,
    K_INT16,
    K_INT32,
    K_INT64,
    K_RECORDS,
    K_STRING,
    K_STRUCT,
    K_UINT16,
    K_UINT32,
    K_UUID,
)
from chronik_protocol.api_table import APIS
from chronik_protocol.messages.api_versions_request import ApiVersionsRequest
from chronik_protocol.messages.metadata_request import MetadataRequest
from chronik_protocol.messages.request_header import RequestHeader
from chronik_protocol.messages.response_header import ResponseHeader

from .broker_process import BrokerProcess

SEED = int(os.environ.get("CHRONIK_FUZZ_SEED", "20261126"))
FRAMES = int(os.environ.get("CHRONIK_FUZZ_FRAMES", "3000"))
WORKERS = 8
READ_TIMEOUT = 0.25
KEEP_TOPIC = "keep-intact"  # never named by the fuzzer
POOL_TOPICS = ["fuzz-a", "fuzz-b"]  # exist; the fuzzer may produce to, alter or delete them
NAMES = [*POOL_TOPICS, "fuzz-missing", "", "a" * 249, "bad/name", "ünï", "__consumer_offsets", "."]


# -- random field values from the generated schemas ---------------------------------------------------


class Gen:
    def __init__(self, rng: random.Random, topic_ids: list[uuid.UUID]) -> None:
        self.rng = rng
        self.topic_ids = topic_ids

    def string(self, nullable: bool) -> str | None:
        r = self.rng
        if nullable and r.random() < 0.1:
            return None
        if r.random() < 0.7:
            return r.choice(NAMES)
        return "".join(chr(r.randint(32, 0x2FF)) for _ in range(r.randint(0, 40)))

    def records(self) -> bytes | None:
        r = self.rng
        roll = r.random()
        if roll < 0.1:
            return None
        if roll < 0.15:
            return b""
        if roll < 0.2:
            return r.randbytes(r.randint(1, 200))
        n = r.randint(1, 5)
        batch = build_batch(
            [
                SimpleRecord(r.choice([None, b"k%d" % i]), r.randbytes(r.randint(0, 50)), (), 1_700_000_000_000 + i)
                for i in range(n)
            ],
            codec=r.choice([Codec.NONE, Codec.NONE, Codec.GZIP, Codec.LZ4, Codec.ZSTD, Codec.SNAPPY]),
        )
        return bytes(batch)

    def scalar(self, kind: int, nullable: bool, name: str) -> Any:
        r = self.rng
        if kind == K_BOOL:
            return r.random() < 0.5
        if kind == K_INT8:
            return r.choice([0, 1, -1, 127, -128, r.randint(-128, 127)])
        if kind == K_INT16:
            return r.choice([0, 1, 2, -1, -2, 32767, -32768, r.randint(0, 20)])
        if kind == K_UINT16:
            return r.choice([0, 1, 65535, r.randint(0, 65535)])
        if kind == K_INT32:
            if name in ("num_partitions", "count", "replication_factor"):
                return r.choice([-1, 0, 1, 2, 3, -5])  # no million-partition topics: not what we test
            if name in ("max_wait_ms", "timeout_ms", "session_timeout_ms", "rebalance_timeout_ms"):
                return r.choice([0, 1, 50, -1])
            return r.choice([0, 1, 2, -1, -2, 2**31 - 1, -(2**31), r.randint(0, 10), r.randint(-(2**31), 2**31 - 1)])
        if kind == K_UINT32:
            return r.choice([0, 1, 2**32 - 1, r.randint(0, 2**32 - 1)])
        if kind == K_INT64:
            return r.choice([0, 1, -1, -2, -3, -4, 2**63 - 1, -(2**63), r.randint(0, 100), r.getrandbits(63)])
        if kind == K_FLOAT64:
            return r.choice([0.0, -1.0, 1e308, float("nan"), r.random()])
        if kind == K_UUID:
            return r.choice([uuid.UUID(int=0), uuid.UUID(int=r.getrandbits(128)), *self.topic_ids])
        if kind == K_STRING:
            return self.string(nullable)
        if kind == K_BYTES:
            return None if nullable and r.random() < 0.2 else r.randbytes(r.randint(0, 30))
        if kind == K_RECORDS:
            return self.records()
        raise AssertionError(f"kind {kind}")

    def value(self, kind: int, nullable: bool, name: str, elem: int, sub: Any, depth: int) -> Any:
        r = self.rng
        if kind == K_STRUCT:
            return self.struct(sub, depth + 1)
        if kind == K_ARRAY:
            if nullable and r.random() < 0.15:
                return None
            n = r.choice([0, 1, 1, 2, 3]) if depth < 3 else 0
            if elem == K_STRUCT:
                return [self.struct(sub, depth + 1) for _ in range(n)]
            return [self.scalar(elem, False, name) for _ in range(n)]
        return self.scalar(kind, nullable, name)

    def struct(self, schema: Any, depth: int = 0) -> Any:
        cls, _flexible, fields, tagged = schema[0], schema[1], schema[2], schema[3]
        obj = cls()
        for kind, nullable, _compact, name, elem, sub in fields:
            setattr(obj, name, self.value(kind, nullable, name, elem, sub, depth))
        for _tag, kind, nullable, _compact, name, elem, sub in tagged:
            if self.rng.random() < 0.3:
                setattr(obj, name, self.value(kind, nullable, name, elem, sub, depth))
        return obj


def request_payload(gen: Gen, api_key: int, version: int, correlation_id: int) -> bytes:
    """Header + a random body that our codecs encode (a default body if the random one does not)."""
    spec = APIS[api_key]
    cls = spec.request_class()
    schemas = __import__(cls.__module__, fromlist=["SCHEMAS"]).SCHEMAS
    header = bytearray()
    client_id = gen.rng.choice(["fuzz", None, "", "x" * 300])
    RequestHeader(api_key, version, correlation_id, client_id).encode_into(header, spec.request_header_version(version))
    for _ in range(5):
        try:
            body = gen.struct(schemas[version]).encode(version)
            break
        except Exception:  # a random value the encoder refuses: try another
            continue
    else:
        body = cls().encode(version)
    return bytes(header) + bytes(body)


# -- mutations ----------------------------------------------------------------------------------------


def _uvarint(v: int) -> bytes:
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


MUTATIONS = ("none", "none", "flip", "flip", "truncate", "int32", "int16", "varint", "tags", "bytes", "append")
MUTATIONS += ("random", "size")
BIG = [2**31 - 1, 2**31 - 2, 2**30, 0x7FFF, 0xFFFF, 100_000_000, 104_857_601, -1, -2, -(2**31), 0x80, 0xFF]


def mutate(rng: random.Random, payload: bytes) -> tuple[str, bytes]:
    """(what was done, the whole frame: size + payload), possibly lying about the size."""
    p = bytearray(payload)
    kind = rng.choice(MUTATIONS)
    if kind == "flip" and p:
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(p))
            p[i] ^= 1 << rng.randrange(8)
    elif kind == "truncate" and p:
        del p[rng.randrange(len(p)) :]
    elif kind == "int32" and len(p) >= 4:
        i = rng.randrange(len(p) - 3)
        p[i : i + 4] = struct.pack(">i", rng.choice(BIG) if rng.random() < 0.9 else rng.getrandbits(31))
    elif kind == "int16" and len(p) >= 2:
        i = rng.randrange(len(p) - 1)
        p[i : i + 2] = struct.pack(">h", rng.choice([-1, -2, 0x7FFF, -0x8000, 0x100]))
    elif kind == "varint" and p:
        i = rng.randrange(len(p))
        p[i : i + 1] = _uvarint(rng.choice([0, 1, 2**31, 2**32 - 1, 2**28, 0x7F, 0x80, 0x3FFF]))
    elif kind == "tags" and p:
        i = rng.randrange(len(p) + 1)
        n = rng.randint(0, 4)
        section = _uvarint(n) + b"".join(
            _uvarint(rng.choice([0, 1, 2, 3, 10_000, 2**31 - 1])) + _uvarint(k := rng.randint(0, 20)) + rng.randbytes(k)
            for _ in range(n)
        )
        p[i:i] = section
    elif kind == "bytes" and p:
        i = rng.randrange(len(p))
        k = rng.randint(1, 16)
        p[i : i + k] = rng.randbytes(k)
    elif kind == "append":
        p += rng.randbytes(rng.randint(1, 64))
    elif kind == "random":
        p = bytearray(rng.randbytes(rng.randint(0, 300)))
        if len(p) >= 4 and rng.random() < 0.7:  # a known API key and version: reach the body decoders
            key = rng.choice(sorted(APIS))
            p[0:4] = struct.pack(">hh", key, rng.randint(0, APIS[key].max_version + 1))
    size = len(p)
    if kind == "size":
        size = rng.choice([len(p) + rng.randint(1, 100), len(p) - rng.randint(1, max(1, len(p))), *BIG])
    return kind, struct.pack(">i", size) + bytes(p)


# -- driving --------------------------------------------------------------------------------------------


@dataclass
class Findings:
    sent: int = 0
    responses: int = 0
    closed: int = 0
    timeouts: int = 0
    problems: list[str] = field(default_factory=list)
    unknown_server_errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, bucket: list[str], text: str) -> None:
        with self.lock:
            bucket.append(text)


def has_unknown_server_error(obj: Any, depth: int = 0) -> bool:
    if depth > 8:
        return False
    if isinstance(obj, list):
        return any(has_unknown_server_error(x, depth + 1) for x in obj)
    slots = getattr(type(obj), "__slots__", None)
    if slots is None or not hasattr(obj, "encode_into"):
        return False
    for name in slots:
        v = getattr(obj, name, None)
        if name.endswith("error_code") and v == -1:
            return True
        if (isinstance(v, list) or hasattr(v, "encode_into")) and has_unknown_server_error(v, depth + 1):
            return True
    return False


def intended_unknown_server_error(key: int, version: int, frame: bytes) -> bool:
    """UNKNOWN_SERVER_ERROR that Kafka itself answers, not a handler exception.

    ElectLeaders with an election type other than 0/1: Kafka's ``ElectionType.valueOf`` throws
    IllegalArgumentException, which the controller reports as UNKNOWN_SERVER_ERROR.
    """
    if key != 43:
        return False
    view = memoryview(frame)[4:]
    try:
        _h, pos = RequestHeader.decode_from(view, 0, APIS[key].request_header_version(version))
        request, _end = APIS[key].request_class().decode_from(view, pos, version)
    except Exception:
        return False
    return version >= 1 and request.election_type not in (0, 1)


def read_exact(sock: socket.socket, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def check_response(findings: Findings, frame: bytes, data: bytes, what: str) -> None:
    """The response to ``frame``: its correlation id and a body that decodes (no UNKNOWN_SERVER_ERROR)."""
    key, version, corr = struct.unpack_from(">hhi", frame, 4)
    (got,) = struct.unpack_from(">i", data, 0)
    if got != corr:
        findings.add(findings.problems, f"{what}: correlation id {got} for a request with {corr}")
        return
    spec = APIS.get(key)
    if spec is None:
        findings.add(findings.problems, f"{what}: a response to unknown API key {key}")
        return
    if key == 18 and not spec.min_version <= version <= spec.max_version:
        version = 0
    try:
        view = memoryview(data)
        _h, pos = ResponseHeader.decode_from(view, 0, spec.response_header_version(version))
        body, end = spec.response_class().decode_from(view, pos, version)
    except Exception as exc:
        findings.add(
            findings.problems, f"{what}: undecodable {spec.name} v{version} response ({exc}): {data[:80].hex()}"
        )
        return
    if end != len(data):
        findings.add(findings.problems, f"{what}: {len(data) - end} trailing bytes in the {spec.name} response")
    if has_unknown_server_error(body) and not intended_unknown_server_error(key, version, frame):
        findings.add(findings.unknown_server_errors, f"{what}: UNKNOWN_SERVER_ERROR from {spec.name} v{version}")


def worker(
    index: int, port: int, apis: list[tuple[int, int, int]], topic_ids: list[uuid.UUID], n: int, findings: Findings
) -> None:
    rng = random.Random(f"{SEED}-{index}")
    gen = Gen(rng, topic_ids)
    sock: socket.socket | None = None
    for i in range(n):
        key, lo, hi = rng.choice(apis)
        version = rng.randint(lo, hi + (1 if rng.random() < 0.05 else 0))
        if version > APIS[key].max_version:
            version = APIS[key].max_version
        corr = index * 1_000_000 + i
        payload = request_payload(gen, key, version, corr)
        kind, frame = mutate(rng, payload)
        what = f"seed {SEED} worker {index} frame {i} ({APIS[key].name} v{version}, {kind}): {frame[:200].hex()}"
        if sock is None or rng.random() < 0.3:
            if sock is not None:
                sock.close()
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(READ_TIMEOUT)
        try:
            sock.sendall(frame)
            with findings.lock:
                findings.sent += 1
            size = read_exact(sock, 4)
            if size is None:
                with findings.lock:
                    findings.closed += 1
                sock.close()
                sock = None
                continue
            sock.settimeout(5)
            data = read_exact(sock, struct.unpack(">i", size)[0])
            if data is None:
                findings.add(findings.problems, f"{what}: connection closed inside a response")
            else:
                with findings.lock:
                    findings.responses += 1
                if len(frame) >= 12:
                    check_response(findings, frame, data, what)
        except TimeoutError:  # no answer (acks=0, a size that promises more bytes, a long poll): drop it
            with findings.lock:
                findings.timeouts += 1
            sock.close()
            sock = None
        except (ConnectionResetError, BrokenPipeError):
            with findings.lock:
                findings.closed += 1
            sock.close()
            sock = None
    if sock is not None:
        sock.close()


# -- real clients -----------------------------------------------------------------------------------------


def produce(bootstrap: str, topic: str, records: list[tuple[int, bytes, bytes]]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    failures: list[str] = []
    for partition, key, value in records:
        producer.produce(
            topic, key=key, value=value, partition=partition, on_delivery=lambda e, _m: e and failures.append(e)
        )
    assert producer.flush(30) == 0 and failures == [], failures


def consume(bootstrap: str, topic: str, partitions: int, n: int) -> list[tuple[int, int, bytes, bytes]]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "fuzz", "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    out: list[tuple[int, int, bytes, bytes]] = []
    deadline = time.monotonic() + 60
    try:
        while len(out) < n and time.monotonic() < deadline:
            for m in consumer.consume(num_messages=1000, timeout=0.5):
                if m.error():
                    raise KafkaException(m.error())
                out.append((m.partition(), m.offset(), m.key(), m.value()))
    finally:
        consumer.close()
    return out


def expected(records: list[tuple[int, bytes, bytes]]) -> list[tuple[int, int, bytes, bytes]]:
    offsets: dict[int, int] = {}
    out = []
    for partition, key, value in records:
        offset = offsets.get(partition, 0)
        offsets[partition] = offset + 1
        out.append((partition, offset, key, value))
    return sorted(out)


def advertised(port: int) -> list[tuple[int, int, int]]:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        payload = bytearray()
        RequestHeader(18, 3, 1, "fuzz").encode_into(payload, APIS[18].request_header_version(3))
        ApiVersionsRequest("fuzz", "1.0").encode_into(payload, 3)
        sock.sendall(struct.pack(">i", len(payload)) + payload)
        (size,) = struct.unpack(">i", read_exact(sock, 4) or b"")
        data = memoryview(read_exact(sock, size) or b"")
        _h, pos = ResponseHeader.decode_from(data, 0, 0)
        response, _ = APIS[18].response_class().decode_from(data, pos, 3)
    return [(a.api_key, a.min_version, a.max_version) for a in response.api_keys]


def topic_ids(port: int) -> list[uuid.UUID]:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        payload = bytearray()
        RequestHeader(3, 12, 2, "fuzz").encode_into(payload, APIS[3].request_header_version(12))
        MetadataRequest(topics=None).encode_into(payload, 12)
        sock.sendall(struct.pack(">i", len(payload)) + payload)
        (size,) = struct.unpack(">i", read_exact(sock, 4) or b"")
        data = memoryview(read_exact(sock, size) or b"")
        _h, pos = ResponseHeader.decode_from(data, 0, 1)
        response, _ = APIS[3].response_class().decode_from(data, pos, 12)
    return [t.topic_id for t in response.topics if t.name in POOL_TOPICS]


BAD_LOG_MARKERS = ("Traceback", "Unhandled", "handler failed", "internal error", "cannot send the response", " ERROR ")


def test_fuzzed_frames_leave_the_broker_healthy(tmp_path: Path) -> None:
    with BrokerProcess(tmp_path / "data") as broker:
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        for f in admin.create_topics([NewTopic(KEEP_TOPIC, 2), *(NewTopic(t, 2) for t in POOL_TOPICS)]).values():
            f.result(10)
        before = [(i % 2, b"keep-%d" % i, b"value-%d" % i * (i % 7)) for i in range(300)]
        produce(broker.bootstrap, KEEP_TOPIC, before)

        apis = advertised(broker.port)
        assert {0, 1, 3, 18} <= {k for k, _, _ in apis}
        ids = topic_ids(broker.port)
        findings = Findings()
        started = time.monotonic()
        threads = [
            threading.Thread(target=worker, args=(i, broker.port, apis, ids, FRAMES // WORKERS, findings))
            for i in range(WORKERS)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        elapsed = time.monotonic() - started
        print(
            f"seed {SEED}: {findings.sent} frames in {elapsed:.1f} s, {findings.responses} responses, "
            f"{findings.closed} closed, {findings.timeouts} timeouts; APIs {apis}"
        )
        assert not any(t.is_alive() for t in threads), f"seed {SEED}: a fuzz worker hung"
        assert findings.sent >= FRAMES // WORKERS * WORKERS * 0.9, f"seed {SEED}: only {findings.sent} frames sent"

        assert broker.proc is not None and broker.proc.poll() is None, (
            f"seed {SEED}: the broker died\n{broker.log()[-5000:]}"
        )
        bad_lines = [line for line in broker.log().splitlines() if any(m in line for m in BAD_LOG_MARKERS)]
        assert not bad_lines, f"seed {SEED}: unexpected log lines:\n" + "\n".join(bad_lines[:40])
        assert not findings.unknown_server_errors, f"seed {SEED}:\n" + "\n".join(findings.unknown_server_errors[:20])
        assert not findings.problems, f"seed {SEED}:\n" + "\n".join(findings.problems[:20])

        # Data produced before the fuzzing is intact (the fuzzer never names this topic).
        got = consume(broker.bootstrap, KEEP_TOPIC, 2, len(before))
        assert sorted(got) == expected(before), f"seed {SEED}: data produced before the fuzzing changed"
        # A real client still works end to end.
        fresh = [(i % 3, b"after-%d" % i, os.urandom(i % 100)) for i in range(1000)]
        admin.create_topics([NewTopic("after-fuzz", 3)])["after-fuzz"].result(10)
        produce(broker.bootstrap, "after-fuzz", fresh)
        assert sorted(consume(broker.bootstrap, "after-fuzz", 3, 1000)) == expected(fresh), f"seed {SEED}"
        assert broker.proc.poll() is None
