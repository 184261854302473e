"""AlterConfigs (API key 33), versions 0-2.

The legacy, non-incremental API: the given set *replaces* every dynamic config of the resource
(keys not named are removed). Per resource, in the order Kafka checks (``ConfigAdminManager.
preprocess``, then the controller's ``ConfigurationControlManager.legacyAlterConfigs``):

* the same resource twice in one request → INVALID_REQUEST ``Each resource must appear at most
  once.`` (both); a key twice → INVALID_REQUEST ``Error due to duplicate config keys``; a null
  value → INVALID_REQUEST ``Null value not supported for : k1, k2``;
* TOPIC (2): an illegal name → INVALID_TOPIC_EXCEPTION; an invalid config set → INVALID_CONFIG with
  Kafka's message (:func:`chronik.config.first_topic_config_error`: ``Unknown topic config name:
  x``, ``Invalid value v for configuration k: ...``); an unknown topic → UNKNOWN_TOPIC_OR_PARTITION
  ``The topic 'x' does not exist.``; else the overrides are replaced through
  ``Broker.set_topic_configs`` (persisted, and in effect for the next produce/fetch at once);
* BROKER (4): the name must be empty (cluster default) or this node's id (else INVALID_REQUEST
  ``Unexpected broker id, expected 1, but received 2`` / ``Node id must be an integer, ...``).
  **Decision:** Chronik has no dynamic broker configs — every broker config is static (file,
  environment, ``--override``) and DescribeConfigs reports them all read-only — so a non-empty
  config set is refused as Kafka refuses read-only broker configs: INVALID_REQUEST ``Cannot update
  these configs dynamically: Set(k1, k2)`` (Kafka's ``DynamicBrokerConfig.validateConfigs``
  message, turned into INVALID_REQUEST by ``ConfigAdminManager``). An empty set succeeds and
  changes nothing;
* any other type (BROKER_LOGGER is IncrementalAlterConfigs-only, as in Kafka) → INVALID_REQUEST
  ``Unknown resource type N``.

``validate_only`` runs every check and changes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from chronik.broker.core import Broker
from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.handlers import HandlerEnv
from chronik.broker.handlers.describe_configs import (
    BROKER,
    BROKER_LOGGER,
    TOPIC,
    ResourceError,
    check_node_id,
    config_denial,
)
from chronik.broker.topics import Topic, topic_name_error
from chronik.config import BrokerConfig, first_topic_config_error
from chronik.protocol.errors import ErrorCode
from chronik.security.acl import AclOperation
from chronik_protocol.messages.alter_configs_request import AlterConfigsRequest
from chronik_protocol.messages.alter_configs_response import AlterConfigsResourceResponse, AlterConfigsResponse

API_KEY = 33
MIN_VERSION, MAX_VERSION = 0, 2


def duplicate_resources(resources: Sequence[Any]) -> set[tuple[int, str]]:
    """``(type, name)`` of the resources named more than once in a request."""
    counts = Counter((r.resource_type, r.resource_name) for r in resources)
    return {k for k, n in counts.items() if n > 1}


def check_request_shape(names: Sequence[str], null_names: Sequence[str]) -> None:
    """Kafka's preprocessing: duplicate keys, then null values (both INVALID_REQUEST)."""
    if len(set(names)) != len(names):
        raise ResourceError(ErrorCode.INVALID_REQUEST, "Error due to duplicate config keys")
    if null_names:
        raise ResourceError(ErrorCode.INVALID_REQUEST, "Null value not supported for : " + ", ".join(null_names))


def check_topic_name(name: str) -> None:
    problem = topic_name_error(name)
    if problem:
        raise ResourceError(ErrorCode.INVALID_TOPIC_EXCEPTION, problem)


def validate_topic_change(broker: Broker, config: BrokerConfig, name: str, new_configs: dict[str, str]) -> Topic:
    """The controller's ``validateAlterConfig`` for a topic: configs first, then existence."""
    error = first_topic_config_error(new_configs, config)
    if error is not None:
        raise ResourceError(ErrorCode.INVALID_CONFIG, error.message)
    topic = broker.topics.get(name)
    if topic is None:
        raise ResourceError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"The topic '{name}' does not exist.")
    return topic


def check_broker_resource(broker: Broker, name: str) -> None:
    """A BROKER resource name: empty (cluster default) or this node's id."""
    if name:
        check_node_id(name, broker.node_id, what="Node")


def refuse_static_broker_configs(dynamic: dict[str, str | None]) -> None:
    """Every Chronik broker config is read-only: a resulting non-empty dynamic set is refused."""
    if dynamic:
        raise ResourceError(
            ErrorCode.INVALID_REQUEST, f"Cannot update these configs dynamically: Set({', '.join(dynamic)})"
        )


def run_resources(
    resources: Sequence[Any],
    one: Callable[[Any], None],
    make: Callable[..., Any],
    deny: Callable[[Any], ResourceError | None] | None = None,
) -> list[Any]:
    """Answer every resource: ``one(resource)`` raising :class:`ResourceError` on failure; ``deny``
    (ACLs, after the duplicate check, before validation) may refuse a resource first."""
    dups = duplicate_resources(resources)
    out = []
    for r in resources:
        res = make(
            error_code=ErrorCode.NONE, error_message=None, resource_type=r.resource_type, resource_name=r.resource_name
        )
        try:
            if (r.resource_type, r.resource_name) in dups:
                raise ResourceError(ErrorCode.INVALID_REQUEST, "Each resource must appear at most once.")
            refusal = deny(r) if deny is not None else None
            if refusal is not None:
                raise refusal
            one(r)
        except ResourceError as e:
            res.error_code, res.error_message = e.code, e.message
        out.append(res)
    return out


def handle(
    broker: Broker,
    config: BrokerConfig,
    req: AlterConfigsRequest,
    deny: Callable[[Any], ResourceError | None] | None = None,
) -> AlterConfigsResponse:
    def one(r: Any) -> None:
        check_request_shape([c.name for c in r.configs], [c.name for c in r.configs if c.value is None])
        new_configs = {c.name: c.value for c in r.configs}
        if r.resource_type == TOPIC:
            check_topic_name(r.resource_name)
            topic = validate_topic_change(broker, config, r.resource_name, new_configs)
            if not req.validate_only:
                broker.set_topic_configs(topic, new_configs)
        elif r.resource_type == BROKER:
            check_broker_resource(broker, r.resource_name)
            refuse_static_broker_configs(new_configs)
        else:
            raise ResourceError(ErrorCode.INVALID_REQUEST, f"Unknown resource type {r.resource_type}")

    return AlterConfigsResponse(responses=run_resources(req.resources, one, AlterConfigsResourceResponse, deny))


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    broker, config = env.broker, env.config

    def on_alter(ctx: RequestContext, body: AlterConfigsRequest) -> AlterConfigsResponse:
        auth = broker.authorizer
        if not auth.enabled:
            return handle(broker, config, body)

        def deny(r: Any) -> ResourceError | None:  # ALTER_CONFIGS on the topic / cluster (no BROKER_LOGGER here)
            if r.resource_type == BROKER_LOGGER:
                return None
            return config_denial(auth, ctx, AclOperation.ALTER_CONFIGS, r.resource_type, r.resource_name)

        return handle(broker, config, body, deny)

    dispatcher.register(API_KEY, Handler(MIN_VERSION, MAX_VERSION, on_alter))
