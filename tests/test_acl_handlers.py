"""CreateAcls / DescribeAcls / DeleteAcls handlers in-process: Kafka 4.4.0's validation and errors.

The expected codes and messages are what a Kafka 4.4.0 broker (StandardAuthorizer,
super.users=User:ANONYMOUS) answered to the same raw requests.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from chronik.broker.handlers import create_acls, delete_acls, describe_acls
from chronik.protocol.errors import ErrorCode
from chronik.security.acl import Authorizer
from chronik_protocol.messages.create_acls_request import AclCreation, CreateAclsRequest
from chronik_protocol.messages.delete_acls_request import DeleteAclsFilter, DeleteAclsRequest
from chronik_protocol.messages.describe_acls_request import DescribeAclsRequest

CTX = SimpleNamespace(
    principal="User:ANONYMOUS", peer=("127.0.0.1", 1234), connection_id="c-1", listener_name="PLAINTEXT"
)
ANY_FILTER = dict(
    resource_type_filter=1,
    resource_name_filter=None,
    pattern_type_filter=1,
    principal_filter=None,
    host_filter=None,
    operation=1,
    permission_type=1,
)


def creation(**kw: Any) -> AclCreation:
    base = dict(
        resource_type=2,
        resource_name="t",
        resource_pattern_type=3,
        principal="User:alice",
        host="*",
        operation=3,
        permission_type=3,
    )
    return AclCreation(**{**base, **kw})


def admin() -> Authorizer:
    return Authorizer(super_users={"User:ANONYMOUS"})


def results(a: Authorizer, *creations: AclCreation) -> list[tuple[int, str | None]]:
    resp = create_acls.handle(a, CTX, CreateAclsRequest(creations=list(creations)))  # type: ignore[arg-type]
    return [(r.error_code, r.error_message) for r in resp.results]


INVALID = ErrorCode.INVALID_REQUEST
NO_COLON = "(no colon is present separating the principal type from the principal name)"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, (0, "")),
        ({"resource_pattern_type": 4}, (0, "")),
        ({"resource_type": 99}, (INVALID, "Invalid resourceType UNKNOWN")),
        ({"resource_pattern_type": 99}, (INVALID, "Invalid patternType UNKNOWN")),
        ({"operation": 99}, (INVALID, "Invalid operation UNKNOWN")),
        ({"permission_type": 99}, (INVALID, "Invalid permissionType UNKNOWN")),
        ({"principal": "alice"}, (INVALID, f"Could not parse principal from `alice` {NO_COLON}")),
        ({"principal": ""}, (INVALID, f"Could not parse principal from `` {NO_COLON}")),
        ({"principal": "User:"}, (0, "")),
        ({"principal": "Group:x"}, (0, "")),
        ({"resource_name": ""}, (INVALID, "Invalid empty resource name")),
        (
            {"resource_type": 4, "resource_name": "foo"},
            (INVALID, "The only valid name for the CLUSTER resource is kafka-cluster"),
        ),
        ({"resource_type": 4, "resource_name": "kafka-cluster", "operation": 4}, (0, "")),
        ({"host": ""}, (INVALID, "Host pattern cannot be null or empty")),
        ({"host": "myhost"}, (0, "")),
        ({"operation": 2}, (0, "")),
        ({"resource_type": 6, "resource_name": "tok"}, (0, "")),
        ({"resource_type": 7, "resource_name": "bob"}, (0, "")),
        ({"operation": 15}, (0, "")),
        # the whole request fails (ResourcePattern / AccessControlEntry constructors throw)
        ({"resource_pattern_type": 2}, (ErrorCode.UNKNOWN_SERVER_ERROR, None)),
        ({"resource_pattern_type": 1}, (ErrorCode.UNKNOWN_SERVER_ERROR, None)),
        ({"resource_type": 1}, (ErrorCode.UNKNOWN_SERVER_ERROR, None)),
        ({"operation": 1}, (ErrorCode.UNKNOWN_SERVER_ERROR, None)),
        ({"permission_type": 1}, (ErrorCode.UNKNOWN_SERVER_ERROR, None)),
        # Kafka closes the connection (UNKNOWN code 0 at parse time); Chronik answers INVALID_REQUEST
        ({"resource_pattern_type": 0}, (INVALID, "CreatableAcls contain unknown elements")),
    ],
)
def test_create_validation(fields: dict[str, Any], expected: tuple[int, str | None]) -> None:
    a = admin()
    assert results(a, creation(**fields)) == [expected]
    assert len(a) == (1 if expected[0] == 0 else 0)


def test_create_whole_request_failure_creates_nothing() -> None:
    a = admin()
    failed = (ErrorCode.UNKNOWN_SERVER_ERROR, None)
    assert results(a, creation(resource_name="mix"), creation(resource_type=1)) == [failed, failed]
    assert len(a) == 0
    assert results(a, creation(), creation(principal="x"), creation()) == [
        (0, ""),
        (INVALID, f"Could not parse principal from `x` {NO_COLON}"),
        (0, ""),
    ]
    assert len(a) == 1


def test_security_disabled_and_cluster_authorization() -> None:
    off = Authorizer.disabled()
    assert results(off, creation(), creation()) == [(ErrorCode.SECURITY_DISABLED, "No Authorizer is configured.")] * 2
    d = describe_acls.handle(off, CTX, DescribeAclsRequest(**ANY_FILTER))  # type: ignore[arg-type]
    assert (d.error_code, d.error_message) == (ErrorCode.SECURITY_DISABLED, "No Authorizer is configured on the broker")
    x = delete_acls.handle(off, CTX, DeleteAclsRequest(filters=[DeleteAclsFilter(**ANY_FILTER)]))  # type: ignore[arg-type]
    assert [(r.error_code, r.error_message) for r in x.filter_results] == [
        (ErrorCode.SECURITY_DISABLED, "No Authorizer is configured.")
    ]

    nobody = Authorizer()  # ANONYMOUS is no super user and has no ACL
    [(code, message)] = results(nobody, creation())
    assert code == ErrorCode.CLUSTER_AUTHORIZATION_FAILED and message is not None
    assert message.endswith("needs ALTER permission.")
    d = describe_acls.handle(nobody, CTX, DescribeAclsRequest(**ANY_FILTER))  # type: ignore[arg-type]
    assert d.error_code == ErrorCode.CLUSTER_AUTHORIZATION_FAILED and d.error_message.endswith(
        "needs DESCRIBE permission."
    )
    x = delete_acls.handle(nobody, CTX, DeleteAclsRequest(filters=[DeleteAclsFilter(**ANY_FILTER)] * 2))  # type: ignore[arg-type]
    assert [r.error_code for r in x.filter_results] == [ErrorCode.CLUSTER_AUTHORIZATION_FAILED] * 2

    # ALTER on the cluster implies DESCRIBE: an ACL admin may list ACLs
    from chronik.security.acl import AclBinding, AclOperation, AclPermissionType, PatternType, ResourceType

    nobody.create(
        [
            AclBinding(
                ResourceType.CLUSTER,
                "kafka-cluster",
                PatternType.LITERAL,
                "User:ANONYMOUS",
                "127.0.0.1",
                AclOperation.ALTER,
                AclPermissionType.ALLOW,
            )
        ]
    )
    assert results(nobody, creation()) == [(0, "")]
    d = describe_acls.handle(nobody, CTX, DescribeAclsRequest(**ANY_FILTER))  # type: ignore[arg-type]
    assert d.error_code == 0 and len(d.resources) == 2


def test_describe_and_delete() -> None:
    a = admin()
    results(
        a, creation(), creation(principal="User:bob"), creation(resource_pattern_type=4), creation(resource_name="*")
    )
    d = describe_acls.handle(a, CTX, DescribeAclsRequest(**ANY_FILTER))  # type: ignore[arg-type]
    assert (d.error_code, d.error_message) == (0, "")
    assert [(r.resource_type, r.resource_name, r.pattern_type, len(r.acls)) for r in d.resources] == [
        (2, "*", 3, 1),
        (2, "t", 3, 2),
        (2, "t", 4, 1),
    ]
    match = {**ANY_FILTER, "resource_type_filter": 2, "resource_name_filter": "tx", "pattern_type_filter": 2}
    d = describe_acls.handle(a, CTX, DescribeAclsRequest(**match))  # type: ignore[arg-type]
    assert [(r.resource_name, r.pattern_type) for r in d.resources] == [("*", 3), ("t", 4)]
    for odd in (
        {"resource_type_filter": 99},
        {"pattern_type_filter": 99},
        {"operation": 99},
        {"principal_filter": "x"},
    ):
        d = describe_acls.handle(a, CTX, DescribeAclsRequest(**{**ANY_FILTER, **odd}))  # type: ignore[arg-type]
        assert (d.error_code, d.resources) == (0, [])
    d = describe_acls.handle(a, CTX, DescribeAclsRequest(**{**ANY_FILTER, "resource_type_filter": 0}))  # type: ignore[arg-type]
    assert d.error_code == INVALID

    flt = [
        DeleteAclsFilter(
            **{**ANY_FILTER, "resource_type_filter": 2, "resource_name_filter": "t", "pattern_type_filter": 3}
        ),
        DeleteAclsFilter(**{**ANY_FILTER, "resource_type_filter": 99}),
        DeleteAclsFilter(**{**ANY_FILTER, "operation": 99}),
        DeleteAclsFilter(**{**ANY_FILTER, "principal_filter": "User:alice"}),
    ]
    x = delete_acls.handle(a, CTX, DeleteAclsRequest(filters=flt))  # type: ignore[arg-type]
    got = [
        (r.error_code, r.error_message, [(m.resource_name, m.pattern_type, m.principal) for m in r.matching_acls])
        for r in x.filter_results
    ]
    assert got == [
        (0, None, [("t", 3, "User:alice"), ("t", 3, "User:bob")]),
        (INVALID, "Unknown patternFilter.", []),
        (INVALID, "Unknown entryFilter.", []),
        (0, None, [("*", 3, "User:alice"), ("t", 3, "User:alice"), ("t", 4, "User:alice")]),
    ]
    assert all(m.error_message is None for r in x.filter_results for m in r.matching_acls)
    assert len(a) == 0
    x = delete_acls.handle(
        a, CTX, DeleteAclsRequest(filters=[DeleteAclsFilter(**{**ANY_FILTER, "permission_type": 0})])
    )  # type: ignore[arg-type]
    assert [r.error_code for r in x.filter_results] == [INVALID]
