"""Fetch (API key 1), versions 0-18 advertised (as the pinned specs define them).

- Whole stored batches from the one containing ``fetch_offset``; a partition returns at most
  ``partition_max_bytes`` and the response at most ``max_bytes``, except that the first batch
  of the first partition with data is always returned whole so consumers progress (KIP-74).
- ``fetch_offset`` below the log start or past the log end → OFFSET_OUT_OF_RANGE. A partition in
  error answers high watermark, last stable offset and log start offset -1, as Kafka's
  ``ReplicaManager.createLogReadResult(e)`` does (clients reset with ListOffsets).
- Long polling: with fewer than ``min_bytes`` available the request waits up to
  ``max_wait_ms``, woken by appends to any of its partitions (never by a polling loop).
- Fetch sessions (KIP-227, :mod:`chronik.broker.fetch_sessions`): a full fetch with epoch 0
  creates a session; incremental fetches name it and get only partitions with news.
- v13+ names topics by id (UNKNOWN_TOPIC_ID; a known id with an unknown partition is
  UNKNOWN_TOPIC_OR_PARTITION). There are no transactions yet, so the last
  stable offset is the high watermark and read_committed sees no aborted transactions.
- ``current_leader_epoch`` newer than ours → UNKNOWN_LEADER_EPOCH, older → FENCED_LEADER_EPOCH.
- Quotas (KIP-13, KIP-219): with a ``consumer_byte_rate`` quota in force, ``max_bytes`` is capped at
  what one window may hold (``maxValueInQuotaWindow``) and the response's size is recorded for the
  client's (user, client-id) when it is built. Over the quota the size is taken back and the answer
  is an empty response carrying ``throttle_time_ms`` (the fetch session is kept but not advanced,
  a new one not created), and the connection is muted that long, as Kafka's ``handleFetchRequest``.
  The size is the record bytes plus a fixed estimate per partition and topic (Kafka computes the
  exact encoded size).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred

from chronik.broker.authz import denied
from chronik.broker.core import Broker
from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.fetch_sessions import (
    FINAL_EPOCH,
    INITIAL_EPOCH,
    FetchSession,
    FetchSessionCache,
    Key,
    SessionPartition,
    next_epoch,
)
from chronik.broker.handlers import HandlerEnv
from chronik.broker.topics import Partition
from chronik.protocol.errors import ErrorCode
from chronik.quotas import user_of
from chronik.security.acl import AclOperation, ResourceType
from chronik.security.acl.authorizer import RequestIdentity
from chronik_protocol.messages.fetch_request import FetchRequest
from chronik_protocol.messages.fetch_response import FetchableTopicResponse, FetchResponse, PartitionData

API_KEY = 1
MIN_VERSION, MAX_VERSION = 0, 18
READ_COMMITTED = 1
SESSIONS_FROM = 7  # first Fetch version with session id and epoch


def _key(version: int, name: str, topic_id: uuid.UUID, partition: int) -> Key:
    return (topic_id if version >= 13 else name, partition)


def _requested(version: int, req: FetchRequest) -> dict[Key, SessionPartition]:
    out: dict[Key, SessionPartition] = {}
    for ft in req.topics:
        for fp in ft.partitions:
            out[_key(version, ft.topic, ft.topic_id, fp.partition)] = SessionPartition(
                ft.topic, ft.topic_id, fp.partition, fp.fetch_offset, fp.partition_max_bytes, fp.current_leader_epoch
            )
    return out


def _context(
    cache: FetchSessionCache, version: int, req: FetchRequest
) -> tuple[int, str, dict[Key, SessionPartition], FetchSession | None]:
    """(error, mode, partitions to read, session): mode is "sessionless", "new" or "incremental"."""
    if version < SESSIONS_FROM:
        return 0, "sessionless", _requested(version, req), None
    sid, epoch = req.session_id, req.session_epoch
    if epoch in (INITIAL_EPOCH, FINAL_EPOCH):
        if sid:
            cache.remove(sid)  # a full fetch replaces (INITIAL) or closes (FINAL) the old session
        return 0, "new" if epoch == INITIAL_EPOCH else "sessionless", _requested(version, req), None
    session = cache.get(sid)
    if session is None:
        return ErrorCode.FETCH_SESSION_ID_NOT_FOUND, "", {}, None
    if session.epoch != epoch:
        return ErrorCode.INVALID_FETCH_SESSION_EPOCH, "", {}, None
    for key, wanted in _requested(version, req).items():
        known = session.partitions.get(key)
        if known is None:
            session.partitions[key] = wanted
        else:
            known.fetch_offset, known.max_bytes = wanted.fetch_offset, wanted.max_bytes
            known.current_leader_epoch = wanted.current_leader_epoch
    for ft in req.forgotten_topics_data:
        for p in ft.partitions:
            session.partitions.pop(_key(version, ft.topic, ft.topic_id, p), None)
    session.epoch = next_epoch(epoch)
    return 0, "incremental", session.partitions, session


def _read(
    broker: Broker,
    version: int,
    req: FetchRequest,
    wanted: dict[Key, SessionPartition],
    denied_topics: frozenset[str] = frozenset(),
) -> tuple[dict[Key, PartitionData], int, list[Partition], bool]:
    """Read every wanted partition as of now: (data by key, record bytes, partitions, any error).

    Topics in ``denied_topics`` answer TOPIC_AUTHORIZATION_FAILED (after an unknown v13 id, before
    an unknown topic), as ``KafkaApis.handleFetchRequest``."""
    remaining = req.max_bytes if version >= 3 else 0x7FFFFFFF
    total = 0
    read_committed = req.isolation_level == READ_COMMITTED
    partitions: list[Partition] = []
    errors = False
    out: dict[Key, PartitionData] = {}
    for key, w in wanted.items():
        topic = broker.topics_by_id.get(w.topic_id) if version >= 13 else broker.topics.get(w.topic)
        partition = broker.partition(topic, w.partition)
        # Kafka sends empty (not null) records for a partition in error: librdkafka reads null as a
        # bad message format and retries the same offset forever.
        pd = out[key] = PartitionData(partition_index=w.partition, records=b"", high_watermark=-1)
        if denied_topics and (topic.name if topic else w.topic if version < 13 else None) in denied_topics:
            pd.error_code = ErrorCode.TOPIC_AUTHORIZATION_FAILED
            errors = True
            continue
        if partition is None:
            unknown_id = topic is None and version >= 13
            pd.error_code = ErrorCode.UNKNOWN_TOPIC_ID if unknown_id else ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
            errors = True
            continue
        partitions.append(partition)
        log = partition.log
        hw, start = log.log_end_offset, log.log_start_offset
        pd.high_watermark = pd.last_stable_offset = hw
        pd.log_start_offset = start
        pd.aborted_transactions = [] if read_committed else None
        if w.current_leader_epoch > partition.leader_epoch:
            pd.error_code = ErrorCode.UNKNOWN_LEADER_EPOCH
        elif 0 <= w.current_leader_epoch < partition.leader_epoch:
            pd.error_code = ErrorCode.FENCED_LEADER_EPOCH
        elif not start <= w.fetch_offset <= hw:
            pd.error_code = ErrorCode.OFFSET_OUT_OF_RANGE
        if pd.error_code:  # Kafka's LogReadResult for an error: no offsets at all
            pd.high_watermark = pd.last_stable_offset = pd.log_start_offset = -1
            errors = True
            continue
        limit = min(w.max_bytes, remaining) if version >= 3 else w.max_bytes
        if w.fetch_offset == hw or (total and limit <= 0):
            pd.records = b""
            continue
        batches = log.read(w.fetch_offset, max(limit, 1))
        if total and batches and len(batches[0]) > limit:
            batches = []  # only the response's first batch may exceed the limits (KIP-74)
        data = batches[0] if len(batches) == 1 else b"".join(batches)
        pd.records = data
        total += len(data)
        remaining -= len(data)
    return out, total, partitions, errors


def _respond(
    broker: Broker,
    version: int,
    req: FetchRequest,
    mode: str,
    wanted: dict[Key, SessionPartition],
    session: FetchSession | None,
    data: dict[Key, PartitionData],
    throttle: Callable[[dict[Key, PartitionData]], int] | None = None,
) -> FetchResponse:
    """Group partition data by topic; an incremental response keeps only partitions with news.

    ``throttle`` (quotas) returns the throttle time of sending ``data``: if positive, the answer is
    empty and carries it (Kafka's ``FetchContext.getThrottledResponse``)."""
    if throttle is not None:
        ms = throttle(data)
        if ms > 0:
            return FetchResponse(throttle_time_ms=ms, session_id=session.id if session is not None else 0)
    topics: dict[Any, FetchableTopicResponse] = {}
    for key, pd in data.items():
        w = wanted[key]
        if mode == "incremental":
            news = (
                bool(pd.records)
                or pd.error_code != 0
                or (
                    (pd.high_watermark, pd.last_stable_offset, pd.log_start_offset)
                    != (w.high_watermark, w.last_stable_offset, w.log_start_offset)
                )
            )
            if not news:
                continue
        w.high_watermark, w.last_stable_offset, w.log_start_offset = (
            pd.high_watermark,
            pd.last_stable_offset,
            pd.log_start_offset,
        )
        tkey = key[0]
        entry = topics.get(tkey)
        if entry is None:
            topic = broker.topics_by_id.get(w.topic_id) if version >= 13 else None
            name = w.topic if version < 13 else (topic.name if topic else "")
            entry = topics[tkey] = FetchableTopicResponse(topic=name, topic_id=w.topic_id, partitions=[])
        entry.partitions.append(pd)
    session_id = 0
    if mode == "new" and wanted:
        session_id = broker.fetch_sessions.create(dict(wanted))
    elif session is not None:
        session_id = session.id
    return FetchResponse(responses=list(topics.values()), session_id=session_id)


def _denied_topics(
    broker: Broker, ctx: RequestIdentity, version: int, req: FetchRequest, wanted: dict[Key, SessionPartition]
) -> frozenset[str]:
    """Consumers need READ on each topic; a follower (replica id >= 0) needs CLUSTER_ACTION, else
    every partition fails (``KafkaApis.handleFetchRequest``)."""
    auth = broker.authorizer
    if not auth.enabled:
        return frozenset()
    if version >= 13:
        names = {t.name if (t := broker.topics_by_id.get(w.topic_id)) else None for w in wanted.values()}
    else:
        names = {w.topic for w in wanted.values()}
    if req.replica_id >= 0 or (version >= 15 and req.replica_state.replica_id >= 0):
        if auth.authorize_cluster(ctx, AclOperation.CLUSTER_ACTION):
            return frozenset()
        return frozenset(n for n in names if n is not None)
    return denied(auth, ctx, AclOperation.READ, ResourceType.TOPIC, names)


def handle(
    broker: Broker,
    version: int,
    req: FetchRequest,
    ctx: RequestIdentity | None = None,
    throttle: Callable[[dict[Key, PartitionData]], int] | None = None,
) -> FetchResponse | Deferred[Any]:
    """Answer now if there is enough data (or an error, or no wait); else long-poll."""
    error, mode, wanted, session = _context(broker.fetch_sessions, version, req)
    if error:
        return FetchResponse(error_code=error, session_id=0)
    blocked = _denied_topics(broker, ctx, version, req, wanted) if ctx is not None else frozenset()
    data, total, partitions, errors = _read(broker, version, req, wanted, blocked)
    if total >= req.min_bytes or req.max_wait_ms <= 0 or errors or not partitions:
        return _respond(broker, version, req, mode, wanted, session, data, throttle)
    done: Deferred[Any] = Deferred()
    state: dict[str, Any] = {}

    def finish() -> None:
        if done.called:
            return
        for p in partitions:
            if wake in p.waiters:
                p.waiters.remove(wake)
        timer = state.get("timer")
        if timer is not None and timer.active():
            timer.cancel()
        fresh = _read(broker, version, req, wanted, blocked)[0]
        done.callback(_respond(broker, version, req, mode, wanted, session, fresh, throttle))

    def wake() -> None:
        if done.called:
            return
        _, now_total, _, now_errors = _read(broker, version, req, wanted, blocked)
        if now_total >= req.min_bytes or now_errors:
            finish()
        else:
            for p in partitions:
                if wake not in p.waiters:
                    p.waiters.append(wake)

    for p in partitions:
        p.waiters.append(wake)
    state["timer"] = broker.call_later(req.max_wait_ms / 1000.0, finish)
    return done


#: Bytes a fetch response spends per partition and per topic besides records (an estimate of
#: Kafka's ``FetchResponse.sizeOf``, which the fetch quota records).
_PARTITION_OVERHEAD, _TOPIC_OVERHEAD = 50, 24


def response_size(data: dict[Key, PartitionData]) -> int:
    """The size a fetch quota records for ``data``: record bytes plus per-partition/topic overhead."""
    size = 16 + _TOPIC_OVERHEAD * len({key[0] for key in data})
    for pd in data.values():
        size += _PARTITION_OVERHEAD + len(pd.records or b"")
    return size


def on_fetch(broker: Broker, ctx: RequestContext, body: FetchRequest) -> FetchResponse | Deferred[Any]:
    """Fetch, within the client's ``consumer_byte_rate`` quota if one applies."""
    quota = broker.quotas.fetch
    if not quota.enabled:
        return handle(broker, ctx.api_version, body, ctx)
    user, client_id = user_of(ctx.principal), ctx.client_id
    cap = quota.max_value_in_window(user, client_id, broker.now_ms())
    if cap < body.max_bytes:
        body.max_bytes = int(cap)
        body.min_bytes = min(body.min_bytes, body.max_bytes)

    def throttle(data: dict[Key, PartitionData]) -> int:
        size, now = response_size(data), broker.now_ms()
        ms = quota.record(user, client_id, size, now)
        if ms > 0:
            quota.unrecord(user, client_id, size, now)  # a throttled fetch returns no data
            ctx.throttle_ms = max(ctx.throttle_ms, ms)
        return ms

    return handle(broker, ctx.api_version, body, ctx, throttle)


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    broker = env.broker
    dispatcher.register(API_KEY, Handler(MIN_VERSION, MAX_VERSION, lambda ctx, body: on_fetch(broker, ctx, body)))
