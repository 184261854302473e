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
from chronik.broker.dispatch import Dispatcher
from chronik.broker.group_commit import GroupCommit
from chronik.broker.handlers import HandlerEnv, register_all
from chronik.broker.retention import start_janitor, stop_janitor
from chronik.config import BrokerConfig, effective_topic_configs, ensure_meta_properties
from chronik.net.server import KafkaServerFactory, listen
from chronik.storage.rocks import RocksStorage

log = logging.getLogger("chronik")
SHUTDOWN_GRACE_S = 10.0


def build_dispatcher(broker: Broker, config: BrokerConfig, group: GroupCommit | None) -> Dispatcher:
    """The handler table of this broker: every module of ``chronik.broker.handlers``."""
    dispatcher = Dispatcher()
    register_all(dispatcher, HandlerEnv(broker, config, group))
    return dispatcher


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
    dispatcher = build_dispatcher(broker, config, broker.group_commit)
    factory = KafkaServerFactory(
        dispatcher,
        reactor=reactor,
        listener_name=endpoints[0].listener_name,
        max_request_size=int(config.get("socket.request.max.bytes")),
        connections_max_idle_ms=int(config.get("connections.max.idle.ms")),
    )
    janitor, janitor_loop = start_janitor(broker, int(config.get("log.retention.check.interval.ms")), reactor)
    reactor.addSystemEventTrigger("before", "shutdown", lambda: stop_janitor(janitor, janitor_loop))
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
