"""Client quota entities, keys and the checks of AlterClientQuotas / DescribeClientQuotas (KIP-546).

An entity is a set of (type, name) pairs, types ``user``, ``client-id`` and ``ip``; a ``None`` name
is the ``<default>`` entity of that type. Kafka 4.4's rules (``ClientQuotaControlManager``,
``ClientQuotasImage.describe``, ``QuotaConfig``), with its error messages:

- Keys: ``producer_byte_rate`` and ``consumer_byte_rate`` (LONG), ``request_percentage`` and
  ``controller_mutation_rate`` (DOUBLE) for user / client-id / (user, client-id) entities;
  ``connection_creation_rate`` (INT) for ip entities. Values must be finite and > 0; integral
  types must be whole numbers within range. Removing a key is never validated.
- Entity checks in order: empty, unknown type, empty name, ip combined with user or client-id,
  an ip that is not an address (Kafka also accepts any resolvable host name; Chronik only
  ``localhost``, as resolving would block the reactor). A failing entity changes nothing; the others
  of the request are applied. A request naming one entity twice, or one key twice within an
  entity, fails that entity with "Ignoring duplicate entity ..." (the first occurrence of a
  duplicated entity is still applied, as Kafka does).
- Describe filters: match type 0 = exact name, 1 = the default entity, 2 = any entity having
  that type; ``strict`` keeps only entities with exactly the filtered types. An empty filter
  list means all entities (none when strict).

Kafka answers in Java ``HashMap`` order; :func:`java_hash_order` reproduces it for the few
entity types and keys of an entity, so responses list them as Kafka does.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

__all__ = [
    "CLIENT_ID",
    "CONSUMER_BYTE_RATE",
    "CONTROLLER_MUTATION_RATE",
    "IP",
    "IP_CONNECTION_RATE",
    "PRODUCER_BYTE_RATE",
    "REQUEST_PERCENTAGE",
    "USER",
    "DescribeFilterError",
    "Entity",
    "entity_text",
    "java_hash_order",
    "match_entities",
    "validate_alteration",
    "validate_describe_filter",
]

USER: Final = "user"
CLIENT_ID: Final = "client-id"
IP: Final = "ip"

PRODUCER_BYTE_RATE: Final = "producer_byte_rate"
CONSUMER_BYTE_RATE: Final = "consumer_byte_rate"
REQUEST_PERCENTAGE: Final = "request_percentage"
CONTROLLER_MUTATION_RATE: Final = "controller_mutation_rate"
IP_CONNECTION_RATE: Final = "connection_creation_rate"

_LONG_MAX: Final = 9.223372036854776e18
_INT_MAX: Final = 2147483647.0

#: ``QuotaConfig.userAndClientQuotaConfigs`` and ``ipConfigs``: key → (type name, max for integral types)
USER_CLIENT_KEYS: Final[dict[str, tuple[str, float | None]]] = {
    PRODUCER_BYTE_RATE: ("LONG", _LONG_MAX),
    CONSUMER_BYTE_RATE: ("LONG", _LONG_MAX),
    REQUEST_PERCENTAGE: ("DOUBLE", None),
    CONTROLLER_MUTATION_RATE: ("DOUBLE", None),
}
IP_KEYS: Final[dict[str, tuple[str, float | None]]] = {IP_CONNECTION_RATE: ("INT", _INT_MAX)}
_TOO_LARGE: Final = {"LONG": "a LONG", "INT": "an INT"}

#: An entity: its (type, name) pairs sorted by type; a None name is the ``<default>`` entity.
Entity = tuple[tuple[str, "str | None"], ...]

MATCH_EXACT: Final = 0
MATCH_DEFAULT: Final = 1
MATCH_SPECIFIED: Final = 2


def _java_string_hash(s: str) -> int:
    data = s.encode("utf-16-be")
    h = 0
    for i in range(0, len(data), 2):
        h = (31 * h + (data[i] << 8 | data[i + 1])) & 0xFFFFFFFF
    return h


def _java_capacity(n: int) -> int:
    """Table size of ``new HashMap<>(n)`` after ``n`` puts (``tableSizeFor``, resize past 0.75)."""
    cap = 1
    while cap < max(n, 1):
        cap <<= 1
    while n > cap * 0.75:
        cap <<= 1
    return cap


def java_hash_order(keys: Sequence[str], capacity: int | None = None) -> list[str]:
    """``keys`` (distinct, in insertion order) in the iteration order of a Java ``HashMap`` holding them."""
    cap = capacity or _java_capacity(len(keys))

    def bucket(k: str) -> int:
        h = _java_string_hash(k)
        return (h ^ (h >> 16)) & (cap - 1)

    return [k for _i, k in sorted(enumerate(keys), key=lambda p: (bucket(p[1]), p[0]))]


def entity_of(pairs: Iterable[tuple[str, str | None]]) -> Entity:
    """The entity of (type, name) pairs as Kafka reads them into a map: a repeated type keeps the last name."""
    mapping: dict[str, str | None] = {}
    for entity_type, name in pairs:
        mapping[entity_type] = name
    return tuple(sorted(mapping.items()))


def entity_pairs(entity: Entity) -> list[tuple[str, str | None]]:
    """The entity's pairs in Kafka's response order (``HashMap`` of its types)."""
    names = dict(entity)
    return [(t, names[t]) for t in java_hash_order([t for t, _ in entity])]


def entity_text(entity: Entity) -> str:
    """``ClientQuotaEntity.toString``: ``ClientQuotaEntity(entries={client-id=c1, user=alice})``."""
    body = ", ".join(f"{t}={'null' if n is None else n}" for t, n in entity_pairs(entity))
    return f"ClientQuotaEntity(entries={{{body}}})"


def _valid_ip(host: str | None) -> bool:
    """Kafka: ``InetAddress.getByName`` succeeds. Chronik accepts address literals and ``localhost``
    only: resolving other names would block the reactor on DNS."""
    if host is None or host == "localhost":
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _entity_error(entity: Entity) -> tuple[str | None, dict[str, tuple[str, float | None]]]:
    """``validateEntity`` + ``configKeysForEntityType``: (error message or None, the entity's valid keys)."""
    if not entity:
        return "Invalid empty client quota entity", {}
    for entity_type, name in entity_pairs(entity):
        if entity_type not in (USER, CLIENT_ID, IP):
            return f"Unhandled client quota entity type: {entity_type}", {}
        if name is not None and not name:
            return f"Empty {entity_type} not supported", {}
    types = {t for t, _ in entity}
    if IP in types:
        if types != {IP}:
            return "Invalid quota entity combination, IP entity shouldnot be combined with User or ClientId", {}
        ip = dict(entity)[IP]
        if not _valid_ip(ip):
            return f"{ip} is not a valid IP or resolvable host.", {}
        return None, IP_KEYS
    return None, USER_CLIENT_KEYS


def _value_error(keys: Mapping[str, tuple[str, float | None]], key: str, value: float) -> str | None:
    """``validateQuotaKeyValue``."""
    spec = keys.get(key)
    if spec is None:
        return f"Invalid configuration key {key}"
    if not math.isfinite(value):
        return f"Quota {key} must be a finite number"
    if not value > 0:
        return f"Quota {key} must be greater than 0"
    type_name, limit = spec
    if limit is not None:
        if value > limit:
            return f"Proposed value for {key} is too large for {_TOO_LARGE[type_name]}."
        if abs(math.fmod(value, 1.0)) > 1e-6:
            return f"{key} cannot be a fractional value."
    return None


def validate_alteration(entity: Entity, ops: Sequence[tuple[str, float | None]]) -> str | None:
    """Why Kafka rejects altering ``entity`` with ``ops`` ((key, value or None to remove)); None if it may.

    The duplicate-key check comes first (the request's parsing); then the entity, then each set value.
    """
    seen: set[str] = set()
    for key, _value in ops:
        if key in seen:
            return f"Ignoring duplicate entity {entity_text(entity)}"
        seen.add(key)
    problem, keys = _entity_error(entity)
    if problem is not None:
        return problem
    for key, value in ops:
        if value is not None:
            problem = _value_error(keys, key, value)
            if problem is not None:
                return problem
    return None


class DescribeFilterError(Exception):
    """A DescribeClientQuotas filter Kafka refuses: ``error_code`` and message for the response."""

    def __init__(self, error_code: int, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message


@dataclass(frozen=True, slots=True)
class DescribeFilter:
    exact: dict[str, str | None]  # type → name (None: the default entity)
    specified: frozenset[str]  # types that must be present, any name
    strict: bool


def validate_describe_filter(components: Sequence[tuple[str, int, str | None]], strict: bool) -> DescribeFilter:
    """``ClientQuotasImage.describe``'s checks of (entity type, match type, match) components."""
    from chronik.protocol.errors import ErrorCode

    invalid, unsupported = ErrorCode.INVALID_REQUEST, ErrorCode.UNSUPPORTED_VERSION
    exact: dict[str, str | None] = {}
    specified: set[str] = set()
    for entity_type, match_type, match in components:
        if not entity_type:
            raise DescribeFilterError(invalid, "Invalid empty entity type.")
        if entity_type in exact or entity_type in specified:
            raise DescribeFilterError(invalid, f"Entity type {entity_type} cannot appear more than once in the filter.")
        if entity_type not in (IP, USER, CLIENT_ID):
            raise DescribeFilterError(unsupported, f"Unsupported entity type {entity_type}")
        if match_type == MATCH_EXACT:
            if match is None:
                raise DescribeFilterError(invalid, "Request specified MATCH_TYPE_EXACT, but set match string to null.")
            exact[entity_type] = match
        elif match_type == MATCH_DEFAULT:
            if match is not None:
                raise DescribeFilterError(
                    invalid, "Request specified MATCH_TYPE_DEFAULT, but also specified a match string."
                )
            exact[entity_type] = None
        elif match_type == MATCH_SPECIFIED:
            if match is not None:
                raise DescribeFilterError(
                    invalid, "Request specified MATCH_TYPE_SPECIFIED, but also specified a match string."
                )
            specified.add(entity_type)
        else:
            raise DescribeFilterError(invalid, f"Unknown match type {match_type}")
    filtered = set(exact) | specified
    if IP in filtered and (USER in filtered or CLIENT_ID in filtered):
        raise DescribeFilterError(
            invalid,
            "Invalid entity filter component combination. IP filter component should not be used with "
            "user or clientId filter component.",
        )
    return DescribeFilter(exact, frozenset(specified), strict)


def match_entities(entities: Iterable[Entity], flt: DescribeFilter) -> list[Entity]:
    """The entities the filter selects (``ClientQuotasImage.matches``)."""
    if not flt.exact and not flt.specified:
        return [] if flt.strict else list(entities)
    out = []
    wanted = len(flt.exact) + len(flt.specified)
    for entity in entities:
        names = dict(entity)
        if any(t not in names or names[t] != n for t, n in flt.exact.items()):
            continue
        if any(t not in names for t in flt.specified):
            continue
        if flt.strict and len(entity) != wanted:
            continue
        out.append(entity)
    return out
