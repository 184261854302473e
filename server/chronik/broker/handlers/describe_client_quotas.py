"""DescribeClientQuotas (API key 48), versions 0-1 (KIP-546; flexible from v1).

As Kafka 4.4 (``KafkaApis.handleDescribeClientQuotasRequest`` → ``ClientQuotasImage.describe``):
the caller needs DESCRIBE_CONFIGS on the cluster, else CLUSTER_AUTHORIZATION_FAILED "Cluster
authorization failed." with null entries. Each filter component names an entity type (``user``,
``client-id``, ``ip``) and a match: 0 = that exact name, 1 = the default entity (null match),
2 = any entity with the type; ``strict`` keeps only entities with exactly the filtered types, and
no components means every entity (none when strict). A bad filter answers a top-level error with
Kafka's message and null entries: INVALID_REQUEST for an empty or repeated type, a match string
that contradicts the match type, an unknown match type, or ip combined with user/client-id;
UNSUPPORTED_VERSION for an unknown entity type. Success carries an empty (not null) error message.
Values are doubles; entities and values are listed in Kafka's (Java ``HashMap``) order within an
entry; entries come in the order the quotas were stored (Kafka: ``HashMap`` order).
"""

from __future__ import annotations

from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.handlers import HandlerEnv
from chronik.protocol.errors import ErrorCode
from chronik.quotas import ClientQuotas
from chronik.quotas.model import DescribeFilterError, entity_pairs, java_hash_order
from chronik.security.acl import AclOperation, Authorizer
from chronik_protocol.messages.describe_client_quotas_request import DescribeClientQuotasRequest
from chronik_protocol.messages.describe_client_quotas_response import (
    DescribeClientQuotasResponse,
    EntityData,
    EntryData,
    ValueData,
)

API_KEY = 48
MIN_VERSION, MAX_VERSION = 0, 1


def handle(
    quotas: ClientQuotas, authorizer: Authorizer, ctx: RequestContext, req: DescribeClientQuotasRequest
) -> DescribeClientQuotasResponse:
    if not authorizer.authorize_cluster(ctx, AclOperation.DESCRIBE_CONFIGS):
        return DescribeClientQuotasResponse(
            error_code=ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
            error_message="Cluster authorization failed.",
            entries=None,
        )
    try:
        found = quotas.describe([(c.entity_type, c.match_type, c.match) for c in req.components], req.strict)
    except DescribeFilterError as e:
        return DescribeClientQuotasResponse(error_code=e.error_code, error_message=e.message, entries=None)
    entries = []
    for entity, values in found:
        entries.append(
            EntryData(
                entity=[EntityData(entity_type=t, entity_name=n) for t, n in entity_pairs(entity)],
                values=[ValueData(key=k, value=values[k]) for k in java_hash_order(list(values), 16)],
            )
        )
    return DescribeClientQuotasResponse(error_code=ErrorCode.NONE, error_message="", entries=entries)


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    broker = env.broker
    dispatcher.register(
        API_KEY,
        Handler(MIN_VERSION, MAX_VERSION, lambda ctx, body: handle(broker.quotas, broker.authorizer, ctx, body)),
    )
