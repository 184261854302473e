"""chronik.config: Kafka's config tables, loading (file/env/override), validation, listeners,
topic config synonyms and DescribeConfigs sources, meta.properties."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chronik.config import (
    BROKER_CONFIGS,
    BROKER_TO_TOPIC,
    IGNORED_KAFKA_CONFIGS,
    INVALID_CONFIG,
    LONG_MAX,
    TOPIC_CONFIGS,
    BrokerConfig,
    ConfigError,
    ConfigException,
    ConfigSource,
    ConfigType,
    Endpoint,
    MetaProperties,
    broker_config_synonyms,
    describe_broker_configs,
    describe_topic_configs,
    effective_topic_configs,
    ensure_meta_properties,
    first_topic_config_error,
    generate_cluster_id,
    is_valid_cluster_id,
    java_double_str,
    load_config_file,
    parse_listeners,
    parse_properties,
    parse_security_protocol_map,
    parse_value,
    read_meta_properties,
    resolve_topic_config,
    to_config_string,
    topic_config_defaults,
    validate_topic_configs,
)

NO_ENV: dict[str, str] = {}


def load(
    tmp_path: Path | None = None, text: str | None = None, suffix: str = ".properties", **kw: object
) -> BrokerConfig:
    config_file = None
    if text is not None:
        assert tmp_path is not None
        config_file = tmp_path / f"server{suffix}"
        config_file.write_text(text)
    kw.setdefault("env", NO_ENV)
    return BrokerConfig.load(config_file=config_file, **kw)  # type: ignore[arg-type]


def errors_of(excinfo: pytest.ExceptionInfo[ConfigError]) -> str:
    return "\n".join(excinfo.value.errors)


# --------------------------------------------------------------------------------------------
# The tables against Kafka
# --------------------------------------------------------------------------------------------

# Broker defaults as Kafka 4.x defines them (ServerLogConfigs, ServerConfigs, SocketServerConfigs,
# ReplicationConfigs, CleanerConfig, GroupCoordinatorConfig, TransactionLogConfig, ...).
KAFKA_BROKER_DEFAULTS = {
    "num.partitions": 1,
    "log.retention.hours": 168,
    "log.retention.minutes": None,
    "log.retention.ms": None,
    "log.retention.bytes": -1,
    "log.retention.check.interval.ms": 300000,
    "log.segment.bytes": 1073741824,
    "log.roll.hours": 168,
    "log.roll.ms": None,
    "log.cleanup.policy": ["delete"],
    "log.flush.interval.messages": 9223372036854775807,
    "log.flush.interval.ms": None,
    "log.flush.scheduler.interval.ms": 9223372036854775807,
    "log.message.timestamp.type": "CreateTime",
    "log.message.timestamp.before.max.ms": 9223372036854775807,
    "log.message.timestamp.after.max.ms": 3600000,  # KIP-1030 (Kafka 4.0)
    "log.cleaner.delete.retention.ms": 86400000,
    "log.cleaner.min.cleanable.ratio": 0.5,
    "log.cleaner.dedupe.buffer.size": 134217728,
    "log.cleaner.threads": 1,
    "message.max.bytes": 1048588,
    "socket.request.max.bytes": 104857600,
    "socket.send.buffer.bytes": 102400,
    "socket.receive.buffer.bytes": 102400,
    "connections.max.idle.ms": 600000,
    "queued.max.requests": 500,
    "num.network.threads": 3,
    "num.io.threads": 8,
    "num.recovery.threads.per.data.dir": 2,  # KIP-1030 (Kafka 4.0)
    "listeners": ["PLAINTEXT://:9092"],
    "advertised.listeners": None,
    "default.replication.factor": 1,
    "auto.create.topics.enable": True,
    "delete.topic.enable": True,
    "min.insync.replicas": 1,
    "unclean.leader.election.enable": False,
    "replica.lag.time.max.ms": 30000,
    "compression.type": "producer",
    "compression.gzip.level": -1,
    "compression.lz4.level": 9,
    "compression.zstd.level": 3,
    "offsets.topic.num.partitions": 50,
    "offsets.topic.replication.factor": 3,
    "offsets.retention.minutes": 10080,
    "offsets.retention.check.interval.ms": 600000,
    "offset.metadata.max.bytes": 4096,
    "group.initial.rebalance.delay.ms": 3000,
    "group.min.session.timeout.ms": 6000,
    "group.max.session.timeout.ms": 1800000,
    "group.max.size": 2147483647,
    "transaction.max.timeout.ms": 900000,
    "transactional.id.expiration.ms": 604800000,
    "transaction.state.log.min.isr": 2,
    "fetch.max.bytes": 57671680,
    "max.incremental.fetch.session.cache.slots": 1000,
}

# LogConfig's topic keys in Kafka 4.3 (33 public + internal.segment.bytes) with their defaults.
KAFKA_TOPIC_DEFAULTS = {
    "cleanup.policy": ["delete"],
    "compression.gzip.level": -1,
    "compression.lz4.level": 9,
    "compression.type": "producer",
    "compression.zstd.level": 3,
    "delete.retention.ms": 86400000,
    "file.delete.delay.ms": 60000,
    "flush.messages": LONG_MAX,
    "flush.ms": LONG_MAX,
    "follower.replication.throttled.replicas": [],
    "index.interval.bytes": 4096,
    "internal.segment.bytes": None,
    "leader.replication.throttled.replicas": [],
    "local.retention.bytes": -2,
    "local.retention.ms": -2,
    "max.compaction.lag.ms": LONG_MAX,
    "max.message.bytes": 1048588,
    "message.timestamp.after.max.ms": 3600000,
    "message.timestamp.before.max.ms": LONG_MAX,
    "message.timestamp.type": "CreateTime",
    "min.cleanable.dirty.ratio": 0.5,
    "min.compaction.lag.ms": 0,
    "min.insync.replicas": 1,
    "preallocate": False,
    "remote.log.copy.disable": False,
    "remote.log.delete.on.disable": False,
    "remote.storage.enable": False,
    "retention.bytes": -1,
    "retention.ms": 604800000,
    "segment.bytes": 1073741824,
    "segment.index.bytes": 10485760,
    "segment.jitter.ms": 0,
    "segment.ms": 604800000,
    "unclean.leader.election.enable": False,
    # new in Kafka 4.4
    "errors.deadletterqueue.group.enable": False,
    "max.decompressed.message.bytes": 2147483639,
    "remote.copy.lag.bytes": -1,
    "remote.copy.lag.ms": 0,
}


def test_broker_defaults_equal_kafkas() -> None:
    assert len(KAFKA_BROKER_DEFAULTS) >= 30
    config = BrokerConfig.defaults()
    for name, expected in KAFKA_BROKER_DEFAULTS.items():
        assert BROKER_CONFIGS[name].default == expected, name
        assert config.get(name) == expected, name


def test_topic_config_set_and_defaults_equal_kafka_4_4() -> None:
    assert set(TOPIC_CONFIGS) == set(KAFKA_TOPIC_DEFAULTS)
    for name, expected in KAFKA_TOPIC_DEFAULTS.items():
        assert TOPIC_CONFIGS[name].default == expected, name
        assert TOPIC_CONFIGS[name].importance.name == "MEDIUM", name
    assert [n for n, k in TOPIC_CONFIGS.items() if k.internal] == ["internal.segment.bytes"]
    # Removed in Kafka 4.0: unknown topic configs now.
    for gone in ("message.downconversion.enable", "message.format.version", "message.timestamp.difference.max.ms"):
        assert gone not in TOPIC_CONFIGS


def test_default_strings_are_what_describe_configs_prints() -> None:
    assert BROKER_CONFIGS["log.cleaner.io.max.bytes.per.second"].default_string == "1.7976931348623157E308"
    assert BROKER_CONFIGS["log.cleaner.io.buffer.load.factor"].default_string == "0.9"
    assert BROKER_CONFIGS["log.cleanup.policy"].default_string == "delete"
    assert BROKER_CONFIGS["auto.create.topics.enable"].default_string == "true"
    assert BROKER_CONFIGS["log.retention.ms"].default_string is None
    assert TOPIC_CONFIGS["leader.replication.throttled.replicas"].default_string == ""
    assert BROKER_CONFIGS["listener.security.protocol.map"].default == (
        "SASL_SSL:SASL_SSL,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT"
    )


def test_types_and_validators_follow_kafka() -> None:
    assert BROKER_CONFIGS["log.flush.interval.messages"].type is ConfigType.LONG
    assert BROKER_CONFIGS["offsets.topic.replication.factor"].type is ConfigType.SHORT
    assert BROKER_CONFIGS["log.retention.hours"].type is ConfigType.INT
    assert BROKER_CONFIGS["log.cleanup.policy"].type is ConfigType.LIST
    assert BROKER_CONFIGS["min.insync.replicas"].importance.name == "HIGH"
    assert str(BROKER_CONFIGS["log.segment.bytes"].validator) == "[1048576,...]"
    assert str(TOPIC_CONFIGS["min.cleanable.dirty.ratio"].validator) == "[0,...,1]"
    assert str(TOPIC_CONFIGS["compression.type"].validator) == "[uncompressed, zstd, lz4, snappy, gzip, producer]"
    assert TOPIC_CONFIGS["retention.bytes"].validator is None  # Kafka defines no floor


def test_topic_synonyms_in_kafka_order() -> None:
    def names(topic: str) -> list[str]:
        return [s.name for s in TOPIC_CONFIGS[topic].synonyms]

    assert names("retention.ms") == ["log.retention.ms", "log.retention.minutes", "log.retention.hours"]
    assert names("segment.ms") == ["log.roll.ms", "log.roll.hours"]
    assert names("flush.ms") == ["log.flush.interval.ms", "log.flush.scheduler.interval.ms"]
    assert names("max.message.bytes") == ["message.max.bytes"]
    assert names("segment.bytes") == ["log.segment.bytes"]
    assert names("cleanup.policy") == ["log.cleanup.policy"]
    assert names("compression.type") == ["compression.type"]
    assert names("min.insync.replicas") == ["min.insync.replicas"]
    assert names("message.timestamp.type") == ["log.message.timestamp.type"]
    assert names("flush.messages") == ["log.flush.interval.messages"]
    assert names("min.cleanable.dirty.ratio") == ["log.cleaner.min.cleanable.ratio"]
    assert names("file.delete.delay.ms") == ["log.segment.delete.delay.ms"]
    assert names("remote.storage.enable") == []
    assert BROKER_TO_TOPIC["log.retention.hours"] == "retention.ms"


def test_defaults_validate_and_table_sizes() -> None:
    broker = [k for k in BROKER_CONFIGS.values() if not k.internal]
    topic = [k for k in TOPIC_CONFIGS.values() if not k.internal]
    assert len(broker) >= 100 and len(topic) == 37
    for key in (*BROKER_CONFIGS.values(), *TOPIC_CONFIGS.values()):
        assert key.documentation, key.name
        if key.default is not None:
            key.parse(to_config_string(key.default, key.type))  # the default string round-trips


# --------------------------------------------------------------------------------------------
# Value parsing (ConfigDef.parseType)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "type_", "expected"),
    [
        ("true", ConfigType.BOOLEAN, True),
        (" TRUE ", ConfigType.BOOLEAN, True),
        ("False", ConfigType.BOOLEAN, False),
        ("+42", ConfigType.INT, 42),
        (" -7\t", ConfigType.INT, -7),
        ("007", ConfigType.INT, 7),
        ("9223372036854775807", ConfigType.LONG, LONG_MAX),
        ("32767", ConfigType.SHORT, 32767),
        ("0.5", ConfigType.DOUBLE, 0.5),
        ("1e3", ConfigType.DOUBLE, 1000.0),
        ("2d", ConfigType.DOUBLE, 2.0),
        ("a, b ,c", ConfigType.LIST, ["a", "b", "c"]),
        ("  ", ConfigType.LIST, []),
        ("a,,b", ConfigType.LIST, ["a", "", "b"]),
        ("  padded  ", ConfigType.STRING, "padded"),
    ],
)
def test_parse_value_like_java(value: str, type_: ConfigType, expected: object) -> None:
    assert parse_value("k", value, type_) == expected


@pytest.mark.parametrize(
    ("value", "type_", "message"),
    [
        ("yes", ConfigType.BOOLEAN, "Invalid value yes for configuration k: Expected value to be either true or false"),
        ("1_000", ConfigType.INT, "Invalid value 1_000 for configuration k: Not a number of type INT"),
        ("2147483648", ConfigType.INT, "Invalid value 2147483648 for configuration k: Not a number of type INT"),
        ("32768", ConfigType.SHORT, "Invalid value 32768 for configuration k: Not a number of type SHORT"),
        ("1.5", ConfigType.LONG, "Invalid value 1.5 for configuration k: Not a number of type LONG"),
        ("inf", ConfigType.DOUBLE, "Invalid value inf for configuration k: Not a number of type DOUBLE"),
    ],
)
def test_parse_value_errors_use_kafka_wording(value: str, type_: ConfigType, message: str) -> None:
    with pytest.raises(ConfigException) as excinfo:
        parse_value("k", value, type_)
    assert str(excinfo.value) == message


def test_java_double_str() -> None:
    assert [java_double_str(x) for x in (0.5, 1.0, 100.0, 0.001, 1e7, 1.5e-5, -2.25, 1234567.0)] == [
        "0.5",
        "1.0",
        "100.0",
        "0.001",
        "1.0E7",
        "1.5E-5",
        "-2.25",
        "1234567.0",
    ]


# --------------------------------------------------------------------------------------------
# Properties and YAML files
# --------------------------------------------------------------------------------------------


def props(text: str) -> dict[str, str]:
    return {k: v for k, v, _ in parse_properties(text)}


def test_properties_separators_and_comments() -> None:
    text = "# comment\n! also a comment\n\n   \t\na=1\nb: 2\nc 3\nd    =    4\n  e\t:\tfive  \nf\ng=\nh==x\ni=a=b:c\n"
    assert props(text) == {
        "a": "1",
        "b": "2",
        "c": "3",
        "d": "4",
        "e": "five  ",  # trailing whitespace is kept; typed parsing trims it
        "f": "",
        "g": "",
        "h": "=x",
        "i": "a=b:c",
    }


def test_properties_continuations() -> None:
    text = (
        "listeners=PLAINTEXT://:9092,\\\n"
        "          CONTROLLER://:9093\n"
        "odd=a\\\\\\\n"
        "   b\n"
        "even=a\\\\\n"
        "next=1\n"
        "# a comment ending in a backslash is not continued \\\n"
        "after=comment\n"
        "blankcont=x\\\n"
        "\n"
        "eof=y\\"
    )
    assert props(text) == {
        "listeners": "PLAINTEXT://:9092,CONTROLLER://:9093",
        "odd": "a\\b",
        "even": "a\\",
        "next": "1",
        "after": "comment",
        "blankcont": "x",
        "eof": "y",
    }


def test_properties_escapes_and_line_endings() -> None:
    text = "k\\=ey=v\\:al\r\nsp\\ ace=1\rtab=a\\tb\\nc\nuni=caf\\u00e9\\\\\nplain\\q=\\q\n"
    assert props(text) == {"k=ey": "v:al", "sp ace": "1", "tab": "a\tb\nc", "uni": "café\\", "plainq": "q"}


def test_properties_malformed_unicode_escape() -> None:
    with pytest.raises(ConfigError, match=r"server.properties:2: malformed \\uxxxx"):
        parse_properties("ok=1\nbad=\\u12G4\n", "server.properties")


def test_properties_duplicates_last_wins_and_line_numbers(tmp_path: Path) -> None:
    config = load(tmp_path, "num.partitions=2\n\n# again\nnum.partitions = 5\n")
    assert config.num_partitions == 5
    assert str(config.origin("num.partitions")) == f"file {tmp_path / 'server.properties'}:4"


def test_yaml_flat_and_nested(tmp_path: Path) -> None:
    text = """
num.partitions: 4
log:
  retention:
    hours: 24
  cleanup.policy: [compact, delete]
auto.create.topics.enable: false
log.cleaner.min.cleanable.ratio: 0.25
advertised.listeners: null
"""
    config = load(tmp_path, text, suffix=".yaml")
    assert config.num_partitions == 4
    assert config.get("log.retention.hours") == 24
    assert config.get_list("log.cleanup.policy") == ["compact", "delete"]
    assert config.get_boolean("auto.create.topics.enable") is False
    assert config.get_double("log.cleaner.min.cleanable.ratio") == 0.25
    assert not config.is_set("advertised.listeners")  # YAML null = not set
    assert config.origin("num.partitions").layer == "file"


def test_yaml_must_be_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"must contain a mapping"):
        load(tmp_path, "- a\n- b\n", suffix=".yml")
    with pytest.raises(ConfigError, match=r"cannot parse YAML"):
        load(tmp_path, "a: [unclosed\n", suffix=".yml")


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot read config file"):
        load_config_file(tmp_path / "nope.properties")


def test_stock_kafka_kraft_server_properties_loads(tmp_path: Path) -> None:
    # Kafka 4.x config/server.properties (comments dropped).
    text = """process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=localhost:9093
listeners=PLAINTEXT://:9092,CONTROLLER://:9093
inter.broker.listener.name=PLAINTEXT
advertised.listeners=PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL
num.network.threads=3
num.io.threads=8
socket.send.buffer.bytes=102400
socket.receive.buffer.bytes=102400
socket.request.max.bytes=104857600
log.dirs=/tmp/kraft-combined-logs
num.partitions=1
num.recovery.threads.per.data.dir=1
offsets.topic.replication.factor=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
log.retention.hours=168
log.segment.bytes=1073741824
log.retention.check.interval.ms=300000
"""
    config = load(tmp_path, text)
    assert config.data_dir == Path("/tmp/kraft-combined-logs")
    assert config.listeners == [Endpoint("PLAINTEXT", "PLAINTEXT", None, 9092)]
    assert config.controller_listeners == [Endpoint("CONTROLLER", "PLAINTEXT", None, 9093)]
    assert config.advertised_listeners == [Endpoint("PLAINTEXT", "PLAINTEXT", "localhost", 9092)]
    assert {name for name, _, _ in config.ignored} == {
        "controller.quorum.bootstrap.servers",
        "inter.broker.listener.name",
        "share.coordinator.state.topic.replication.factor",
        "share.coordinator.state.topic.min.isr",
    }


# --------------------------------------------------------------------------------------------
# Precedence and the environment
# --------------------------------------------------------------------------------------------


def test_precedence_defaults_file_env_override(tmp_path: Path) -> None:
    text = "num.partitions=2\nlog.retention.hours=10\n"
    env = {"CHRONIK_CFG_NUM_PARTITIONS": "3", "CHRONIK_CFG_DEFAULT_REPLICATION_FACTOR": "1"}
    assert load().num_partitions == 1
    assert load(tmp_path, text).num_partitions == 2
    assert load(tmp_path, text, env=env).num_partitions == 3
    config = load(tmp_path, text, env=env, overrides=["num.partitions=4"])
    assert config.num_partitions == 4
    assert config.get("log.retention.hours") == 10  # from the file, untouched by env/override
    assert [str(config.origin(n)) for n in ("num.partitions", "log.retention.hours", "default.replication.factor")] == [
        "override --override num.partitions",
        f"file {tmp_path / 'server.properties'}:2",
        "env CHRONIK_CFG_DEFAULT_REPLICATION_FACTOR",
    ]
    assert config.source("num.partitions") is ConfigSource.STATIC_BROKER_CONFIG
    assert config.source("num.recovery.threads.per.data.dir") is ConfigSource.DEFAULT_CONFIG
    # --data-dir beats everything for log.dirs
    config = load(tmp_path, "log.dirs=/a\n", env={"CHRONIK_DATA_DIR": "/b"}, data_dir="/c")
    assert config.data_dir == Path("/c")
    assert load(tmp_path, "log.dirs=/a\n", env={"CHRONIK_DATA_DIR": "/b"}).data_dir == Path("/b")


def test_overrides_mapping_and_value_with_equals() -> None:
    config = load(overrides=["listener.security.protocol.map=PLAINTEXT:PLAINTEXT,A:PLAINTEXT"])
    assert config.get("listener.security.protocol.map") == "PLAINTEXT:PLAINTEXT,A:PLAINTEXT"
    assert load(overrides={"num.partitions": "6"}).num_partitions == 6
    with pytest.raises(ConfigError, match=r"invalid --override 'num.partitions': expected KEY=VALUE"):
        load(overrides=["num.partitions"])


def test_data_dir_defaults_and_env(tmp_path: Path) -> None:
    assert load().data_dir == Path("chronik-data").absolute()
    assert load(env={"CHRONIK_DATA_DIR": str(tmp_path)}).data_dir == tmp_path
    assert load(env={"CHRONIK_DATA_DIR": ""}).data_dir == Path("chronik-data").absolute()  # empty = unset
    assert load(overrides=["log.dir=/x"]).data_dir == Path("/x")  # log.dirs unset -> log.dir
    with pytest.raises(ConfigError, match=r"exactly one directory"):
        load(overrides=["log.dirs=/a,/b"])
    with pytest.raises(ConfigError, match=r"conflicts with CHRONIK_CFG_LOG_DIRS"):
        load(env={"CHRONIK_DATA_DIR": "/a", "CHRONIK_CFG_LOG_DIRS": "/b"})
    with pytest.raises(ConfigError, match=r"--data-dir '/a' conflicts with --override log.dirs=/b"):
        load(overrides=["log.dirs=/b"], data_dir="/a")


def test_log_level_from_env() -> None:
    assert load().log_level == "INFO"
    assert load(env={"CHRONIK_LOG_LEVEL": "debug"}).log_level == "DEBUG"
    assert load(env={"CHRONIK_LOG_LEVEL": "warn"}).log_level == "WARNING"
    assert load(env={"CHRONIK_LOG_LEVEL": "debug"}, overrides=["chronik.log.level=error"]).log_level == "ERROR"
    with pytest.raises(ConfigError, match=r"Invalid value LOUD for configuration chronik.log.level"):
        load(env={"CHRONIK_LOG_LEVEL": "LOUD"})


def test_kafka_port_rewrites_the_plaintext_listener(tmp_path: Path) -> None:
    config = load(env={"KAFKA_PORT": "19092"})
    assert config.listeners == [Endpoint("PLAINTEXT", "PLAINTEXT", None, 19092)]
    assert config.advertised_listeners == [Endpoint("PLAINTEXT", "PLAINTEXT", "127.0.0.1", 19092)]
    assert str(config.origin("listeners")) == "env KAFKA_PORT"

    text = (
        "listeners=CONTROLLER://:9093,CLIENT://127.0.0.1:9092\n"
        "listener.security.protocol.map=CLIENT:PLAINTEXT,CONTROLLER:PLAINTEXT\n"
        "controller.listener.names=CONTROLLER\n"
    )
    config = load(tmp_path, text, env={"KAFKA_PORT": "29092"})
    assert config.get_list("listeners") == ["CONTROLLER://:9093", "CLIENT://127.0.0.1:29092"]
    assert config.advertised_listeners == [Endpoint("CLIENT", "PLAINTEXT", "127.0.0.1", 29092)]

    # An explicit advertised.listeners is left alone; an override of listeners wins over KAFKA_PORT.
    text = "advertised.listeners=PLAINTEXT://broker.example:9092\n"
    config = load(tmp_path, text, env={"KAFKA_PORT": "19092"})
    assert config.listeners[0].port == 19092
    assert config.advertised_listeners == [Endpoint("PLAINTEXT", "PLAINTEXT", "broker.example", 9092)]
    config = load(env={"KAFKA_PORT": "19092"}, overrides=["listeners=PLAINTEXT://:7000"])
    assert config.listeners[0].port == 7000

    with pytest.raises(ConfigError, match=r"KAFKA_PORT='http' is not a port number"):
        load(env={"KAFKA_PORT": "http"})
    with pytest.raises(ConfigError, match=r"has no PLAINTEXT listener"):
        load(tmp_path, "listeners=SSL://:9093\n", env={"KAFKA_PORT": "1"})


# --------------------------------------------------------------------------------------------
# Unknown keys, validation
# --------------------------------------------------------------------------------------------


def test_unknown_key_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as excinfo:
        load(tmp_path, "num.partitons=3\n")
    message = errors_of(excinfo)
    assert "unknown configuration 'num.partitons'" in message
    assert "did you mean 'num.partitions'?" in message
    assert f"(file {tmp_path / 'server.properties'}:1)" in message

    with pytest.raises(ConfigError) as excinfo:
        load(env={"CHRONIK_CFG_LOG_RETENTON_HOURS": "1"})
    assert "did you mean 'log.retention.hours'" in errors_of(excinfo)
    assert "env CHRONIK_CFG_LOG_RETENTON_HOURS" in errors_of(excinfo)


def test_topic_key_at_broker_level_points_to_the_broker_key() -> None:
    with pytest.raises(ConfigError) as excinfo:
        load(overrides=["retention.ms=1000"])
    assert "'retention.ms' is a topic config; its broker-wide default is 'log.retention.ms'" in errors_of(excinfo)


def test_all_errors_are_reported_together(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as excinfo:
        load(tmp_path, "num.partitions=0\ncompression.type=none\nbogus.key=1\n")
    assert len(excinfo.value.errors) == 3
    assert str(excinfo.value).startswith("invalid configuration:\n  - ")


def test_ignored_kafka_configs_are_accepted_and_recorded(tmp_path: Path) -> None:
    text = "zookeeper.connect=localhost:2181\nssl.engine.factory.class=x.Y\nsecurity.providers=x.Y\n"
    config = load(tmp_path, text)
    ignored = ["zookeeper.connect", "ssl.engine.factory.class", "security.providers"]
    assert [name for name, _, _ in config.ignored] == ignored
    assert "zookeeper.connect" in IGNORED_KAFKA_CONFIGS


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("num.partitions=0", "Invalid value 0 for configuration num.partitions: Value must be at least 1"),
        (
            "log.segment.bytes=1048575",
            "Invalid value 1048575 for configuration log.segment.bytes: Value must be at least 1048576",
        ),
        (
            "compression.type=none",
            "Invalid value none for configuration compression.type: "
            "String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer",
        ),
        (
            "log.cleanup.policy=compact,purge",
            "Invalid value purge for configuration log.cleanup.policy: String must be one of: compact, delete",
        ),
        ("log.cleanup.policy=delete,delete", "Configuration 'log.cleanup.policy' values must not be duplicated."),
        (
            "log.message.timestamp.type=createtime",
            "Invalid value createtime for configuration log.message.timestamp.type: "
            "String must be one of: CreateTime, LogAppendTime",
        ),
        ("auto.create.topics.enable=yes", "Expected value to be either true or false"),
        ("compression.gzip.level=0", "Value must be between 1 and 9 or equal to -1"),
        ("compression.zstd.level=23", "Value must be no more than 22"),
        ("log.cleaner.min.cleanable.ratio=1.5", "Value must be no more than 1"),
        ("socket.request.max.bytes=0", "Value must be at least 1"),
        ("listeners=", "Configuration 'listeners' must not be empty. Valid values include: any non-empty value"),
        ("process.roles=broker", "process.roles must be 'broker,controller'"),
        ("node.id=-1", "Invalid value -1 for configuration node.id: Value must be at least 0"),
    ],
)
def test_validators(override: str, message: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        load(overrides=[override])
    assert message in errors_of(excinfo)
    assert "--override" in errors_of(excinfo)  # every error names where the value came from


def test_cross_key_checks() -> None:
    with pytest.raises(ConfigError, match=r"broker.id \(2\) and node.id \(1\) must match"):
        load(overrides=["node.id=1", "broker.id=2"])
    with pytest.raises(ConfigError, match=r"min.compaction.lag.ms \(10\) > max.compaction.lag.ms \(5\)"):
        load(overrides=["log.cleaner.min.compaction.lag.ms=10", "log.cleaner.max.compaction.lag.ms=5"])


def test_node_id_and_broker_id_are_synonyms() -> None:
    assert (load().node_id, load().get("broker.id")) == (1, 1)
    config = load(overrides=["broker.id=7"])
    assert (config.node_id, config.get("broker.id")) == (7, 7)
    config = load(overrides=["node.id=3"])
    assert (config.node_id, config.get("broker.id")) == (3, 3)


def test_typed_access() -> None:
    config = load(overrides=["num.partitions=3", "log.cleanup.policy=compact"])
    assert config.get_int("num.partitions") == 3
    assert config.num_partitions == 3
    assert config.log_cleanup_policy == ["compact"]
    assert config.get_long("log.flush.interval.messages") == LONG_MAX
    assert config.get_long("num.partitions") == 3  # INT widens to LONG
    assert config.get_short("offsets.topic.replication.factor") == 3
    assert config.get_string("compression.type") == "producer"
    with pytest.raises(TypeError, match=r"num.partitions is a INT config"):
        config.get_string("num.partitions")
    with pytest.raises(KeyError, match=r"did you mean 'num.partitions'"):
        config.get("num.partition")
    with pytest.raises(AttributeError):
        _ = config.no_such_thing
    assert sorted(config.changed()) == ["log.cleanup.policy", "num.partitions"]
    assert config.raw_value("num.partitions") == "3"


# --------------------------------------------------------------------------------------------
# Listeners
# --------------------------------------------------------------------------------------------

DEFAULT_MAP = parse_security_protocol_map(BROKER_CONFIGS["listener.security.protocol.map"].default)


def test_parse_listeners() -> None:
    assert parse_listeners(["PLAINTEXT://127.0.0.1:9092"], DEFAULT_MAP) == [
        Endpoint("PLAINTEXT", "PLAINTEXT", "127.0.0.1", 9092)
    ]
    (any_host,) = parse_listeners(["plaintext://:9092"], DEFAULT_MAP)
    assert any_host == Endpoint("PLAINTEXT", "PLAINTEXT", None, 9092)  # names are upper-cased
    assert any_host.bind_host == ""  # all interfaces
    (v6,) = parse_listeners(["PLAINTEXT://[::1]:9092"], DEFAULT_MAP)
    assert v6.host == "::1" and str(v6) == "PLAINTEXT://[::1]:9092"
    # one IPv4 and one IPv6 listener may share a port
    both = parse_listeners(["PLAINTEXT://127.0.0.1:9092", "SSL://[::1]:9092"], DEFAULT_MAP)
    assert [e.port for e in both] == [9092, 9092]


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (["PLAINTEXT//:9092"], "Unable to parse PLAINTEXT//:9092 to a broker endpoint"),
        (["PLAINTEXT://host"], "Unable to parse PLAINTEXT://host to a broker endpoint"),
        (["CLIENT://:9092"], "No security protocol defined for listener CLIENT"),
        (["PLAINTEXT://:9092", "plaintext://:9093"], "Each listener must have a different name"),
        (["PLAINTEXT://:9092", "SSL://:9092"], "Each listener must have a different port"),
        (["PLAINTEXT://:70000"], "port 70000 is out of range"),
    ],
)
def test_parse_listeners_errors(entries: list[str], message: str) -> None:
    with pytest.raises(ConfigException, match=message):
        parse_listeners(entries, DEFAULT_MAP)


def test_security_protocol_map() -> None:
    assert parse_security_protocol_map("internal:plaintext, EXTERNAL : SSL", ["controller"]) == {
        "INTERNAL": "PLAINTEXT",
        "EXTERNAL": "SSL",
        "CONTROLLER": "PLAINTEXT",
    }
    with pytest.raises(ConfigException, match=r"Invalid security protocol `TLS` defined in listener.security.protocol"):
        parse_security_protocol_map("A:TLS")
    with pytest.raises(ConfigException, match=r"not of the form LISTENER_NAME:PROTOCOL"):
        parse_security_protocol_map("A")


def test_advertised_listeners() -> None:
    config = load()  # PLAINTEXT://:9092 -> advertise 127.0.0.1, not a wildcard or a host name
    assert [str(e) for e in config.advertised_listeners] == ["PLAINTEXT://127.0.0.1:9092"]
    config = load(overrides=["listeners=PLAINTEXT://0.0.0.0:9092"])
    assert config.listeners[0].bind_host == "0.0.0.0"
    assert config.advertised_listeners[0].host == "127.0.0.1"
    config = load(overrides=["listeners=PLAINTEXT://0.0.0.0:9092", "advertised.listeners=PLAINTEXT://kafka:19092"])
    assert config.advertised_for("plaintext") == Endpoint("PLAINTEXT", "PLAINTEXT", "kafka", 19092)
    config = load(overrides=["advertised.listeners=PLAINTEXT://:9092"])  # empty host: fall back too
    assert config.advertised_listeners[0].host == "127.0.0.1"

    with pytest.raises(ConfigError, match=r"advertised.listeners cannot use the nonroutable meta-address 0.0.0.0"):
        load(overrides=["advertised.listeners=PLAINTEXT://0.0.0.0:9092"])
    with pytest.raises(ConfigError, match=r"must be equal to or a subset of the ones defined in listeners"):
        load(
            overrides=[
                "advertised.listeners=OTHER://h:1",
                "listener.security.protocol.map=OTHER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            ]
        )
    config = load(overrides=["listeners=SSL://:9093,SASL_SSL://:9094"])
    assert [e.security_protocol for e in config.listeners] == ["SSL", "SASL_SSL"]
    with pytest.raises(ConfigError, match=r"no broker listener"):
        load(overrides=["listeners=CONTROLLER://:9093", "controller.listener.names=CONTROLLER"])


# --------------------------------------------------------------------------------------------
# Topic configs: synonyms and sources (DescribeConfigs)
# --------------------------------------------------------------------------------------------


def syn(entries: list) -> list[tuple[str, str | None, int]]:
    return [(s.name, s.value, int(s.source)) for s in entries]


def test_retention_ms_default() -> None:
    value, source, synonyms = resolve_topic_config("retention.ms", {}, load())
    assert value == 604800000
    assert source is ConfigSource.DEFAULT_CONFIG
    assert syn(synonyms) == [("log.retention.hours", "168", 5)]


def test_retention_ms_from_broker_log_retention_hours(tmp_path: Path) -> None:
    broker = load(tmp_path, "log.retention.hours=24\n")
    value, source, synonyms = resolve_topic_config("retention.ms", {}, broker)
    assert value == 24 * 3600 * 1000
    assert source is ConfigSource.STATIC_BROKER_CONFIG
    assert syn(synonyms) == [("log.retention.hours", "24", 4), ("log.retention.hours", "168", 5)]


def test_retention_ms_set_on_the_topic(tmp_path: Path) -> None:
    broker = load(tmp_path, "log.retention.hours=24\n")
    value, source, synonyms = resolve_topic_config("retention.ms", {"retention.ms": "3600000"}, broker)
    assert value == 3600000
    assert source is ConfigSource.DYNAMIC_TOPIC_CONFIG
    assert syn(synonyms) == [
        ("retention.ms", "3600000", 1),
        ("log.retention.hours", "24", 4),
        ("log.retention.hours", "168", 5),
    ]


def test_retention_synonym_priority_and_conversion() -> None:
    # ms beats minutes beats hours (ServerTopicConfigSynonyms order); minutes are converted.
    broker = load(overrides=["log.retention.minutes=30", "log.retention.hours=2"])
    value, source, synonyms = resolve_topic_config("retention.ms", {}, broker)
    assert value == 30 * 60 * 1000 and source is ConfigSource.STATIC_BROKER_CONFIG
    assert syn(synonyms) == [
        ("log.retention.minutes", "30", 4),
        ("log.retention.hours", "2", 4),
        ("log.retention.hours", "168", 5),
    ]
    broker = load(overrides=["log.retention.ms=-5", "log.retention.minutes=30"])
    assert resolve_topic_config("retention.ms", {}, broker)[0] == -1  # negative -> -1, as Kafka
    broker = load(overrides=["log.roll.hours=1"])
    assert resolve_topic_config("segment.ms", {}, broker)[0] == 3600000


def test_other_synonyms() -> None:
    broker = load(overrides=["message.max.bytes=2000000", "log.cleanup.policy=compact,delete"])
    assert resolve_topic_config("max.message.bytes", {}, broker)[:2] == (2000000, ConfigSource.STATIC_BROKER_CONFIG)
    assert resolve_topic_config("cleanup.policy", {}, broker)[0] == ["compact", "delete"]
    value, source, synonyms = resolve_topic_config("remote.storage.enable", {}, broker)
    assert (value, source, synonyms) == (False, ConfigSource.DEFAULT_CONFIG, [])
    defaults = topic_config_defaults(broker)
    assert defaults["max.message.bytes"] == 2000000 and defaults["flush.ms"] == LONG_MAX
    effective = effective_topic_configs({"compression.type": "zstd", "cleanup.policy": "compact"}, broker)
    assert effective["compression.type"] == "zstd" and effective["cleanup.policy"] == ["compact"]
    assert effective["max.message.bytes"] == 2000000
    with pytest.raises(ConfigException, match=r"Unknown topic config name: nope"):
        resolve_topic_config("nope", {}, broker)


def test_describe_topic_configs() -> None:
    broker = load(overrides=["log.retention.hours=24"])
    entries = describe_topic_configs({"cleanup.policy": "compact,delete", "min.cleanable.dirty.ratio": "0.25"}, broker)
    by_name = {e.name: e for e in entries}
    assert [e.name for e in entries] == sorted(n for n, k in TOPIC_CONFIGS.items() if not k.internal)
    assert by_name["cleanup.policy"].value == "compact,delete"
    assert by_name["cleanup.policy"].source is ConfigSource.DYNAMIC_TOPIC_CONFIG
    assert by_name["min.cleanable.dirty.ratio"].value == "0.25"
    assert by_name["retention.ms"].value == "86400000"
    assert by_name["retention.ms"].source is ConfigSource.STATIC_BROKER_CONFIG
    assert by_name["retention.ms"].config_type == ConfigType.LONG.describe_id == 5
    assert by_name["max.message.bytes"].value == "1048588"
    assert not by_name["max.message.bytes"].read_only and not by_name["max.message.bytes"].is_sensitive
    only = describe_topic_configs({}, broker, ["retention.ms", "unknown.name"], include_documentation=True)
    assert [e.name for e in only] == ["retention.ms"] and only[0].documentation
    assert describe_topic_configs({}, broker, ["retention.ms"], include_synonyms=False)[0].synonyms == ()


def test_describe_broker_configs_follow_kafka() -> None:
    broker = load(overrides=["log.retention.hours=24", "num.partitions=3"])
    by_name = {e.name: e for e in describe_broker_configs(broker)}
    assert "unstable.api.versions.enable" not in by_name  # internal
    assert by_name["num.partitions"].value == "3"
    assert by_name["num.partitions"].source is ConfigSource.STATIC_BROKER_CONFIG
    assert syn(by_name["num.partitions"].synonyms) == [("num.partitions", "3", 4), ("num.partitions", "1", 5)]
    assert by_name["log.retention.hours"].source is ConfigSource.STATIC_BROKER_CONFIG
    # Kafka's dropWhile: log.retention.ms is unset and only hours synonyms exist -> none reported.
    assert (by_name["log.retention.ms"].value, by_name["log.retention.ms"].synonyms) == (None, ())
    assert by_name["log.retention.ms"].source is ConfigSource.DEFAULT_CONFIG
    assert by_name["compression.type"].source is ConfigSource.DEFAULT_CONFIG
    assert all(e.read_only for e in by_name.values())
    assert broker_config_synonyms("log.retention.minutes") == [
        "log.retention.ms",
        "log.retention.minutes",
        "log.retention.hours",
    ]
    assert broker_config_synonyms("listener.name.internal.max.connections") == [
        "listener.name.internal.max.connections",
        "max.connections",
    ]


# --------------------------------------------------------------------------------------------
# Topic config validation (CreateTopics / AlterConfigs)
# --------------------------------------------------------------------------------------------


def test_validate_topic_configs() -> None:
    assert validate_topic_configs({"retention.ms": "-1", "cleanup.policy": "compact", "segment.bytes": "1048576"}) == {}
    assert validate_topic_configs({"cleanup.policy": ""}) == {}  # empty list: infinite retention (Kafka 4.2+)
    errors = validate_topic_configs(
        {
            "retention.ms": "-2",
            "log.retention.ms": "1",
            "cleanup.policy": "compact,compact",
            "compression.type": "none",
            "max.message.bytes": "abc",
            "min.insync.replicas": None,
            "leader.replication.throttled.replicas": "0:1,x",
        }
    )
    assert {k: e.error_code for k, e in errors.items()} == dict.fromkeys(errors, INVALID_CONFIG)
    messages = {k: e.message for k, e in errors.items()}
    assert messages == {
        "retention.ms": "Invalid value -2 for configuration retention.ms: Value must be at least -1",
        "log.retention.ms": "Unknown topic config name: log.retention.ms",
        "cleanup.policy": "Configuration 'cleanup.policy' values must not be duplicated.",
        "compression.type": "Invalid value none for configuration compression.type: String must be one of: "
        "uncompressed, zstd, lz4, snappy, gzip, producer",
        "max.message.bytes": "Invalid value abc for configuration max.message.bytes: Not a number of type INT",
        "min.insync.replicas": "Null value not supported for topic configs: min.insync.replicas",
        "leader.replication.throttled.replicas": "Invalid value [0:1, x] for configuration "
        "leader.replication.throttled.replicas: leader.replication.throttled.replicas must be the literal '*' or a "
        "list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],...",
    }
    assert validate_topic_configs({"leader.replication.throttled.replicas": "*"}) == {}


def test_topic_cross_checks_and_first_error() -> None:
    errors = validate_topic_configs({"min.compaction.lag.ms": "10", "max.compaction.lag.ms": "5"})
    assert errors["min.compaction.lag.ms"].message == (
        "conflict topic config setting min.compaction.lag.ms (10) > max.compaction.lag.ms (5)"
    )
    assert "remote.storage.enable" in validate_topic_configs({"remote.storage.enable": "true"})
    # Kafka reports one error per request: nulls, then unknown names, then values in LogConfig order.
    first = first_topic_config_error({"segment.bytes": "1", "zzz": "1", "retention.ms": "x"})
    assert first is not None and first.message == "Unknown topic config name: zzz"
    first = first_topic_config_error({"retention.ms": "x", "segment.bytes": "1"})
    assert first is not None
    assert first.message == "Invalid value 1 for configuration segment.bytes: Value must be at least 1048576"
    assert first_topic_config_error({"retention.ms": "1000"}) is None


# --------------------------------------------------------------------------------------------
# meta.properties and the cluster id
# --------------------------------------------------------------------------------------------


def test_cluster_id_format() -> None:
    ids = {generate_cluster_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(is_valid_cluster_id(i) and len(i) == 22 and not i.startswith("-") for i in ids)
    assert is_valid_cluster_id("MkU3OEVBNTcwNTJENDM2Qg")  # Kafka's docs example
    assert not is_valid_cluster_id("not-a-cluster-id")
    # never the reserved zero/one UUIDs, never a leading '-'
    seq = iter([bytes(16), bytes(15) + b"\x01", b"\xf8" + bytes(15), b"\x01" * 16])
    assert generate_cluster_id(lambda: next(seq)) == "AQEBAQEBAQEBAQEBAQEBAQ"


def test_meta_properties_created_then_checked(tmp_path: Path) -> None:
    config = load(data_dir=tmp_path, overrides=["node.id=2"])
    assert read_meta_properties(tmp_path) is None
    meta = ensure_meta_properties(config)
    assert meta.node_id == 2 and is_valid_cluster_id(meta.cluster_id)
    text = (tmp_path / "meta.properties").read_text()
    assert f"cluster.id={meta.cluster_id}\n" in text and "version=1\n" in text and "node.id=2\n" in text
    assert read_meta_properties(tmp_path) == meta
    assert ensure_meta_properties(config) == meta  # idempotent
    assert config.with_meta(meta).cluster_id == meta.cluster_id
    assert config.cluster_id is None

    with pytest.raises(ConfigError, match=r"was written by node 2, but node.id is 3"):
        ensure_meta_properties(load(data_dir=tmp_path, overrides=["node.id=3"]))
    other = generate_cluster_id()
    with pytest.raises(ConfigError, match=f"belongs to cluster {meta.cluster_id}, but chronik.cluster.id is {other}"):
        ensure_meta_properties(load(data_dir=tmp_path, overrides=["node.id=2", f"chronik.cluster.id={other}"]))


def test_meta_properties_with_configured_cluster_id(tmp_path: Path) -> None:
    cluster_id = "MkU3OEVBNTcwNTJENDM2Qg"
    meta = ensure_meta_properties(load(data_dir=tmp_path, overrides=[f"chronik.cluster.id={cluster_id}"]))
    assert meta == MetaProperties(cluster_id, 1, meta.directory_id)
    with pytest.raises(ConfigError, match=r"Invalid value bad for configuration chronik.cluster.id"):
        ensure_meta_properties(load(data_dir=tmp_path / "x", overrides=["chronik.cluster.id=bad"]))


def test_meta_properties_written_by_kafka_is_read(tmp_path: Path) -> None:
    (tmp_path / "meta.properties").write_text(
        "#\n#Mon Jan 01 00:00:00 UTC 2024\nnode.id=1\ndirectory.id=J8aAPcfLQt2bqs1JT_rMgQ\nversion=1\n"
        "cluster.id=MkU3OEVBNTcwNTJENDM2Qg\n"
    )
    meta = ensure_meta_properties(load(data_dir=tmp_path))
    assert (meta.cluster_id, meta.node_id, meta.directory_id) == ("MkU3OEVBNTcwNTJENDM2Qg", 1, "J8aAPcfLQt2bqs1JT_rMgQ")
    (tmp_path / "meta.properties").write_text("version=0\nbroker.id=1\ncluster.id=x\n")
    with pytest.raises(ConfigError, match=r"unsupported meta.properties version 0"):
        read_meta_properties(tmp_path)


def test_environment_is_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("CHRONIK_") or name == "KAFKA_PORT":
            monkeypatch.delenv(name)
    monkeypatch.setenv("CHRONIK_CFG_NUM_PARTITIONS", "9")
    assert BrokerConfig.load().num_partitions == 9
