"""DeleteAcls (API key 31), versions 0-3 (KIP-140; pattern type filters from v1, KIP-290; flexible from v2).

As Kafka's ``AclApis.handleDeleteAcls`` and ``AclControlManager.deleteAcls``: the caller needs
ALTER on the cluster, else every filter result is CLUSTER_AUTHORIZATION_FAILED; without an
authorizer every result is SECURITY_DISABLED "No Authorizer is configured.". A filter with an
unknown (e.g. code 99) resource or pattern type → INVALID_REQUEST "Unknown patternFilter.", with
an unknown operation or permission → "Unknown entryFilter."; code 0 anywhere makes Kafka close
the connection, Chronik answers INVALID_REQUEST for every filter. Every other filter's result
lists all the ACLs it matched before the request (overlapping filters list the same ACL), and
all of them are deleted in one durable batch. Success results and matching ACLs carry null
messages, as Kafka's. v0 has no pattern type filter: LITERAL.
"""

from __future__ import annotations

from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.handlers import HandlerEnv
from chronik.protocol.errors import ErrorCode
from chronik.security.acl import AclOperation, Authorizer
from chronik.security.acl.requests import NO_AUTHORIZER, cluster_denied_message, filter_of, has_unknown_code
from chronik_protocol.messages.delete_acls_request import DeleteAclsRequest
from chronik_protocol.messages.delete_acls_response import (
    DeleteAclsFilterResult,
    DeleteAclsMatchingAcl,
    DeleteAclsResponse,
)

API_KEY = 31
MIN_VERSION, MAX_VERSION = 0, 3


def _all(n: int, code: int, message: str | None) -> DeleteAclsResponse:
    return DeleteAclsResponse(
        filter_results=[DeleteAclsFilterResult(error_code=code, error_message=message) for _ in range(n)]
    )


def handle(authorizer: Authorizer, ctx: RequestContext, req: DeleteAclsRequest) -> DeleteAclsResponse:
    n = len(req.filters)
    if any(has_unknown_code(f, filter_fields=True) for f in req.filters):
        return _all(n, ErrorCode.INVALID_REQUEST, "Filters contain UNKNOWN elements")
    if not authorizer.authorize_cluster(ctx, AclOperation.ALTER):
        return _all(n, ErrorCode.CLUSTER_AUTHORIZATION_FAILED, cluster_denied_message(ctx, AclOperation.ALTER))
    if not authorizer.enabled:
        return _all(n, ErrorCode.SECURITY_DISABLED, NO_AUTHORIZER)
    filters = [filter_of(f) for f in req.filters]
    problems = [f.unknown_error() for f in filters]
    matched = iter(authorizer.delete([f for f, p in zip(filters, problems, strict=True) if p is None]))
    results = []
    for problem in problems:
        if problem is not None:
            results.append(DeleteAclsFilterResult(error_code=ErrorCode.INVALID_REQUEST, error_message=problem))
            continue
        results.append(
            DeleteAclsFilterResult(
                error_code=ErrorCode.NONE,
                error_message=None,
                matching_acls=[
                    DeleteAclsMatchingAcl(
                        error_code=ErrorCode.NONE,
                        error_message=None,
                        resource_type=int(acl.resource_type),
                        resource_name=acl.name,
                        pattern_type=int(acl.pattern_type),
                        principal=acl.principal,
                        host=acl.host,
                        operation=int(acl.operation),
                        permission_type=int(acl.permission),
                    )
                    for acl in next(matched)
                ],
            )
        )
    return DeleteAclsResponse(filter_results=results)


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    broker = env.broker

    def on_delete(ctx: RequestContext, body: DeleteAclsRequest) -> DeleteAclsResponse:
        return handle(broker.authorizer, ctx, body)

    dispatcher.register(API_KEY, Handler(MIN_VERSION, MAX_VERSION, on_delete))
