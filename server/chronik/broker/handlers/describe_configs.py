"""DescribeConfigs (API key 32), versions 0-4.

Per resource, as Kafka's ``ConfigHelper.describeConfigs`` answers (KRaft):

* TOPIC (2): an illegal name → INVALID_TOPIC_EXCEPTION; an unknown topic →
  UNKNOWN_TOPIC_OR_PARTITION (no message, as Kafka); else every topic config
  (:func:`chronik.config.describe_topic_configs`) with its value, source (DYNAMIC_TOPIC_CONFIG for
  the topic's overrides, STATIC_BROKER_CONFIG when a broker synonym is set, else DEFAULT_CONFIG),
  ``read_only`` false and ``sensitive`` for passwords.
* BROKER (4): the name must be this node's id → every broker config
  (:func:`chronik.config.describe_broker_configs`, all read-only: Chronik has no dynamic broker
  configs). The empty name is the cluster-wide default resource: Kafka lists only the *dynamic*
  cluster defaults there, and since Chronik has none the answer is an empty list. A
  non-integer name or another broker id → INVALID_REQUEST with Kafka's messages (``Unexpected
  broker id, expected 1 or empty string, but received 2``), as a KRaft broker answers for a
  non-local broker.
* BROKER_LOGGER (8): the name must be this node's id (empty → INVALID_REQUEST ``Broker id must not
  be empty``); the answer is the Python loggers (``root`` plus every named logger) with their
  effective levels in log4j spelling (``WARNING`` → ``WARN``, ``CRITICAL`` → ``FATAL``), source
  DYNAMIC_BROKER_LOGGER_CONFIG, not read-only (IncrementalAlterConfigs changes them), config type
  0 (UNKNOWN) and documentation "" (v3+), as Kafka's ``ConfigHelper`` leaves them.
* any other type (GROUP, CLIENT_METRICS, unknown ids) → INVALID_REQUEST ``Unsupported resource
  type``: Chronik has no group or client-metrics configs.

``configuration_keys`` limits the answer (unknown keys are left out, as in Kafka; null or empty
means all). Synonyms are sent only when ``include_synonyms`` (v1+), documentation only when
``include_documentation`` (v3+); ``config_type`` is v3+. v0 has ``is_default`` instead of the
source: true for DEFAULT_CONFIG.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Iterable

from chronik.broker.core import Broker
from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.handlers import HandlerEnv
from chronik.broker.topics import topic_name_error
from chronik.config import BrokerConfig, ConfigEntry, ConfigSource
from chronik.protocol.errors import ErrorCode
from chronik.security.acl import CLUSTER_NAME, AclOperation, Authorizer, ResourceType
from chronik.security.acl.authorizer import RequestIdentity
from chronik_protocol.messages.describe_configs_request import DescribeConfigsRequest, DescribeConfigsResource
from chronik_protocol.messages.describe_configs_response import (
    DescribeConfigsResourceResult,
    DescribeConfigsResponse,
    DescribeConfigsResult,
    DescribeConfigsSynonym,
)

API_KEY = 32
MIN_VERSION, MAX_VERSION = 0, 4

TOPIC, BROKER, BROKER_LOGGER, GROUP, CLIENT_METRICS = 2, 4, 8, 16, 32

#: Python level names in log4j spelling (what Kafka reports for a BROKER_LOGGER resource).
LOG4J_LEVEL_NAMES = {"DEBUG": "DEBUG", "INFO": "INFO", "WARNING": "WARN", "ERROR": "ERROR", "CRITICAL": "FATAL"}
ROOT_LOGGER = "root"
_JAVA_INT = re.compile(r"[+-]?[0-9]+")


class ResourceError(Exception):
    """A per-resource error (Kafka's ``ApiException`` subclasses)."""

    def __init__(self, code: ErrorCode, message: str | None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


#: Config resource type → (ACL resource type, error when denied): ``KafkaApis``/``ControllerApis``'
#: checks. Kafka 4.4.0 authorizes BROKER, BROKER_LOGGER, GROUP and CLIENT_METRICS configs on the cluster
#: (a GROUP resource is refused with CLUSTER_AUTHORIZATION_FAILED even with DESCRIBE_CONFIGS on the group:
#: found by the ACL matrix).
_ACL_TARGETS: dict[int, tuple[ResourceType, ErrorCode, str]] = {
    TOPIC: (ResourceType.TOPIC, ErrorCode.TOPIC_AUTHORIZATION_FAILED, "Topic authorization failed."),
    BROKER: (ResourceType.CLUSTER, ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed."),
    BROKER_LOGGER: (ResourceType.CLUSTER, ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed."),
    GROUP: (ResourceType.CLUSTER, ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed."),
    CLIENT_METRICS: (ResourceType.CLUSTER, ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed."),
}


def config_denial(
    auth: Authorizer, ctx: RequestIdentity, op: AclOperation, resource_type: int, name: str
) -> ResourceError | None:
    """Why the caller may not ``op`` (DESCRIBE_CONFIGS/ALTER_CONFIGS) the config resource, if it may not;
    unknown resource types are left to the handler."""
    target = _ACL_TARGETS.get(resource_type)
    if not auth.enabled or target is None:
        return None
    acl_type, code, message = target
    if auth.authorize(ctx, op, acl_type, CLUSTER_NAME if acl_type is ResourceType.CLUSTER else name):
        return None
    return ResourceError(code, message)


def check_node_id(name: str, node_id: int, *, what: str = "Broker", or_empty: bool = False) -> None:
    """Kafka's broker-id check of a resource name: INVALID_REQUEST unless ``name`` is ``node_id``.

    ``what`` is ``Broker`` (DescribeConfigs' ``resourceNameToBrokerId``) or ``Node`` (AlterConfigs'
    ``validateResourceNameIsCurrentNodeId``); ``or_empty`` adds DescribeConfigs' "or empty string".
    """
    if not _JAVA_INT.fullmatch(name):  # Integer.parseInt: no spaces or underscores, unlike int()
        raise ResourceError(ErrorCode.INVALID_REQUEST, f"{what} id must be an integer, but it is: {name}")
    if int(name) != node_id:
        expected = f"{node_id} or empty string" if or_empty else str(node_id)
        raise ResourceError(
            ErrorCode.INVALID_REQUEST, f"Unexpected broker id, expected {expected}, but received {name}"
        )


def level_name(level: int) -> str:
    """A :mod:`logging` level in log4j spelling."""
    name = logging.getLevelName(level)
    return LOG4J_LEVEL_NAMES.get(name, name if isinstance(name, str) else str(level))


def current_loggers() -> dict[str, str]:
    """``root`` and every named Python logger with its effective level (log4j spelling)."""
    out = {ROOT_LOGGER: level_name(logging.getLogger().level)}
    for name in sorted(logging.root.manager.loggerDict):
        logger = logging.root.manager.loggerDict[name]
        if isinstance(logger, logging.Logger):
            out[name] = level_name(logger.getEffectiveLevel())
    return out


def _result(entry: ConfigEntry, version: int, include_synonyms: bool) -> DescribeConfigsResourceResult:
    return DescribeConfigsResourceResult(
        name=entry.name,
        value=entry.value,
        read_only=entry.read_only,
        is_default=entry.source == ConfigSource.DEFAULT_CONFIG,
        config_source=int(entry.source),
        is_sensitive=entry.is_sensitive,
        synonyms=[DescribeConfigsSynonym(name=s.name, value=s.value, source=int(s.source)) for s in entry.synonyms]
        if include_synonyms and version >= 1
        else [],
        config_type=entry.config_type if version >= 3 else 0,
        documentation=entry.documentation if version >= 3 else None,
    )


def _logger_entries(names: Iterable[str] | None) -> list[ConfigEntry]:
    wanted = set(names) if names else None
    return [
        ConfigEntry(
            name=n,
            value=v,
            source=ConfigSource.DYNAMIC_BROKER_LOGGER_CONFIG,
            is_sensitive=False,
            read_only=False,
            synonyms=(),
            config_type=0,  # Kafka leaves UNKNOWN and an empty documentation for loggers
            documentation="",
        )
        for n, v in current_loggers().items()
        if wanted is None or n in wanted
    ]


def _describe_one(
    broker: Broker, config: BrokerConfig, r: DescribeConfigsResource, synonyms: bool, docs: bool
) -> list[ConfigEntry]:
    from chronik.config import describe_broker_configs, describe_topic_configs

    keys = r.configuration_keys
    if r.resource_type == TOPIC:
        problem = topic_name_error(r.resource_name)
        if problem:
            raise ResourceError(ErrorCode.INVALID_TOPIC_EXCEPTION, problem)
        topic = broker.topics.get(r.resource_name)
        if topic is None:
            raise ResourceError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, None)
        return describe_topic_configs(
            topic.configs, config, keys, include_synonyms=synonyms, include_documentation=docs
        )
    if r.resource_type == BROKER:
        if not r.resource_name:
            return []  # the dynamic cluster-wide defaults: Chronik has none
        check_node_id(r.resource_name, broker.node_id, or_empty=True)
        return describe_broker_configs(config, keys, include_synonyms=synonyms, include_documentation=docs)
    if r.resource_type == BROKER_LOGGER:
        if not r.resource_name:
            raise ResourceError(ErrorCode.INVALID_REQUEST, "Broker id must not be empty")
        check_node_id(r.resource_name, broker.node_id)
        return _logger_entries(keys)
    raise ResourceError(ErrorCode.INVALID_REQUEST, f"Unsupported resource type: {r.resource_type}")


def handle(broker: Broker, config: BrokerConfig, version: int, req: DescribeConfigsRequest) -> DescribeConfigsResponse:
    synonyms = bool(req.include_synonyms) and version >= 1
    docs = bool(req.include_documentation) and version >= 3
    results = []
    for r in req.resources:
        res = DescribeConfigsResult(
            error_code=ErrorCode.NONE,
            error_message=None,
            resource_type=r.resource_type,
            resource_name=r.resource_name,
            configs=[],
        )
        try:
            entries = _describe_one(broker, config, r, synonyms, docs)
        except ResourceError as e:
            res.error_code, res.error_message = e.code, e.message
        else:
            res.configs = [_result(e, version, synonyms) for e in entries]
        results.append(res)
    return DescribeConfigsResponse(results=results)


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    broker, config = env.broker, env.config

    def on_describe(ctx: RequestContext, body: DescribeConfigsRequest) -> DescribeConfigsResponse:
        auth = broker.authorizer
        if not auth.enabled:
            return handle(broker, config, ctx.api_version, body)
        allowed, refused = [], []  # the refused ones are answered after the others, as Kafka does
        for r in body.resources:
            why = config_denial(auth, ctx, AclOperation.DESCRIBE_CONFIGS, r.resource_type, r.resource_name)
            if why is None:
                allowed.append(r)
            else:
                refused.append(
                    DescribeConfigsResult(
                        error_code=why.code,
                        error_message=why.message,
                        resource_type=r.resource_type,
                        resource_name=r.resource_name,
                        configs=[],
                    )
                )
        subset = copy.copy(body)
        subset.resources = allowed
        response = handle(broker, config, ctx.api_version, subset)
        response.results.extend(refused)
        return response

    dispatcher.register(API_KEY, Handler(MIN_VERSION, MAX_VERSION, on_describe))
