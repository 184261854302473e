"""The ACL authorizer: Kafka's ``StandardAuthorizer`` semantics over ACLs kept in the storage's metadata.

Authorization (``StandardAuthorizerData.authorize``/``findResult``), for a principal connecting
from a host that wants to perform an operation on a named resource:

- A principal listed in ``super.users`` (``;``-separated ``type:name``) may do anything.
- The ACLs that apply to the resource are those of its type whose pattern is the LITERAL name,
  the LITERAL wildcard ``*``, or a PREFIXED pattern the name starts with.
- An ACL matches the request if its principal is the caller's or ``User:*``, its host is the
  caller's IP address (as Java writes it) or ``*``, and its operation is ALL or the requested one.
  An ALLOW ACL for READ, WRITE, DELETE or ALTER also allows DESCRIBE, and one for ALTER_CONFIGS
  also allows DESCRIBE_CONFIGS (``IMPLIES_DESCRIBE``, ``IMPLIES_DESCRIBE_CONFIGS``); a DENY ACL
  denies only its own operation (or everything, for ALL).
- Any matching DENY wins; else any matching ALLOW allows; else, if no ACL applies to the resource
  at all, ``allow.everyone.if.no.acl.found`` decides (default false); else denied.

When ``authorizer.class.name`` is unset the broker has no authorizer: everything is allowed and the
ACL APIs answer SECURITY_DISABLED, as in Kafka.

ACL changes (``AclControlManager``): creating an ACL that exists already succeeds without adding a
copy; each new ACL gets a random id and is written to the metadata key ``acl.<id>`` (its Kafka
codes and strings as JSON); a delete removes every ACL each filter matches, and reports to each
filter everything it matched (overlapping filters report the same ACL). Changes are written in
one atomic batch and synced before the caller answers, then reloaded at startup.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, Protocol

from chronik.security.acl.model import (
    CLUSTER_NAME,
    SUPPORTED_OPERATIONS,
    WILDCARD_PRINCIPAL,
    WILDCARD_RESOURCE,
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    PatternType,
    ResourceType,
    java_host_address,
)

__all__ = ["ACCEPTED_AUTHORIZERS", "META_PREFIX", "AclStorage", "Authorizer", "RequestIdentity", "parse_super_users"]

log = logging.getLogger("chronik.authorizer")

#: ``authorizer.class.name`` values that enable this authorizer (KRaft's and the legacy ZooKeeper one).
ACCEPTED_AUTHORIZERS: Final = frozenset(
    {"org.apache.kafka.metadata.authorizer.StandardAuthorizer", "kafka.security.authorizer.AclAuthorizer"}
)
#: Metadata key prefix of stored ACLs: ``acl.<uuid>``.
META_PREFIX: Final = "acl."

_ALLOW, _DENY = AclPermissionType.ALLOW, AclPermissionType.DENY
_IMPLIES_DESCRIBE: Final = frozenset(
    {AclOperation.DESCRIBE, AclOperation.READ, AclOperation.WRITE, AclOperation.DELETE, AclOperation.ALTER}
)
_IMPLIES_DESCRIBE_CONFIGS: Final = frozenset({AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS})


class RequestIdentity(Protocol):
    """What authorization needs of a request (``chronik.broker.dispatch.RequestContext`` has it)."""

    principal: str
    peer: tuple[str, int] | None


class AclStorage(Protocol):
    """The part of ``chronik.storage.api.Storage`` ACLs are kept in."""

    def put_meta_batch(self, items: Mapping[str, bytes | None]) -> None: ...

    def meta_items(self, prefix: str) -> list[tuple[str, bytes]]: ...

    def sync(self) -> None: ...


def parse_super_users(value: str | None) -> frozenset[str]:
    """``super.users``: ``;``-separated principals, trimmed, empty entries skipped; ValueError on a
    principal without ``type:`` (``StandardAuthorizer.getConfiguredSuperUsers``)."""
    users = set()
    for part in (value or "").split(";"):
        v = part.strip()
        if not v:
            continue
        if ":" not in v:
            raise ValueError(f"expected a string in format principalType:principalName but got {v}")
        users.add(v)
    return frozenset(users)


def _result(acl: AclBinding, principal: str, host: str, op: AclOperation) -> AclPermissionType | None:
    """``StandardAuthorizerData.findResult``: ALLOW/DENY if ``acl`` matches, else None (name already matched)."""
    if acl.principal != principal and acl.principal != WILDCARD_PRINCIPAL:
        return None
    if acl.host != WILDCARD_RESOURCE and acl.host != host:
        return None
    aop = acl.operation
    if aop is not AclOperation.ALL:
        if acl.permission is _ALLOW:
            if op is AclOperation.DESCRIBE:
                if aop not in _IMPLIES_DESCRIBE:
                    return None
            elif op is AclOperation.DESCRIBE_CONFIGS:
                if aop not in _IMPLIES_DESCRIBE_CONFIGS:
                    return None
            elif aop is not op:
                return None
        elif aop is not op:
            return None
    return acl.permission


class _TypeIndex:
    """The ACLs of one resource type: by LITERAL name, by PREFIXED name, and the prefix lengths in use."""

    __slots__ = ("literal", "prefix_lengths", "prefixed")

    def __init__(self) -> None:
        self.literal: dict[str, list[AclBinding]] = {}
        self.prefixed: dict[str, list[AclBinding]] = {}
        self.prefix_lengths: Counter[int] = Counter()

    def add(self, acl: AclBinding) -> None:
        if acl.pattern_type is PatternType.PREFIXED:
            self.prefixed.setdefault(acl.name, []).append(acl)
            self.prefix_lengths[len(acl.name)] += 1
        else:
            self.literal.setdefault(acl.name, []).append(acl)

    def remove(self, acl: AclBinding) -> None:
        table = self.prefixed if acl.pattern_type is PatternType.PREFIXED else self.literal
        acls = table[acl.name]
        acls.remove(acl)
        if not acls:
            del table[acl.name]
        if acl.pattern_type is PatternType.PREFIXED:
            self.prefix_lengths[len(acl.name)] -= 1
            if not self.prefix_lengths[len(acl.name)]:
                del self.prefix_lengths[len(acl.name)]

    def applicable(self, name: str) -> Iterable[list[AclBinding]]:
        """The ACL lists whose pattern applies to ``name``: literal, wildcard, prefixes of it."""
        found = self.literal.get(name)
        if found:
            yield found
        if name != WILDCARD_RESOURCE:
            found = self.literal.get(WILDCARD_RESOURCE)
            if found:
                yield found
        if self.prefixed:
            for n in self.prefix_lengths:
                if n <= len(name):
                    found = self.prefixed.get(name[:n])
                    if found:
                        yield found


class Authorizer:
    """Authorization decisions and the ACLs they are made from; ``enabled`` is False without an authorizer.

    Handlers call :meth:`authorize` (one action), :meth:`authorize_many`, :meth:`authorized_names`
    (filtering, e.g. the topics of a Metadata response), :meth:`authorize_cluster`,
    :meth:`authorize_by_resource_type` and :meth:`authorized_operations` (KIP-430 bit fields); each
    takes the request context (``principal``, ``peer``).
    A disabled authorizer allows everything.
    """

    def __init__(
        self,
        *,
        enabled: bool = True,
        super_users: Iterable[str] = (),
        allow_if_no_acl: bool = False,
        storage: AclStorage | None = None,
    ) -> None:
        self.enabled = enabled
        self.super_users = frozenset(super_users)
        self.allow_if_no_acl = allow_if_no_acl
        self._storage = storage
        self._by_id: dict[str, AclBinding] = {}
        self._ids: dict[AclBinding, str] = {}
        self._index: dict[ResourceType, _TypeIndex] = {}
        if storage is not None and enabled:
            for key, raw in storage.meta_items(META_PREFIX):
                self._add(key[len(META_PREFIX) :], AclBinding.from_json(json.loads(raw)))
            log.info("loaded %d ACLs", len(self._by_id))

    @classmethod
    def disabled(cls) -> Authorizer:
        """No ``authorizer.class.name``: everything is allowed, ACL APIs answer SECURITY_DISABLED."""
        return cls(enabled=False)

    @classmethod
    def from_config(cls, config: Any, storage: AclStorage | None) -> Authorizer:
        """The authorizer ``config`` asks for; ValueError for an unknown class or a bad ``super.users``."""
        class_name = (config.get("authorizer.class.name") or "").strip()
        if not class_name:
            return cls.disabled()
        if class_name not in ACCEPTED_AUTHORIZERS:
            accepted = ", ".join(sorted(ACCEPTED_AUTHORIZERS))
            raise ValueError(f"authorizer.class.name: {class_name} is not supported (use one of {accepted})")
        super_users = parse_super_users(config.get("super.users"))
        allow = bool(config.get("allow.everyone.if.no.acl.found"))
        log.info(
            "authorizer %s: super.users=%s, default result=%s",
            class_name,
            ",".join(sorted(super_users)),
            "ALLOWED" if allow else "DENIED",
        )
        return cls(super_users=super_users, allow_if_no_acl=allow, storage=storage)

    # ---- decisions -------------------------------------------------------------------------

    def authorize(
        self,
        ctx: RequestIdentity,
        operation: AclOperation,
        resource_type: ResourceType,
        name: str,
        *,
        log_denied: bool = True,
    ) -> bool:
        """May the caller perform ``operation`` on the LITERAL resource ``(resource_type, name)``?"""
        if not self.enabled:
            return True
        host = _host(ctx)
        allowed = self.check(ctx.principal, host, operation, resource_type, name)
        if not allowed and log_denied:
            log.info(
                "Principal = %s is Denied operation = %s from host = %s on resource = %s:LITERAL:%s",
                ctx.principal,
                operation.name,
                host,
                _type_name(resource_type),
                name,
            )
        return allowed

    def authorize_many(
        self, ctx: RequestIdentity, actions: Iterable[tuple[AclOperation, ResourceType, str]]
    ) -> list[bool]:
        """:meth:`authorize` for each ``(operation, resource_type, name)``, in order (Kafka's batch form)."""
        return [self.authorize(ctx, op, rt, name) for op, rt, name in actions]

    def authorized_names(
        self, ctx: RequestIdentity, operation: AclOperation, resource_type: ResourceType, names: Iterable[str]
    ) -> list[str]:
        """The ``names`` the caller may perform ``operation`` on, in order (denials are not logged:
        Kafka's ``filterByAuthorized`` uses ``logIfDenied=false``)."""
        if not self.enabled:
            return list(names)
        return [n for n in names if self.authorize(ctx, operation, resource_type, n, log_denied=False)]

    def authorize_cluster(self, ctx: RequestIdentity, operation: AclOperation) -> bool:
        """``AuthHelper.authorize(ctx, operation, CLUSTER, "kafka-cluster")``."""
        return self.authorize(ctx, operation, ResourceType.CLUSTER, CLUSTER_NAME)

    def authorized_operations(self, ctx: RequestIdentity, resource_type: ResourceType, name: str) -> int:
        """``AuthHelper.authorizedOperations``: the bit field (``1 << code``) of the resource type's supported
        operations the caller may perform (KIP-430); all of them without an authorizer."""
        bits = 0
        for op in SUPPORTED_OPERATIONS[resource_type]:
            if self.authorize(ctx, op, resource_type, name, log_denied=False):
                bits |= 1 << op
        return bits

    def check(self, principal: str, host: str, operation: AclOperation, resource_type: ResourceType, name: str) -> bool:
        """The decision itself (sans context): see the module docstring."""
        if principal in self.super_users:
            return True
        index = self._index.get(resource_type)
        if index is None:
            return self.allow_if_no_acl
        applies = allowed = False
        for acls in index.applicable(name):
            applies = True
            for acl in acls:
                result = _result(acl, principal, host, operation)
                if result is _DENY:
                    return False
                if result is _ALLOW:
                    allowed = True
        return allowed if applies else self.allow_if_no_acl

    def authorize_by_resource_type(
        self, ctx: RequestIdentity, operation: AclOperation, resource_type: ResourceType
    ) -> bool:
        """May the caller perform ``operation`` on at least one resource of the type (KIP-679; the
        default ``Authorizer.authorizeByResourceType``): e.g. idempotent producers without
        IDEMPOTENT_WRITE need WRITE on some topic. Implied operations do not count here."""
        if not self.enabled:
            return True
        if operation in (AclOperation.ANY, AclOperation.UNKNOWN) or resource_type in (
            ResourceType.ANY,
            ResourceType.UNKNOWN,
        ):
            raise ValueError(f"unsupported operation {operation.name} or resource type {resource_type.name}")
        if self.authorize(ctx, operation, resource_type, "hardcode", log_denied=False):
            return True
        principal, host = ctx.principal, _host(ctx)
        deny: dict[PatternType, set[str]] = {PatternType.LITERAL: set(), PatternType.PREFIXED: set()}
        allow: dict[PatternType, set[str]] = {PatternType.LITERAL: set(), PatternType.PREFIXED: set()}
        wildcard_allow = False
        for acl in self._by_id.values():
            if acl.resource_type is not resource_type:
                continue
            if acl.host != host and acl.host != WILDCARD_RESOURCE:
                continue
            if acl.principal != principal and acl.principal != WILDCARD_PRINCIPAL:
                continue
            if acl.operation is not operation and acl.operation is not AclOperation.ALL:
                continue
            if acl.permission is _DENY:
                if acl.pattern_type is PatternType.LITERAL and acl.name == WILDCARD_RESOURCE:
                    return False
                deny[acl.pattern_type].add(acl.name)
            elif acl.pattern_type is PatternType.LITERAL and acl.name == WILDCARD_RESOURCE:
                wildcard_allow = True
            else:
                allow[acl.pattern_type].add(acl.name)
        if wildcard_allow:
            return True
        for pattern_type, names in allow.items():
            for name in names:
                if pattern_type is PatternType.LITERAL and name in deny[PatternType.LITERAL]:
                    continue
                if not any(name[:i] in deny[PatternType.PREFIXED] for i in range(1, len(name) + 1)):
                    return True
        return False

    # ---- the ACLs --------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._by_id)

    def acls(self, acl_filter: AclBindingFilter | None = None) -> list[AclBinding]:
        """The ACLs ``acl_filter`` matches (all without one), by resource then entry."""
        found = [a for a in self._by_id.values() if acl_filter is None or acl_filter.matches(a)]
        found.sort(key=_sort_key)
        return found

    def create(self, bindings: Sequence[AclBinding]) -> None:
        """Add validated ACLs (an existing one is not added twice) and persist them atomically."""
        added: dict[str, AclBinding] = {}
        for acl in bindings:
            if acl in self._ids:
                continue
            acl_id = str(uuid.uuid4())
            self._add(acl_id, acl)
            added[acl_id] = acl
        if added:
            self._persist({META_PREFIX + i: json.dumps(a.to_json()).encode() for i, a in added.items()})
            log.info("created %d ACLs: %s", len(added), ", ".join(map(str, added.values())))

    def delete(self, filters: Sequence[AclBindingFilter]) -> list[list[AclBinding]]:
        """Remove every ACL a filter matches; per filter, the ACLs it matched before the deletion."""
        matched = [self.acls(f) for f in filters]
        gone = {acl for acls in matched for acl in acls}
        if gone:
            ids = [self._ids[acl] for acl in gone]
            for acl_id in ids:
                self._remove(acl_id)
            self._persist({META_PREFIX + i: None for i in ids})
            log.info("deleted %d ACLs: %s", len(gone), ", ".join(map(str, gone)))
        return matched

    def _add(self, acl_id: str, acl: AclBinding) -> None:
        self._by_id[acl_id] = acl
        self._ids[acl] = acl_id
        index = self._index.get(acl.resource_type)
        if index is None:
            index = self._index[acl.resource_type] = _TypeIndex()
        index.add(acl)

    def _remove(self, acl_id: str) -> None:
        acl = self._by_id.pop(acl_id)
        del self._ids[acl]
        index = self._index[acl.resource_type]
        index.remove(acl)
        if not index.literal and not index.prefixed:
            del self._index[acl.resource_type]

    def _persist(self, items: Mapping[str, bytes | None]) -> None:
        if self._storage is not None:
            self._storage.put_meta_batch(items)
            self._storage.sync()


def _host(ctx: RequestIdentity) -> str:
    return java_host_address(ctx.peer[0]) if ctx.peer else ""


def _type_name(rt: ResourceType) -> str:
    """``SecurityUtils.resourceTypeName``: ``Topic``, ``TransactionalId``, ..."""
    return "".join(part.capitalize() for part in rt.name.split("_"))


def _sort_key(acl: AclBinding) -> tuple[Any, ...]:
    return (acl.resource_type, acl.name, acl.pattern_type, acl.principal, acl.host, acl.operation, acl.permission)
