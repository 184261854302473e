"""Incremental fetch sessions (KIP-227) over the wire, with Fetch v12 requests."""

from __future__ import annotations

from pathlib import Path

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from chronik.protocol.errors import ErrorCode
from chronik_protocol.messages.fetch_request import FetchPartition, FetchRequest, FetchTopic, ForgottenTopic

from .broker_process import BrokerProcess
from .raw_client import call


def fetch(port: int, session_id: int, epoch: int, offsets: dict[int, int], forget: list[int] | None = None) -> object:
    topics = (
        [
            FetchTopic(
                topic="s",
                partitions=[
                    FetchPartition(partition=p, fetch_offset=o, partition_max_bytes=1 << 20) for p, o in offsets.items()
                ],
            )
        ]
        if offsets
        else []
    )
    req = FetchRequest(
        replica_id=-1,
        max_wait_ms=0,
        min_bytes=0,
        max_bytes=1 << 24,
        session_id=session_id,
        session_epoch=epoch,
        topics=topics,
        forgotten_topics_data=[ForgottenTopic(topic="s", partitions=forget)] if forget else [],
    )
    return call(port, 1, 12, req)


def parts(resp: object) -> dict[int, object]:
    return {p.partition_index: p for t in resp.responses for p in t.partitions}  # type: ignore[attr-defined]


def test_incremental_fetch_session(tmp_path: Path) -> None:
    with BrokerProcess(tmp_path / "data") as broker:
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        admin.create_topics([NewTopic("s", 2)])["s"].result(10)
        producer = Producer({"bootstrap.servers": broker.bootstrap})
        producer.produce("s", b"first", partition=0)
        producer.flush(10)

        full = fetch(broker.port, 0, 0, {0: 0, 1: 0})
        sid = full.session_id  # type: ignore[attr-defined]
        assert sid != 0 and set(parts(full)) == {0, 1} and parts(full)[0].records

        quiet = fetch(broker.port, sid, 1, {0: 1})  # nothing new anywhere
        assert quiet.error_code == 0 and parts(quiet) == {}  # type: ignore[attr-defined]

        producer.produce("s", b"second", partition=1)
        producer.flush(10)
        news = fetch(broker.port, sid, 2, {})  # the session remembers both partitions' offsets
        assert set(parts(news)) == {1} and parts(news)[1].high_watermark == 1 and parts(news)[1].records

        stale = fetch(broker.port, sid, 2, {})
        assert stale.error_code == ErrorCode.INVALID_FETCH_SESSION_EPOCH  # type: ignore[attr-defined]
        after_forget = fetch(broker.port, sid, 3, {}, forget=[1])
        assert after_forget.error_code == 0 and parts(after_forget) == {}  # type: ignore[attr-defined]

        closed = fetch(broker.port, sid, -1, {0: 1})  # FINAL: close, answer sessionless
        assert closed.session_id == 0 and set(parts(closed)) == {0}  # type: ignore[attr-defined]
        gone = fetch(broker.port, sid, 4, {})
        assert gone.error_code == ErrorCode.FETCH_SESSION_ID_NOT_FOUND  # type: ignore[attr-defined]
        unknown = fetch(broker.port, 12345, 1, {})
        assert unknown.error_code == ErrorCode.FETCH_SESSION_ID_NOT_FOUND  # type: ignore[attr-defined]
