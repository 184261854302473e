"""DescribeLogDirs (API key 35), versions 0-5.

One log directory: the broker's data directory (``log.dirs``, absolute), as Kafka's
``ReplicaManager.describeLogDirs`` reports it:

- ``topics`` null means every partition; otherwise the named partitions that exist (unknown
  topics and partitions are left out, as Kafka does). Topics are listed by name, partitions by
  index; a topic none of whose partitions match is left out.
- Per partition: its stored size (``size_bytes``), offset lag 0 (the log end is the high
  watermark on one node), ``is_future_key`` false (no AlterReplicaLogDirs moves).
- v3+ top-level error 0; v4+ the volume's total and usable bytes (``shutil.disk_usage``:
  usable is what a non-root user may still write, like Java's ``FileStore.getUsableSpace``);
  v5 ``is_cordoned`` false.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from chronik.broker.core import Broker
from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.handlers import HandlerEnv
from chronik.protocol.errors import ErrorCode
from chronik.security.acl import AclOperation
from chronik_protocol.messages.describe_log_dirs_request import DescribeLogDirsRequest
from chronik_protocol.messages.describe_log_dirs_response import (
    DescribeLogDirsPartition,
    DescribeLogDirsResponse,
    DescribeLogDirsResult,
    DescribeLogDirsTopic,
)

API_KEY = 35
MIN_VERSION, MAX_VERSION = 0, 5


def handle(broker: Broker, version: int, req: DescribeLogDirsRequest, *, log_dir: Path) -> DescribeLogDirsResponse:
    wanted: dict[str, set[int]] | None = None
    if req.topics is not None:
        wanted = {}
        for t in req.topics:
            wanted.setdefault(t.topic, set()).update(t.partitions)
    topics = []
    for topic in sorted(broker.topics.values(), key=lambda t: t.name):
        if wanted is not None and topic.name not in wanted:
            continue
        partitions = [
            DescribeLogDirsPartition(
                partition_index=p.index, partition_size=p.log.size_bytes(), offset_lag=0, is_future_key=False
            )
            for p in topic.partitions
            if wanted is None or p.index in wanted[topic.name]
        ]
        if partitions:
            topics.append(DescribeLogDirsTopic(name=topic.name, partitions=partitions))
    try:
        usage = shutil.disk_usage(log_dir)
        total, usable = usage.total, usage.free
    except OSError:
        total = usable = -1
    return DescribeLogDirsResponse(
        error_code=ErrorCode.NONE,
        results=[
            DescribeLogDirsResult(
                error_code=ErrorCode.NONE,
                log_dir=str(log_dir),
                topics=topics,
                total_bytes=total,
                usable_bytes=usable,
                is_cordoned=False,
            )
        ],
    )


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    broker, config = env.broker, env.config

    def on_describe_log_dirs(ctx: RequestContext, body: DescribeLogDirsRequest) -> DescribeLogDirsResponse:
        if not broker.authorizer.authorize_cluster(ctx, AclOperation.DESCRIBE):  # Kafka: DESCRIBE on the cluster
            return DescribeLogDirsResponse(error_code=ErrorCode.CLUSTER_AUTHORIZATION_FAILED, results=[])
        return handle(broker, ctx.api_version, body, log_dir=Path(config.data_dir))

    dispatcher.register(API_KEY, Handler(MIN_VERSION, MAX_VERSION, on_describe_log_dirs))
