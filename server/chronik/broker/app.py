"""``serve(config)``: run a single-node broker on the Twisted reactor until SIGTERM/SIGINT.

Wires the pieces: RocksDB storage under ``<log.dirs>/rocksdb``, the broker state, the handler
table (one module per API), one listener per configured PLAINTEXT endpoint, and — when the
flush policy asks for it — the group committer. Shutdown is graceful: stop accepting, let
in-flight requests finish (up to ``SHUTDOWN_GRACE_S``), close connections, sync and close the
store.
"""

from __future__ import annotations

import logging
from typing import Any

from twisted.internet import reactor as default_reactor
from twisted.internet import task, threads
from twisted.internet.defer import inlineCallbacks

from chronik.broker.core import Broker
from chronik.broker.dispatch import NO_RESPONSE, Dispatcher, Handler, RequestContext
from chronik.broker.group_commit import GroupCommit
from chronik.broker.handlers import (
    api_versions,
    create_topics,
    delete_topics,
    fetch,
    init_producer_id,
    list_offsets,
    metadata,
    produce,
)
from chronik.config import (
    BrokerConfig,
    describe_topic_configs,
    effective_topic_configs,
    ensure_meta_properties,
    validate_topic_configs,
)
from chronik.net.server import KafkaServerFactory, listen
from chronik.storage.rocks import RocksStorage

log = logging.getLogger("chronik")
SHUTDOWN_GRACE_S = 10.0


def build_dispatcher(broker: Broker, config: BrokerConfig, group: GroupCommit | None) -> Dispatcher:
    """The handler table of this broker."""
    d = Dispatcher()

    def on_produce(ctx: RequestContext, body: Any) -> Any:
        response, needs_sync = produce.handle(broker, ctx.api_version, body)
        if response is None:
            return NO_RESPONSE
        if needs_sync and group is not None:
            return group.wait().addCallback(lambda _: response)
        return response

    def on_metadata(ctx: RequestContext, body: Any) -> Any:
        return metadata.handle(
            broker,
            ctx.api_version,
            body,
            auto_create=bool(config.get("auto.create.topics.enable")),
            num_partitions=int(config.get("num.partitions")),
        )

    def on_create_topics(ctx: RequestContext, body: Any) -> Any:
        def describe(overrides: dict[str, str]) -> list[tuple[str, str | None, int, bool, bool]]:
            return [
                (e.name, e.value, int(e.source), e.is_sensitive, e.read_only)
                for e in describe_topic_configs(overrides, config, include_synonyms=False)
            ]

        return create_topics.handle(
            broker,
            ctx.api_version,
            body,
            default_partitions=int(config.get("num.partitions")),
            default_rf=int(config.get("default.replication.factor")),
            validate=lambda c: {k: e.message for k, e in validate_topic_configs(c, config).items()},
            describe=describe,
        )

    d.register(produce.API_KEY, Handler(produce.MIN_SERVED, produce.MAX_VERSION, on_produce, advertised_min=0))
    d.register(
        fetch.API_KEY,
        Handler(fetch.MIN_VERSION, fetch.MAX_VERSION, lambda ctx, body: fetch.handle(broker, ctx.api_version, body)),
    )
    d.register(
        list_offsets.API_KEY,
        Handler(
            list_offsets.MIN_VERSION,
            list_offsets.MAX_VERSION,
            lambda ctx, body: list_offsets.handle(broker, ctx.api_version, body),
        ),
    )
    d.register(metadata.API_KEY, Handler(metadata.MIN_VERSION, metadata.MAX_VERSION, on_metadata))
    d.register(create_topics.API_KEY, Handler(create_topics.MIN_VERSION, create_topics.MAX_VERSION, on_create_topics))
    d.register(
        delete_topics.API_KEY,
        Handler(
            delete_topics.MIN_VERSION,
            delete_topics.MAX_VERSION,
            lambda ctx, body: delete_topics.handle(
                broker, ctx.api_version, body, enabled=bool(config.get("delete.topic.enable"))
            ),
        ),
    )
    d.register(
        init_producer_id.API_KEY,
        Handler(
            init_producer_id.MIN_VERSION,
            init_producer_id.MAX_VERSION,
            lambda ctx, body: init_producer_id.handle(broker, ctx.api_version, body),
        ),
    )
    api_versions.register(d, cluster_id=broker.cluster_id, node_id=broker.node_id)
    return d


def sync_mode(config: BrokerConfig) -> bool:
    """Whether the broker-wide flush policy acknowledges only durable writes."""
    return int(config.get("log.flush.interval.messages")) <= 1


def start(config: BrokerConfig, reactor: Any = default_reactor) -> tuple[Broker, list[Any], KafkaServerFactory]:
    """Open storage, build the broker and start listening; return (broker, ports, factory)."""
    meta = ensure_meta_properties(config)
    storage = RocksStorage(config.data_dir / "rocksdb")
    endpoints = [e for e in config.listeners if e.security_protocol == "PLAINTEXT"]
    if not endpoints:
        raise SystemExit("no PLAINTEXT listener configured (SSL and SASL listeners are not supported yet)")
    first = config.advertised_for(endpoints[0].listener_name) or endpoints[0]
    broker = Broker(
        storage,
        lambda overrides: effective_topic_configs(overrides, config),
        node_id=config.node_id,
        host=first.host or "127.0.0.1",
        port=first.port,
        cluster_id=meta.cluster_id,
        call_later=reactor.callLater,
    )
    group = GroupCommit(storage.sync, lambda fn: threads.deferToThreadPool(reactor, reactor.getThreadPool(), fn))
    broker.group_commit = group if sync_mode(config) else None
    dispatcher = build_dispatcher(broker, config, group)
    factory = KafkaServerFactory(
        dispatcher,
        reactor=reactor,
        listener_name=endpoints[0].listener_name,
        max_request_size=int(config.get("socket.request.max.bytes")),
        connections_max_idle_ms=int(config.get("connections.max.idle.ms")),
    )
    ports = []
    for endpoint in endpoints:
        port = listen(reactor, factory, endpoint.bind_host, endpoint.port)
        ports.append(port)
        log.info("listening on %s (advertised %s:%d)", endpoint, broker.host, broker.port)
    return broker, ports, factory


@inlineCallbacks
def _shutdown(broker: Broker, ports: list[Any], factory: KafkaServerFactory, reactor: Any) -> Any:
    log.info("shutting down: no new connections")
    for port in ports:
        yield port.stopListening()
    waited = 0.0
    while factory.outstanding_requests() and waited < SHUTDOWN_GRACE_S:
        yield task.deferLater(reactor, 0.05, lambda: None)
        waited += 0.05
    factory.close_all("broker shutting down")
    broker.storage.sync()
    broker.storage.close()
    log.info("stopped")


def serve(config: BrokerConfig, reactor: Any = default_reactor) -> int:
    """Run the broker until the reactor stops (SIGTERM/SIGINT); 0 on a clean stop."""
    broker, ports, factory = start(config, reactor)
    reactor.addSystemEventTrigger("before", "shutdown", lambda: _shutdown(broker, ports, factory, reactor))
    log.info("Chronik started: node %d, cluster %s, data in %s", broker.node_id, broker.cluster_id, config.data_dir)
    reactor.run()
    return 0
