"""AlterUserScramCredentials (API key 51), version 0 (KIP-554).

As Kafka's ``ScramControlManager.alterCredentials``: deletions, then upsertions, each user at
most once per request (a user named again → DUPLICATE_RESOURCE "A user credential cannot be
altered twice in the same request", and none of its changes apply). Checks: an empty user name
→ UNACCEPTABLE_CREDENTIAL "Username must not be empty"; a mechanism other than 1
(SCRAM-SHA-256) or 2 (SCRAM-SHA-512) → UNSUPPORTED_SASL_MECHANISM "Unknown SCRAM mechanism";
deleting a credential that does not exist → RESOURCE_NOT_FOUND "Attempt to delete a user
credential that does not exist"; fewer than 4096 iterations → UNACCEPTABLE_CREDENTIAL "Too few
iterations", more than 16384 → "Too many iterations". Results: successful deletions, successful
upsertions, then the errors, each group in Kafka's ``HashMap`` iteration order. The broker
stores the salt, StoredKey and ServerKey derived from the SaltedPassword the client sent,
durably (``chronik.security.credentials``); the changes of one request are applied together.
Authorization (ALTER on CLUSTER) comes with ACLs.
"""

from __future__ import annotations

from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.handlers import HandlerEnv
from chronik.protocol.errors import ErrorCode
from chronik.security.acl import AclOperation
from chronik.security.credentials import (
    MAX_ITERATIONS,
    MECHANISM_NAMES,
    MIN_ITERATIONS,
    CredentialStore,
    ScramCredential,
    java_hashmap_order,
    store_for,
)
from chronik_protocol.messages.alter_user_scram_credentials_request import (
    AlterUserScramCredentialsRequest,
    ScramCredentialDeletion,
    ScramCredentialUpsertion,
)
from chronik_protocol.messages.alter_user_scram_credentials_response import (
    AlterUserScramCredentialsResponse,
    AlterUserScramCredentialsResult,
)

API_KEY = 51
MIN_VERSION, MAX_VERSION = 0, 0
TWICE = "A user credential cannot be altered twice in the same request"

_Error = tuple[int, str]


def _check_name_and_mechanism(name: str, mechanism: int) -> _Error | None:
    if not name:
        return ErrorCode.UNACCEPTABLE_CREDENTIAL, "Username must not be empty"
    if mechanism not in MECHANISM_NAMES:
        return ErrorCode.UNSUPPORTED_SASL_MECHANISM, "Unknown SCRAM mechanism"
    return None


def _check_deletion(store: CredentialStore, d: ScramCredentialDeletion) -> _Error | None:
    error = _check_name_and_mechanism(d.name, d.mechanism)
    if error is None and store.get(d.name, MECHANISM_NAMES[d.mechanism]) is None:
        error = ErrorCode.RESOURCE_NOT_FOUND, "Attempt to delete a user credential that does not exist"
    return error


def _check_upsertion(u: ScramCredentialUpsertion) -> _Error | None:
    error = _check_name_and_mechanism(u.name, u.mechanism)
    if error is None:
        if u.iterations < MIN_ITERATIONS:
            error = ErrorCode.UNACCEPTABLE_CREDENTIAL, "Too few iterations"
        elif u.iterations > MAX_ITERATIONS:
            error = ErrorCode.UNACCEPTABLE_CREDENTIAL, "Too many iterations"
    return error


def handle(store: CredentialStore, req: AlterUserScramCredentialsRequest) -> AlterUserScramCredentialsResponse:
    deletions: dict[str, ScramCredentialDeletion] = {}
    upsertions: dict[str, ScramCredentialUpsertion] = {}
    errors: dict[str, _Error] = {}
    max_deletions = max_upsertions = 0
    for d in req.deletions:
        if d.name in errors:
            continue
        if deletions.pop(d.name, None) is not None:
            errors[d.name] = ErrorCode.DUPLICATE_RESOURCE, TWICE
        elif (error := _check_deletion(store, d)) is not None:
            errors[d.name] = error
        else:
            deletions[d.name] = d
            max_deletions = max(max_deletions, len(deletions))
    for u in req.upsertions:
        if u.name in errors:
            continue
        if deletions.pop(u.name, None) is not None or upsertions.pop(u.name, None) is not None:
            errors[u.name] = ErrorCode.DUPLICATE_RESOURCE, TWICE
        elif (error := _check_upsertion(u)) is not None:
            errors[u.name] = error
        else:
            upsertions[u.name] = u
            max_upsertions = max(max_upsertions, len(upsertions))
    store.apply(
        [
            (
                u.name,
                MECHANISM_NAMES[u.mechanism],
                ScramCredential.from_salted_password(
                    MECHANISM_NAMES[u.mechanism], bytes(u.salt), bytes(u.salted_password), u.iterations
                ),
            )
            for u in upsertions.values()
        ],
        [(d.name, MECHANISM_NAMES[d.mechanism]) for d in deletions.values()],
    )
    ok = ErrorCode.NONE
    results = [
        AlterUserScramCredentialsResult(user=n, error_code=ok, error_message=None)
        for n in java_hashmap_order(list(deletions), max_deletions)
    ]
    results += [
        AlterUserScramCredentialsResult(user=n, error_code=ok, error_message=None)
        for n in java_hashmap_order(list(upsertions), max_upsertions)
    ]
    results += [
        AlterUserScramCredentialsResult(user=n, error_code=errors[n][0], error_message=errors[n][1])
        for n in java_hashmap_order(list(errors))
    ]
    return AlterUserScramCredentialsResponse(results=results)


def register(dispatcher: Dispatcher, env: HandlerEnv) -> None:
    store = store_for(env.broker.storage)

    def on_alter(ctx: RequestContext, body: AlterUserScramCredentialsRequest) -> AlterUserScramCredentialsResponse:
        if not env.broker.authorizer.authorize_cluster(ctx, AclOperation.ALTER):  # ControllerApis: ALTER cluster
            code, message = ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed."
            users = sorted({d.name for d in body.deletions} | {u.name for u in body.upsertions})
            return AlterUserScramCredentialsResponse(
                results=[AlterUserScramCredentialsResult(user=n, error_code=code, error_message=message) for n in users]
            )
        return handle(store, body)

    dispatcher.register(API_KEY, Handler(MIN_VERSION, MAX_VERSION, on_alter))
