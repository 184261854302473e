"""Client quota enforcement (KIP-13, KIP-55, KIP-124, KIP-219) and the quota store (KIP-546).

:class:`ClientQuotaManager` is Kafka's manager of one quota type — produce bytes, fetch bytes,
request time — with its hot path kept small: ``enabled`` is False while no override of the type
exists (Produce and Fetch then skip quotas with one attribute read), and a recorded
(user, client-id) resolves to its rate through one dict lookup, rebuilt lazily after a change.

:class:`ClientQuotas` holds the quota entities (user / client-id / (user, client-id) / ip) and
their values, durable in the storage's metadata (``client.quota.<entity>``), reloaded at start,
and applied to the managers at once when altered: ``producer_byte_rate`` → :attr:`produce`,
``consumer_byte_rate`` → :attr:`fetch`, ``request_percentage`` → :attr:`request`.
``controller_mutation_rate`` (KIP-599) is stored, described and applied to
:attr:`controller_mutation`, which nothing records into yet (CreateTopics, CreatePartitions and
DeleteTopics are not throttled), and ip ``connection_creation_rate`` (KIP-612) is stored and
described but not enforced.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from chronik.quotas import model
from chronik.quotas.precedence import DEFAULT, NO_QUOTAS, EntityKey, quota_limit, quota_metric_tags, quota_type_bit
from chronik.quotas.rate import Rate, throttle_time_ms

if TYPE_CHECKING:
    from chronik.storage.api import Storage

__all__ = ["META_PREFIX", "ClientQuotaManager", "ClientQuotas", "user_of"]

log = logging.getLogger("chronik.quotas")

#: Storage metadata keys of quota entities: ``client.quota.<json [[type, name], ...]>`` → json {key: value}.
META_PREFIX: Final = "client.quota."
#: Kafka purges a client's sensors after an hour without activity.
INACTIVE_SENSOR_EXPIRATION_MS: Final = 3_600_000
_PURGE_EVERY_MS: Final = 60_000

#: quota key → the manager it bounds (the ``QuotaType`` of ``ClientQuotaMetadataManager``)
_KEY_TO_MANAGER: Final = {
    model.PRODUCER_BYTE_RATE: "produce",
    model.CONSUMER_BYTE_RATE: "fetch",
    model.REQUEST_PERCENTAGE: "request",
    model.CONTROLLER_MUTATION_RATE: "controller_mutation",
}


def user_of(principal: str) -> str:
    """``KafkaPrincipal.getName()`` of ``User:alice``: ``alice`` (``ANONYMOUS`` when unauthenticated)."""
    return principal.partition(":")[2]


class _Sensor:
    __slots__ = ("bound", "last_ms", "rate")

    def __init__(self, rate: Rate, bound: float | None) -> None:
        self.rate = rate
        self.bound = bound
        self.last_ms = 0


class ClientQuotaManager:
    """One quota type: overrides by entity, a rate per sensor (Kafka's ``ClientQuotaManager``).

    ``max_throttle_ms`` caps throttle times (the request quota caps them at one window, as
    ``ClientRequestQuotaManager`` does); byte-rate throttle times are not capped.
    """

    def __init__(self, name: str, window_num: int = 11, window_size_s: int = 1, *, cap_throttle: bool = False) -> None:
        self.name = name
        self.window_num = window_num
        self.window_ms = window_size_s * 1000
        self.cap_throttle = cap_throttle
        #: False while the type has no override: callers skip quotas entirely
        self.enabled = False
        self._types = NO_QUOTAS
        self._overrides: dict[EntityKey, float] = {}
        self._sensors: dict[tuple[str, str], _Sensor] = {}
        self._lookup: dict[tuple[str, str], _Sensor] = {}
        self._last_purge = 0

    def configure(self, window_num: int, window_size_s: int) -> None:
        """New window settings (``quota.window.num``, ``quota.window.size.seconds``): rates start afresh."""
        self.window_num, self.window_ms = window_num, window_size_s * 1000
        self._sensors.clear()
        self._lookup.clear()

    # ---- overrides --------------------------------------------------------------------------

    def update_quota(self, key: EntityKey, value: float | None) -> None:
        """Set (None: remove) the override of an entity; takes effect on the next request."""
        if value is None:
            self._overrides.pop(key, None)
        else:
            self._overrides[key] = float(value)
        types = NO_QUOTAS
        for k in self._overrides:
            types |= quota_type_bit(k)
        self._types = types
        self.enabled = types != NO_QUOTAS
        self._lookup.clear()  # tags and bounds are recomputed on the next record

    def quota(self, user: str, client_id: str) -> float | None:
        """The bound that applies to (user, client-id), None if unlimited (for tests and logs)."""
        tags = quota_metric_tags(self._types, self._overrides, user, client_id)
        return quota_limit(self._overrides, *tags)

    # ---- recording --------------------------------------------------------------------------

    def _sensor(self, user: str, client_id: str, now_ms: int) -> _Sensor:
        sensor = self._lookup.get((user, client_id))
        if sensor is not None:
            return sensor
        if now_ms - self._last_purge >= _PURGE_EVERY_MS:
            self._purge(now_ms)
        tags = quota_metric_tags(self._types, self._overrides, user, client_id)
        sensor = self._sensors.get(tags)
        if sensor is None:
            sensor = self._sensors[tags] = _Sensor(Rate(self.window_num, self.window_ms), None)
        sensor.bound = quota_limit(self._overrides, *tags)
        self._lookup[(user, client_id)] = sensor
        return sensor

    def _purge(self, now_ms: int) -> None:
        self._last_purge = now_ms
        idle = [tags for tags, s in self._sensors.items() if now_ms - s.last_ms >= INACTIVE_SENSOR_EXPIRATION_MS]
        if idle:
            for tags in idle:
                del self._sensors[tags]
            self._lookup.clear()

    def record(self, user: str, client_id: str, value: float, now_ms: int) -> int:
        """``recordAndGetThrottleTimeMs``: record ``value``; the throttle time in ms if the bound is exceeded."""
        sensor = self._sensor(user, client_id, now_ms)
        sensor.last_ms = now_ms
        rate = sensor.rate
        rate.record(value, now_ms)
        bound = sensor.bound
        if bound is None:
            return 0
        window = rate.window_size_ms(now_ms)
        measured = rate.total(now_ms) / (window / 1000.0)
        throttle = throttle_time_ms(measured, bound, window)
        if self.cap_throttle and throttle > self.window_ms:
            throttle = self.window_ms
        return throttle

    def unrecord(self, user: str, client_id: str, value: float, now_ms: int) -> None:
        """``unrecordQuotaSensor``: take back ``value`` (a throttled fetch returns no data)."""
        self._sensor(user, client_id, now_ms).rate.record(-value, now_ms)

    def max_value_in_window(self, user: str, client_id: str, now_ms: int) -> float:
        """``maxValueInQuotaWindow``: the most one request may record without certain throttling
        (``bound * (num - 1) * window``); fetches ask for at most this many bytes."""
        bound = self._sensor(user, client_id, now_ms).bound
        if bound is None:
            return float("inf")
        return bound * (self.window_num - 1) * self.window_ms / 1000.0


def _entity_key(entity: model.Entity) -> EntityKey | None:
    """The (user, client-id) override key of a user/client entity; None for ip entities."""
    names = dict(entity)
    if model.IP in names:
        return None

    def part(t: str) -> Any:
        if t not in names:
            return None
        name = names[t]
        return DEFAULT if name is None else name

    return part(model.USER), part(model.CLIENT_ID)


def _meta_key(entity: model.Entity) -> str:
    return META_PREFIX + json.dumps([list(p) for p in entity], separators=(",", ":"))


class ClientQuotas:
    """The broker's client quotas: the entities' values (durable) and the managers enforcing them."""

    def __init__(self, storage: Storage | None = None, window_num: int = 11, window_size_s: int = 1) -> None:
        self.storage = storage
        self.produce = ClientQuotaManager("Produce", window_num, window_size_s)
        self.fetch = ClientQuotaManager("Fetch", window_num, window_size_s)
        self.request = ClientQuotaManager("Request", window_num, window_size_s, cap_throttle=True)
        self.controller_mutation = ClientQuotaManager("ControllerMutation", window_num, window_size_s)
        self.entities: dict[model.Entity, dict[str, float]] = {}
        if storage is not None:
            for key, raw in storage.meta_items(META_PREFIX):
                try:
                    entity = tuple((t, n) for t, n in json.loads(key[len(META_PREFIX) :]))
                    values = {k: float(v) for k, v in json.loads(raw).items()}
                except (ValueError, TypeError) as e:
                    log.warning("ignoring unreadable client quota %r: %s", key, e)
                    continue
                self._apply(entity, values)
            if self.entities:
                log.info("loaded client quotas of %d entities", len(self.entities))

    def managers(self) -> list[ClientQuotaManager]:
        return [self.produce, self.fetch, self.request, self.controller_mutation]

    def configure(self, window_num: int, window_size_s: int) -> None:
        """Apply ``quota.window.num`` / ``quota.window.size.seconds`` (client quotas) to every type."""
        for m in self.managers():
            m.configure(window_num, window_size_s)

    def _apply(self, entity: model.Entity, values: dict[str, float]) -> None:
        """Make ``values`` the entity's quotas (empty: none), in memory and in the managers."""
        old = self.entities.get(entity, {})
        if values:
            self.entities[entity] = dict(values)
        else:
            self.entities.pop(entity, None)
        key = _entity_key(entity)
        if key is None:
            return
        for quota_key, attr in _KEY_TO_MANAGER.items():
            if old.get(quota_key) != values.get(quota_key):
                getattr(self, attr).update_quota(key, values.get(quota_key))

    # ---- AlterClientQuotas ------------------------------------------------------------------

    def alter(
        self, entries: Sequence[tuple[model.Entity, Sequence[tuple[str, float | None]]]], validate_only: bool
    ) -> tuple[list[tuple[model.Entity, str | None]], bool]:
        """Validate and (unless ``validate_only``) apply alterations atomically, at once.

        ``entries`` are (entity, [(key, value or None to remove)]). Returns one (entity, error
        message or None) per distinct entity, in request order (Kafka answers one result per
        entity), and whether the store changed: the caller makes it durable (``storage.sync()``,
        off the reactor thread) before answering.
        """
        results: dict[model.Entity, str | None] = {}
        changed: dict[model.Entity, dict[str, float]] = {}
        for entity, ops in entries:
            if entity in results:
                results[entity] = f"Ignoring duplicate entity {model.entity_text(entity)}"
                continue
            problem = model.validate_alteration(entity, ops)
            results[entity] = problem
            if problem is not None:
                continue
            values = dict(self.entities.get(entity, {}))
            for key, value in ops:
                if value is None:
                    values.pop(key, None)
                else:
                    values[key] = float(value)
            if values != self.entities.get(entity, {}):
                changed[entity] = values
        if changed and not validate_only:
            if self.storage is not None:
                self.storage.put_meta_batch(
                    {_meta_key(e): json.dumps(v).encode() if v else None for e, v in changed.items()}
                )
            for entity, values in changed.items():
                log.info("client quotas of %s: %s", model.entity_text(entity), values or "none")
                self._apply(entity, values)
        return list(results.items()), bool(changed) and not validate_only

    # ---- DescribeClientQuotas ---------------------------------------------------------------

    def describe(
        self, components: Sequence[tuple[str, int, str | None]], strict: bool
    ) -> list[tuple[model.Entity, dict[str, float]]]:
        """The entities the filter matches with their quotas; raises ``model.DescribeFilterError``."""
        flt = model.validate_describe_filter(components, strict)
        return [(e, self.entities[e]) for e in model.match_entities(self.entities, flt)]
