"""Which quota applies to a (user, client-id), as Kafka's ``ClientQuotaManager.DefaultQuotaCallback``.

Quota overrides are keyed by ``(user, client_id)``, each ``None`` (not part of the entity), a name,
or :data:`DEFAULT` (the ``<default>`` entity). The most specific override wins, in this order::

    /config/users/<user>/clients/<client-id>
    /config/users/<user>/clients/<default>
    /config/users/<user>
    /config/users/<default>/clients/<client-id>
    /config/users/<default>/clients/<default>
    /config/users/<default>
    /config/clients/<client-id>
    /config/clients/<default>

Kafka does it in two steps, kept here because they decide which clients *share* a rate: the
metric tags (:func:`quota_metric_tags`) name the sensor a request is recorded in — with only
client-id quotas every user of a client id shares one sensor, with only user quotas every
client of a user does — and the quota of those tags (:func:`quota_limit`) bounds it. An empty
tag means "not part of the key".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

__all__ = [
    "CLIENT_ID_QUOTA_ENABLED",
    "DEFAULT",
    "NO_QUOTAS",
    "USER_CLIENT_ID_QUOTA_ENABLED",
    "USER_QUOTA_ENABLED",
    "EntityKey",
    "quota_limit",
    "quota_metric_tags",
    "quota_type_bit",
]


class _Default:
    """The ``<default>`` user or client-id entity (a null entity name on the wire)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<default>"


DEFAULT: Final = _Default()

#: (user, client-id) of a quota entity: None (absent), DEFAULT, or a name.
EntityKey = tuple["str | _Default | None", "str | _Default | None"]

NO_QUOTAS: Final = 0
CLIENT_ID_QUOTA_ENABLED: Final = 1
USER_QUOTA_ENABLED: Final = 2
USER_CLIENT_ID_QUOTA_ENABLED: Final = 4


def quota_type_bit(key: EntityKey) -> int:
    """The ``quotaTypesEnabled`` bit an override of ``key`` sets."""
    user, client = key
    if user is not None and client is not None:
        return USER_CLIENT_ID_QUOTA_ENABLED
    if user is not None:
        return USER_QUOTA_ENABLED
    return CLIENT_ID_QUOTA_ENABLED if client is not None else NO_QUOTAS


def quota_metric_tags(enabled: int, overrides: Mapping[EntityKey, float], user: str, client_id: str) -> tuple[str, str]:
    """``DefaultQuotaCallback.quotaMetricTags``: the (user, client-id) tags of the sensor to record in."""
    if enabled in (NO_QUOTAS, CLIENT_ID_QUOTA_ENABLED):
        return "", client_id
    if enabled == USER_QUOTA_ENABLED:
        return user, ""
    if enabled == USER_CLIENT_ID_QUOTA_ENABLED:
        return user, client_id
    # several levels: the tags of the most specific level that has an override
    if (user, client_id) in overrides or (user, DEFAULT) in overrides:
        return user, client_id
    if (user, None) in overrides:
        return user, ""
    if (DEFAULT, client_id) in overrides or (DEFAULT, DEFAULT) in overrides:
        return user, client_id
    if (DEFAULT, None) in overrides:
        return user, ""
    return "", client_id


def quota_limit(overrides: Mapping[EntityKey, float], user: str, client_id: str) -> float | None:
    """``DefaultQuotaCallback.quotaLimit`` of the tags (user, client_id): the bound, None if unlimited."""
    get = overrides.get
    if user and client_id:
        for key in ((user, client_id), (user, DEFAULT), (DEFAULT, client_id), (DEFAULT, DEFAULT)):
            found = get(key)
            if found is not None:
                return found
        return None
    if user:
        found = get((user, None))
        return found if found is not None else get((DEFAULT, None))
    if client_id:
        found = get((None, client_id))
        return found if found is not None else get((None, DEFAULT))
    return None
