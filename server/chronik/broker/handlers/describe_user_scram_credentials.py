"""DescribeUserScramCredentials (API key 50), version 0 (KIP-554).

As Kafka's ``ScramImage.describe``: no users (null or empty) → every user with a credential;
otherwise each named user once, with the mechanism and iteration count of each of its
credentials (never salts or keys). A user without credentials → RESOURCE_NOT_FOUND "Attempt to
describe a user credential that does not exist: <user>"; a user named twice → one result with
DUPLICATE_RESOURCE "Cannot describe SCRAM credentials for the same user twice in a single
request: <user>". Results come in Kafka's ``HashMap`` iteration order. Authorization
(DESCRIBE on CLUSTER) comes with ACLs.
"""

from __future__ import annotations

from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.handlers import HandlerEnv
from chronik.protocol.errors import ErrorCode
from chronik.security.acl import AclOperation
from chronik.security.credentials import MECHANISM_TYPES, CredentialStore, java_hashmap_order, store_for
from chronik_protocol.messages.describe_user_scram_credentials_request import DescribeUserScramCredentialsRequest
from chronik_protocol.messages.describe_user_scram_credentials_response import (
    CredentialInfo,
    DescribeUserScramCredentialsResponse,
    DescribeUserScramCredentialsResult,
)

API_KEY = 50
MIN_VERSION, MAX_VERSION = 0, 0
DUPLICATE_USER = "Cannot describe SCRAM credentials for the same user twice in a single request: "
NO_SUCH_USER = "Attempt to describe a user credential that does not exist: "


def handle(store: CredentialStore, req: DescribeUserScramCredentialsRequest) -> DescribeUserScramCredentialsResponse:
    duplicated: dict[str, bool] = {}
    if not req.users:
        for user in store.users():
            duplicated[user] = False
    else:
        for u in req.users:
            duplicated[u.name] = u.name in duplicated
    results = []
    for user in java_hashmap_order(list(duplicated)):  # Kafka iterates a HashMap
        twice = duplicated[user]
        result = DescribeUserScramCredentialsResult(user=user, error_message=None, credential_infos=[])
        if twice:
            result.error_code = ErrorCode.DUPLICATE_RESOURCE
            result.error_message = DUPLICATE_USER + user
        else:
            infos = [
                CredentialInfo(mechanism=MECHANISM_TYPES[mech], iterations=cred.iterations)
                for mech, cred in sorted(store.mechanisms(user).items(), key=lambda kv: MECHANISM_TYPES[kv[0]])
            ]
            if infos:
                result.credential_infos = infos
            else:
                result.error_code = ErrorCode.RESOURCE_NOT_FOUND
                result.error_message = NO_SUCH_USER + user
        results.append(result)
    return DescribeUserScramCredentialsResponse(error_code=ErrorCode.NONE, error_message=None, results=results)


def _denied(req: DescribeUserScramCredentialsRequest) -> DescribeUserScramCredentialsResponse:
    """``getErrorResponse(CLUSTER_AUTHORIZATION_FAILED)``: the error, and one nameless result per requested user."""
    code, message = ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed."
    return DescribeUserScramCredentialsResponse(
        error_code=code,
        error_message=message,
        results=[DescribeUserScramCredentialsResult(error_code=code, error_message=message) for _ in req.users or []],
    )


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    store = store_for(env.broker.storage)

    def on_describe(
        ctx: RequestContext, body: DescribeUserScramCredentialsRequest
    ) -> DescribeUserScramCredentialsResponse:
        if not env.broker.authorizer.authorize_cluster(ctx, AclOperation.DESCRIBE):  # KafkaApis: DESCRIBE cluster
            return _denied(body)
        return handle(store, body)

    dispatcher.register(API_KEY, Handler(MIN_VERSION, MAX_VERSION, on_describe))
