"""CreateTopics (API key 19), versions 0-7.

Per topic, as Kafka's controller decides: an illegal name, or one that equals an existing
topic's once '.' and '_' are unified (``Topic.hasCollision``) → INVALID_TOPIC_EXCEPTION; a name
given twice in one request → one INVALID_REQUEST result for it; an existing topic →
TOPIC_ALREADY_EXISTS; ``num_partitions`` -1 means ``num.partitions`` (v4+), 0 or below -1 →
INVALID_PARTITIONS; ``replication_factor`` -1 means ``default.replication.factor``, 0 or
below -1 → INVALID_REPLICATION_FACTOR, more than the one broker → INVALID_REPLICATION_FACTOR;
manual ``assignments`` exclude both counts (else INVALID_REQUEST) and must name only this
broker, partitions 0..n-1 (else INVALID_REPLICA_ASSIGNMENT); invalid configs → INVALID_CONFIG.
A request creating more than 10,000 partitions in all (Kafka's ``MAX_RECORDS_PER_USER_OP``) →
POLICY_VIOLATION for the topics past the limit. ``validate_only`` checks without creating.
v5+ answers with the partition count, replication factor and every topic config (an empty list
for a topic in error, like Kafka); v7+ with the topic id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from chronik.broker.authz import denied
from chronik.broker.core import Broker
from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.handlers import HandlerEnv
from chronik.broker.topics import topic_name_error
from chronik.protocol.errors import ErrorCode
from chronik.protocol.wire import ZERO_UUID
from chronik.security.acl import CLUSTER_NAME, AclOperation, ResourceType
from chronik_protocol.messages.create_topics_request import CreatableTopic, CreateTopicsRequest
from chronik_protocol.messages.create_topics_response import (
    CreatableTopicConfigs,
    CreatableTopicResult,
    CreateTopicsResponse,
)

API_KEY = 19
MIN_VERSION, MAX_VERSION = 0, 7
MAX_RECORDS_PER_USER_OP = 10000  # Kafka's controller limit on records one request may create

#: ``(configs) -> {name: error message}`` and ``(topic configs) -> [(name, value, source, sensitive, read_only)]``
ValidateConfigs = Callable[[dict[str, str]], dict[str, str]]
DescribeConfigs = Callable[[dict[str, str]], list[tuple[str, str | None, int, bool, bool]]]


def _colliding_topic(broker: Broker, name: str) -> str | None:
    """An existing topic whose name equals ``name`` once '.' and '_' are unified (metric names collide)."""
    if "." not in name and "_" not in name:
        return None
    unified = name.replace(".", "_")
    return next((n for n in broker.topics if n != name and n.replace(".", "_") == unified), None)


def _check(
    broker: Broker, t: CreatableTopic, version: int, default_partitions: int, default_rf: int, validate: ValidateConfigs
) -> tuple[ErrorCode, str | None, int, int, dict[str, str]]:
    """(error, message, partitions, replication factor, configs) for one requested topic."""
    problem = topic_name_error(t.name)
    if problem:
        return ErrorCode.INVALID_TOPIC_EXCEPTION, problem, 0, 0, {}
    if t.name in broker.topics:
        return ErrorCode.TOPIC_ALREADY_EXISTS, f"Topic '{t.name}' already exists.", 0, 0, {}
    colliding = _colliding_topic(broker, t.name)
    if colliding is not None:
        return (
            ErrorCode.INVALID_TOPIC_EXCEPTION,
            f"Topic '{t.name}' collides with existing topic: {colliding}",
            0,
            0,
            {},
        )
    configs = {c.name: c.value for c in t.configs}
    if t.assignments:
        if t.num_partitions != -1 or t.replication_factor != -1:
            return (
                ErrorCode.INVALID_REQUEST,
                "Both numPartitions or replicationFactor and replicasAssignments "
                "were set. Both cannot be used at the same time.",
                0,
                0,
                {},
            )
        indexes = sorted(a.partition_index for a in t.assignments)
        if indexes != list(range(len(indexes))):
            return (
                ErrorCode.INVALID_REPLICA_ASSIGNMENT,
                "Partitions should be a consecutive 0-based integer sequence",
                0,
                0,
                {},
            )
        for a in t.assignments:
            if a.broker_ids != [broker.node_id]:
                return (
                    ErrorCode.INVALID_REPLICA_ASSIGNMENT,
                    f"The manual partition assignment includes broker(s) other than {broker.node_id} "
                    f"or an empty replica list: {a.broker_ids}",
                    0,
                    0,
                    {},
                )
        partitions, rf = len(indexes), 1
    else:
        partitions = default_partitions if t.num_partitions == -1 else t.num_partitions
        rf = default_rf if t.replication_factor == -1 else t.replication_factor
        if partitions <= 0:
            return (
                ErrorCode.INVALID_PARTITIONS,
                "Number of partitions was set to an invalid non-positive value.",
                0,
                0,
                {},
            )
        if rf <= 0:
            return (
                ErrorCode.INVALID_REPLICATION_FACTOR,
                "Replication factor must be larger than 0, or -1 to use the default value.",
                0,
                0,
                {},
            )
        if rf > 1:
            return (
                ErrorCode.INVALID_REPLICATION_FACTOR,
                f"Unable to replicate the partition {rf} time(s): The target replication factor of {rf} cannot "
                "be reached because only 1 broker(s) are registered.",
                0,
                0,
                {},
            )
    bad = validate(configs)
    if bad:
        return ErrorCode.INVALID_CONFIG, next(iter(bad.values())), 0, 0, {}
    return ErrorCode.NONE, None, partitions, rf, configs


def handle(
    broker: Broker,
    version: int,
    req: CreateTopicsRequest,
    *,
    default_partitions: int,
    default_rf: int,
    validate: ValidateConfigs,
    describe: DescribeConfigs,
    denied_topics: frozenset[str] = frozenset(),
    hidden_configs: frozenset[str] = frozenset(),
) -> CreateTopicsResponse:
    """``denied_topics`` (no CREATE on the cluster nor the topic) → TOPIC_AUTHORIZATION_FAILED;
    created ``hidden_configs`` topics (no DESCRIBE_CONFIGS) answer topic_config_error_code
    TOPIC_AUTHORIZATION_FAILED without counts or configs (``ControllerApis.createTopics``)."""
    counts = Counter(t.name for t in req.topics)
    budget = MAX_RECORDS_PER_USER_OP
    results = []
    answered: set[str] = set()
    for t in req.topics:
        if t.name in answered:  # a duplicate name gets one result, as in Kafka's ControllerApis
            continue
        answered.add(t.name)
        res = CreatableTopicResult(
            name=t.name, topic_id=ZERO_UUID, num_partitions=-1, replication_factor=-1, configs=[]
        )
        results.append(res)
        if counts[t.name] > 1:
            res.error_code = ErrorCode.INVALID_REQUEST
            res.error_message = f"Create topics request from client contains a duplicate topic name: {t.name}"
            continue
        if t.name in denied_topics:
            res.error_code, res.error_message = ErrorCode.TOPIC_AUTHORIZATION_FAILED, "Authorization failed."
            continue
        error, message, partitions, rf, configs = _check(broker, t, version, default_partitions, default_rf, validate)
        if not error and budget - partitions < 0:
            error, message = ErrorCode.POLICY_VIOLATION, "Unable to perform excessively large batch operation."
        res.error_code, res.error_message = error, message
        if error:
            continue
        budget -= partitions
        if not req.validate_only:
            topic = broker.create_topic(t.name, partitions, configs)
            res.topic_id = topic.topic_id
        if t.name in hidden_configs:
            res.topic_config_error_code = ErrorCode.TOPIC_AUTHORIZATION_FAILED
            continue
        res.num_partitions, res.replication_factor = partitions, rf
        if version >= 5:
            res.configs = [
                CreatableTopicConfigs(name=n, value=v, read_only=ro, config_source=src, is_sensitive=sens)
                for n, v, src, sens, ro in describe(configs)
            ]
    return CreateTopicsResponse(topics=results)


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    from chronik.config import describe_topic_configs, validate_topic_configs

    broker, config = env.broker, env.config

    def describe(overrides: dict[str, str]) -> list[tuple[str, str | None, int, bool, bool]]:
        return [
            (e.name, e.value, int(e.source), e.is_sensitive, e.read_only)
            for e in describe_topic_configs(overrides, config, include_synonyms=False)
        ]

    def on_create(ctx: RequestContext, body: CreateTopicsRequest) -> CreateTopicsResponse:
        auth = broker.authorizer
        blocked = hidden = frozenset[str]()
        if auth.enabled:
            names = {t.name for t in body.topics}
            if not auth.authorize(ctx, AclOperation.CREATE, ResourceType.CLUSTER, CLUSTER_NAME, log_denied=False):
                blocked = denied(auth, ctx, AclOperation.CREATE, ResourceType.TOPIC, names)
            allowed = auth.authorized_names(ctx, AclOperation.DESCRIBE_CONFIGS, ResourceType.TOPIC, names)
            hidden = frozenset(names.difference(allowed))
        return handle(
            broker,
            ctx.api_version,
            body,
            default_partitions=int(config.get("num.partitions")),
            default_rf=int(config.get("default.replication.factor")),
            validate=lambda c: {k: e.message for k, e in validate_topic_configs(c, config).items()},
            describe=describe,
            denied_topics=blocked,
            hidden_configs=hidden,
        )

    dispatcher.register(API_KEY, Handler(MIN_VERSION, MAX_VERSION, on_create))
