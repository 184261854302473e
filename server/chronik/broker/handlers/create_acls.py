"""CreateAcls (API key 30), versions 0-3 (KIP-140; PREFIXED patterns from v1, KIP-290; flexible from v2).

As Kafka's ``AclApis.handleCreateAcls`` (the controller's, KRaft forwards it there): the caller
needs ALTER on the cluster, else every result is CLUSTER_AUTHORIZATION_FAILED; without an
authorizer (``authorizer.class.name`` unset) every result is SECURITY_DISABLED "No Authorizer is
configured.". A creation with resource type ANY, pattern type MATCH or ANY, or operation or
permission ANY fails the whole request: every result UNKNOWN_SERVER_ERROR with a null message
(Kafka's ``ResourcePattern``/``AccessControlEntry`` constructors throw). Otherwise each ACL is
checked on its own (``chronik.security.acl.requests.creation_error``: CLUSTER named other than
``kafka-cluster``, empty name, unknown enum codes, a principal without ``type:``, an empty host →
INVALID_REQUEST with Kafka's message) and the valid ones are created together, durably; an ACL
that exists already succeeds again without a copy. Enum code 0 anywhere: Kafka closes the
connection, Chronik answers INVALID_REQUEST for every result. Success results carry an empty
(not null) message, as Kafka's. v0 has no pattern type field: LITERAL.
"""

from __future__ import annotations

import logging

from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.handlers import HandlerEnv
from chronik.protocol.errors import ErrorCode
from chronik.security.acl import AclOperation, Authorizer
from chronik.security.acl.requests import (
    NO_AUTHORIZER,
    binding_of,
    cluster_denied_message,
    construction_error,
    creation_error,
    has_unknown_code,
)
from chronik_protocol.messages.create_acls_request import CreateAclsRequest
from chronik_protocol.messages.create_acls_response import AclCreationResult, CreateAclsResponse

API_KEY = 30
MIN_VERSION, MAX_VERSION = 0, 3

log = logging.getLogger("chronik.broker.acls")


def _all(n: int, code: int, message: str | None) -> CreateAclsResponse:
    return CreateAclsResponse(results=[AclCreationResult(error_code=code, error_message=message) for _ in range(n)])


def handle(authorizer: Authorizer, ctx: RequestContext, req: CreateAclsRequest) -> CreateAclsResponse:
    n = len(req.creations)
    if any(has_unknown_code(c, filter_fields=False) for c in req.creations):
        return _all(n, ErrorCode.INVALID_REQUEST, "CreatableAcls contain unknown elements")
    if not authorizer.authorize_cluster(ctx, AclOperation.ALTER):
        return _all(n, ErrorCode.CLUSTER_AUTHORIZATION_FAILED, cluster_denied_message(ctx, AclOperation.ALTER))
    if not authorizer.enabled:
        return _all(n, ErrorCode.SECURITY_DISABLED, NO_AUTHORIZER)
    bindings = [binding_of(c) for c in req.creations]
    for acl in bindings:
        problem = construction_error(acl)
        if problem is not None:
            log.info("CreateAcls from %s failed: %s", ctx.principal, problem)
            return _all(n, ErrorCode.UNKNOWN_SERVER_ERROR, None)
    results, valid = [], []
    for acl in bindings:
        problem = creation_error(acl)
        if problem is None:
            valid.append(acl)
            results.append(AclCreationResult(error_code=ErrorCode.NONE, error_message=""))
        else:
            results.append(AclCreationResult(error_code=ErrorCode.INVALID_REQUEST, error_message=problem))
    authorizer.create(valid)
    return CreateAclsResponse(results=results)


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    broker = env.broker

    def on_create(ctx: RequestContext, body: CreateAclsRequest) -> CreateAclsResponse:
        return handle(broker.authorizer, ctx, body)

    dispatcher.register(API_KEY, Handler(MIN_VERSION, MAX_VERSION, on_create))
