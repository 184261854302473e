"""ACL checks shared by the handlers (Kafka's ``AuthHelper``), over ``broker.authorizer``.

Every helper returns at once when no authorizer is configured (``authorizer.class.name`` unset),
so enforcement costs one attribute test per request then. Which operation each API needs, and
what it answers when denied, is in each handler (Kafka's ``KafkaApis``/``ControllerApis``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from chronik.security.acl import AclOperation, Authorizer, ResourceType
from chronik.security.acl.authorizer import RequestIdentity

__all__ = ["NOT_REQUESTED", "denied", "operations"]

#: ``Integer.MIN_VALUE``: the ``*AuthorizedOperations`` fields' default, "not requested".
NOT_REQUESTED: Final = -2147483648


def denied(
    auth: Authorizer, ctx: RequestIdentity, op: AclOperation, rtype: ResourceType, names: Iterable[str | None]
) -> frozenset[str]:
    """The names (each checked once) the caller may not ``op``: ``filterByAuthorized``'s complement.

    Empty without an authorizer; denials are logged, as Kafka's ``logIfDenied=true``."""
    if not auth.enabled:
        return frozenset()
    return frozenset(n for n in {n for n in names if n is not None} if not auth.authorize(ctx, op, rtype, n))


def operations(auth: Authorizer, ctx: RequestIdentity, rtype: ResourceType, name: str, requested: bool) -> int:
    """``AuthHelper.authorizedOperations`` when ``requested``, else :data:`NOT_REQUESTED`."""
    return auth.authorized_operations(ctx, rtype, name) if requested else NOT_REQUESTED
