"""RocksDB storage engine (rocksdict 0.3.29, raw mode: bytes keys and values, default column family).

Keyspace (``tp`` = topic id, 16 bytes + partition, u32 big-endian; offsets u64 big-endian, so
byte order is numeric order and one partition's keys are contiguous):

=========================  ====================================================================
``b"L" tp base_offset``    the stored batch, exactly the bytes appended
``b"I" tp base_offset``    its BatchEntry: base_offset, last_offset u64, max_timestamp i64, size u32
``b"P" tp b"o"``           log start offset, u64 (absent: 0)
``b"P" tp b"s" key``       state blob ``key`` (UTF-8) of the partition
``b"T" topic_id``          topic metadata, JSON ``{"name", "partitions", "configs"}``
``b"M" key``               cluster metadata ``key`` (UTF-8)
=========================  ====================================================================

The index keys are small and sort apart from the batches, so opening the store rebuilds every
partition's in-memory index with one scan of the ``I`` range without reading any batch. A fetch
is one bisect in memory and then one point get, or one iterator bounded to exactly the ``L``
keys it returns (values come back as the ``bytes`` rocksdict creates; nothing else is copied).
``append`` writes all its batches and index keys in one WriteBatch (atomic); ``replace``
deletes the replaced batches' ``L``/``I`` keys and puts the new ones in one WriteBatch;
``delete_before``
writes the new log start offset and range-deletes the covered ``L``/``I`` keys in one
WriteBatch; ``delete_topic`` range-deletes the topic's ``L``, ``I`` and ``P`` ranges and its
``T`` key in one WriteBatch.

Durability: every write goes to the WAL and none is written with ``sync=True``: rocksdict
holds the GIL for the whole of ``write``/``put`` (an fsync there would stall the reactor).
Writes survive a process crash as soon as the call returns; they survive power loss after the
next :meth:`RocksStorage.sync` (``flush_wal(True)``, which releases the GIL), which the broker
calls according to its flush policy (group commit in a worker thread). That also covers
``delete_before``, ``put_state``, ``put_meta`` and topic changes. RocksDB's WAL recovery
replays whole write batches, so after a crash each partition's log is a prefix of what was
appended, with whole replacements applied or not (``open`` checks the batches do not overlap;
gaps come from ``replace``).

Threading: everything from one thread, except ``sync``, which may run in another thread at the
same time (``close`` waits for a running ``sync``).
"""

from __future__ import annotations

import json
import struct
import threading
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

import rocksdict

from chronik.storage._base import BatchInput, IndexedLog, TopicRegistry
from chronik.storage.api import BatchEntry, TopicMeta
from chronik.storage.errors import StorageClosedError, StorageCorruptError, StorageLockedError

__all__ = ["RocksPartitionLog", "RocksStorage", "StorageLockedError"]

_LOG = b"L"
_INDEX = b"I"
_PART = b"P"
_TOPIC = b"T"
_META = b"M"
_START = b"o"  # after b"P" tp: log start offset
_STATE = b"s"  # after b"P" tp: state blob key

_INDEX_VALUE = struct.Struct(">QQqI")  # BatchEntry: base_offset, last_offset, max_timestamp, size
_U64 = struct.Struct(">Q")
_TP_LEN = 16 + 4


def _tp(topic_id: uuid.UUID, partition: int) -> bytes:
    return topic_id.bytes + partition.to_bytes(4, "big")


def _prefix_end(prefix: bytes) -> bytes:
    """The smallest key greater than every key starting with ``prefix`` (exclusive range end)."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        raise ValueError("no key follows an all-0xff prefix")
    return stripped[:-1] + bytes([stripped[-1] + 1])


def _options() -> rocksdict.Options:
    """Options for a log store: no block compression (batches are stored as sent, usually already
    compressed by the producer), memtables large and numerous enough that a burst of appends does
    not stall writers (a stall holds the GIL), and a higher L0 stall threshold."""
    opts = rocksdict.Options(raw_mode=True)
    opts.create_if_missing(True)
    opts.set_compression_type(rocksdict.DBCompressionType.none())
    opts.set_write_buffer_size(64 << 20)
    opts.set_max_write_buffer_number(4)
    opts.set_max_background_jobs(4)
    opts.set_level_zero_slowdown_writes_trigger(40)
    opts.set_level_zero_stop_writes_trigger(60)
    opts.set_target_file_size_base(128 << 20)
    opts.set_max_bytes_for_level_base(1 << 30)
    opts.set_keep_log_file_num(5)
    return opts


def _write_options() -> rocksdict.WriteOptions:
    """WAL on, no sync: durability comes from sync() (flush_wal(True)), never from a write."""
    wo = rocksdict.WriteOptions()
    wo.sync = False
    wo.disable_wal = False
    return wo


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc)
    return "LOCK" in text and ("lock" in text.replace("LOCK", "").lower() or "Resource temporarily" in text)


class RocksPartitionLog(IndexedLog):
    """One partition's log in the shared RocksDB; the index lives in memory (see module docs)."""

    __slots__ = ("_index_prefix", "_log_prefix", "_part_prefix", "_store")

    def __init__(
        self,
        store: RocksStorage,
        topic_id: uuid.UUID,
        partition: int,
        entries: list[BatchEntry] | None = None,
        log_start: int = 0,
    ) -> None:
        super().__init__(entries, log_start)
        self._store = store
        tp = _tp(topic_id, partition)
        self._log_prefix = _LOG + tp
        self._index_prefix = _INDEX + tp
        self._part_prefix = _PART + tp

    def append(self, batches: Sequence[BatchInput]) -> None:
        """Store the batches in one atomic WriteBatch (WAL, no sync); ValueError unless they continue
        the log contiguously, in which case nothing is written."""
        if not batches:
            return
        self._check_append(batches)
        db = self._store._live_db()
        wb = rocksdict.WriteBatch(raw_mode=True)
        log_prefix, index_prefix, pack = self._log_prefix, self._index_prefix, _INDEX_VALUE.pack
        for data, e in batches:
            base = e.base_offset.to_bytes(8, "big")
            wb.put(log_prefix + base, data if type(data) is bytes else bytes(data))
            wb.put(index_prefix + base, pack(e.base_offset, e.last_offset, e.max_timestamp, e.size))
        db.write(wb)
        self._commit_append([e for _, e in batches])

    def read(self, offset: int, max_bytes: int) -> list[bytes | memoryview]:
        """Whole batches from the one containing ``offset``, within ``max_bytes`` but at least one:
        one point get for a single batch, else one iterator over exactly the selected key range
        (several times faster than a multi-get of the same keys)."""
        i, j = self._select(offset, max_bytes)
        if i == j:
            return []
        db = self._store._live_db()
        prefix = self._log_prefix
        first = self._bases[i]
        if j - i == 1:
            value = db.get(prefix + first.to_bytes(8, "big"))
            if value is None:
                raise StorageCorruptError(f"batch at offset {first} is indexed but missing")
            return [value]
        ro = rocksdict.ReadOptions()
        ro.set_iterate_upper_bound(prefix + (self._bases[j - 1] + 1).to_bytes(8, "big"))
        values = list(db.values(from_key=prefix + first.to_bytes(8, "big"), read_opt=ro))
        if len(values) != j - i:
            raise StorageCorruptError(f"{j - i} batches indexed from offset {first} but {len(values)} stored")
        return values

    def delete_before(self, offset: int) -> None:
        """Persist the new log start offset and range-delete the batches entirely below it, in one
        WriteBatch. No-op if ``offset`` ≤ the log start; ValueError beyond the log end."""
        cut = self._check_delete(offset)
        if cut is None:
            return
        db = self._store._live_db()
        wb = rocksdict.WriteBatch(raw_mode=True)
        wb.put(self._part_prefix + _START, _U64.pack(offset))
        if cut:
            end = (self._entries[cut - 1].base_offset + 1).to_bytes(8, "big")
            zero = bytes(8)
            wb.delete_range(self._log_prefix + zero, self._log_prefix + end)
            wb.delete_range(self._index_prefix + zero, self._index_prefix + end)
        db.write(wb)
        self._commit_delete(offset, cut)

    def replace(self, first: int, last: int, batches: Sequence[BatchInput]) -> None:
        """Delete the ``L``/``I`` keys of the batches spanning ``first``..``last`` and put the new
        batches, in one WriteBatch (see the protocol for the rules). Point deletes, not a range
        delete: compaction replaces one batch at a time, and thousands of range tombstones in the
        memtable make every point read slower."""
        i, j = self._check_replace(first, last, batches)
        db = self._store._live_db()
        wb = rocksdict.WriteBatch(raw_mode=True)
        log_prefix, index_prefix, pack = self._log_prefix, self._index_prefix, _INDEX_VALUE.pack
        for old_base in self._bases[i:j]:  # point deletes: range tombstones would slow every later read
            key = old_base.to_bytes(8, "big")
            wb.delete(log_prefix + key)
            wb.delete(index_prefix + key)
        for data, e in batches:
            base = e.base_offset.to_bytes(8, "big")
            wb.put(log_prefix + base, data if type(data) is bytes else bytes(data))
            wb.put(index_prefix + base, pack(e.base_offset, e.last_offset, e.max_timestamp, e.size))
        db.write(wb)
        self._commit_replace(i, j, [e for _, e in batches])

    def get_state(self, key: str) -> bytes | None:
        """The partition's state blob ``key``, or None."""
        self._check_alive()
        return self._store._live_db().get(self._part_prefix + _STATE + key.encode())

    def put_state(self, key: str, value: bytes | None) -> None:
        """Set (None: delete) the state blob ``key``; written to the WAL, durable at the next sync()."""
        self._check_alive()
        db = self._store._live_db()
        k = self._part_prefix + _STATE + key.encode()
        if value is None:
            db.delete(k)
        else:
            db.put(k, value if type(value) is bytes else bytes(value))


class RocksStorage(TopicRegistry[RocksPartitionLog]):
    """A broker's store in one RocksDB directory.

    Opening creates the directory if needed and rebuilds all partition indexes (one scan of the
    index keys). Raises :class:`StorageLockedError` if the directory is open elsewhere (RocksDB's
    LOCK file, held per process) and :class:`StorageCorruptError` if a partition log has a gap.
    """

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()  # serialises sync() with close()
        try:
            db = rocksdict.Rdict(str(self.path), _options())
        except Exception as exc:
            if _is_lock_error(exc):
                raise StorageLockedError(self.path, str(exc)) from None
            raise
        db.set_write_options(_write_options())
        self._db: rocksdict.Rdict | None = db
        try:
            self._load(db)
        except BaseException:
            self._db = None
            db.close()
            raise

    # ---- opening -----------------------------------------------------------------------------

    def _scan(self, db: rocksdict.Rdict, prefix: bytes) -> list[tuple[bytes, bytes]]:
        """All (key, value) pairs under ``prefix``; the iterator is dropped before returning."""
        ro = rocksdict.ReadOptions()
        ro.set_iterate_upper_bound(_prefix_end(prefix))
        items = db.items(from_key=prefix, read_opt=ro)
        try:
            return list(items)
        finally:
            del items

    def _load(self, db: rocksdict.Rdict) -> None:
        for key, value in self._scan(db, _TOPIC):
            doc = json.loads(value)
            meta = TopicMeta(doc["name"], uuid.UUID(bytes=key[1:17]), doc["partitions"], doc["configs"])
            self._topics[meta.topic_id] = meta

        indexes = self._load_indexes(db)
        start_keys = [
            _PART + _tp(tid, p) + _START for tid, meta in self._topics.items() for p in range(meta.partitions)
        ]
        starts = iter(db.get(start_keys) if start_keys else [])
        for tid, meta in self._topics.items():
            logs = []
            for p in range(meta.partitions):
                raw = next(starts)
                entries = indexes.get(_tp(tid, p))
                log_start = _U64.unpack(raw)[0] if raw is not None else 0
                if entries:
                    _check_contiguous(meta.name, p, entries)
                logs.append(RocksPartitionLog(self, tid, p, entries, log_start))
            self._logs[tid] = logs

    def _load_indexes(self, db: rocksdict.Rdict) -> dict[bytes, list[BatchEntry]]:
        """Every partition's BatchEntry list from the ``I`` keys, grouped by ``tp``."""
        indexes: dict[bytes, list[BatchEntry]] = {}
        unpack = _INDEX_VALUE.unpack
        current_tp = b""
        current: list[BatchEntry] = []
        ro = rocksdict.ReadOptions()
        ro.set_iterate_upper_bound(_prefix_end(_INDEX))
        items = db.items(from_key=_INDEX, read_opt=ro)
        try:
            for key, value in items:
                tp = key[1 : 1 + _TP_LEN]
                if tp != current_tp:
                    current_tp, current = tp, []
                    indexes[tp] = current
                current.append(BatchEntry(*unpack(value)))
        finally:
            del items
        return indexes

    # ---- topics --------------------------------------------------------------------------------

    def topics(self) -> list[TopicMeta]:
        self._live_db()
        return super().topics()

    def partition(self, topic_id: uuid.UUID, partition: int) -> RocksPartitionLog:
        self._live_db()
        return super().partition(topic_id, partition)

    @staticmethod
    def _topic_value(meta: TopicMeta) -> bytes:
        doc = {"name": meta.name, "partitions": meta.partitions, "configs": meta.configs}
        return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()

    def create_topic(self, meta: TopicMeta) -> None:
        """Persist a topic with ``meta.partitions`` empty partitions; ValueError if its id or name exists."""
        db = self._live_db()
        self._check_create(meta)
        db.put(_TOPIC + meta.topic_id.bytes, self._topic_value(meta))
        self._register(meta, [RocksPartitionLog(self, meta.topic_id, p) for p in range(meta.partitions)])

    def update_topic(self, meta: TopicMeta) -> None:
        """Persist new configs and/or a larger partition count (never shrink or rename)."""
        db = self._live_db()
        old = self._check_update(meta)
        db.put(_TOPIC + meta.topic_id.bytes, self._topic_value(meta))
        new_logs = [RocksPartitionLog(self, meta.topic_id, p) for p in range(old.partitions, meta.partitions)]
        self._reregister(meta, new_logs)

    def delete_topic(self, topic_id: uuid.UUID) -> None:
        """Remove the topic's metadata, batches, index, log start offsets and state in one WriteBatch."""
        db = self._live_db()
        self._check_delete_topic(topic_id)
        wb = rocksdict.WriteBatch(raw_mode=True)
        wb.delete(_TOPIC + topic_id.bytes)
        for space in (_LOG, _INDEX, _PART):
            prefix = space + topic_id.bytes
            wb.delete_range(prefix, _prefix_end(prefix))
        db.write(wb)
        self._unregister(topic_id)

    # ---- cluster metadata, durability, lifecycle -------------------------------------------------

    def get_meta(self, key: str) -> bytes | None:
        """Cluster metadata value ``key``, or None."""
        return self._live_db().get(_META + key.encode())

    def put_meta(self, key: str, value: bytes | None) -> None:
        """Set (None: delete) cluster metadata ``key``; durable at the next sync()."""
        db = self._live_db()
        if value is None:
            db.delete(_META + key.encode())
        else:
            db.put(_META + key.encode(), value if type(value) is bytes else bytes(value))

    def put_meta_batch(self, items: Mapping[str, bytes | None]) -> None:
        """Set (None: delete) several metadata keys in one WriteBatch (atomic); durable at the next sync()."""
        db = self._live_db()
        if not all(isinstance(k, str) for k in items):
            raise TypeError("meta keys are str")
        wb = rocksdict.WriteBatch(raw_mode=True)
        for key, value in items.items():
            if value is None:
                wb.delete(_META + key.encode())
            else:
                wb.put(_META + key.encode(), value if type(value) is bytes else bytes(value))
        db.write(wb)

    def meta_items(self, prefix: str) -> list[tuple[str, bytes]]:
        """Metadata entries under ``prefix`` in key order: one bounded scan of the ``M`` range."""
        db = self._live_db()
        start = _META + prefix.encode()
        return [(k[1:].decode(), v) for k, v in self._scan(db, start)]

    def sync(self) -> None:
        """fsync the WAL: everything written before the call is durable when it returns. Releases
        the GIL while syncing; safe to call from a worker thread while the owner thread writes."""
        with self._lock:
            self._live_db().flush_wal(True)

    def close(self) -> None:
        """Flush and close the database; handles are dropped so the path can be reopened at once.
        Waits for a running sync(). Idempotent."""
        with self._lock:
            db, self._db = self._db, None
            if db is None:
                return
            for log in self._all_logs():
                log._mark_gone("storage is closed")
            db.close()
            del db

    def _live_db(self) -> rocksdict.Rdict:
        db = self._db
        if db is None:
            raise StorageClosedError(f"storage at {self.path} is closed")
        return db

    def __enter__(self) -> RocksStorage:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _check_contiguous(topic: str, partition: int, entries: list[BatchEntry]) -> None:
    """Batches in increasing offset order without overlaps; gaps are allowed (``replace``)."""
    expected = entries[0].base_offset
    for e in entries:
        if e.base_offset < expected or e.last_offset < e.base_offset:
            raise StorageCorruptError(
                f"{topic}-{partition}: batch at offset {e.base_offset} does not follow offset {expected - 1}"
            )
        expected = e.last_offset + 1
