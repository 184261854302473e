"""Benchmarks of the storage engines (chronik.storage.rocks, chronik.storage.memory).

    .venv/bin/python bench/storage_bench.py            # full run, about a minute
    .venv/bin/python bench/storage_bench.py --quick    # smoke run, a few seconds
    .venv/bin/python bench/storage_bench.py --dir /data   # put the stores on another disk

Prints:
  append   throughput of one batch per append() call, 1 KiB and 16 KiB batches, without sync
           and with a sync() after every 1 MiB; reference: the same bytes appended to a plain
           file with os.write (and os.fsync per 1 MiB). ratio = rocks / file.
  read     throughput of read(offset, 1 MiB) at random offsets (64 x 16 KiB or 1024 x 1 KiB
           batches per fetch); reference: os.pread of 1 MiB from the plain file (page cache),
           and the memory engine.
  recovery time to open a store holding 100k batches (1 KiB, and 16 KiB in the full run): after
           close(), and after SIGKILL of the writer (WAL replay); reference: one scan over the
           batch keys themselves, unpacking each batch's header, which is what recovery would
           cost without the separate index keys.
  stall    the GIL question: the main thread appends 16 KiB batches at a steady rate (a reactor
           stand-in, busy-waiting between appends) while another thread runs sync() in a loop;
           we print the longest gap between two main-loop iterations, how many gaps exceed 1 ms
           and 5 ms (Python's switch interval), and their total. References: no second thread;
           a second thread doing os.fsync of the store's current WAL file (the same I/O as
           flush_wal(True), GIL released); a second thread doing a one-byte rocksdict put with
           WriteOptions.sync = True (the same WAL sync, but rocksdict holds the GIL throughout:
           what the engine never does). One line per round (3 in the full run).
  stall_pure the GIL alone: the main thread runs pure Python while another thread loops over
           "append 1 MiB, then sync()"; references: os.write + os.fsync of 1 MiB (GIL released),
           and a rocksdict write of 1 MiB with sync=True (GIL held). Main-thread progress is
           its loop count relative to a run without the second thread (2 cores: ~100 % means
           the second thread took nothing from it).
Medians or best of a few rounds; the machine is noisy (±30 %).
"""

from __future__ import annotations

import argparse
import functools
import os
import random
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import rocksdict

from chronik.storage.api import BatchEntry, PartitionLog, Storage, TopicMeta
from chronik.storage.memory import MemoryStorage
from chronik.storage.rocks import RocksStorage

KiB, MiB = 1 << 10, 1 << 20
TOPIC = uuid.UUID(int=7)
GAP_FLOOR = 0.0002  # seconds; shorter main-loop gaps are only counted


@functools.cache
def _pool(size: int) -> bytes:
    return os.urandom(size * 64)


def make_batches(size: int, total_bytes: int, base: int = 0) -> list[tuple[bytes, BatchEntry]]:
    """Batches of ``size`` bytes (10 records each) adding up to ``total_bytes``, random content."""
    pool = _pool(size)
    out = []
    for i in range(total_bytes // size):
        off = (i % 64) * size
        data = pool[off : off + size]
        out.append((data, BatchEntry(base + 10 * i, base + 10 * i + 9, -1, size)))
    return out


def open_log(store: Storage) -> PartitionLog:
    if not store.topics():
        store.create_topic(TopicMeta("bench", TOPIC, 1))
    return store.partition(TOPIC, 0)


class Bench:
    def __init__(self, root: Path, quick: bool) -> None:
        self.root = root
        self.quick = quick
        self._n = 0

    def fresh(self, name: str) -> Path:
        self._n += 1
        path = self.root / f"{self._n}-{name}"
        shutil.rmtree(path, ignore_errors=True)
        return path

    # ---- append ------------------------------------------------------------------------------------

    def append_rocks(self, batches: list[tuple[bytes, BatchEntry]], sync_every: int | None) -> float:
        """Seconds to append ``batches`` one per call (sync() after every ``sync_every`` bytes)."""
        path = self.fresh("append")
        store = RocksStorage(path)
        log = open_log(store)
        pending = 0
        t0 = time.perf_counter()
        for item in batches:
            log.append((item,))
            if sync_every:
                pending += item[1].size
                if pending >= sync_every:
                    store.sync()
                    pending = 0
        if sync_every:
            store.sync()
        elapsed = time.perf_counter() - t0
        store.close()
        shutil.rmtree(path)
        return elapsed

    def append_file(self, batches: list[tuple[bytes, BatchEntry]], sync_every: int | None) -> float:
        """The reference: the same bytes appended to one file, os.fsync after every ``sync_every``."""
        path = self.fresh("append.log")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        pending = 0
        t0 = time.perf_counter()
        for data, entry in batches:
            os.write(fd, data)
            if sync_every:
                pending += entry.size
                if pending >= sync_every:
                    os.fsync(fd)
                    pending = 0
        if sync_every:
            os.fsync(fd)
        elapsed = time.perf_counter() - t0
        os.close(fd)
        os.unlink(path)
        return elapsed

    def append_memory(self, batches: list[tuple[bytes, BatchEntry]]) -> float:
        log = open_log(MemoryStorage())
        t0 = time.perf_counter()
        for item in batches:
            log.append((item,))
        return time.perf_counter() - t0

    def run_append(self) -> None:
        print("append: one batch per append() call; MB/s (batches/s); ratio = rocks / file")
        print(f"  {'batch':>6} {'sync':>9} {'rocks':>22} {'file':>22} {'ratio':>6} {'memory engine':>22}")
        for size, total in ((1 * KiB, 32 * MiB), (16 * KiB, 256 * MiB)):
            if self.quick:
                total //= 8
            batches = make_batches(size, total)
            for sync_every in (None, MiB):
                rounds = 1 if self.quick else 3
                rocks = statistics.median(self.append_rocks(batches, sync_every) for _ in range(rounds))
                ref = statistics.median(self.append_file(batches, sync_every) for _ in range(rounds))
                mem = self.append_memory(batches) if sync_every is None else None
                n = len(batches)
                label = "per 1 MiB" if sync_every else "none"
                mem_txt = f"{total / mem / 1e6:7.0f} ({n / mem:9,.0f})" if mem else ""
                print(
                    f"  {size // KiB:>4}Ki {label:>9} {total / rocks / 1e6:7.0f} ({n / rocks:9,.0f}/s)"
                    f" {total / ref / 1e6:7.0f} ({n / ref:9,.0f}/s) {ref / rocks:6.2f} {mem_txt:>22}"
                )

    # ---- read --------------------------------------------------------------------------------------

    def run_read(self) -> None:
        print("read: read(offset, 1 MiB) at random offsets; MB/s (µs per fetch); ratio = rocks / file pread")
        print(f"  {'batch':>6} {'rocks':>20} {'file pread':>20} {'ratio':>6} {'memory engine':>20}")
        for size in (1 * KiB, 16 * KiB):
            rocks, ref, mem = self.read_once(size)
            print(
                f"  {size // KiB:>4}Ki {MiB / rocks / 1e6:8.0f} ({rocks * 1e6:7.0f} µs)"
                f" {MiB / ref / 1e6:8.0f} ({ref * 1e6:7.0f} µs) {ref / rocks:6.2f}"
                f" {MiB / mem / 1e6:8.0f} ({mem * 1e6:7.1f} µs)"
            )

    def read_once(self, size: int) -> tuple[float, float, float]:
        """Seconds per 1 MiB fetch: rocks, file pread, memory engine."""
        total = (64 if self.quick else 256) * MiB
        batches = make_batches(size, total)
        path = self.fresh("read")
        store = RocksStorage(path)
        log = open_log(store)
        for i in range(0, len(batches), 64):
            log.append(batches[i : i + 64])
        mem_log = open_log(MemoryStorage())
        mem_log.append(batches)
        file_path = self.fresh("read.log")
        file_path.write_bytes(b"".join(d for d, _ in batches))
        fd = os.open(file_path, os.O_RDONLY)
        last = batches[-1][1].last_offset
        rng = random.Random(1)
        fetches = 50 if self.quick else 300
        offsets = [rng.randrange(0, max(last - 2 * MiB // size * 10, 1)) for _ in range(fetches)]

        def timed(fn: Callable[[int], object]) -> float:
            best = float("inf")
            for _ in range(3):
                t0 = time.perf_counter()
                for off in offsets:
                    fn(off)
                best = min(best, (time.perf_counter() - t0) / len(offsets))
            return best

        got = log.read(offsets[0], MiB)
        assert sum(len(b) for b in got) == MiB, sum(len(b) for b in got)
        rocks = timed(lambda off: log.read(off, MiB))
        ref = timed(lambda off: os.pread(fd, MiB, off // 10 * size))
        mem = timed(lambda off: mem_log.read(off, MiB))
        os.close(fd)
        store.close()
        shutil.rmtree(path)
        file_path.unlink()
        return rocks, ref, mem

    # ---- recovery ----------------------------------------------------------------------------------

    def run_recovery(self) -> None:
        count = 20_000 if self.quick else 100_000
        print(f"recovery: open a store holding {count:,} batches (seconds); reference: one scan over the batch keys")
        print("          unpacking each batch's first 28 bytes (a recovery without the separate index keys)")
        crash_head = "after SIGKILL (WAL replay)"
        print(f"  {'batch':>6} {'open':>8} {'µs/batch':>9} {'reference':>10} {'ratio':>6}  {crash_head:>26}")
        for size in (1 * KiB,) if self.quick else (1 * KiB, 16 * KiB):
            clean, scan, crashed = self.recovery_once(size, count, crash=size == KiB)
            crash_txt = f"{crashed:8.3f}" if crashed is not None else ""
            print(
                f"  {size // KiB:>4}Ki {clean:8.3f} {clean / count * 1e6:9.2f} {scan:10.3f} {scan / clean:6.2f}"
                f"  {crash_txt:>26}"
            )

    def recovery_once(self, size: int, count: int, crash: bool) -> tuple[float, float, float | None]:
        """Seconds: open after close(), the reference scan, open after SIGKILL (if ``crash``)."""
        path = self.fresh("recovery")
        store = RocksStorage(path)
        log = open_log(store)
        for i in range(0, count, 100):
            log.append(make_batches(size, 100 * size, base=10 * i))
        store.close()
        times = []
        for _ in range(1 if self.quick else 3):
            t0 = time.perf_counter()
            store = RocksStorage(path)
            times.append(time.perf_counter() - t0)
            assert len(store.partition(TOPIC, 0).entries()) == count
            store.close()

        opts = rocksdict.Options(raw_mode=True)
        db = rocksdict.Rdict(str(path), opts)
        ro = rocksdict.ReadOptions()
        ro.set_iterate_upper_bound(b"M")
        header = struct.Struct(">QQqI").unpack_from
        t0 = time.perf_counter()
        items = db.values(from_key=b"L", read_opt=ro)
        entries = [BatchEntry(*header(v)) for v in items]
        scan = time.perf_counter() - t0
        del items
        db.close()
        del db
        assert len(entries) == count
        shutil.rmtree(path)
        if not crash:
            return min(times), scan, None

        # the writer is SIGKILLed after its last sync(); reopening replays the WAL
        path = self.fresh("recovery-crash")
        script = (
            "import os, signal, sys\n"
            "sys.path[:0] = [sys.argv[2]]\n"
            "from storage_bench import make_batches, open_log\n"
            "from chronik.storage.rocks import RocksStorage\n"
            "store = RocksStorage(sys.argv[1]); log = open_log(store)\n"
            f"for i in range(0, {count}, 100): log.append(make_batches({size}, 100 * {size}, base=10 * i))\n"
            "store.sync(); os.kill(os.getpid(), signal.SIGKILL)\n"
        )
        proc = subprocess.run([sys.executable, "-c", script, str(path), str(Path(__file__).parent)], check=False)
        assert proc.returncode == -signal.SIGKILL, proc.returncode
        t0 = time.perf_counter()
        store = RocksStorage(path)
        crashed = time.perf_counter() - t0
        assert len(store.partition(TOPIC, 0).entries()) == count
        store.close()
        shutil.rmtree(path)
        return min(times), scan, crashed

    # ---- stall -------------------------------------------------------------------------------------

    def run_stall(self) -> None:
        seconds = 1.5 if self.quick else 4.0
        rate = 40 * MiB  # a sustainable ingest rate for this disk, so RocksDB's own write stalls stay out
        print(f"stall: main thread appends 16 KiB batches at {rate // MiB} MiB/s (busy-waiting), another thread")
        print("       as named; main-loop gaps: longest, number over 1 ms and 5 ms, their sum; other thread's ops")
        header = f"{'max ms':>7} {'>1ms':>5} {'>5ms':>5} {'stalled ms':>10} {'ops':>6} {'ms/op':>7}"
        print(f"  {'other thread':<42} {header}")
        for label in (
            "none",
            "sync() loop (flush_wal(True))",
            "reference: os.fsync loop on the WAL file",
            "reference: put with WriteOptions.sync=True",
        ):
            rounds = []
            for _ in range(1 if self.quick else 3):
                os.sync()  # write back earlier sections' dirty pages first: they stall any write()
                time.sleep(0.5)
                rounds.append(self.stall_once(label, rate, seconds))
            for long_gaps, ops, op_time in rounds:
                over1 = [g for g in long_gaps if g > 0.001]
                over5 = sum(1 for g in long_gaps if g > 0.005)
                per_op = f"{op_time / ops * 1e3:7.2f}" if ops else "      -"
                print(
                    f"  {label:<42} {max(long_gaps) * 1e3:7.2f} {len(over1):5d} {over5:5d} {sum(over1) * 1e3:10.1f}"
                    f" {ops:6d} {per_op}"
                )
                label = ""

    def stall_once(self, label: str, rate: int, seconds: float) -> tuple[list[float], int, float]:
        path = self.fresh("stall")
        store = RocksStorage(path)
        log = open_log(store)
        stop = threading.Event()
        ops = 0
        op_time = 0.0

        def other() -> None:
            nonlocal ops, op_time
            if label.startswith("sync()"):
                op: Callable[[], object] = store.sync
            elif "os.fsync" in label:

                def op() -> None:  # the same I/O as flush_wal(True), through Python (GIL released)
                    wal = max(path.glob("*.log"), key=lambda f: int(f.stem), default=None)
                    if wal is None:
                        return
                    fd = os.open(wal, os.O_RDONLY)
                    try:
                        os.fsync(fd)
                    finally:
                        os.close(fd)
            else:
                db = store._live_db()  # the engine's own handle, for the counter-example only
                wo = rocksdict.WriteOptions()
                wo.sync = True

                def op() -> None:  # syncs the WAL as flush_wal(True) does, but holds the GIL throughout
                    db.put(b"Xbench", b"x", wo)

            while not stop.is_set():
                t0 = time.perf_counter()
                op()
                op_time += time.perf_counter() - t0
                ops += 1

        thread = threading.Thread(target=other) if label != "none" else None
        size = 16 * KiB
        batches = make_batches(size, int(rate * seconds) + size)
        interval = size / rate
        long_gaps: list[float] = [0.0]  # only gaps over GAP_FLOOR: appending millions of floats would itself stall
        if thread:
            thread.start()
        t_start = last = time.perf_counter()
        due = t_start
        i = 0
        end = t_start + seconds
        while last < end:
            now = time.perf_counter()
            if now - last > GAP_FLOOR:
                long_gaps.append(now - last)
            last = now
            if now >= due and i < len(batches):
                log.append((batches[i],))
                i += 1
                due += interval
        stop.set()
        if thread:
            thread.join()
        store.close()
        shutil.rmtree(path)
        return long_gaps, ops, op_time

    def run_stall_pure(self) -> None:
        """The GIL alone: the main thread runs pure Python (no I/O of its own) while another thread
        writes 1 MiB and makes it durable, in a loop. Main-thread progress is counted in loop
        iterations, relative to a run with no second thread."""
        seconds = 1.0 if self.quick else 3.0
        print("stall, GIL only: main thread pure Python; other thread loops over 1 MiB + fsync as named")
        header = f"{'max ms':>7} {'>5ms':>5} {'main progress':>13} {'ops':>6} {'ms/op':>7}"
        print(f"  {'other thread':<48} {header}")
        baseline = 0
        for label in (
            "none",
            "RocksStorage: 1 MiB append, then sync()",
            "reference: os.write 1 MiB + os.fsync",
            "reference: rocksdict 1 MiB write with sync=True",
        ):
            os.sync()
            time.sleep(0.3)
            iterations, long_gaps, ops, op_time = self.pure_once(label, seconds)
            baseline = baseline or iterations
            per_op = f"{op_time / ops * 1e3:7.2f}" if ops else "      -"
            over5 = sum(1 for g in long_gaps if g > 0.005)
            progress = iterations / baseline
            print(f"  {label:<48} {max(long_gaps) * 1e3:7.2f} {over5:5d} {progress:12.0%} {ops:6d} {per_op}")

    def pure_once(self, label: str, seconds: float) -> tuple[int, list[float], int, float]:
        path = self.fresh("stall-pure")
        store = RocksStorage(path)
        log = open_log(store)
        stop = threading.Event()
        ops = 0
        op_time = 0.0
        chunk = make_batches(MiB, MiB)[0][0]

        def other() -> None:
            nonlocal ops, op_time
            if label.startswith("RocksStorage"):

                def op() -> None:
                    log.append([(chunk, BatchEntry(log.log_end_offset, log.log_end_offset, -1, MiB))])
                    store.sync()
            elif "os.write" in label:
                fd = os.open(path / "reference.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

                def op() -> None:
                    os.write(fd, chunk)
                    os.fsync(fd)
            else:
                db = store._live_db()  # the engine's own handle, for the counter-example only
                wo = rocksdict.WriteOptions()
                wo.sync = True

                def op() -> None:
                    db.put(b"Xbench%d" % ops, chunk, wo)

            while not stop.is_set():
                t0 = time.perf_counter()
                op()
                op_time += time.perf_counter() - t0
                ops += 1

        thread = threading.Thread(target=other) if label != "none" else None
        long_gaps: list[float] = [0.0]
        iterations = 0
        if thread:
            thread.start()
        last = time.perf_counter()
        end = last + seconds
        while last < end:
            now = time.perf_counter()
            if now - last > GAP_FLOOR:
                long_gaps.append(now - last)
            iterations += 1
            last = now
        stop.set()
        if thread:
            thread.join()
        store.close()
        shutil.rmtree(path)
        return iterations, long_gaps, ops, op_time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, one round: a smoke run")
    parser.add_argument("--dir", type=Path, default=None, help="where to create the stores (default: a temp dir)")
    parser.add_argument(
        "--only",
        choices=("append", "read", "recovery", "stall", "stall_pure"),
        action="append",
        help="run only these sections (repeatable)",
    )
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="chronik-storage-bench-", dir=args.dir))
    bench = Bench(root, args.quick)
    print(
        f"stores under {root}; python {sys.version.split()[0]}, rocksdict {version('rocksdict')}, {os.cpu_count()} cpus"
    )
    try:
        for section in args.only or ("append", "read", "recovery", "stall", "stall_pure"):
            getattr(bench, f"run_{section}")()
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
