"""ACLs and their authorizer: Kafka's ``StandardAuthorizer`` (KIP-11 ACLs, KIP-290 prefixed patterns).

- ``model.py``: resource/pattern types, operations, permissions, ACL bindings and filters.
- ``authorizer.py``: :class:`Authorizer`, the decisions (super users, deny wins, implied
  operations, wildcards, ``allow.everyone.if.no.acl.found``) and the ACLs, persisted in the
  storage's metadata (``acl.<id>``) and reloaded at startup.
- ``requests.py``: the checks of Kafka's CreateAcls/DescribeAcls/DeleteAcls request classes.

Handlers reach the authorizer as ``env.broker.authorizer`` (disabled, allowing everything, unless
``authorizer.class.name`` is set).
"""

from chronik.security.acl.authorizer import ACCEPTED_AUTHORIZERS, Authorizer, parse_super_users
from chronik.security.acl.model import (
    CLUSTER_NAME,
    WILDCARD_PRINCIPAL,
    WILDCARD_RESOURCE,
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    PatternType,
    ResourceType,
)

__all__ = [
    "ACCEPTED_AUTHORIZERS",
    "CLUSTER_NAME",
    "WILDCARD_PRINCIPAL",
    "WILDCARD_RESOURCE",
    "AclBinding",
    "AclBindingFilter",
    "AclOperation",
    "AclPermissionType",
    "Authorizer",
    "PatternType",
    "ResourceType",
    "parse_super_users",
]
