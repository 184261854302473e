"""DescribeConfigs / AlterConfigs / IncrementalAlterConfigs through confluent-kafka's AdminClient over TCP.

One broker process for the module (tests/broker_process.py), plus a restart test with its own;
BROKER_LOGGER (which confluent-kafka's ConfigResource cannot name) is checked on the handlers directly.
"""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ConfigSource,
    NewTopic,
)

from chronik.broker.handlers import describe_configs, incremental_alter_configs
from chronik.config import BrokerConfig
from chronik.protocol.errors import ErrorCode
from chronik_protocol.api_table import RELEASES
from chronik_protocol.messages.describe_configs_request import DescribeConfigsRequest, DescribeConfigsResource
from chronik_protocol.messages.incremental_alter_configs_request import (
    AlterableConfig,
    AlterConfigsResource,
    IncrementalAlterConfigsRequest,
)
from tests.javacheck.runner import java_available, lib_dir

from .broker_process import BrokerProcess

TIMEOUT = 15

pytestmark = pytest.mark.filterwarnings("ignore:alter_configs has been deprecated:DeprecationWarning")


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    with BrokerProcess(tmp_path_factory.mktemp("admin-configs") / "data") as b:
        yield b


def admin(bootstrap: str) -> AdminClient:
    return AdminClient({"bootstrap.servers": bootstrap})


def create(a: AdminClient, name: str, **configs: str) -> None:
    for f in a.create_topics([NewTopic(name, 1, 1, config=configs)]).values():
        f.result(TIMEOUT)


def describe(a: AdminClient, kind: str, name: str) -> dict[str, ConfigEntry]:
    (f,) = a.describe_configs([ConfigResource(kind, name)]).values()
    return f.result(TIMEOUT)


def incremental(a: AdminClient, kind: str, name: str, *ops: tuple[str, str | None, AlterConfigOpType]) -> None:
    entries = [ConfigEntry(n, v, incremental_operation=op) for n, v, op in ops]
    (f,) = a.incremental_alter_configs([ConfigResource(kind, name, incremental_configs=entries)]).values()
    f.result(TIMEOUT)


def error_of(fn: object, *args: object) -> KafkaError:
    with pytest.raises(KafkaException) as info:
        fn(*args)  # type: ignore[operator]
    return info.value.args[0]


def test_describe_topic_defaults_and_synonyms(broker: BrokerProcess) -> None:
    a = admin(broker.bootstrap)
    create(a, "desc-defaults")
    configs = describe(a, "topic", "desc-defaults")
    retention = configs["retention.ms"]
    assert retention.value == "604800000"
    assert retention.source == ConfigSource.DEFAULT_CONFIG.value
    assert not retention.is_read_only and not retention.is_sensitive
    assert "log.retention.hours" in retention.synonyms
    assert retention.synonyms["log.retention.hours"].value == "168"
    assert configs["cleanup.policy"].value == "delete"
    assert configs["max.message.bytes"].value == "1048588"


def test_incremental_set_delete_and_sources(broker: BrokerProcess) -> None:
    a = admin(broker.bootstrap)
    create(a, "inc-set")
    incremental(a, "topic", "inc-set", ("retention.ms", "3600000", AlterConfigOpType.SET))
    entry = describe(a, "topic", "inc-set")["retention.ms"]
    assert entry.value == "3600000"
    assert entry.source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
    assert next(iter(entry.synonyms)) == "retention.ms"
    assert entry.synonyms["retention.ms"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
    assert "log.retention.hours" in entry.synonyms

    incremental(a, "topic", "inc-set", ("retention.ms", None, AlterConfigOpType.DELETE))
    entry = describe(a, "topic", "inc-set")["retention.ms"]
    assert entry.value == "604800000"
    assert entry.source == ConfigSource.DEFAULT_CONFIG.value


def test_incremental_append_subtract_list_only(broker: BrokerProcess) -> None:
    a = admin(broker.bootstrap)
    create(a, "inc-list")
    incremental(a, "topic", "inc-list", ("cleanup.policy", "compact", AlterConfigOpType.APPEND))
    assert describe(a, "topic", "inc-list")["cleanup.policy"].value == "delete,compact"
    incremental(a, "topic", "inc-list", ("cleanup.policy", "delete", AlterConfigOpType.SUBTRACT))
    assert describe(a, "topic", "inc-list")["cleanup.policy"].value == "compact"

    err = error_of(incremental, a, "topic", "inc-list", ("retention.ms", "5", AlterConfigOpType.APPEND))
    assert err.code() == KafkaError.INVALID_CONFIG
    assert "Can't APPEND to key retention.ms because its type is not LIST." in err.str()
    assert describe(a, "topic", "inc-list")["retention.ms"].source == ConfigSource.DEFAULT_CONFIG.value


def test_invalid_values_and_unknown_topic(broker: BrokerProcess) -> None:
    a = admin(broker.bootstrap)
    create(a, "inc-invalid")
    err = error_of(incremental, a, "topic", "inc-invalid", ("retention.ms", "soon", AlterConfigOpType.SET))
    assert err.code() == KafkaError.INVALID_CONFIG
    assert "Invalid value soon for configuration retention.ms" in err.str()
    err = error_of(incremental, a, "topic", "inc-invalid", ("no.such.config", "1", AlterConfigOpType.SET))
    assert err.code() == KafkaError.INVALID_CONFIG
    assert "Unknown topic config name: no.such.config" in err.str()
    err = error_of(incremental, a, "topic", "inc-nope", ("retention.ms", "1000", AlterConfigOpType.SET))
    assert err.code() == KafkaError.UNKNOWN_TOPIC_OR_PART
    err = error_of(describe, a, "topic", "inc-nope")
    assert err.code() == KafkaError.UNKNOWN_TOPIC_OR_PART


def test_legacy_alter_configs_replaces_the_set(broker: BrokerProcess) -> None:
    a = admin(broker.bootstrap)
    create(a, "legacy", **{"retention.ms": "1000", "segment.ms": "2000"})
    (f,) = a.alter_configs([ConfigResource("topic", "legacy", set_config={"retention.bytes": "12345"})]).values()
    f.result(TIMEOUT)
    configs = describe(a, "topic", "legacy")
    assert configs["retention.bytes"].value == "12345"
    assert configs["retention.bytes"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
    assert configs["retention.ms"].source == ConfigSource.DEFAULT_CONFIG.value
    assert configs["segment.ms"].source == ConfigSource.DEFAULT_CONFIG.value

    (f,) = a.alter_configs(
        [ConfigResource("topic", "legacy", set_config={"retention.bytes": "1"})], validate_only=True
    ).values()
    f.result(TIMEOUT)
    assert describe(a, "topic", "legacy")["retention.bytes"].value == "12345"

    (f,) = a.alter_configs([ConfigResource("topic", "legacy", set_config={"min.insync.replicas": "0"})]).values()
    with pytest.raises(KafkaException) as info:
        f.result(TIMEOUT)
    assert info.value.args[0].code() == KafkaError.INVALID_CONFIG


def test_max_message_bytes_takes_effect(broker: BrokerProcess) -> None:
    a = admin(broker.bootstrap)
    create(a, "small-msgs")
    producer = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 0})
    errors: list[KafkaError | None] = []
    producer.produce("small-msgs", value=b"x" * 5000, on_delivery=lambda err, _m: errors.append(err))
    assert producer.flush(TIMEOUT) == 0
    assert errors == [None]

    incremental(a, "topic", "small-msgs", ("max.message.bytes", "1000", AlterConfigOpType.SET))
    errors.clear()
    producer.produce("small-msgs", value=b"x" * 5000, on_delivery=lambda err, _m: errors.append(err))
    assert producer.flush(TIMEOUT) == 0
    assert len(errors) == 1 and errors[0] is not None
    assert errors[0].code() == KafkaError.MSG_SIZE_TOO_LARGE


def test_log_append_time_takes_effect(broker: BrokerProcess) -> None:
    a = admin(broker.bootstrap)
    create(a, "lat")
    incremental(a, "topic", "lat", ("message.timestamp.type", "LogAppendTime", AlterConfigOpType.SET))
    producer = Producer({"bootstrap.servers": broker.bootstrap})
    before = int(time.time() * 1000)
    producer.produce("lat", value=b"v", timestamp=1_000_000)
    assert producer.flush(TIMEOUT) == 0
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "unused", "enable.auto.commit": False})
    consumer.assign([TopicPartition("lat", 0, 0)])
    try:
        msg = None
        deadline = time.monotonic() + TIMEOUT
        while msg is None and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
        assert msg is not None and msg.error() is None
        ts_type, ts = msg.timestamp()
    finally:
        consumer.close()
    assert ts_type == 2  # TIMESTAMP_LOG_APPEND_TIME
    assert ts >= before - 1000


def test_describe_and_alter_broker_resource(broker: BrokerProcess) -> None:
    a = admin(broker.bootstrap)
    configs = describe(a, "broker", "1")
    assert configs["num.partitions"].value == "1"
    assert configs["num.partitions"].source == ConfigSource.DEFAULT_CONFIG.value
    assert configs["num.partitions"].is_read_only
    listeners = configs["listeners"]
    assert listeners.source == ConfigSource.STATIC_BROKER_CONFIG.value
    assert listeners.value == f"PLAINTEXT://127.0.0.1:{broker.port}"

    err = error_of(incremental, a, "broker", "1", ("log.retention.ms", "1000", AlterConfigOpType.SET))
    assert err.code() == KafkaError.INVALID_REQUEST
    assert "Cannot update these configs dynamically: Set(log.retention.ms)" in err.str()
    err = error_of(incremental, a, "broker", "1", ("num.partitions", "3", AlterConfigOpType.APPEND))
    assert err.code() == KafkaError.INVALID_CONFIG


def test_changes_survive_restart(tmp_path: Path) -> None:
    with BrokerProcess(tmp_path / "data") as b:
        a = admin(b.bootstrap)
        create(a, "durable")
        incremental(
            a,
            "topic",
            "durable",
            ("retention.ms", "7777", AlterConfigOpType.SET),
            ("cleanup.policy", "compact", AlterConfigOpType.APPEND),
        )
        b.stop()
        b.start()
        a = admin(b.bootstrap)
        configs = describe(a, "topic", "durable")
        assert configs["retention.ms"].value == "7777"
        assert configs["retention.ms"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
        assert configs["cleanup.policy"].value == "delete,compact"


# ---- handler-level checks (resources confluent-kafka cannot express) ----------------------


def _env() -> tuple[SimpleNamespace, BrokerConfig]:
    return SimpleNamespace(node_id=1, topics={}), BrokerConfig.defaults()


def test_broker_ids_and_cluster_default_resource() -> None:
    b, config = _env()
    req = DescribeConfigsRequest(
        resources=[
            DescribeConfigsResource(resource_type=4, resource_name="", configuration_keys=None),
            DescribeConfigsResource(resource_type=4, resource_name="2", configuration_keys=None),
            DescribeConfigsResource(resource_type=4, resource_name="1", configuration_keys=["num.partitions", "x"]),
        ],
        include_synonyms=True,
    )
    default, other, mine = describe_configs.handle(b, config, 4, req).results  # type: ignore[arg-type]
    assert default.error_code == 0 and default.configs == []
    assert other.error_code == ErrorCode.INVALID_REQUEST
    assert other.error_message == "Unexpected broker id, expected 1 or empty string, but received 2"
    assert [c.name for c in mine.configs] == ["num.partitions"]
    assert mine.configs[0].synonyms[0].name == "num.partitions"


def test_broker_logger_describe_and_set() -> None:
    b, config = _env()
    logging.getLogger("chronik.test.admin").setLevel(logging.INFO)
    describe_req = DescribeConfigsRequest(
        resources=[
            DescribeConfigsResource(resource_type=8, resource_name="1", configuration_keys=["chronik.test.admin"])
        ]
    )
    (res,) = describe_configs.handle(b, config, 4, describe_req).results  # type: ignore[arg-type]
    assert [(c.name, c.value, c.config_source) for c in res.configs] == [("chronik.test.admin", "INFO", 6)]

    def alter(op: int, value: str | None, name: str = "chronik.test.admin") -> tuple[int, str | None]:
        req = IncrementalAlterConfigsRequest(
            resources=[
                AlterConfigsResource(
                    resource_type=8,
                    resource_name="1",
                    configs=[AlterableConfig(name=name, config_operation=op, value=value)],
                )
            ]
        )
        (r,) = incremental_alter_configs.handle(b, config, req).responses  # type: ignore[arg-type]
        return r.error_code, r.error_message

    assert alter(0, "WARN") == (0, None)
    assert logging.getLogger("chronik.test.admin").level == logging.WARNING
    assert alter(0, "LOUD")[0] == ErrorCode.INVALID_CONFIG
    assert alter(0, "INFO", "no.such.logger.anywhere")[0] == ErrorCode.INVALID_CONFIG
    assert alter(2, "INFO")[0] == ErrorCode.INVALID_REQUEST
    assert alter(1, None, "root")[0] == ErrorCode.INVALID_REQUEST
    assert alter(1, None) == (0, None)
    assert logging.getLogger("chronik.test.admin").level == logging.NOTSET


def _incremental(
    b: object, config: BrokerConfig, *resources: AlterConfigsResource, validate_only: bool = False
) -> list:
    req = IncrementalAlterConfigsRequest(resources=list(resources), validate_only=validate_only)
    return [
        (r.error_code, r.error_message)
        for r in incremental_alter_configs.handle(b, config, req).responses  # type: ignore[arg-type]
    ]


def test_incremental_preprocessing_errors_and_validate_only() -> None:
    b, config = _env()
    topic = SimpleNamespace(configs={"retention.ms": "10"})
    b.topics["t"] = topic
    changed: list[dict[str, str]] = []
    b.set_topic_configs = lambda t, c: changed.append(c)

    def res(name: str, *ops: tuple[str, int, str | None], kind: int = 2) -> AlterConfigsResource:
        return AlterConfigsResource(
            resource_type=kind,
            resource_name=name,
            configs=[AlterableConfig(name=n, config_operation=op, value=v) for n, op, v in ops],
        )

    twice = res("t", ("segment.ms", 0, "1000"))
    assert (
        _incremental(b, config, twice, res("t", ("segment.ms", 0, "2000")))
        == [
            (ErrorCode.INVALID_REQUEST, "Each resource must appear at most once."),
        ]
        * 2
    )
    assert _incremental(b, config, res("t", ("segment.ms", 0, "1"), ("segment.ms", 1, None))) == [
        (ErrorCode.INVALID_REQUEST, "Error due to duplicate config keys")
    ]
    assert _incremental(b, config, res("t", ("segment.ms", 0, None))) == [
        (ErrorCode.INVALID_REQUEST, "Null value not supported for : segment.ms")
    ]
    assert _incremental(b, config, res("bad/name", ("segment.ms", 0, "1")))[0][0] == ErrorCode.INVALID_TOPIC_EXCEPTION
    assert _incremental(b, config, res("t", ("segment.ms", 0, "1"), kind=32)) == [
        (ErrorCode.INVALID_REQUEST, "Unknown resource type 32")
    ]
    assert _incremental(b, config, res("t", ("segment.ms", 0, "12345")), validate_only=True) == [(0, None)]
    assert changed == []
    assert _incremental(b, config, res("t", ("segment.ms", 0, "12345"), ("retention.ms", 1, None))) == [(0, None)]
    assert changed == [{"segment.ms": "12345"}]
    assert _incremental(b, config, res("", ("num.partitions", 1, None), kind=4)) == [(0, None)]
    assert _incremental(b, config, res("x", ("num.partitions", 0, "2"), kind=4)) == [
        (ErrorCode.INVALID_REQUEST, "Node id must be an integer, but it is: x")
    ]


def test_describe_v0_is_default_and_keys() -> None:
    b, config = _env()
    b.topics["t"] = SimpleNamespace(configs={"retention.ms": "10"})
    req = DescribeConfigsRequest(
        resources=[
            DescribeConfigsResource(
                resource_type=2, resource_name="t", configuration_keys=["retention.ms", "segment.ms"]
            ),
            DescribeConfigsResource(resource_type=2, resource_name="missing", configuration_keys=None),
        ]
    )
    found, missing = describe_configs.handle(b, config, 0, req).results  # type: ignore[arg-type]
    assert [(c.name, c.value, c.is_default) for c in found.configs] == [
        ("retention.ms", "10", False),
        ("segment.ms", "604800000", True),
    ]
    assert (missing.error_code, missing.configs) == (ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, [])


# ---- the Java Admin client --------------------------------------------------------------

JAVA_SCENARIO = r"""
import java.util.*;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.*;

public class AdminConfigs {
    static void check(boolean ok, String what) { if (!ok) throw new AssertionError(what); }

    public static void main(String[] args) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", args[0]);
        try (Admin admin = Admin.create(p)) {
            admin.createTopics(List.of(new NewTopic("java-configs", 1, (short) 1))).all().get();
            ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, "java-configs");
            admin.incrementalAlterConfigs(Map.of(topic, List.of(
                new AlterConfigOp(new ConfigEntry("retention.ms", "3600000"), AlterConfigOp.OpType.SET),
                new AlterConfigOp(new ConfigEntry("cleanup.policy", "compact"), AlterConfigOp.OpType.APPEND)
            ))).all().get();
            DescribeConfigsOptions opts = new DescribeConfigsOptions().includeSynonyms(true).includeDocumentation(true);
            Config c = admin.describeConfigs(List.of(topic), opts).all().get().get(topic);
            ConfigEntry r = c.get("retention.ms");
            check(r.value().equals("3600000"), "retention.ms " + r);
            check(r.source() == ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, "source " + r.source());
            check(r.type() == ConfigEntry.ConfigType.LONG, "type " + r.type());
            check(r.documentation() != null && !r.documentation().isEmpty(), "documentation");
            check(r.synonyms().get(0).name().equals("retention.ms"), "synonyms " + r.synonyms());
            ConfigEntry cp = c.get("cleanup.policy");
            check(cp.value().equals("delete,compact"), "cleanup.policy " + cp);
            ConfigEntry seg = c.get("segment.bytes");
            check(seg.source() == ConfigEntry.ConfigSource.DEFAULT_CONFIG, "segment.bytes " + seg);
            try {
                admin.incrementalAlterConfigs(Map.of(topic, List.of(
                    new AlterConfigOp(new ConfigEntry("retention.ms", "x"), AlterConfigOp.OpType.SET)))).all().get();
                check(false, "invalid value accepted");
            } catch (ExecutionException e) {
                check(e.getCause() instanceof InvalidConfigurationException, "invalid value: " + e.getCause());
            }
            ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, "1");
            Config b = admin.describeConfigs(List.of(broker), opts).all().get().get(broker);
            check(b.get("num.partitions").isReadOnly(), "num.partitions read-only");
            check(b.get("num.partitions").type() == ConfigEntry.ConfigType.INT, "num.partitions type");
            ConfigResource loggers = new ConfigResource(ConfigResource.Type.BROKER_LOGGER, "1");
            Config l = admin.describeConfigs(List.of(loggers)).all().get().get(loggers);
            check(l.get("root") != null, "root logger " + l);
            admin.incrementalAlterConfigs(Map.of(loggers, List.of(
                new AlterConfigOp(new ConfigEntry("chronik", "DEBUG"), AlterConfigOp.OpType.SET)))).all().get();
            l = admin.describeConfigs(List.of(loggers)).all().get().get(loggers);
            check(l.get("chronik").value().equals("DEBUG"), "chronik logger " + l.get("chronik"));
            try {
                admin.describeConfigs(List.of(new ConfigResource(ConfigResource.Type.TOPIC, "java-nope"))).all().get();
                check(false, "unknown topic described");
            } catch (ExecutionException e) {
                check(e.getCause() instanceof UnknownTopicOrPartitionException, "unknown topic: " + e.getCause());
            }
        }
        System.out.println("OK admin configs");
    }
}
"""


@pytest.mark.skipif(not java_available(), reason="java/javac not on PATH")
@pytest.mark.parametrize("release", RELEASES)
def test_java_admin_configs(tmp_path: Path, release: str) -> None:
    if not lib_dir(release).is_dir():
        pytest.skip(f"kafka-clients {release} jars not fetched (scripts/java-deps)")
    source = tmp_path / "AdminConfigs.java"
    source.write_text(JAVA_SCENARIO)
    with BrokerProcess(tmp_path / "data") as b:
        proc = subprocess.run(
            ["java", "-cp", f"{lib_dir(release)}/*", str(source), b.bootstrap],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:] + b.log()[-3000:]
        assert "OK admin configs" in proc.stdout
