"""ACL enforcement in every implemented API (issue 6), through a real broker with SASL/PLAIN users and
Kafka's ``StandardAuthorizer``: ``alice`` (no ACLs) gets Kafka 4.4.0's exact errors, ``bob`` (ACLs on the
run's topics, groups and transactional ids, ALTER/ALTER_CONFIGS/IDEMPOTENT_WRITE on the cluster)
succeeds, ``carol`` (DESCRIBE only, plus WRITE on one topic) sits in between; ``admin`` is a super user.
The requests are the ACL matrix's (``chronik_conformance.acl_matrix``, which compares them with Kafka);
here the answers are pinned. Real clients (confluent-kafka) see the same errors."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

from chronik_conformance.acl_matrix import CASES, USERS, AclPlan, SaslConn, broker_props, setup_broker
from chronik_conformance.sweep import Side, to_plain

from .broker_process import BrokerProcess, free_port

TAF, GAF, CAF, TXN = 29, 30, 31, 53  # TOPIC_ / GROUP_ / CLUSTER_ / TRANSACTIONAL_ID_AUTHORIZATION_FAILED
UNKNOWN_TOPIC, UNKNOWN_MEMBER, GROUP_NOT_FOUND, NOT_FOUND = 3, 25, 69, 91
TOPIC_OPS = sum(1 << op for op in (3, 4, 5, 6, 7, 8, 10, 11))
GROUP_OPS = sum(1 << op for op in (3, 6, 8, 10, 11))
BOB_CLUSTER_OPS = sum(1 << op for op in (7, 8, 10, 11, 12))  # ALTER, ALTER_CONFIGS, IDEMPOTENT_WRITE (+ implied)
DESCRIBE_OPS = 1 << 8


class Env:
    def __init__(self, broker: BrokerProcess, sasl_port: int, plan: AclPlan, side: Side) -> None:
        self.broker, self.sasl_port, self.plan, self.side = broker, sasl_port, plan, side
        self.conns = {u: SaslConn(f"127.0.0.1:{sasl_port}", u, USERS[u]) for u in USERS}

    def client(self, user: str, **extra: Any) -> dict[str, Any]:
        return {
            "bootstrap.servers": f"127.0.0.1:{self.sasl_port}",
            "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": "PLAIN",
            "sasl.username": user,
            "sasl.password": USERS[user],
            **extra,
        }


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    port, sasl_port = free_port(), free_port()
    overrides = [f"{k}={v}" for k, v in broker_props().items()]
    broker = BrokerProcess(
        tmp_path_factory.mktemp("acl-enforcement") / "data",
        f"listeners=PLAINTEXT://127.0.0.1:{port},SASL_PLAINTEXT://127.0.0.1:{sasl_port}",
        *overrides,
        port=port,
    )
    with broker:
        e = Env(broker, sasl_port, AclPlan("test"), Side())
        setup_broker(e.conns["admin"], e.conns["bob"], e.plan, e.side)
        yield e
        for c in e.conns.values():
            c.close()


def codes(plain: Any) -> list[int]:
    """Every non-zero ``error_code`` of a plain response, depth first in field order."""
    out: list[int] = []
    if isinstance(plain, dict):
        for k, v in plain.items():
            if k == "error_code":
                out += [v] if v else []
            else:
                out.extend(codes(v))
    elif isinstance(plain, list):
        for v in plain:
            out.extend(codes(v))
    return out


def ask(env: Env, user: str, api_key: int, label: str, version: int) -> Any:
    [case] = [c for c in CASES if (c.api_key, c.label) == (api_key, label)]
    return to_plain(env.conns[user].call(api_key, version, case.build(env.plan, env.side, version)))


#: (api key, case label, version, {user: non-zero error codes}) — in order: bob's requests change state.
EXPECTED: list[tuple[int, str, int, dict[str, list[int]]]] = [
    (3, "named", 12, {"alice": [TAF, TAF, TAF], "carol": [UNKNOWN_TOPIC], "bob": [UNKNOWN_TOPIC, TAF]}),
    (3, "auto-create-denied", 12, {"alice": [TAF], "carol": [TAF]}),
    (75, "named", 0, {"alice": [TAF, TAF], "bob": [UNKNOWN_TOPIC]}),
    (2, "latest", 11, {"alice": [TAF], "carol": [], "bob": []}),
    (1, "from-0", 12, {"alice": [TAF], "carol": [TAF], "bob": []}),
    (1, "from-0", 16, {"alice": [TAF], "bob": []}),
    (23, "epoch-0", 4, {"alice": [TAF], "carol": [], "bob": []}),
    (32, "topic-broker-logger", 4, {"alice": [TAF, CAF, CAF], "carol": [TAF, CAF, CAF], "bob": []}),
    (35, "topic", 4, {"alice": [CAF], "bob": []}),
    (46, "all", 0, {"alice": [CAF], "bob": []}),
    (50, "unknown-user", 0, {"alice": [CAF, CAF], "bob": [NOT_FOUND]}),
    (29, "filter", 3, {"alice": [CAF], "bob": []}),
    (48, "exact", 1, {"alice": [CAF], "carol": [CAF], "bob": []}),
    (49, "validate", 1, {"alice": [CAF], "carol": [CAF], "bob": []}),
    (22, "idempotent", 5, {"alice": [CAF], "carol": [], "bob": []}),
    (22, "transactional", 5, {"alice": [TXN], "carol": [TXN]}),
    (0, "write", 11, {"alice": [TAF], "carol": [TAF], "bob": []}),
    (0, "write", 13, {"alice": [TAF], "bob": []}),
    (0, "foreign-topic", 11, {"carol": [], "bob": [TAF]}),
    (0, "transactional", 11, {"alice": [TXN], "carol": [TXN]}),
    (10, "group", 3, {"alice": [GAF], "carol": [], "bob": []}),
    (10, "group", 6, {"alice": [GAF], "bob": []}),
    (10, "transaction", 6, {"alice": [TXN]}),
    (8, "commit", 9, {"alice": [GAF], "carol": [GAF], "bob": []}),
    (8, "commit", 10, {"alice": [GAF], "bob": []}),
    (8, "foreign-topic", 9, {"bob": [TAF]}),
    (9, "named", 7, {"alice": [GAF], "bob": [TAF, TAF]}),  # bob may not describe the foreign topic
    (9, "named", 10, {"alice": [GAF], "carol": [], "bob": [TAF, TAF]}),
    (9, "all", 9, {"alice": [GAF], "bob": []}),
    (15, "group", 5, {"alice": [GAF], "carol": [], "bob": []}),
    (11, "join", 9, {"alice": [GAF], "carol": [GAF], "bob": [79]}),
    (14, "unknown-member", 5, {"alice": [GAF], "bob": [UNKNOWN_MEMBER]}),
    (12, "unknown-member", 4, {"alice": [GAF], "bob": [UNKNOWN_MEMBER]}),
    (13, "unknown-member", 5, {"alice": [GAF], "bob": [UNKNOWN_MEMBER]}),
    (68, "join", 1, {"alice": [GAF], "carol": [GAF], "bob": []}),
    (68, "foreign-topic", 1, {"bob": [TAF]}),
    (69, "group", 1, {"alice": [GAF], "bob": [GROUP_NOT_FOUND]}),
    (19, "validate", 7, {"alice": [TAF], "carol": [], "bob": []}),
    (37, "validate", 3, {"alice": [TAF], "carol": [TAF], "bob": []}),
    (33, "validate", 2, {"alice": [TAF, CAF], "bob": []}),
    (44, "validate", 1, {"alice": [TAF, CAF], "carol": [TAF, CAF], "bob": []}),
    (43, "preferred", 2, {"alice": [CAF, CAF], "bob": [84]}),
    (45, "cancel", 1, {"alice": [CAF, CAF], "bob": [85]}),
    (51, "delete-unknown", 0, {"alice": [CAF], "bob": [NOT_FOUND]}),
    (47, "committed", 0, {"alice": [GAF], "carol": [GAF], "bob": []}),
    (42, "unknown", 2, {"alice": [GAF], "bob": [GROUP_NOT_FOUND]}),
    (21, "to-0", 2, {"alice": [TAF], "carol": [TAF], "bob": []}),
    (20, "foreign-by-name", 5, {"carol": [TAF], "bob": [TAF]}),
    (20, "foreign-by-id", 6, {"carol": [TAF], "bob": [TAF]}),
    (20, "by-name", 5, {"alice": [TAF, TAF], "carol": [TAF, UNKNOWN_TOPIC], "bob": [UNKNOWN_TOPIC]}),
    (20, "by-id", 6, {"alice": [TAF], "bob": []}),
]


def test_every_api_answers_kafkas_errors(env: Env) -> None:
    """One test, in order (the requests of bob change state for the next ones)."""
    failures = []
    for api_key, label, version, per_user in EXPECTED:
        for user, expected in per_user.items():
            got = codes(ask(env, user, api_key, label, version))
            if sorted(got) != sorted(expected):
                failures.append(f"api {api_key} {label} v{version} as {user}: {got} != {expected}")
    assert not failures, "\n".join(failures)


def test_describe_configs_denials(env: Env) -> None:
    """The describe case above asks the caller's own resources; here what alice may not see."""
    plain = ask(env, "alice", 32, "topic-broker-logger", 4)
    assert [(r["resource_type"], r["error_code"]) for r in plain["results"]] == [(2, TAF), (4, CAF), (8, CAF)]
    assert all(r["configs"] == [] for r in plain["results"])
    plain = ask(env, "carol", 32, "topic-broker-logger", 4)  # DESCRIBE does not imply DESCRIBE_CONFIGS
    assert [r["error_code"] for r in plain["results"]] == [TAF, CAF, CAF]


def test_create_topics_without_describe_configs(env: Env) -> None:
    """carol may CREATE acl.test.new* but not DESCRIBE_CONFIGS them: created, without counts or configs."""
    [topic] = ask(env, "carol", 19, "validate", 7)["topics"]
    assert (topic["error_code"], topic["topic_config_error_code"]) == (0, TAF)
    assert (topic["num_partitions"], topic["replication_factor"], topic["configs"]) == (-1, -1, [])
    [topic] = ask(env, "bob", 19, "validate", 7)["topics"]
    assert (topic["topic_config_error_code"], topic["num_partitions"]) == (0, 1) and topic["configs"]


def test_metadata_hides_and_reports(env: Env) -> None:
    plan = env.plan
    everything = ask(env, "alice", 3, "all-topics", 12)
    assert everything["topics"] == []  # all topics: the ones alice may not describe are left out silently
    assert {t["name"] for t in ask(env, "bob", 3, "all", 12)["topics"]} >= {plan.topic}
    assert plan.foreign not in {t["name"] for t in ask(env, "bob", 3, "all", 12)["topics"]}
    named = ask(env, "alice", 3, "named", 12)["topics"]
    assert all(t["partitions"] == [] and t["topic_id"] == str(uuid.UUID(int=0)) for t in named)
    assert all(t["topic_authorized_operations"] == -(2**31) for t in named)
    bob = {t["name"]: t for t in ask(env, "bob", 3, "named", 12)["topics"]}
    assert bob[plan.topic]["topic_authorized_operations"] == TOPIC_OPS
    carol = {t["name"]: t for t in ask(env, "carol", 3, "named", 12)["topics"]}
    assert carol[plan.topic]["topic_authorized_operations"] == DESCRIBE_OPS
    by_id = ask(env, "carol", 3, "by-id-foreign", 12)["topics"]  # WRITE implies DESCRIBE
    assert [(t["error_code"], t["name"]) for t in by_id] == [(0, plan.foreign)]
    by_id = ask(env, "bob", 3, "by-id-foreign", 12)["topics"]  # the id is echoed, the name is not
    assert [(t["error_code"], t["name"], t["topic_id"]) for t in by_id] == [
        (TAF, None, str(env.side.topic_ids[plan.foreign]))
    ]
    assert ask(env, "alice", 3, "named", 10)["cluster_authorized_operations"] == 0
    assert ask(env, "bob", 3, "named", 10)["cluster_authorized_operations"] == BOB_CLUSTER_OPS
    assert ask(env, "alice", 60, "describe", 1)["cluster_authorized_operations"] == 0
    assert ask(env, "bob", 60, "describe", 1)["cluster_authorized_operations"] == BOB_CLUSTER_OPS


def test_offset_fetch_filters_topics(env: Env) -> None:
    """All-topics requests drop the topics the caller may not describe; named ones fail them."""
    plan = env.plan
    ask(env, "bob", 8, "commit", 9)  # (again: another test may have deleted it)
    [group] = ask(env, "bob", 9, "all", 9)["groups"]
    assert {t["name"] for t in group["topics"]} == {plan.topic}  # admin committed the foreign topic too
    [group] = ask(env, "carol", 9, "all", 9)["groups"]
    assert {t["name"] for t in group["topics"]} == {plan.topic, plan.foreign}
    assert ask(env, "alice", 9, "all", 7)["error_code"] == GAF


def test_groups_listing_and_operations(env: Env) -> None:
    plan = env.plan
    ask(env, "bob", 8, "commit", 9)  # the group exists (committed offsets)
    assert ask(env, "alice", 16, "all", 5)["groups"] == []
    assert plan.group in {g["group_id"] for g in ask(env, "bob", 16, "all", 5)["groups"]}  # DESCRIBE on the cluster
    assert plan.group in {g["group_id"] for g in ask(env, "carol", 16, "all", 5)["groups"]}  # DESCRIBE on the group
    [group] = ask(env, "bob", 15, "group", 5)["groups"]
    assert group["authorized_operations"] == GROUP_OPS
    [group] = ask(env, "carol", 15, "group", 5)["groups"]
    assert group["authorized_operations"] == DESCRIBE_OPS
    [group] = ask(env, "alice", 15, "group", 5)["groups"]
    assert (group["error_code"], group["group_state"], group["authorized_operations"]) == (GAF, "", -(2**31))


def _deliveries(conf: dict[str, Any], topic: str, n: int = 3) -> tuple[list[Any], list[KafkaError]]:
    errors: list[KafkaError] = []
    producer = Producer({**conf, "error_cb": errors.append, "message.timeout.ms": 8000, "linger.ms": 0})
    delivered: list[Any] = []
    for i in range(n):
        producer.produce(topic, f"v{i}".encode(), on_delivery=lambda e, _m: delivered.append(e))
    producer.flush(10)
    return delivered, errors


def test_confluent_producer_and_consumer_without_acls(env: Env) -> None:
    topic = env.plan.topic
    delivered, _ = _deliveries(env.client("alice"), topic)
    assert delivered and all(e is not None and e.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED for e in delivered)
    delivered, _ = _deliveries(env.client("bob", acks="all"), topic)
    assert delivered and all(e is None for e in delivered)
    # alice may not even find her group's coordinator; carol (DESCRIBE on the group) may not READ the topic
    assert _consume_error(env.client("alice", **{"group.id": env.plan.n("ga")}), topic) == "GROUP_AUTHORIZATION_FAILED"
    assert _consume_error(env.client("carol", **{"group.id": env.plan.n("gc")}), topic) == "TOPIC_AUTHORIZATION_FAILED"


def _consume_error(conf: dict[str, Any], topic: str) -> str | None:
    consumer = Consumer({**conf, "enable.auto.commit": False})
    try:
        consumer.assign([TopicPartition(topic, 0, 0)])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is not None:
                error = msg.error()
                assert error is not None, "no records without READ"
                return str(error.name())
        return None
    finally:
        consumer.close()


def test_idempotent_producer_needs_idempotent_write_or_write(env: Env) -> None:
    errors: list[KafkaError] = []
    producer = Producer({**env.client("alice", **{"enable.idempotence": True}), "error_cb": errors.append})
    deadline = time.monotonic() + 10
    while not errors and time.monotonic() < deadline:  # InitProducerId is refused: a fatal producer error
        try:
            producer.poll(0.2)
        except KafkaException as exc:
            errors.append(exc.args[0])
    assert errors and errors[0].fatal() and errors[0].code() == KafkaError.CLUSTER_AUTHORIZATION_FAILED, errors
    delivered, errors = _deliveries(env.client("carol", **{"enable.idempotence": True}), env.plan.foreign)
    assert delivered and all(e is None for e in delivered), (delivered, errors)  # WRITE on some topic suffices
