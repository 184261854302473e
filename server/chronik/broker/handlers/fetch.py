"""Fetch (API key 1), versions 0-18 advertised (as the pinned specs define them).

- Whole stored batches from the one containing ``fetch_offset``; a partition returns at most
  ``partition_max_bytes`` and the response at most ``max_bytes``, except that the first batch
  of the first partition with data is always returned whole so consumers progress (KIP-74).
- ``fetch_offset`` below the log start or past the log end → OFFSET_OUT_OF_RANGE, with the
  high watermark and log start offset so the client can reset.
- Long polling: with fewer than ``min_bytes`` available the request waits up to
  ``max_wait_ms``, woken by appends to any of its partitions (never by a polling loop).
- Fetch sessions (KIP-227): the broker creates none (session id 0 in every response), which
  Kafka clients treat as "sessions unavailable" and keep sending full fetch requests; a request
  naming a session id gets FETCH_SESSION_ID_NOT_FOUND.
- v13+ names topics by id (UNKNOWN_TOPIC_ID). There are no transactions yet, so the last
  stable offset is the high watermark and read_committed sees no aborted transactions.
- ``current_leader_epoch`` newer than ours → UNKNOWN_LEADER_EPOCH, older → FENCED_LEADER_EPOCH.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred

from chronik.broker.core import Broker
from chronik.broker.dispatch import Dispatcher, Handler
from chronik.broker.handlers import HandlerEnv
from chronik.broker.topics import Partition
from chronik.protocol.errors import ErrorCode
from chronik_protocol.messages.fetch_request import FetchRequest
from chronik_protocol.messages.fetch_response import FetchableTopicResponse, FetchResponse, PartitionData

API_KEY = 1
MIN_VERSION, MAX_VERSION = 0, 18
READ_COMMITTED = 1


def _build(broker: Broker, version: int, req: FetchRequest) -> tuple[FetchResponse, int, list[Partition], bool]:
    """The response as of now: (response, record bytes, partitions read, any partition error)."""
    remaining = req.max_bytes if version >= 3 else 0x7FFFFFFF
    total = 0
    read_committed = req.isolation_level == READ_COMMITTED
    partitions: list[Partition] = []
    errors = False
    topics = []
    for ft in req.topics:
        topic = broker.topics_by_id.get(ft.topic_id) if version >= 13 else broker.topics.get(ft.topic)
        results = []
        for fp in ft.partitions:
            partition = broker.partition(topic, fp.partition)
            pd = PartitionData(partition_index=fp.partition)
            results.append(pd)
            if partition is None:
                pd.error_code = ErrorCode.UNKNOWN_TOPIC_ID if version >= 13 else ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
                errors = True
                continue
            partitions.append(partition)
            log = partition.log
            hw, start = log.log_end_offset, log.log_start_offset
            pd.high_watermark = pd.last_stable_offset = hw
            pd.log_start_offset = start
            pd.aborted_transactions = [] if read_committed else None
            if fp.current_leader_epoch > partition.leader_epoch:
                pd.error_code = ErrorCode.UNKNOWN_LEADER_EPOCH
            elif 0 <= fp.current_leader_epoch < partition.leader_epoch:
                pd.error_code = ErrorCode.FENCED_LEADER_EPOCH
            elif not start <= fp.fetch_offset <= hw:
                pd.error_code = ErrorCode.OFFSET_OUT_OF_RANGE
            if pd.error_code:
                errors = True
                continue
            limit = min(fp.partition_max_bytes, remaining) if version >= 3 else fp.partition_max_bytes
            if fp.fetch_offset == hw or (total and limit <= 0):
                pd.records = b""
                continue
            batches = log.read(fp.fetch_offset, max(limit, 1))
            if total and batches and len(batches[0]) > limit:
                batches = []  # only the response's first batch may exceed the limits (KIP-74)
            data = batches[0] if len(batches) == 1 else b"".join(batches)
            pd.records = data
            total += len(data)
            remaining -= len(data)
        name = ft.topic if version < 13 else (topic.name if topic else "")
        topics.append(FetchableTopicResponse(topic=name, topic_id=ft.topic_id, partitions=results))
    response = FetchResponse(responses=topics, session_id=0)
    if version >= 7 and req.session_id != 0:
        response = FetchResponse(error_code=ErrorCode.FETCH_SESSION_ID_NOT_FOUND, session_id=0)
        errors = True
    return response, total, partitions, errors


def handle(broker: Broker, version: int, req: FetchRequest) -> FetchResponse | Deferred[Any]:
    """Answer now if there is enough data (or an error, or no wait); else long-poll."""
    response, total, partitions, errors = _build(broker, version, req)
    if total >= req.min_bytes or req.max_wait_ms <= 0 or errors or not partitions:
        return response
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
        done.callback(_build(broker, version, req)[0])

    def wake() -> None:
        if done.called:
            return
        _, now_total, _, now_errors = _build(broker, version, req)
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


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    broker = env.broker
    dispatcher.register(
        API_KEY, Handler(MIN_VERSION, MAX_VERSION, lambda ctx, body: handle(broker, ctx.api_version, body))
    )
