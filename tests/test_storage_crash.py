"""Crash safety of the RocksDB engine, and its directory lock.

A child process (this module run as a script) appends batches to three partitions in a loop,
advances one partition's log start now and then, calls ``sync()`` after each group and then
prints what is now durable. The test SIGKILLs it at a random moment, reopens the store and
checks that everything reported as synced is there, byte for byte, in contiguous logs; then it
lets a new child continue on the recovered store and kills that one too.
"""

from __future__ import annotations

import itertools
import os
import random
import select
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from chronik.storage.api import BatchEntry, TopicMeta
from chronik.storage.errors import StorageLockedError
from chronik.storage.rocks import RocksStorage
from tests.storage_contract import batch_bytes

ROOT = Path(__file__).resolve().parent.parent
TOPIC_ID = uuid.UUID(int=0xC0FFEE)
PARTITIONS = 3
TRIMMED = 2  # the partition whose log start the child advances


def spec(partition: int, base: int) -> BatchEntry:
    """The batch the child appends at ``base`` of ``partition`` (deterministic, so the parent can check it)."""
    rng = random.Random(f"spec/{partition}/{base}")
    size = rng.choice((rng.randrange(1, 200), rng.randrange(200, 20_000), rng.randrange(20_000, 70_000)))
    count = rng.randrange(1, 50)
    return BatchEntry(base, base + count - 1, 1_700_000_000_000 + base, size)


def child(path: str) -> None:
    """Append, sync, report ``group start0 end0 start1 end1 ...`` (all durable), forever."""
    store = RocksStorage(path)
    if not store.topics():
        store.create_topic(TopicMeta("crash", TOPIC_ID, PARTITIONS))
        store.sync()
    logs = [store.partition(TOPIC_ID, p) for p in range(PARTITIONS)]
    raw = logs[0].get_state("group")
    group = int(raw) + 1 if raw else 0
    rng = random.Random(os.getpid())
    while True:
        for p, log in enumerate(logs):
            batches = []
            base = log.log_end_offset
            for _ in range(rng.randrange(1, 5)):
                entry = spec(p, base)
                batches.append((batch_bytes(base, entry.size, seed=p), entry))
                base = entry.last_offset + 1
            log.append(batches)
        if group % 5 == 4:
            trimmed = logs[TRIMMED]
            trimmed.delete_before(rng.randrange(trimmed.log_start_offset, trimmed.log_end_offset + 1))
        logs[0].put_state("group", str(group).encode())
        store.sync()
        offsets = " ".join(f"{log.log_start_offset} {log.log_end_offset}" for log in logs)
        sys.stdout.write(f"{group} {offsets}\n")  # one write: the line is complete or absent
        sys.stdout.flush()
        group += 1


def start_child(path: Path) -> subprocess.Popen[str]:
    pythonpath = os.pathsep.join([str(ROOT), str(ROOT / "server"), os.environ.get("PYTHONPATH", "")])
    env = dict(os.environ, PYTHONPATH=pythonpath)
    return subprocess.Popen(
        [sys.executable, "-m", "tests.test_storage_crash", str(path)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_reports(proc: subprocess.Popen[str], wanted: int, timeout: float = 60.0) -> list[list[int]]:
    """Read at least ``wanted`` report lines (parsed) from the child."""
    assert proc.stdout is not None
    reports: list[list[int]] = []
    deadline = time.monotonic() + timeout
    while len(reports) < wanted:
        ready, _, _ = select.select([proc.stdout], [], [], max(deadline - time.monotonic(), 0))
        line = proc.stdout.readline() if ready else ""
        if not line.endswith("\n"):
            proc.kill()
            _, err = proc.communicate()
            pytest.fail(f"child stopped reporting after {len(reports)} reports (rc={proc.returncode}):\n{err}")
        reports.append([int(x) for x in line.split()])
    return reports


def kill_and_drain(proc: subprocess.Popen[str]) -> list[list[int]]:
    """SIGKILL the child; return the reports it printed before dying (they were synced before printing)."""
    os.kill(proc.pid, signal.SIGKILL)
    out, _ = proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    complete = out.split("\n")[:-1]  # a line cut short by the kill has no newline
    return [[int(x) for x in line.split()] for line in complete]


def verify(path: Path, last: list[int]) -> None:
    """Everything in the last synced report is present, intact and contiguous."""
    group, offsets = last[0], last[1:]
    with RocksStorage(path) as store:
        assert [m.topic_id for m in store.topics()] == [TOPIC_ID]
        for p in range(PARTITIONS):
            log = store.partition(TOPIC_ID, p)
            synced_start, synced_end = offsets[2 * p], offsets[2 * p + 1]
            assert log.log_end_offset >= synced_end, (p, log.log_end_offset, synced_end)
            assert log.log_start_offset >= synced_start
            entries = list(log.entries())
            if not entries:  # only when the whole log was deleted
                assert log.log_start_offset == log.log_end_offset, p
            else:
                assert entries[0].base_offset <= log.log_start_offset <= entries[0].last_offset, p
                assert entries[-1].last_offset + 1 == log.log_end_offset, p
            for prev, cur in itertools.pairwise(entries):
                assert cur.base_offset == prev.last_offset + 1, (p, prev, cur)
            for entry in entries:
                assert entry == spec(p, entry.base_offset), (p, entry)
            stored = log.read(0, 1 << 62)
            assert [bytes(b) for b in stored] == [batch_bytes(e.base_offset, e.size, seed=p) for e in entries]
            assert log.size_bytes() == sum(e.size for e in entries)
        assert int(store.partition(TOPIC_ID, 0).get_state("group") or b"-1") >= group


@pytest.mark.parametrize("round_seed", [1, 2])
def test_sigkill_loses_nothing_synced(tmp_path: Path, round_seed: int) -> None:
    path = tmp_path / "store"
    rng = random.Random(round_seed)
    for _ in range(3):  # kill, verify, let a new child continue on the recovered store
        proc = start_child(path)
        seen = read_reports(proc, rng.randrange(15, 40))
        time.sleep(rng.uniform(0, 0.05))  # land the kill anywhere in an append/sync cycle
        seen += kill_and_drain(proc)
        verify(path, seen[-1])


def test_second_opener_gets_storage_locked_error(tmp_path: Path) -> None:
    path = tmp_path / "store"
    proc = start_child(path)
    try:
        read_reports(proc, 1)
        with pytest.raises(StorageLockedError) as info:  # another process holds it
            RocksStorage(path)
        assert str(path) in str(info.value)
        assert info.value.path == path
    finally:
        kill_and_drain(proc)
    store = RocksStorage(path)  # free again once the holder died
    try:
        with pytest.raises(StorageLockedError):  # a second handle in the same process
            RocksStorage(path)
    finally:
        store.close()
    RocksStorage(path).close()  # close() released the lock


if __name__ == "__main__":
    child(sys.argv[1])
