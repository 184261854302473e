"""IncrementalAlterConfigs (API key 44), versions 0-1.

Changes only the named keys of a resource, with an operation per key: SET (0), DELETE (1),
APPEND (2) and SUBTRACT (3). Per resource, in Kafka's checking order (``ConfigAdminManager.
preprocess``, then ``ConfigurationControlManager.incrementalAlterConfigResource``):

* the same resource twice → INVALID_REQUEST ``Each resource must appear at most once.``; a key
  twice → INVALID_REQUEST ``Error due to duplicate config keys``; a null value for any operation
  but DELETE → INVALID_REQUEST ``Null value not supported for : k``; an operation id outside 0-3
  → INVALID_REQUEST ``Unknown operations type N``;
* TOPIC (2): the operations apply in order to the topic's current overrides. APPEND/SUBTRACT are
  for LIST-typed keys only (``cleanup.policy``, the throttled-replica lists), else INVALID_CONFIG
  ``Can't APPEND to key x because its type is not LIST.``; they start from the override, else the
  key's default, split on commas; APPEND adds the items not already present, SUBTRACT removes
  them. The resulting override set is validated as a whole (INVALID_CONFIG with Kafka's message),
  then the topic must exist (UNKNOWN_TOPIC_OR_PARTITION ``The topic 'x' does not exist.``); an
  illegal name → INVALID_TOPIC_EXCEPTION. Changes persist through ``Broker.set_topic_configs`` and
  take effect at once (``max.message.bytes``, ``message.timestamp.type``, ...);
* BROKER (4): name empty or this node's id (else INVALID_REQUEST). The operations apply to the
  resource's dynamic configs, which Chronik never has (see ``alter_configs``: every broker config
  is static and read-only); APPEND/SUBTRACT on a non-LIST broker key → INVALID_CONFIG ``Config
  value append is not allowed for config key: x`` (Kafka's ``prepareIncrementalConfigs``), on an
  unknown key → INVALID_CONFIG ``Unknown config name: x``; a non-empty result → INVALID_REQUEST
  ``Cannot update these configs dynamically: Set(k)``. DELETEs alone succeed and change nothing;
* BROKER_LOGGER (8), Kafka's ``RuntimeLoggerManager`` over Python :mod:`logging`: the name must be
  this node's id; SET a logger (``root`` or any existing Python logger name, else INVALID_CONFIG
  ``Logger x does not exist!``) to a log4j level ``FATAL, ERROR, WARN, INFO, DEBUG, TRACE`` (TRACE
  maps to DEBUG; anything else → INVALID_CONFIG); DELETE resets a logger to inherit its parent's
  level (not allowed for ``root``: INVALID_REQUEST); APPEND/SUBTRACT → INVALID_REQUEST. Levels are
  not persisted (as in Kafka, they last until restart);
* any other type → INVALID_REQUEST ``Unknown resource type N``.

``validate_only`` runs every check and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from chronik.broker.core import Broker
from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.handlers import HandlerEnv
from chronik.broker.handlers.alter_configs import (
    check_broker_resource,
    check_request_shape,
    check_topic_name,
    refuse_static_broker_configs,
    run_resources,
    validate_topic_change,
)
from chronik.broker.handlers.describe_configs import (
    BROKER,
    BROKER_LOGGER,
    ROOT_LOGGER,
    TOPIC,
    ResourceError,
    check_node_id,
    config_denial,
)
from chronik.config import BROKER_CONFIGS, TOPIC_CONFIGS, BrokerConfig, ConfigKey, ConfigType, to_config_string
from chronik.protocol.errors import ErrorCode
from chronik.security.acl import AclOperation
from chronik_protocol.messages.incremental_alter_configs_request import IncrementalAlterConfigsRequest
from chronik_protocol.messages.incremental_alter_configs_response import (
    AlterConfigsResourceResponse,
    IncrementalAlterConfigsResponse,
)

API_KEY = 44
MIN_VERSION, MAX_VERSION = 0, 1

SET, DELETE, APPEND, SUBTRACT = 0, 1, 2, 3
OP_NAMES = {SET: "SET", DELETE: "DELETE", APPEND: "APPEND", SUBTRACT: "SUBTRACT"}

#: log4j levels Kafka accepts for a BROKER_LOGGER (``LogLevelConfig.VALID_LOG_LEVELS``) → Python levels.
LOG4J_LEVELS = {
    "FATAL": logging.CRITICAL,
    "ERROR": logging.ERROR,
    "WARN": logging.WARNING,
    "INFO": logging.INFO,
    "DEBUG": logging.DEBUG,
    "TRACE": logging.DEBUG,
}


def _default_string(key: ConfigKey | None) -> str | None:
    if key is None or not key.has_default:
        return None
    return to_config_string(key.default, key.type)


def apply_topic_ops(current: dict[str, str], ops: list[Any]) -> dict[str, str]:
    """The topic's overrides after ``ops`` (``ConfigurationControlManager`` semantics)."""
    out = dict(current)
    for op in ops:
        if op.config_operation == SET:
            out[op.name] = op.value
        elif op.config_operation == DELETE:
            out.pop(op.name, None)
        else:
            key = TOPIC_CONFIGS.get(op.name)
            if key is None or key.type is not ConfigType.LIST:
                raise ResourceError(
                    ErrorCode.INVALID_CONFIG,
                    f"Can't {OP_NAMES[op.config_operation]} to key {op.name} because its type is not LIST.",
                )
            old = out.get(op.name)
            if old is None:
                old = _default_string(key)
            parts = [p for p in (old or "").split(",") if p]
            for item in op.value.split(","):
                if op.config_operation == APPEND:
                    if item not in parts:
                        parts.append(item)
                elif item in parts:
                    parts.remove(item)
            out[op.name] = ",".join(parts)
    return out


def apply_broker_ops(ops: list[Any]) -> dict[str, str | None]:
    """Kafka's ``prepareIncrementalConfigs`` over the (always empty) dynamic broker configs."""
    props: dict[str, str | None] = {}
    for op in ops:
        if op.config_operation == SET:
            props[op.name] = op.value
        elif op.config_operation == DELETE:
            props.pop(op.name, None)
        else:
            key = BROKER_CONFIGS.get(op.name)
            verb = "append" if op.config_operation == APPEND else "subtract"
            if key is None:
                raise ResourceError(ErrorCode.INVALID_CONFIG, f"Unknown config name: {op.name}")
            if key.type is not ConfigType.LIST:
                raise ResourceError(
                    ErrorCode.INVALID_CONFIG, f"Config value {verb} is not allowed for config key: {op.name}"
                )
            parts = [p for p in (props.get(op.name) or _default_string(key) or "").split(",") if p]
            items = op.value.split(",")
            if op.config_operation == APPEND:
                parts += [i for i in items if i not in parts]
            else:
                parts = [p for p in parts if p not in items]
            props[op.name] = ",".join(parts)
    return props


def _logger_exists(name: str) -> bool:
    return name == ROOT_LOGGER or isinstance(logging.root.manager.loggerDict.get(name), logging.Logger)


def apply_logger_ops(ops: list[Any], validate_only: bool) -> None:
    """Kafka's ``RuntimeLoggerManager``: validate every operation, then apply them all."""
    for op in ops:
        name = op.name
        if op.config_operation == SET:
            if not _logger_exists(name):
                raise ResourceError(ErrorCode.INVALID_CONFIG, f"Logger {name} does not exist!")
            if op.value not in LOG4J_LEVELS:
                raise ResourceError(
                    ErrorCode.INVALID_CONFIG,
                    f"Cannot set the log level of {name} to {op.value} as it is not a supported log level. "
                    f"Valid log levels are {', '.join(LOG4J_LEVELS)}",
                )
        elif op.config_operation == DELETE:
            if not _logger_exists(name):
                raise ResourceError(ErrorCode.INVALID_CONFIG, f"Logger {name} does not exist!")
            if name == ROOT_LOGGER:
                raise ResourceError(
                    ErrorCode.INVALID_REQUEST, f"Removing the log level of the {ROOT_LOGGER} logger is not allowed"
                )
        else:
            raise ResourceError(
                ErrorCode.INVALID_REQUEST,
                f"{OP_NAMES[op.config_operation]} operation is not allowed for the BROKER_LOGGER resource",
            )
    if validate_only:
        return
    for op in ops:
        logger = logging.getLogger() if op.name == ROOT_LOGGER else logging.getLogger(op.name)
        logger.setLevel(LOG4J_LEVELS[op.value] if op.config_operation == SET else logging.NOTSET)


def handle(
    broker: Broker,
    config: BrokerConfig,
    req: IncrementalAlterConfigsRequest,
    deny: Callable[[Any], ResourceError | None] | None = None,
) -> IncrementalAlterConfigsResponse:
    def one(r: Any) -> None:
        ops = list(r.configs)
        check_request_shape(
            [c.name for c in ops], [c.name for c in ops if c.value is None and c.config_operation != DELETE]
        )
        for c in ops:
            if c.config_operation not in OP_NAMES:
                raise ResourceError(ErrorCode.INVALID_REQUEST, f"Unknown operations type {c.config_operation}")
        if r.resource_type == TOPIC:
            check_topic_name(r.resource_name)
            existing = broker.topics.get(r.resource_name)
            new_configs = apply_topic_ops(dict(existing.configs) if existing else {}, ops)
            topic = validate_topic_change(broker, config, r.resource_name, new_configs)
            if not req.validate_only and new_configs != topic.configs:
                broker.set_topic_configs(topic, new_configs)
        elif r.resource_type == BROKER:
            check_broker_resource(broker, r.resource_name)
            refuse_static_broker_configs(apply_broker_ops(ops))
        elif r.resource_type == BROKER_LOGGER:
            check_node_id(r.resource_name, broker.node_id, what="Node")
            apply_logger_ops(ops, bool(req.validate_only))
        else:
            raise ResourceError(ErrorCode.INVALID_REQUEST, f"Unknown resource type {r.resource_type}")

    return IncrementalAlterConfigsResponse(
        responses=run_resources(req.resources, one, AlterConfigsResourceResponse, deny)
    )


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    broker, config = env.broker, env.config

    def on_alter(ctx: RequestContext, body: IncrementalAlterConfigsRequest) -> IncrementalAlterConfigsResponse:
        auth = broker.authorizer
        if not auth.enabled:
            return handle(broker, config, body)

        def deny(r: Any) -> ResourceError | None:  # ALTER_CONFIGS on the topic / cluster (loggers too) / group
            return config_denial(auth, ctx, AclOperation.ALTER_CONFIGS, r.resource_type, r.resource_name)

        return handle(broker, config, body, deny)

    dispatcher.register(API_KEY, Handler(MIN_VERSION, MAX_VERSION, on_alter))
