"""DescribeAcls (API key 29), versions 0-3 (KIP-140; pattern type filters from v1, KIP-290; flexible from v2).

As Kafka's ``AclApis.handleDescribeAcls``: the caller needs DESCRIBE on the cluster (ALTER
implies it), else the top-level error is CLUSTER_AUTHORIZATION_FAILED; without an authorizer,
SECURITY_DISABLED "No Authorizer is configured on the broker". Otherwise every ACL the filter
matches (``AclBindingFilter.matches``: null strings and ANY match anything; pattern type MATCH
selects the LITERAL, wildcard ``*`` and PREFIXED patterns that apply to the name; no implied
operations), grouped per resource pattern. Enum codes Kafka does not know (e.g. 99) match
nothing; code 0 makes Kafka close the connection, Chronik answers INVALID_REQUEST. v0 has no
pattern type filter: LITERAL. Kafka returns the groups in HashMap order; Chronik sorts them.
"""

from __future__ import annotations

from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.handlers import HandlerEnv
from chronik.protocol.errors import ErrorCode
from chronik.security.acl import AclOperation, Authorizer
from chronik.security.acl.requests import NO_AUTHORIZER_DESCRIBE, cluster_denied_message, filter_of, has_unknown_code
from chronik_protocol.messages.describe_acls_request import DescribeAclsRequest
from chronik_protocol.messages.describe_acls_response import (
    AclDescription,
    DescribeAclsResource,
    DescribeAclsResponse,
)

API_KEY = 29
MIN_VERSION, MAX_VERSION = 0, 3


def handle(authorizer: Authorizer, ctx: RequestContext, req: DescribeAclsRequest) -> DescribeAclsResponse:
    if has_unknown_code(req, filter_fields=True):
        return DescribeAclsResponse(
            error_code=ErrorCode.INVALID_REQUEST, error_message="DescribeAclsRequest contains UNKNOWN elements"
        )
    if not authorizer.authorize_cluster(ctx, AclOperation.DESCRIBE):
        return DescribeAclsResponse(
            error_code=ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
            error_message=cluster_denied_message(ctx, AclOperation.DESCRIBE),
        )
    if not authorizer.enabled:
        return DescribeAclsResponse(error_code=ErrorCode.SECURITY_DISABLED, error_message=NO_AUTHORIZER_DESCRIBE)
    resources: dict[tuple[int, str, int], DescribeAclsResource] = {}
    for acl in authorizer.acls(filter_of(req)):
        key = (int(acl.resource_type), acl.name, int(acl.pattern_type))
        group = resources.get(key)
        if group is None:
            group = resources[key] = DescribeAclsResource(
                resource_type=key[0], resource_name=acl.name, pattern_type=key[2], acls=[]
            )
        group.acls.append(
            AclDescription(
                principal=acl.principal,
                host=acl.host,
                operation=int(acl.operation),
                permission_type=int(acl.permission),
            )
        )
    return DescribeAclsResponse(resources=list(resources.values()))


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    broker = env.broker

    def on_describe(ctx: RequestContext, body: DescribeAclsRequest) -> DescribeAclsResponse:
        return handle(broker.authorizer, ctx, body)

    dispatcher.register(API_KEY, Handler(MIN_VERSION, MAX_VERSION, on_describe))
