"""Kafka's ACL model: resource types, pattern types, operations, bindings and binding filters.

Codes and names are Kafka's (``ResourceType``, ``PatternType``, ``AclOperation``,
``AclPermissionType`` in ``org.apache.kafka.common``); a code Kafka does not know decodes as
``UNKNOWN`` (``fromCode``). An :class:`AclBinding` is a resource pattern plus an access control
entry (principal, host, operation, permission); an :class:`AclBindingFilter` matches bindings as
``ResourcePatternFilter.matches`` and ``AccessControlEntryFilter.matches`` do (KIP-290 pattern
types: ``MATCH`` selects the literal, wildcard and prefixed patterns that would apply to a name).
"""

from __future__ import annotations

import enum
import ipaddress
from dataclasses import dataclass
from typing import Final

__all__ = [
    "CLUSTER_NAME",
    "SUPPORTED_OPERATIONS",
    "WILDCARD_PRINCIPAL",
    "WILDCARD_RESOURCE",
    "AclBinding",
    "AclBindingFilter",
    "AclOperation",
    "AclPermissionType",
    "PatternType",
    "ResourceType",
    "java_host_address",
    "principal_error",
]

#: ``ResourcePattern.WILDCARD_RESOURCE``: a LITERAL pattern with this name matches every resource.
WILDCARD_RESOURCE: Final = "*"
#: ``StandardAuthorizerData.WILDCARD_PRINCIPAL``: an ACL for this principal applies to everyone.
WILDCARD_PRINCIPAL: Final = "User:*"
#: ``Resource.CLUSTER_NAME``: the only name of the CLUSTER resource.
CLUSTER_NAME: Final = "kafka-cluster"


class _Coded(enum.IntEnum):
    """A Kafka enum with wire codes; unknown codes become ``UNKNOWN`` (0)."""

    @classmethod
    def from_code(cls, code: int) -> _Coded:
        try:
            return cls(code)
        except ValueError:
            return cls(0)


class ResourceType(_Coded):
    """``org.apache.kafka.common.resource.ResourceType``."""

    UNKNOWN = 0
    ANY = 1
    TOPIC = 2
    GROUP = 3
    CLUSTER = 4
    TRANSACTIONAL_ID = 5
    DELEGATION_TOKEN = 6
    USER = 7


class PatternType(_Coded):
    """``org.apache.kafka.common.resource.PatternType`` (KIP-290); MATCH and ANY only in filters."""

    UNKNOWN = 0
    ANY = 1
    MATCH = 2
    LITERAL = 3
    PREFIXED = 4


class AclOperation(_Coded):
    """``org.apache.kafka.common.acl.AclOperation``; ANY only in filters."""

    UNKNOWN = 0
    ANY = 1
    ALL = 2
    READ = 3
    WRITE = 4
    CREATE = 5
    DELETE = 6
    ALTER = 7
    DESCRIBE = 8
    CLUSTER_ACTION = 9
    DESCRIBE_CONFIGS = 10
    ALTER_CONFIGS = 11
    IDEMPOTENT_WRITE = 12
    CREATE_TOKENS = 13
    DESCRIBE_TOKENS = 14
    TWO_PHASE_COMMIT = 15


class AclPermissionType(_Coded):
    """``org.apache.kafka.common.acl.AclPermissionType``; ANY only in filters."""

    UNKNOWN = 0
    ANY = 1
    DENY = 2
    ALLOW = 3


_O = AclOperation
#: ``AclEntry.supportedOperations`` (Kafka 4.4.0): the operations whose bits the ``*AuthorizedOperations``
#: fields of Metadata, DescribeGroups, DescribeCluster, ... may carry, per resource type.
SUPPORTED_OPERATIONS: Final[dict[ResourceType, tuple[AclOperation, ...]]] = {
    ResourceType.TOPIC: (
        _O.READ,
        _O.WRITE,
        _O.CREATE,
        _O.DESCRIBE,
        _O.DELETE,
        _O.ALTER,
        _O.DESCRIBE_CONFIGS,
        _O.ALTER_CONFIGS,
    ),
    ResourceType.GROUP: (_O.READ, _O.DESCRIBE, _O.DELETE, _O.DESCRIBE_CONFIGS, _O.ALTER_CONFIGS),
    ResourceType.CLUSTER: (
        _O.CREATE,
        _O.CLUSTER_ACTION,
        _O.DESCRIBE_CONFIGS,
        _O.ALTER_CONFIGS,
        _O.IDEMPOTENT_WRITE,
        _O.ALTER,
        _O.DESCRIBE,
    ),
    ResourceType.TRANSACTIONAL_ID: (_O.DESCRIBE, _O.WRITE, _O.TWO_PHASE_COMMIT),
    ResourceType.DELEGATION_TOKEN: (_O.DESCRIBE,),
    ResourceType.USER: (_O.CREATE_TOKENS, _O.DESCRIBE_TOKENS),
}


@dataclass(frozen=True, slots=True)
class AclBinding:
    """One ACL: ``principal`` may (ALLOW) or may not (DENY) do ``operation`` from ``host`` on the
    resources ``(resource_type, name, pattern_type)`` designates (``AclBinding``/``StandardAcl``)."""

    resource_type: ResourceType
    name: str
    pattern_type: PatternType
    principal: str
    host: str
    operation: AclOperation
    permission: AclPermissionType

    def to_json(self) -> list[object]:
        """The stored form: Kafka's codes (as ``AccessControlEntryRecord``) plus the strings."""
        return [
            int(self.resource_type),
            self.name,
            int(self.pattern_type),
            self.principal,
            self.host,
            int(self.operation),
            int(self.permission),
        ]

    @classmethod
    def from_json(cls, doc: list[object]) -> AclBinding:
        rt, name, pt, principal, host, op, perm = doc
        return cls(
            ResourceType.from_code(int(rt)),  # type: ignore[arg-type]
            str(name),
            PatternType.from_code(int(pt)),  # type: ignore[arg-type]
            str(principal),
            str(host),
            AclOperation.from_code(int(op)),  # type: ignore[arg-type]
            AclPermissionType.from_code(int(perm)),  # type: ignore[arg-type]
        )

    def __str__(self) -> str:
        return (
            f"(pattern=ResourcePattern(resourceType={self.resource_type.name}, name={self.name}, "
            f"patternType={self.pattern_type.name}), entry=(principal={self.principal}, host={self.host}, "
            f"operation={self.operation.name}, permissionType={self.permission.name}))"
        )


@dataclass(frozen=True, slots=True)
class AclBindingFilter:
    """``AclBindingFilter``: ``None`` strings and ANY enums match anything."""

    resource_type: ResourceType = ResourceType.ANY
    name: str | None = None
    pattern_type: PatternType = PatternType.ANY
    principal: str | None = None
    host: str | None = None
    operation: AclOperation = AclOperation.ANY
    permission: AclPermissionType = AclPermissionType.ANY

    def matches(self, acl: AclBinding) -> bool:
        """``ResourcePatternFilter.matches`` and ``AccessControlEntryFilter.matches``."""
        rt, pt = self.resource_type, self.pattern_type
        if rt is not ResourceType.ANY and rt is not acl.resource_type:
            return False
        if pt is not PatternType.ANY and pt is not PatternType.MATCH and pt is not acl.pattern_type:
            return False
        if self.name is not None:
            if pt is PatternType.ANY or pt is acl.pattern_type:
                if self.name != acl.name:
                    return False
            elif acl.pattern_type is PatternType.LITERAL:  # MATCH
                if self.name != acl.name and acl.name != WILDCARD_RESOURCE:
                    return False
            elif acl.pattern_type is PatternType.PREFIXED:
                if not self.name.startswith(acl.name):
                    return False
            else:
                return False
        if self.principal is not None and self.principal != acl.principal:
            return False
        if self.host is not None and self.host != acl.host:
            return False
        if self.operation is not AclOperation.ANY and self.operation is not acl.operation:
            return False
        return self.permission is AclPermissionType.ANY or self.permission is acl.permission

    def unknown_error(self) -> str | None:
        """``AclControlManager.validateFilter``: why DeleteAcls rejects this filter, if it does."""
        if self.resource_type is ResourceType.UNKNOWN or self.pattern_type is PatternType.UNKNOWN:
            return "Unknown patternFilter."
        if self.operation is AclOperation.UNKNOWN or self.permission is AclPermissionType.UNKNOWN:
            return "Unknown entryFilter."
        return None


def principal_error(principal: str) -> str | None:
    """Why ``principal`` is not ``type:name`` (``StandardAcl.kafkaPrincipal``), else None."""
    if ":" not in principal:
        return (
            f"Could not parse principal from `{principal}` "
            "(no colon is present separating the principal type from the principal name)"
        )
    return None


def java_host_address(host: str) -> str:
    """The client address as Java's ``InetAddress.getHostAddress()`` writes it (how ACL hosts match).

    IPv4 stays dotted-quad; an IPv4-mapped IPv6 address is its IPv4 address (Java makes it an
    ``Inet4Address``); other IPv6 addresses are eight uncompressed hex groups without leading zeros
    (``0:0:0:0:0:0:0:1``), with ``%scope`` kept.
    """
    if ":" not in host:
        return host
    addr, _, scope = host.partition("%")
    try:
        ip = ipaddress.IPv6Address(addr)
    except ValueError:
        return host
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    groups = ":".join(format(int.from_bytes(ip.packed[i : i + 2], "big"), "x") for i in range(0, 16, 2))
    return f"{groups}%{scope}" if scope else groups
