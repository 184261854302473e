"""Client quotas without sockets: precedence, Kafka's rate and throttle-time math, the two admin
handlers' checks and messages, durability in the store, and the network layer's mute after a
throttled response (KIP-219).

The precedence and throttle expectations are Kafka 4.4.0's own unit tests
(``ClientQuotaManagerTest.testQuotaViolation`` and ``testQuotaConfigPrecedence``) replayed on our
manager; the handler messages are what a Kafka 4.4.0 broker answered to the same raw requests
(``tests/test_broker_quotas.py`` sends some of them over the wire).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from chronik.broker.dispatch import NO_RESPONSE, RequestContext
from chronik.broker.handlers import alter_client_quotas, describe_client_quotas
from chronik.protocol.errors import ErrorCode
from chronik.quotas import DEFAULT, ClientQuotaManager, ClientQuotas
from chronik.quotas.model import entity_of, entity_pairs, java_hash_order
from chronik.quotas.rate import Rate, throttle_time_ms
from chronik.security.acl import Authorizer
from chronik.storage.memory import MemoryStorage
from chronik_protocol.messages.alter_client_quotas_request import (
    AlterClientQuotasRequest,
    EntityData,
    EntryData,
    OpData,
)
from chronik_protocol.messages.describe_client_quotas_request import ComponentData, DescribeClientQuotasRequest
from chronik_protocol.messages.produce_request import ProduceRequest

from .test_net import Harness, api_versions_request, frame

# ---- rate and throttle time ---------------------------------------------------------------------


def test_kafka_quota_violation_example() -> None:
    """ClientQuotaManagerTest.testQuotaViolation: 500 B/s, 11 windows of 1 s."""
    m = ClientQuotaManager("Produce")
    m.update_quota((None, DEFAULT), 500)
    t = 1_000_000
    for _ in range(10):
        assert m.record("ANONYMOUS", "unknown", 400, t) == 0
        t += 1000
    t += 500
    # 400*10 + 2300 = 6300 over 10.5 s = 600 B/s; (600 - 500) / 500 * 10.5 s = 2100 ms
    assert m.record("ANONYMOUS", "unknown", 2300, t) == 2100
    t += 2100
    for _ in range(10):  # delays continue until the bursty sample rolls over
        m.record("ANONYMOUS", "unknown", 400, t)
        t += 1000
    assert m.record("ANONYMOUS", "unknown", 0, t) == 0


def test_a_new_client_is_measured_over_the_full_window() -> None:
    """Rate.windowSize: missing windows count as empty, so a fresh sensor spreads its first bytes over
    (num - 1) windows plus the current one's part (the burst Kafka allows a new client)."""
    r = Rate(11, 1000)
    r.record(10_000, 0)
    assert r.window_size_ms(0) == 10_000 and r.measure(0) == 1000.0
    assert r.window_size_ms(400) == 10_400
    r.record(5_000, 3_500)
    assert r.window_size_ms(3_500) == 10_500
    assert r.total(12_000) == 5_000  # the first sample expired: its last event is 11 windows old


def test_throttle_time_formula() -> None:
    """QuotaUtils.throttleTime: X = (O - T) / T * W, Math.round; nothing within the bound."""
    assert throttle_time_ms(600.0, 500.0, 10_500) == 2100
    assert throttle_time_ms(500.0, 500.0, 10_000) == 0
    assert throttle_time_ms(500.05, 500.0, 10_000) == 1  # 0.999.. rounds half up
    assert throttle_time_ms(1000.0, 1.0, 2_000) == 1_998_000  # byte-rate throttles are not capped


def test_request_quota_throttle_is_capped_at_one_window() -> None:
    """ClientRequestQuotaManager: boundedThrottleTime(e, quotaWindowSizeSeconds)."""
    quotas = ClientQuotas()
    quotas.request.update_quota((None, "c"), 1.0)
    assert quotas.request.record("u", "c", 500.0, 0) == 1000
    quotas.produce.update_quota((None, "c"), 1.0)
    assert quotas.produce.record("u", "c", 500.0, 0) > 1000


def test_fetch_size_is_capped_at_one_quota_window() -> None:
    m = ClientQuotaManager("Fetch", 11, 1)
    assert m.max_value_in_window("u", "c", 0) == float("inf")
    m.update_quota(("u", None), 1000)
    assert m.max_value_in_window("u", "c", 0) == 10_000.0


def test_unrecord_takes_back_a_throttled_fetch() -> None:
    m = ClientQuotaManager("Fetch")
    m.update_quota((None, "c"), 100)
    assert m.record("u", "c", 900, 0) == 0
    assert m.record("u", "c", 500, 1) > 0
    m.unrecord("u", "c", 500, 1)
    assert m.record("u", "c", 0, 2) == 0


# ---- precedence ---------------------------------------------------------------------------------


def test_kafka_quota_config_precedence() -> None:
    """ClientQuotaManagerTest.testQuotaConfigPrecedence, replayed: bounds, shared and exclusive sensors."""
    m = ClientQuotaManager("Produce", 11, 1)
    now = 5_000_000

    def check(user: str, client: str, bound: float, value: int, throttled: bool) -> None:
        assert m.quota(user, client) == bound
        assert m.max_value_in_window(user, client, now) == 10 * bound
        throttle = m.record(user, client, value * 11, now)
        assert (throttle > 0) is throttled, (user, client, throttle)

    for key, value in [
        ((DEFAULT, None), 1000),
        ((None, DEFAULT), 2000),
        ((DEFAULT, DEFAULT), 3000),
        (("userA", None), 4000),
        (("userA", "client1"), 5000),
        (("userB", None), 6000),
        (("userB", "client1"), 7000),
        (("userB", DEFAULT), 8000),
        (("userC", None), 10000),
        ((None, "client1"), 9000),
    ]:
        m.update_quota(key, value)
    check("userA", "client1", 5000, 4500, False)  # <user, client> before <user>
    check("userA", "client2", 4000, 4500, True)  # <user> before <client> and defaults
    check("userA", "client3", 4000, 0, True)  # <user> is shared by the user's clients
    check("userA", "client1", 5000, 0, False)  # <user, client> is exclusive
    check("userB", "client1", 7000, 8000, True)
    check("userB", "client2", 8000, 7000, False)  # <user, default client>: per client
    check("userB", "client3", 8000, 7000, False)
    check("userD", "client1", 3000, 3500, True)  # <default user, default client>
    check("userD", "client2", 3000, 2500, False)
    check("userE", "client1", 3000, 2500, False)

    m.update_quota((DEFAULT, DEFAULT), None)  # back to the <default user> quota
    check("userD", "client1", 1000, 0, False)  # other tags: a fresh sensor
    check("userE", "client4", 1000, 1500, True)
    check("userF", "client4", 1000, 800, False)  # <default user> shared by the user's clients
    check("userF", "client5", 1000, 800, True)

    m.update_quota((DEFAULT, None), None)  # back to the <default client-id> quota
    check("userF", "client4", 2000, 0, False)
    check("userF", "client5", 2000, 0, False)
    check("userF", "client5", 2000, 2500, True)
    check("userG", "client5", 2000, 0, True)  # <default client-id> shared by all users of a client id

    m.update_quota(("userA", None), 8000)  # changes apply to existing rates
    m.update_quota(("userA", "client1"), 10000)
    check("userA", "client2", 8000, 0, False)
    check("userA", "client2", 8000, 4500, True)
    check("userA", "client1", 10000, 0, False)
    check("userA", "client1", 10000, 6000, True)


def test_no_override_means_disabled_and_unlimited() -> None:
    m = ClientQuotaManager("Produce")
    assert not m.enabled and m.quota("u", "c") is None
    m.update_quota(("u", None), 10)
    assert m.enabled and m.quota("u", "other") == 10 and m.quota("v", "c") is None
    assert m.record("v", "c", 10**9, 0) == 0
    m.update_quota(("u", None), None)
    assert not m.enabled


# ---- store and handlers (messages as Kafka 4.4.0 answered) ----------------------------------------

CTX = SimpleNamespace(
    principal="User:ANONYMOUS", peer=("127.0.0.1", 1), connection_id="c-1", listener_name="PLAINTEXT", client_id="t"
)
INVALID = ErrorCode.INVALID_REQUEST


def alter(
    quotas: ClientQuotas, *entries: tuple[list[tuple[str, str | None]], list[tuple[str, float | None]]], **kw: Any
):
    req = AlterClientQuotasRequest(
        entries=[
            EntryData(
                entity=[EntityData(t, n) for t, n in entity],
                ops=[OpData(k, 0.0 if v is None else v, v is None) for k, v in ops],
            )
            for entity, ops in entries
        ],
        **kw,
    )
    resp = alter_client_quotas.handle(quotas, Authorizer.disabled(), CTX, req)  # type: ignore[arg-type]
    return [(e.error_code, e.error_message, [(x.entity_type, x.entity_name) for x in e.entity]) for e in resp.entries]


def describe(quotas: ClientQuotas, *components: tuple[str, int, str | None], strict: bool = False) -> Any:
    req = DescribeClientQuotasRequest(components=[ComponentData(*c) for c in components], strict=strict)
    resp = describe_client_quotas.handle(quotas, Authorizer.disabled(), CTX, req)  # type: ignore[arg-type]
    if resp.entries is None:
        return resp.error_code, resp.error_message
    return sorted(
        (
            (tuple((e.entity_type, e.entity_name) for e in x.entity), tuple((v.key, v.value) for v in x.values))
            for x in resp.entries
        ),
        key=str,
    )


@pytest.mark.parametrize(
    ("entity", "ops", "message"),
    [
        ([("client-id", "c")], [("producer_byte_rate", 1024)], None),
        ([("user", None), ("client-id", None)], [("request_percentage", 10.5)], None),
        ([("client-id", "c")], [("foo", 1)], "Invalid configuration key foo"),
        ([("client-id", "c")], [("producer_byte_rate", 5), ("foo", 1)], "Invalid configuration key foo"),
        ([("group", "g")], [("producer_byte_rate", 1)], "Unhandled client quota entity type: group"),
        ([], [("producer_byte_rate", 1)], "Invalid empty client quota entity"),
        ([("client-id", "")], [("producer_byte_rate", 1)], "Empty client-id not supported"),
        ([("user", "")], [("producer_byte_rate", 1)], "Empty user not supported"),
        ([("client-id", "c")], [("producer_byte_rate", 1.5)], "producer_byte_rate cannot be a fractional value."),
        ([("client-id", "c")], [("producer_byte_rate", -5)], "Quota producer_byte_rate must be greater than 0"),
        ([("client-id", "c")], [("producer_byte_rate", 0)], "Quota producer_byte_rate must be greater than 0"),
        (
            [("client-id", "c")],
            [("producer_byte_rate", 1e19)],
            "Proposed value for producer_byte_rate is too large for a LONG.",
        ),
        (
            [("client-id", "c")],
            [("request_percentage", float("inf"))],
            "Quota request_percentage must be a finite number",
        ),
        (
            [("client-id", "c6")],
            [("producer_byte_rate", 1), ("producer_byte_rate", 2)],
            "Ignoring duplicate entity ClientQuotaEntity(entries={client-id=c6})",
        ),
        ([("ip", "127.0.0.1")], [("connection_creation_rate", 10)], None),
        ([("ip", None)], [("connection_creation_rate", 20)], None),
        ([("ip", "127.0.0.2")], [("producer_byte_rate", 10)], "Invalid configuration key producer_byte_rate"),
        ([("ip", "not an ip")], [("connection_creation_rate", 10)], "not an ip is not a valid IP or resolvable host."),
        (
            [("ip", "127.0.0.1"), ("user", "u")],
            [("connection_creation_rate", 10)],
            "Invalid quota entity combination, IP entity shouldnot be combined with User or ClientId",
        ),
        (
            [("client-id", "c")],
            [("connection_creation_rate", 10)],
            "Invalid configuration key connection_creation_rate",
        ),
        ([("user", "u1")], [("SCRAM-SHA-256", 10)], "Invalid configuration key SCRAM-SHA-256"),
        ([("client-id", "c")], [], None),
        ([("client-id", "c")], [("producer_byte_rate", None), ("zzz", None)], None),  # removals are not checked
        ([("user", "bob"), ("client-id", None)], [("controller_mutation_rate", 3.5)], None),
    ],
)
def test_alter_checks_as_kafka(
    entity: list[tuple[str, str | None]], ops: list[tuple[str, float | None]], message: str | None
) -> None:
    quotas = ClientQuotas(MemoryStorage())
    ((code, got, _),) = alter(quotas, (entity, ops))
    assert (code, got) == (INVALID if message else 0, message)
    expected = {k: float(v) for k, v in ops if v is not None} if message is None else {}
    assert quotas.entities.get(entity_of(entity), {}) == expected


def test_alter_results_per_entity_in_kafka_shape() -> None:
    quotas = ClientQuotas(MemoryStorage())
    # the entity is listed in Kafka's HashMap order; one result per distinct entity
    assert alter(quotas, ([("user", "alice"), ("client-id", "c1")], [("consumer_byte_rate", 2048)])) == [
        (0, None, [("client-id", "c1"), ("user", "alice")])
    ]
    assert alter(
        quotas,
        ([("client-id", "c7")], [("producer_byte_rate", 1)]),
        ([("client-id", "c7")], [("consumer_byte_rate", 2)]),
    ) == [(INVALID, "Ignoring duplicate entity ClientQuotaEntity(entries={client-id=c7})", [("client-id", "c7")])]
    assert quotas.entities[(("client-id", "c7"),)] == {"producer_byte_rate": 1.0}  # Kafka applies the first
    # a type given twice keeps its last name
    assert alter(quotas, ([("client-id", "c8"), ("client-id", "c9")], [("producer_byte_rate", 1)])) == [
        (0, None, [("client-id", "c9")])
    ]
    # validate_only changes nothing
    assert alter(quotas, ([("client-id", "vo")], [("producer_byte_rate", 1)]), validate_only=True)[0][0] == 0
    assert (("client-id", "vo"),) not in quotas.entities


def test_alter_answers_once_the_change_is_synced() -> None:
    from twisted.internet.defer import Deferred

    quotas, pending = ClientQuotas(MemoryStorage()), []

    def sync() -> Deferred[Any]:
        pending.append(Deferred())
        return pending[-1]

    req = AlterClientQuotasRequest(
        entries=[EntryData([EntityData("client-id", "c")], [OpData("producer_byte_rate", 5)])]
    )
    result = alter_client_quotas.handle(quotas, Authorizer.disabled(), CTX, req, sync)  # type: ignore[arg-type]
    assert isinstance(result, Deferred) and not result.called
    assert quotas.produce.quota("u", "c") == 5.0  # enforced at once
    answered: list[Any] = []
    result.addCallback(answered.append)
    pending[0].callback(None)
    assert answered[0].entries[0].error_code == 0
    # nothing changed (same value): no sync to wait for
    assert not isinstance(alter_client_quotas.handle(quotas, Authorizer.disabled(), CTX, req, sync), Deferred)  # type: ignore[arg-type]


def test_removing_the_last_key_removes_the_entity_durably() -> None:
    storage = MemoryStorage()
    quotas = ClientQuotas(storage)
    alter(quotas, ([("client-id", "c")], [("producer_byte_rate", 100), ("consumer_byte_rate", 200)]))
    assert quotas.produce.enabled and quotas.fetch.enabled
    alter(quotas, ([("client-id", "c")], [("producer_byte_rate", None)]))
    assert not quotas.produce.enabled and quotas.fetch.quota("u", "c") == 200
    assert ClientQuotas(storage).entities == {(("client-id", "c"),): {"consumer_byte_rate": 200.0}}
    alter(quotas, ([("client-id", "c")], [("consumer_byte_rate", None)]))
    assert ClientQuotas(storage).entities == {} and not quotas.fetch.enabled


def test_describe_filters_as_kafka() -> None:
    quotas = ClientQuotas(MemoryStorage())
    alter(
        quotas,
        ([("client-id", "c1")], [("producer_byte_rate", 1024)]),
        ([("user", "alice"), ("client-id", "c1")], [("consumer_byte_rate", 2048)]),
        ([("user", None)], [("producer_byte_rate", 100)]),
        ([("client-id", None)], [("request_percentage", 10.5)]),
        ([("user", None), ("client-id", None)], [("consumer_byte_rate", 300)]),
        ([("ip", "127.0.0.1")], [("connection_creation_rate", 10)]),
    )
    c1 = (("client-id", "c1"),), (("producer_byte_rate", 1024.0),)
    alice_c1 = (("client-id", "c1"), ("user", "alice")), (("consumer_byte_rate", 2048.0),)
    default_user = (("user", None),), (("producer_byte_rate", 100.0),)
    default_client = (("client-id", None),), (("request_percentage", 10.5),)
    defaults = (("client-id", None), ("user", None)), (("consumer_byte_rate", 300.0),)
    ip = (("ip", "127.0.0.1"),), (("connection_creation_rate", 10.0),)
    assert describe(quotas) == sorted([c1, alice_c1, default_user, default_client, defaults, ip], key=str)
    assert describe(quotas, strict=True) == []
    assert describe(quotas, ("client-id", 0, "c1")) == sorted([c1, alice_c1], key=str)
    assert describe(quotas, ("client-id", 0, "c1"), strict=True) == [c1]
    assert describe(quotas, ("client-id", 1, None), strict=True) == [default_client]
    assert describe(quotas, ("user", 2, None), strict=True) == [default_user]
    assert describe(quotas, ("user", 0, "alice"), ("client-id", 2, None)) == [alice_c1]
    assert describe(quotas, ("user", 1, None), ("client-id", 1, None), strict=True) == [defaults]
    assert describe(quotas, ("ip", 2, None)) == [ip]
    assert describe(quotas, ("client-id", 0, "nope")) == []


@pytest.mark.parametrize(
    ("components", "expected"),
    [
        ([("", 0, "x")], (INVALID, "Invalid empty entity type.")),
        ([("group", 0, "x")], (ErrorCode.UNSUPPORTED_VERSION, "Unsupported entity type group")),
        (
            [("user", 0, "a"), ("user", 2, None)],
            (INVALID, "Entity type user cannot appear more than once in the filter."),
        ),
        ([("user", 0, None)], (INVALID, "Request specified MATCH_TYPE_EXACT, but set match string to null.")),
        ([("user", 1, "x")], (INVALID, "Request specified MATCH_TYPE_DEFAULT, but also specified a match string.")),
        ([("user", 2, "x")], (INVALID, "Request specified MATCH_TYPE_SPECIFIED, but also specified a match string.")),
        ([("user", 5, None)], (INVALID, "Unknown match type 5")),
        (
            [("ip", 2, None), ("user", 2, None)],
            (
                INVALID,
                "Invalid entity filter component combination. IP filter component should not be used with "
                "user or clientId filter component.",
            ),
        ),
    ],
)
def test_describe_filter_errors_as_kafka(components: list[tuple[str, int, str | None]], expected: Any) -> None:
    assert describe(ClientQuotas(), *components) == expected


def test_describe_needs_describe_configs_and_alter_needs_alter_configs() -> None:
    quotas, denied = ClientQuotas(), Authorizer(super_users=set())
    denied.enabled = True  # type: ignore[misc]
    req = DescribeClientQuotasRequest(components=[])
    resp = describe_client_quotas.handle(quotas, denied, CTX, req)  # type: ignore[arg-type]
    assert (resp.error_code, resp.error_message, resp.entries) == (31, "Cluster authorization failed.", None)
    areq = AlterClientQuotasRequest(entries=[EntryData([EntityData("client-id", "c")], [OpData("x", 1.0)])])
    aresp = alter_client_quotas.handle(quotas, denied, CTX, areq)  # type: ignore[arg-type]
    assert [(e.error_code, e.entity[0].entity_name) for e in aresp.entries] == [(31, "c")]
    assert "needs ALTER_CONFIGS permission" in (aresp.entries[0].error_message or "")


def test_java_hash_map_order() -> None:
    assert java_hash_order(["user", "client-id"]) == ["client-id", "user"]
    assert java_hash_order(["ip", "user"]) == ["user", "ip"]
    assert entity_pairs(entity_of([("user", "a"), ("client-id", None)])) == [("client-id", None), ("user", "a")]


# ---- the network layer: answer at once, then mute (KIP-219) ----------------------------------------


class ThrottlingHarness(Harness):
    def __init__(self, throttle_ms: int, **options: Any) -> None:
        super().__init__(**options)
        from chronik.broker.dispatch import Handler

        def produce(ctx: RequestContext, body: ProduceRequest) -> Any:
            ctx.throttle_ms = throttle_ms
            if body.acks == 0:
                return NO_RESPONSE
            from chronik_protocol.messages.produce_response import ProduceResponse

            return ProduceResponse(throttle_time_ms=throttle_ms)

        self.dispatcher.register(0, Handler(3, 13, produce, advertised_min=0))


def test_a_throttled_response_goes_out_at_once_then_the_connection_is_muted() -> None:
    from chronik_protocol.messages.produce_response import ProduceResponse

    h = ThrottlingHarness(300)
    ((cid, body),) = h.send(frame(0, 8, 7, ProduceRequest(acks=1)))
    assert cid == 7 and ProduceResponse.decode(body, 8).throttle_time_ms == 300
    assert h.transport.producerState == "paused"
    h.clock.advance(0.299)
    assert h.transport.producerState == "paused"
    h.clock.advance(0.002)
    assert h.transport.producerState == "producing"


def test_requests_pipelined_behind_a_throttled_one_wait_for_the_mute_to_end() -> None:
    """Kafka reads one request at a time: what the client pipelined stays unread while muted."""
    h = ThrottlingHarness(300)
    first, third = (frame(0, 8, c, ProduceRequest(acks=1)) for c in (1, 3))
    assert [c for c, _ in h.send(first + api_versions_request(2) + third)] == [1]
    h.transport.clear()
    h.clock.advance(0.3)  # unmuted: the ApiVersions is answered, the next Produce throttles again
    assert [c for c, _ in h.take()] == [2, 3]
    assert h.transport.producerState == "paused"
    h.clock.advance(0.3)
    assert h.transport.producerState == "producing" and h.proto._held is None


def test_acks0_is_muted_too_and_a_longer_throttle_extends_the_mute() -> None:
    h = ThrottlingHarness(200)
    assert h.send(frame(0, 9, 1, ProduceRequest(acks=0))) == []
    assert h.transport.producerState == "paused"
    h.clock.advance(0.1)
    h.proto._throttle(500)  # e.g. a pipelined request read before the mute
    h.clock.advance(0.2)
    assert h.transport.producerState == "paused"
    h.clock.advance(0.31)
    assert h.transport.producerState == "producing"
    h.proto.connectionLost(None)
    assert h.proto._throttle_call is None


def test_request_percentage_records_handler_time_and_throttles(monkeypatch: pytest.MonkeyPatch) -> None:
    """ClientRequestQuotaManager: handler time per (user, client-id) as a percentage of a thread."""
    import chronik.net.server as server

    quotas = ClientQuotas()
    quotas.request.update_quota((None, "net-test"), 1.0)  # 1 % of one thread: 10 ms per second
    h = Harness(quotas=quotas)
    ticks = iter([0.0, 0.05])  # the handler takes 50 ms
    monkeypatch.setattr(server.time, "perf_counter", lambda: next(ticks))
    ((_, body),) = h.send(api_versions_request(3))
    monkeypatch.undo()
    from chronik_protocol.messages.api_versions_response import ApiVersionsResponse

    # 5 %·s over the 10 s minimum window = 0.5 % < 1 %: not throttled yet
    assert ApiVersionsResponse.decode(body, 3).throttle_time_ms == 0
    ticks = iter([0.0, 0.2])  # 200 ms more: 25 %·s / 10 s = 2.5 % > 1 % → capped at one window
    monkeypatch.setattr(server.time, "perf_counter", lambda: next(ticks))
    ((_, body),) = h.send(api_versions_request(4))
    monkeypatch.undo()
    assert ApiVersionsResponse.decode(body, 3).throttle_time_ms == 1000
    assert h.transport.producerState == "paused"


# ---- Produce and Fetch handlers: the principal's user, the throttled responses ---------------------


def _broker() -> Any:
    from chronik.broker.core import Broker
    from chronik.config import BrokerConfig, effective_topic_configs

    config = BrokerConfig.from_values({})
    broker = Broker(
        MemoryStorage(),
        lambda overrides: effective_topic_configs(overrides, config),
        node_id=1,
        host="127.0.0.1",
        port=9092,
        now_ms=lambda: 1_000_000,
    )
    broker.create_topic("t", 1, {})
    return broker


def _ctx(api_key: int, version: int, body: Any, principal: str, size: int = 0) -> RequestContext:
    from chronik.protocol.connection import Request

    request = Request(api_key, version, 1, "app", None, body, size)
    return RequestContext(request, ("127.0.0.1", 1), "PLAINTEXT", "c-1", principal)


def test_user_of_principal() -> None:
    from chronik.quotas import user_of

    assert user_of("User:alice") == "alice" and user_of("User:ANONYMOUS") == "ANONYMOUS"


def test_produce_records_the_request_size_for_the_principals_user() -> None:
    from chronik.broker.dispatch import Dispatcher
    from chronik.broker.handlers import HandlerEnv, produce
    from chronik.protocol.records import SimpleRecord, build_batch
    from chronik_protocol.messages.produce_request import PartitionProduceData, TopicProduceData

    broker = _broker()
    dispatcher = Dispatcher()
    produce.register(dispatcher, HandlerEnv(broker, None, None))  # type: ignore[arg-type]
    broker.quotas.produce.update_quota(("alice", None), 100.0)  # 1000 bytes per 10-window burst
    records = bytes(build_batch([SimpleRecord(b"k", b"v", (), 1)]))

    def send(principal: str, acks: int = 1) -> tuple[Any, int]:
        body = ProduceRequest(
            acks=acks,
            timeout_ms=1000,
            topic_data=[TopicProduceData(name="t", partition_data=[PartitionProduceData(0, records)])],
        )
        ctx = _ctx(0, 9, body, principal, size=600)
        return dispatcher.dispatch(ctx), ctx.throttle_ms

    response, throttle = send("User:alice")
    assert response.throttle_time_ms == 0 and throttle == 0
    response, throttle = send("User:alice")  # 1200 bytes over 10 s: (120 - 100) / 100 * 10 s
    assert response.throttle_time_ms == throttle == 2000
    assert response.responses[0].partition_responses[0].error_code == 0  # appended all the same
    assert send("User:bob")[1] == 0  # another user: no quota
    assert send("User:alice", acks=0) == (NO_RESPONSE, 8000)  # acks=0: no response, muted all the same


def test_a_throttled_fetch_is_empty_and_takes_back_its_bytes() -> None:
    from chronik.broker.handlers.fetch import on_fetch
    from chronik.protocol.records import SimpleRecord, build_batch
    from chronik_protocol.messages.fetch_request import FetchPartition, FetchRequest, FetchTopic

    broker = _broker()
    log = broker.topics["t"].partitions[0].log
    from chronik.broker.log_append import append_records

    for _ in range(3):
        batch = build_batch([SimpleRecord(b"k", b"v" * 300, (), 1)])
        append_records(
            broker.topics["t"].partitions[0],
            batch,
            max_message_bytes=1 << 20,
            log_append_time=False,
            compacted=False,
            now_ms=0,
        )
    assert log.log_end_offset == 3
    broker.quotas.fetch.update_quota((None, "app"), 100.0)

    def fetch(offset: int) -> tuple[Any, int]:
        body = FetchRequest(
            replica_id=-1,
            max_wait_ms=0,
            max_bytes=1 << 20,
            topics=[
                FetchTopic(
                    topic="t",
                    partitions=[FetchPartition(partition=0, fetch_offset=offset, partition_max_bytes=1 << 20)],
                )
            ],
        )
        ctx = _ctx(1, 12, body, "User:ANONYMOUS")
        response = on_fetch(broker, ctx, body)
        assert body.max_bytes == 1000  # maxValueInQuotaWindow: 100 B/s * 10 windows of 1 s
        return response, ctx.throttle_ms

    response, throttle = fetch(0)  # two ~370-byte batches fit the 1000-byte cap: within the window
    assert throttle == 0 and len(response.responses[0].partitions[0].records) > 700
    response, throttle = fetch(2)
    assert throttle > 0 and response.throttle_time_ms == throttle and response.responses == []
    assert broker.quotas.fetch.record("ANONYMOUS", "app", 0, 1_000_000) == 0  # the throttled bytes were taken back
