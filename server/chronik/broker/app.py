"""``serve(config)``: run a single-node broker on the Twisted reactor until SIGTERM/SIGINT.

Wires the pieces: RocksDB storage under ``<log.dirs>/rocksdb``, the broker state, the handler
table (one module per API), one listener (factory + port) per configured endpoint — PLAINTEXT,
SSL, SASL_PLAINTEXT or SASL_SSL, each with its own security (``chronik.security.listeners``) and
advertising its own address (``Broker.advertised``) — and, when the flush policy asks for it, the
group committer. Shutdown is graceful: stop accepting, let
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
from chronik.config import BrokerConfig, Endpoint, effective_topic_configs, ensure_meta_properties
from chronik.net.server import KafkaServerFactory, listen
from chronik.security.acl import Authorizer
from chronik.security.credentials import CredentialStore, store_for
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


class Listeners:
    """The factories of all listeners, for shutdown (outstanding requests, closing connections)."""

    def __init__(self, factories: list[KafkaServerFactory]) -> None:
        self.factories = factories

    def outstanding_requests(self) -> int:
        return sum(f.outstanding_requests() for f in self.factories)

    def close_all(self, reason: str) -> None:
        for f in self.factories:
            f.close_all(reason)


def listener_factory(
    config: BrokerConfig,
    endpoint: Endpoint,
    dispatcher: Dispatcher,
    reactor: Any,
    credentials: CredentialStore,
    quotas: Any = None,
) -> tuple[KafkaServerFactory, Any]:
    """The factory of one listener and its TLS context (None unless SSL/SASL_SSL); SystemExit if misconfigured."""
    from chronik.security.listeners import SecurityConfigError, sasl_listener, tls_context
    from chronik.security.principal import SslPrincipalMapper

    name, protocol = endpoint.listener_name, endpoint.security_protocol
    tls = sasl = mapper = None
    try:
        if protocol in ("SSL", "SASL_SSL"):
            tls = tls_context(config, name, sasl=protocol == "SASL_SSL")
        if protocol in ("SASL_PLAINTEXT", "SASL_SSL"):
            sasl = sasl_listener(config, name, credentials)
        if protocol == "SSL":
            rules = config.listener_value(name, "ssl.principal.mapping.rules")
            mapper = SslPrincipalMapper(rules)
    except (SecurityConfigError, ValueError) as e:
        raise SystemExit(f"cannot start listener {endpoint}: {e}") from e
    factory = KafkaServerFactory(
        dispatcher,
        reactor=reactor,
        listener_name=name,
        max_request_size=int(config.get("socket.request.max.bytes")),
        connections_max_idle_ms=int(config.get("connections.max.idle.ms")),
        tls=tls is not None,
        sasl=sasl,
        principal_mapper=mapper,
        failed_auth_delay_ms=int(config.get("connection.failed.authentication.delay.ms")),
        quotas=quotas,
    )
    return factory, tls


def start(config: BrokerConfig, reactor: Any = default_reactor) -> tuple[Broker, list[Any], Listeners]:
    """Open storage, build the broker and start listening; return (broker, ports, listeners)."""
    meta = ensure_meta_properties(config)
    storage = RocksStorage(config.data_dir / "rocksdb")
    endpoints = config.listeners
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
    try:
        broker.authorizer = Authorizer.from_config(config, storage)
    except ValueError as e:
        raise SystemExit(f"cannot start the authorizer: {e}") from e
    broker.quotas.configure(int(config.get("quota.window.num")), int(config.get("quota.window.size.seconds")))
    group = GroupCommit(storage.sync, lambda fn: threads.deferToThreadPool(reactor, reactor.getThreadPool(), fn))
    broker.group_commit = group if sync_mode(config) else None
    dispatcher = build_dispatcher(broker, config, broker.group_commit)
    credentials = store_for(storage)
    built = [(e, *listener_factory(config, e, dispatcher, reactor, credentials, broker.quotas)) for e in endpoints]
    janitor, janitor_loop = start_janitor(broker, int(config.get("log.retention.check.interval.ms")), reactor)
    reactor.addSystemEventTrigger("before", "shutdown", lambda: stop_janitor(janitor, janitor_loop))
    ports = []
    for endpoint, factory, tls in built:
        port = listen(reactor, factory, endpoint.bind_host, endpoint.port, tls)
        ports.append(port)
        advertised = config.advertised_for(endpoint.listener_name)
        if advertised is not None:
            address = (advertised.host or "127.0.0.1", advertised.port or port.getHost().port)
            broker.advertised[endpoint.listener_name] = address
            log.info("listening on %s (%s, advertised %s:%d)", endpoint, endpoint.security_protocol, *address)
        else:
            log.info("listening on %s (%s, not advertised)", endpoint, endpoint.security_protocol)
    if first.listener_name in broker.advertised:
        broker.host, broker.port = broker.advertised[first.listener_name]
    return broker, ports, Listeners([f for _e, f, _t in built])


@inlineCallbacks
def _shutdown(broker: Broker, ports: list[Any], factory: Listeners, reactor: Any) -> Any:
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
