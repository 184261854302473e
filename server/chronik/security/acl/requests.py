"""What Kafka's ACL request classes and ``AclApis`` check before the authorizer sees a request.

Three layers, in Kafka's order:

1. Parsing (``CreateAclsRequest.validate``, ``DescribeAclsRequest``/``DeleteAclsRequest.normalizeAndValidate``):
   an enum given as code 0 (UNKNOWN) fails the whole request. Kafka then closes the connection;
   Chronik answers INVALID_REQUEST for every result instead (handlers cannot close connections).
   A code Kafka does not know (e.g. 99) is not rejected here: it decodes as UNKNOWN.
2. Building the bindings (``CreateAclsRequest.aclBinding``): ``ResourcePattern`` refuses resource
   type ANY and pattern types MATCH/ANY, ``AccessControlEntry`` operation and permission ANY.
   The IllegalArgumentException fails the whole request: every result is UNKNOWN_SERVER_ERROR
   with a null message.
3. Per ACL (``AclApis.handleCreateAcls``, ``AclControlManager.validateNewAcl``): INVALID_REQUEST
   with Kafka's message, see :func:`creation_error`; DeleteAcls filters with an UNKNOWN resource
   or pattern type, operation or permission: INVALID_REQUEST ("Unknown patternFilter." /
   "Unknown entryFilter.").
"""

from __future__ import annotations

from typing import Any, Final

from chronik.security.acl.model import (
    CLUSTER_NAME,
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    PatternType,
    ResourceType,
    principal_error,
)

__all__ = [
    "NO_AUTHORIZER",
    "NO_AUTHORIZER_DESCRIBE",
    "binding_of",
    "cluster_denied_message",
    "construction_error",
    "creation_error",
    "filter_of",
    "has_unknown_code",
]

#: SECURITY_DISABLED messages: CreateAcls/DeleteAcls (``SecurityDisabledException``) and DescribeAcls.
NO_AUTHORIZER: Final = "No Authorizer is configured."
NO_AUTHORIZER_DESCRIBE: Final = "No Authorizer is configured on the broker"


def has_unknown_code(item: Any, *, filter_fields: bool) -> bool:
    """Whether a creation (or filter) gives any enum as code 0 (UNKNOWN): layer 1."""
    if filter_fields:
        codes = (item.resource_type_filter, item.pattern_type_filter, item.operation, item.permission_type)
    else:
        codes = (item.resource_type, item.resource_pattern_type, item.operation, item.permission_type)
    return 0 in codes


def binding_of(creation: Any) -> AclBinding:
    """``CreateAclsRequest.aclBinding`` without its constructor checks (see :func:`construction_error`)."""
    return AclBinding(
        ResourceType.from_code(creation.resource_type),  # type: ignore[arg-type]
        creation.resource_name,
        PatternType.from_code(creation.resource_pattern_type),  # type: ignore[arg-type]
        creation.principal,
        creation.host,
        AclOperation.from_code(creation.operation),  # type: ignore[arg-type]
        AclPermissionType.from_code(creation.permission_type),  # type: ignore[arg-type]
    )


def construction_error(acl: AclBinding) -> str | None:
    """Why ``ResourcePattern``/``AccessControlEntry`` would refuse ``acl`` (layer 2), else None."""
    if acl.resource_type is ResourceType.ANY:
        return "resourceType must not be ANY"
    if acl.pattern_type in (PatternType.MATCH, PatternType.ANY):
        return f"patternType must not be {acl.pattern_type.name}"
    if acl.operation is AclOperation.ANY:
        return "operation must not be ANY"
    if acl.permission is AclPermissionType.ANY:
        return "permissionType must not be ANY"
    return None


def creation_error(acl: AclBinding) -> str | None:
    """The INVALID_REQUEST message for one new ACL (layer 3), else None."""
    if acl.resource_type is ResourceType.CLUSTER and acl.name != CLUSTER_NAME:
        return f"The only valid name for the CLUSTER resource is {CLUSTER_NAME}"
    if not acl.name:
        return "Invalid empty resource name"
    if acl.resource_type in (ResourceType.UNKNOWN, ResourceType.ANY):
        return f"Invalid resourceType {acl.resource_type.name}"
    if acl.pattern_type not in (PatternType.LITERAL, PatternType.PREFIXED):
        return f"Invalid patternType {acl.pattern_type.name}"
    if acl.operation in (AclOperation.UNKNOWN, AclOperation.ANY):
        return f"Invalid operation {acl.operation.name}"
    if acl.permission not in (AclPermissionType.ALLOW, AclPermissionType.DENY):
        return f"Invalid permissionType {acl.permission.name}"
    problem = principal_error(acl.principal)
    if problem is not None:
        return problem
    if not acl.host:
        return "Host pattern cannot be null or empty"
    return None


def filter_of(f: Any) -> AclBindingFilter:
    """A DescribeAcls request or DeleteAcls filter as an :class:`AclBindingFilter` (unknown codes → UNKNOWN)."""
    return AclBindingFilter(
        ResourceType.from_code(f.resource_type_filter),  # type: ignore[arg-type]
        f.resource_name_filter,
        PatternType.from_code(f.pattern_type_filter),  # type: ignore[arg-type]
        f.principal_filter,
        f.host_filter,
        AclOperation.from_code(f.operation),  # type: ignore[arg-type]
        AclPermissionType.from_code(f.permission_type),  # type: ignore[arg-type]
    )


def cluster_denied_message(ctx: Any, operation: AclOperation) -> str:
    """``AuthHelper.authorizeClusterOperation``'s ClusterAuthorizationException message."""
    return (
        f"Request Request(connectionId={ctx.connection_id}, principal={ctx.principal}, "
        f"listenerName=ListenerName({ctx.listener_name})) needs {operation.name} permission."
    )
