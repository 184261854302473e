"""Record batches written by real producers — librdkafka (confluent-kafka) and the Java
client — with every compression codec, captured off the wire through the generated Produce
codec, decode correctly with chronik.protocol.records; one flipped bit fails the CRC."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from confluent_kafka import Producer

from chronik.protocol.compression import Codec
from chronik.protocol.records import CrcMismatchError, RecordBatch, split_batches
from chronik_protocol.api_table import RELEASES
from tests.javacheck.runner import java_available, lib_dir

from .capture_broker import CaptureBroker

CODECS = {"none": Codec.NONE, "gzip": Codec.GZIP, "snappy": Codec.SNAPPY, "lz4": Codec.LZ4, "zstd": Codec.ZSTD}
COUNT = 60
BASE_TS = 1_700_000_000_000
ROOT = Path(__file__).resolve().parent.parent


def expected(i: int) -> tuple[bytes | None, bytes, list[tuple[str, bytes]], int]:
    """What both producers send as record ``i`` (see tests/javacheck/ProduceTo.java)."""
    key = None if i % 5 == 0 else f"k{i}".encode()
    return key, (f"value-{i}" * (1 + i % 7)).encode(), [("h", str(i).encode())], BASE_TS + i


def _check_batches(payloads: list[bytes], codec: Codec) -> None:
    seen = []
    for payload in payloads:
        split = split_batches(payload)
        assert split.truncated_bytes == 0
        for batch in split.batches:
            assert isinstance(batch, RecordBatch) and batch.magic == 2
            batch.validate()
            assert batch.compression == codec
            for record in batch.records():
                seen.append((record.key, record.value, list(record.headers), record.timestamp))
    assert seen == [expected(i) for i in range(COUNT)]
    # One flipped bit inside the CRC-covered range fails validation.
    damaged = bytearray(payloads[0])
    damaged[len(damaged) // 2] ^= 0x10
    with pytest.raises(CrcMismatchError):
        split_batches(bytes(damaged), validate=True)


@pytest.mark.parametrize("codec", CODECS)
def test_librdkafka_batches_decode(codec: str) -> None:
    with CaptureBroker() as broker:
        producer = Producer({"bootstrap.servers": broker.bootstrap, "compression.type": codec, "linger.ms": 20})
        for i in range(COUNT):
            key, value, headers, ts = expected(i)
            producer.produce("rd", key=key, value=value, headers=headers, timestamp=ts, partition=0)
        assert producer.flush(30) == 0
        assert not broker.errors
        _check_batches(broker.captured[("rd", 0)], CODECS[codec])


@pytest.mark.skipif(not java_available(), reason="java/javac not on PATH: install a JDK 17 (scripts/test does)")
def test_java_producer_batches_decode() -> None:
    release = RELEASES[0]
    if not lib_dir(release).is_dir():
        subprocess.run([str(ROOT / "scripts" / "java-deps")], check=True)
    with CaptureBroker() as broker:
        proc = subprocess.run(
            [
                "java",
                "-cp",
                f"{lib_dir(release)}/*",
                str(ROOT / "tests/javacheck/ProduceTo.java"),
                broker.bootstrap,
                str(COUNT),
                *CODECS,
            ],
            capture_output=True,
            text=True,
            timeout=240,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert not broker.errors
        for name, codec in CODECS.items():
            _check_batches(broker.captured[(f"java-{name}", 0)], codec)
