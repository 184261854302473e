"""DeleteTopics (API key 20), versions 0-6.

By name (v0-5 ``topic_names``; v6 ``topics`` with a name) or by id (v6 with a null name):
unknown → UNKNOWN_TOPIC_OR_PARTITION / UNKNOWN_TOPIC_ID; ``delete.topic.enable=false`` →
TOPIC_DELETION_DISABLED. Deleting removes the topic's data at once. As in Kafka's
``ControllerApis.deleteTopics``: a topic given by both name and id (v6) → INVALID_REQUEST; a name
or id given twice → one INVALID_REQUEST result for it, and it is not deleted.
"""

from __future__ import annotations

from collections import Counter

from chronik.broker.authz import denied
from chronik.broker.core import Broker
from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.handlers import HandlerEnv
from chronik.protocol.errors import ErrorCode
from chronik.protocol.wire import ZERO_UUID
from chronik.security.acl import CLUSTER_NAME, AclOperation, ResourceType
from chronik_protocol.messages.delete_topics_request import DeleteTopicsRequest, DeleteTopicState
from chronik_protocol.messages.delete_topics_response import DeletableTopicResult, DeleteTopicsResponse

API_KEY = 20
MIN_VERSION, MAX_VERSION = 0, 6
AUTHORIZATION_FAILED = "Topic authorization failed."


def _error(w: DeleteTopicState, message: str) -> DeletableTopicResult:
    return DeletableTopicResult(
        name=w.name, topic_id=w.topic_id, error_code=ErrorCode.INVALID_REQUEST, error_message=message
    )


def _wanted(version: int, req: DeleteTopicsRequest) -> list[DeleteTopicState]:
    return req.topics if version >= 6 else [DeleteTopicState(name=n) for n in req.topic_names]


def handle(
    broker: Broker,
    version: int,
    req: DeleteTopicsRequest,
    *,
    enabled: bool,
    no_describe: frozenset[str] = frozenset(),
    no_delete: frozenset[str] = frozenset(),
) -> DeleteTopicsResponse:
    """ACLs as ``ControllerApis.deleteTopics``: by name, no DESCRIBE → TOPIC_AUTHORIZATION_FAILED before
    the existence check, then no DELETE → TOPIC_AUTHORIZATION_FAILED (zero id); by id, an unknown id
    is UNKNOWN_TOPIC_ID, a known one without DELETE → TOPIC_AUTHORIZATION_FAILED naming the topic
    only if it may be described."""
    wanted = _wanted(version, req)
    counts = Counter(w.name if w.name is not None else w.topic_id for w in wanted)
    answered: set[object] = set()
    results = []
    for w in wanted:
        if w.name is not None and w.topic_id != ZERO_UUID:
            results.append(_error(w, "You may not specify both topic name and topic id."))
            continue
        key = w.name if w.name is not None else w.topic_id
        if counts[key] > 1:
            if key not in answered:
                answered.add(key)
                results.append(_error(w, f"Duplicate topic {'name' if w.name is not None else 'id'}."))
            continue
        by_id = w.name is None
        topic = broker.topics_by_id.get(w.topic_id) if by_id else broker.topics.get(w.name)
        res = DeletableTopicResult(
            name=w.name if not by_id else (topic.name if topic else None),
            topic_id=topic.topic_id if topic else (w.topic_id or ZERO_UUID),
        )
        results.append(res)
        if topic is not None and by_id and topic.name in no_delete:
            res.name = None if topic.name in no_describe else topic.name
            res.error_code, res.error_message = ErrorCode.TOPIC_AUTHORIZATION_FAILED, AUTHORIZATION_FAILED
            continue
        if not by_id and (w.name in no_describe or (topic is not None and w.name in no_delete)):
            res.topic_id = ZERO_UUID
            res.error_code, res.error_message = ErrorCode.TOPIC_AUTHORIZATION_FAILED, AUTHORIZATION_FAILED
            continue
        if topic is None:
            res.error_code = ErrorCode.UNKNOWN_TOPIC_ID if by_id else ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
            res.error_message = (
                "This server does not host this topic ID."
                if by_id
                else ("This server does not host this topic-partition.")
            )
            continue
        if not enabled:
            res.error_code = ErrorCode.TOPIC_DELETION_DISABLED
            res.error_message = "Topic deletion is disabled."
            continue
        broker.delete_topic(topic)
    return DeleteTopicsResponse(responses=results)


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    broker, config = env.broker, env.config

    def on_delete(ctx: RequestContext, body: DeleteTopicsRequest) -> DeleteTopicsResponse:
        auth = broker.authorizer
        no_describe = no_delete = frozenset[str]()
        if auth.enabled and not auth.authorize(
            ctx, AclOperation.DELETE, ResourceType.CLUSTER, CLUSTER_NAME, log_denied=False
        ):
            names = set()
            for w in _wanted(ctx.api_version, body):
                topic = broker.topics_by_id.get(w.topic_id) if w.name is None else None
                names.add(topic.name if topic is not None else w.name)
            no_describe = denied(auth, ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, names)
            no_delete = denied(auth, ctx, AclOperation.DELETE, ResourceType.TOPIC, names)
        return handle(
            broker,
            ctx.api_version,
            body,
            enabled=bool(config.get("delete.topic.enable")),
            no_describe=no_describe,
            no_delete=no_delete,
        )

    dispatcher.register(API_KEY, Handler(MIN_VERSION, MAX_VERSION, on_delete))
