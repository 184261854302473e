"""Micro-benchmarks of chronik.protocol.records' hot paths.

    .venv/bin/python bench/records_bench.py

Prints: validate() of a 1 MiB batch (CRC-32C over the whole batch), split_batches() of a 1 MiB buffer
holding 1,000 batches, set_log_append_time() on a 16 KiB batch (attributes, maxTimestamp, new CRC),
plus in-place base offset patching and, for scale, record decoding, which is not a hot path.
Best of several rounds (the machine is noisy). Where kafka-python 3 has the same operation
(``kafka.record``: CRC check, walking a buffer of batches, decoding records) it is measured in
the same run and the ratio ours / kafka-python is printed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from chronik.protocol.records import Codec, RecordBatch, SimpleRecord, build_batch, split_batches

try:  # the peer library (pip install '.[bench]')
    from kafka.record.default_records import DefaultRecordBatch
    from kafka.record.memory_records import MemoryRecords
except ImportError:  # pragma: no cover - reference missing: print ours only
    DefaultRecordBatch = MemoryRecords = None

MiB = 1 << 20


def best_of(fn: Callable[[], object], number: int, rounds: int = 7) -> float:
    """Best seconds per call over ``rounds`` rounds of ``number`` calls."""
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def batch_of_size(total: int, record_size: int, base_offset: int = 0) -> bytearray:
    """An uncompressed v2 batch of exactly ``total`` bytes (records of about ``record_size`` bytes)."""
    n = max(1, (total - 61) // (record_size + 12))
    recs = [SimpleRecord(b"key-%06d" % i, os.urandom(record_size - 10), (), 1_700_000_000_000 + i) for i in range(n)]
    buf = build_batch(recs, base_offset=base_offset)
    pad = total - len(buf)
    if pad:
        # Grow the last value so the batch is exactly ``total`` bytes.
        last = recs[-1]
        recs[-1] = last._replace(value=(last.value or b"") + os.urandom(pad))
        buf = build_batch(recs, base_offset=base_offset)
        while len(buf) > total:
            last = recs[-1]
            recs[-1] = last._replace(value=(last.value or b"")[: -(len(buf) - total)])
            buf = build_batch(recs, base_offset=base_offset)
    return buf


def versus(label: str, ours: float, peer: Callable[[], object] | None, number: int) -> None:
    """Print the reference's time for the same work and the speed ratio."""
    if peer is None:
        return
    t = best_of(peer, number)
    print(f"  kafka-python, same work:{t * 1e6:26.1f} us/call   speed ratio ours/kafka-python {t / ours:5.1f}x")


def kp_split(buf: bytes) -> int:
    records = MemoryRecords(buf)
    n = 0
    while records.has_next():
        records.next_batch()
        n += 1
    return n


def main() -> None:
    big = batch_of_size(MiB, 1024)
    b = RecordBatch(big)
    b.validate()
    t = best_of(b.validate, 200)
    print(f"validate() 1 MiB batch ({b.record_count} records):  {t * 1e6:8.1f} us/call  {len(big) / t / 1e9:6.1f} GB/s")
    big_bytes = bytes(big)
    versus("validate", t, DefaultRecordBatch and (lambda: DefaultRecordBatch(big_bytes).validate_crc()), 50)

    per = MiB // 1000
    parts = [batch_of_size(per, 100, base_offset=i * 100) for i in range(1000)]
    buf = bytes(b"".join(parts))
    res = split_batches(buf)
    assert len(res.batches) == 1000 and res.complete
    t = best_of(lambda: split_batches(buf), 20)
    print(f"split_batches() {len(buf)} B, 1,000 batches:      {t * 1e6:8.1f} us/call  {t * 1e9 / 1000:6.0f} ns/batch")
    if MemoryRecords is not None:
        assert kp_split(buf) == 1000
    versus("split", t, MemoryRecords and (lambda: kp_split(buf)), 20)
    t = best_of(lambda: split_batches(buf, validate=True), 20)
    print(f"split_batches(validate=True), same buffer:      {t * 1e6:8.1f} us/call  {t * 1e9 / 1000:6.0f} ns/batch")

    small = batch_of_size(16 * 1024, 200)
    sb = RecordBatch(small)
    ts = [1_800_000_000_000]

    def lat() -> None:
        ts[0] += 1  # a new value each call, so it is never the no-op case
        sb.set_log_append_time(ts[0])

    t = best_of(lat, 5000)
    sb.validate()
    print(f"set_log_append_time() 16 KiB batch:             {t * 1e6:8.2f} us/call")
    t = best_of(lambda: sb.set_base_offset(123_456), 20000)
    print(f"set_base_offset() (no CRC):                     {t * 1e6:8.2f} us/call")
    t = best_of(sb.header, 20000)
    print(f"header() (all 13 fields):                       {t * 1e6:8.2f} us/call")

    n = sb.record_count
    t = best_of(sb.records, 50)
    print(f"records() 16 KiB batch, {n} records:            {t * 1e6:8.1f} us/call  {t * 1e6 / n:6.2f} us/record")
    small_bytes = bytes(small)
    versus("records", t, DefaultRecordBatch and (lambda: list(DefaultRecordBatch(small_bytes))), 50)
    for codec in (Codec.LZ4, Codec.ZSTD, Codec.SNAPPY, Codec.GZIP):
        cb = RecordBatch(build_batch([SimpleRecord(None, b"chronik %d " % i * 50) for i in range(2000)], codec=codec))
        t = best_of(cb.uncompressed_records, 20)
        print(f"decompress 1 MiB-ish records, {codec.name:6}:          {t * 1e6:8.1f} us/call")


if __name__ == "__main__":
    main()
