"""AlterClientQuotas (API key 49), versions 0-1 (KIP-546; flexible from v1).

As Kafka 4.4 (``ControllerApis.handleAlterClientQuotas`` → ``ClientQuotaControlManager``): the
caller needs ALTER_CONFIGS on the cluster, else every entry answers CLUSTER_AUTHORIZATION_FAILED.
Each entry names an entity (``user``, ``client-id`` or ``ip`` with a name, or null for the
``<default>`` entity; a type given twice keeps the last name) and ops: set ``key`` to ``value``,
or remove it (``remove`` true; removing an absent or unknown key succeeds). An entry fails as a
whole with INVALID_REQUEST and Kafka's message (``chronik.quotas.model``): unknown entity type,
empty entity or name, ip with user/client-id, an unknown key for the entity
(``producer_byte_rate``, ``consumer_byte_rate``, ``request_percentage``,
``controller_mutation_rate``; ip: ``connection_creation_rate``), a value that is not finite,
not > 0, fractional or out of range for an integral key, a key given twice ("Ignoring duplicate
entity ..."). An entity named by two entries answers once, with "Ignoring duplicate entity"
(its first entry is applied). Valid entries are applied together and at once to enforcement,
unless ``validate_only``; they are durable (storage metadata) before the answer, which waits for
``storage.sync()`` in a worker thread. One result per distinct entity, in request order (Kafka:
``HashMap`` order), the entity listed as Kafka does; a success carries a null message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet import threads
from twisted.internet.defer import Deferred

from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.handlers import HandlerEnv
from chronik.protocol.errors import ErrorCode
from chronik.quotas import ClientQuotas
from chronik.quotas.model import entity_of, entity_pairs
from chronik.security.acl import AclOperation, Authorizer
from chronik.security.acl.requests import cluster_denied_message
from chronik_protocol.messages.alter_client_quotas_request import AlterClientQuotasRequest
from chronik_protocol.messages.alter_client_quotas_response import AlterClientQuotasResponse, EntityData, EntryData

API_KEY = 49
MIN_VERSION, MAX_VERSION = 0, 1


def handle(
    quotas: ClientQuotas,
    authorizer: Authorizer,
    ctx: RequestContext,
    req: AlterClientQuotasRequest,
    sync: Callable[[], Deferred[Any]] | None = None,
) -> AlterClientQuotasResponse | Deferred[Any]:
    """The response; with ``sync`` (durability) and a change, a Deferred firing with it once synced."""
    if not authorizer.authorize_cluster(ctx, AclOperation.ALTER_CONFIGS):
        message = cluster_denied_message(ctx, AclOperation.ALTER_CONFIGS)
        return AlterClientQuotasResponse(
            entries=[
                EntryData(
                    error_code=ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
                    error_message=message,
                    entity=[EntityData(entity_type=e.entity_type, entity_name=e.entity_name) for e in entry.entity],
                )
                for entry in req.entries
            ]
        )
    alterations = [
        (
            entity_of((e.entity_type, e.entity_name) for e in entry.entity),
            [(op.key, None if op.remove else op.value) for op in entry.ops],
        )
        for entry in req.entries
    ]
    results, changed = quotas.alter(alterations, req.validate_only)
    response = AlterClientQuotasResponse(
        entries=[
            EntryData(
                error_code=ErrorCode.NONE if problem is None else ErrorCode.INVALID_REQUEST,
                error_message=problem,
                entity=[EntityData(entity_type=t, entity_name=n) for t, n in entity_pairs(entity)],
            )
            for entity, problem in results
        ]
    )
    if changed and sync is not None:
        return sync().addCallback(lambda _: response)
    return response


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    broker = env.broker

    def sync() -> Deferred[Any]:
        return threads.deferToThread(broker.storage.sync)  # blocking fsync: off the reactor thread

    dispatcher.register(
        API_KEY,
        Handler(MIN_VERSION, MAX_VERSION, lambda ctx, body: handle(broker.quotas, broker.authorizer, ctx, body, sync)),
    )
