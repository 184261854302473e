"""Broker and topic configuration, as Apache Kafka 4.x defines it.

The spec is Kafka's own ``ConfigDef`` tables (``ServerConfigs``, ``ServerLogConfigs``,
``SocketServerConfigs``, ``ReplicationConfigs``, ``CleanerConfig``, ``GroupCoordinatorConfig``,
``TransactionLogConfig``/``TransactionStateManagerConfig``, ``KRaftConfigs``, ``LogConfig`` and
``ServerTopicConfigSynonyms``): names, types, defaults, validators, importance and documentation
are copied from there, and values are parsed the way ``ConfigDef.parseType`` parses them (so
``true``/``TRUE`` are booleans, ``yes`` is not; ``1_000`` is not an integer; lists split on commas
with surrounding whitespace). Error messages use Kafka's ``ConfigException`` wording
(``Invalid value X for configuration Y: ...``) so that a CreateTopics/AlterConfigs error reads the
same as a Kafka broker's.

Two tables: :data:`BROKER_CONFIGS` (server.properties keys) and :data:`TOPIC_CONFIGS` (per-topic
keys, Kafka 4.3's ``LogConfig`` set plus 4.4's ``remote.copy.lag.*``, ``max.decompressed.message.bytes``
and ``errors.deadletterqueue.group.enable``). A topic key may have broker synonyms
(:attr:`ConfigKey.synonyms`, in ``ServerTopicConfigSynonyms`` order): the broker key supplies the
topic's default, e.g. topic ``retention.ms`` <- ``log.retention.ms``, ``log.retention.minutes``,
``log.retention.hours`` (the first one with a value wins; minutes and hours are converted).

Loading a broker configuration (:meth:`BrokerConfig.load`), lowest to highest precedence:

1. defaults (Kafka's, except the few Chronik-specific ones listed below);
2. a config file: Java ``.properties`` (``key=value``, ``key: value``, ``key value``, ``#``/``!``
   comments, backslash line continuations and escapes, as ``java.util.Properties.load``; UTF-8,
   falling back to ISO-8859-1) or YAML (``.yaml``/``.yml``: a flat mapping of dotted keys, or a
   nested mapping whose keys are joined with dots; lists become comma-separated values; a null
   value means "not set");
3. environment variables: ``CHRONIK_DATA_DIR`` -> ``log.dirs``; ``KAFKA_PORT`` -> the port of the
   PLAINTEXT listener in ``listeners`` (the advertised address follows unless
   ``advertised.listeners`` is set explicitly); ``CHRONIK_LOG_LEVEL`` -> ``chronik.log.level``;
   and ``CHRONIK_CFG_<NAME>`` for any key, the name upper-cased with dots as underscores
   (``CHRONIK_CFG_NUM_PARTITIONS=3`` -> ``num.partitions=3``). Empty values of the three named
   variables are ignored;
4. ``--override key=value`` flags (and ``--data-dir``, which is ``--override log.dirs=DIR``).

Every value that does not come from the defaults is a *static broker config*
(``STATIC_BROKER_CONFIG`` in DescribeConfigs); Chronik has no dynamic broker configs.

Where Chronik differs from Kafka (deliberately):

* Unknown keys are an error (with a "did you mean" suggestion); Kafka only logs a warning. A
  fixed set of Kafka keys that make no sense for a single-node Python broker (ZooKeeper, quotas,
  replica fetchers, metrics reporters, unsupported ``ssl.*``/``sasl.*`` keys, ...) is accepted and ignored
  (:data:`IGNORED_KAFKA_CONFIGS`, :data:`IGNORED_KAFKA_PREFIXES`); :attr:`BrokerConfig.ignored`
  lists them so the CLI can log them.
* Security keys (``ssl.*``, ``sasl.*``, ``connections.max.reauth.ms``) may be given per listener as
  ``listener.name.<listener>.<key>``, and SASL keys per mechanism as
  ``listener.name.<listener>.<mechanism>.<key>`` (the JAAS config only so), with fallback to the
  broker-wide key as in Kafka (:meth:`BrokerConfig.listener_value`).
* ``node.id`` is optional (default 1, as in Kafka's sample ``server.properties``);
  ``process.roles`` defaults to ``broker,controller`` and may not be anything else: Chronik is one
  combined node. ``broker.id`` and ``node.id`` are synonyms (Kafka's ``populateSynonyms``).
* The data directory is ``log.dirs`` (falling back to ``log.dir``, whose default is
  ``./chronik-data`` instead of ``/tmp/kafka-logs``), and it must be exactly one directory.
* Listeners: PLAINTEXT, SSL, SASL_PLAINTEXT and SASL_SSL (``chronik.security``). Listeners named in
  ``controller.listener.names`` are accepted (so a stock KRaft ``server.properties`` loads) but
  neither bound nor advertised.
* Advertised addresses: when an advertised host is empty, ``0.0.0.0`` or ``::`` (for example
  because ``advertised.listeners`` is unset and ``listeners`` binds all interfaces), Chronik
  advertises ``127.0.0.1``. Kafka advertises the canonical host name there; ``127.0.0.1`` is the
  address that works for local clients, and ``localhost`` is avoided because librdkafka may
  resolve it to ``::1`` while the broker listens on IPv4 only. An explicit ``0.0.0.0`` (or ``::``)
  in ``advertised.listeners`` is an error, as in Kafka.
* ``message.downconversion.enable``, ``message.format.version`` and
  ``message.timestamp.difference.max.ms`` are gone (Kafka 4.0 removed them): unknown topic configs.
* DescribeConfigs synonyms for topic configs: Kafka's ``ConfigHelper.configSynonyms`` drops the
  leading synonyms whose name is not the *primary* broker key (``dropWhile``), so a topic whose
  ``retention.ms`` comes from ``log.retention.hours=24`` is reported by Kafka as
  ``DEFAULT_CONFIG`` with no synonyms although its value is 86400000. Chronik reports the broker
  key that supplied the value: ``STATIC_BROKER_CONFIG`` with synonyms
  ``[log.retention.hours=24 (STATIC_BROKER_CONFIG), log.retention.hours=168 (DEFAULT_CONFIG)]``.
  Broker-resource describes keep Kafka's ``dropWhile`` (there it means "this key and the keys it
  overrides").

Chronik-only keys carry a ``chronik.`` prefix: ``chronik.log.level`` and ``chronik.cluster.id``.

The cluster id lives in ``<data dir>/meta.properties`` (Kafka's KRaft format: ``version=1``,
``cluster.id``, ``node.id``, ``directory.id``); :func:`ensure_meta_properties` creates it on first
start (``chronik.cluster.id`` or a random id in ``kafka-storage.sh random-uuid`` form) and checks it
on later starts.
"""

from __future__ import annotations

import base64
import contextlib
import difflib
import enum
import math
import os
import re
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

__all__ = [
    "BROKER_CONFIGS",
    "DEFAULT_DATA_DIR",
    "ENV_DATA_DIR",
    "ENV_KAFKA_PORT",
    "ENV_LOG_LEVEL",
    "ENV_PREFIX",
    "IGNORED_KAFKA_CONFIGS",
    "IGNORED_KAFKA_PREFIXES",
    "INVALID_CONFIG",
    "NO_DEFAULT",
    "TOPIC_CONFIGS",
    "BrokerConfig",
    "BrokerSynonym",
    "CaseInsensitiveValidString",
    "ConfigEntry",
    "ConfigError",
    "ConfigException",
    "ConfigKey",
    "ConfigSource",
    "ConfigSynonym",
    "ConfigType",
    "Endpoint",
    "Importance",
    "MetaProperties",
    "Origin",
    "Password",
    "Range",
    "TopicConfigError",
    "ValidList",
    "ValidString",
    "Validator",
    "broker_config_synonyms",
    "describe_broker_configs",
    "describe_topic_configs",
    "effective_topic_configs",
    "ensure_meta_properties",
    "first_topic_config_error",
    "generate_cluster_id",
    "is_valid_cluster_id",
    "load_config_file",
    "parse_listeners",
    "parse_properties",
    "parse_security_protocol_map",
    "parse_value",
    "read_meta_properties",
    "resolve_topic_config",
    "suggest_config_names",
    "to_config_string",
    "topic_config_defaults",
    "validate_topic_configs",
]

INT_MIN: Final = -(2**31)
INT_MAX: Final = 2**31 - 1
SHORT_MIN: Final = -(2**15)
SHORT_MAX: Final = 2**15 - 1
LONG_MIN: Final = -(2**63)
LONG_MAX: Final = 2**63 - 1
DOUBLE_MAX: Final = 1.7976931348623157e308

#: Kafka error code for an invalid topic config in CreateTopics/AlterConfigs responses.
INVALID_CONFIG: Final = 40

DEFAULT_DATA_DIR: Final = "./chronik-data"
ENV_DATA_DIR: Final = "CHRONIK_DATA_DIR"
ENV_KAFKA_PORT: Final = "KAFKA_PORT"
ENV_LOG_LEVEL: Final = "CHRONIK_LOG_LEVEL"
ENV_PREFIX: Final = "CHRONIK_CFG_"

MS_PER_MINUTE: Final = 60 * 1000
MS_PER_HOUR: Final = 60 * MS_PER_MINUTE

# --------------------------------------------------------------------------------------------
# Types, sources, errors
# --------------------------------------------------------------------------------------------


class ConfigType(enum.Enum):
    """``ConfigDef.Type``; :attr:`describe_id` is DescribeConfigs' ``ConfigType`` byte."""

    BOOLEAN = 1
    STRING = 2
    INT = 3
    SHORT = 4
    LONG = 5
    DOUBLE = 6
    LIST = 7
    CLASS = 8
    PASSWORD = 9

    @property
    def describe_id(self) -> int:
        """The id DescribeConfigs (v3+) reports for this type."""
        return self.value


class Importance(enum.Enum):
    """``ConfigDef.Importance``."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class ConfigSource(enum.IntEnum):
    """``DescribeConfigsResponse.ConfigSource`` ids (``TOPIC_CONFIG`` is DYNAMIC_TOPIC_CONFIG)."""

    UNKNOWN = 0
    DYNAMIC_TOPIC_CONFIG = 1
    DYNAMIC_BROKER_CONFIG = 2
    DYNAMIC_DEFAULT_BROKER_CONFIG = 3
    STATIC_BROKER_CONFIG = 4
    DEFAULT_CONFIG = 5
    DYNAMIC_BROKER_LOGGER_CONFIG = 6
    CLIENT_METRICS_CONFIG = 7
    GROUP_CONFIG = 8


class _NoDefault:
    """Marker for a key without a default (``ConfigDef.NO_DEFAULT_VALUE``)."""

    _instance: _NoDefault | None = None

    def __new__(cls) -> _NoDefault:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Final = _NoDefault()


class ConfigException(ValueError):
    """A single invalid value, worded like Kafka's ``org.apache.kafka.common.config.ConfigException``.

    ``ConfigException(name, value, message)`` renders as
    ``Invalid value <value> for configuration <name>: <message>``;
    ``ConfigException(message)`` is just the message.
    """

    def __init__(self, name_or_message: str, value: Any = NO_DEFAULT, message: str | None = None) -> None:
        if value is NO_DEFAULT and message is None:
            self.name: str | None = None
            self.value: Any = None
            text = name_or_message
        else:
            self.name = name_or_message
            self.value = None if value is NO_DEFAULT else value
            text = f"Invalid value {_java_str(self.value)} for configuration {name_or_message}"
            if message is not None:
                text += f": {message}"
        super().__init__(text)
        self.message = text


class ConfigError(ValueError):
    """The broker configuration could not be loaded; :attr:`errors` lists every problem found."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        if len(self.errors) == 1:
            text = f"invalid configuration: {self.errors[0]}"
        else:
            text = "invalid configuration:\n" + "\n".join(f"  - {e}" for e in self.errors)
        super().__init__(text)


class Password:
    """A PASSWORD value: never shown in ``repr``/``str`` or DescribeConfigs (``[hidden]``)."""

    HIDDEN: Final = "[hidden]"
    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return self.HIDDEN

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Password) and other.value == self.value

    def __hash__(self) -> int:
        return hash(self.value)


# --------------------------------------------------------------------------------------------
# Java-compatible value formatting and parsing (ConfigDef.parseType / convertToString)
# --------------------------------------------------------------------------------------------

_JAVA_WS = "".join(chr(i) for i in range(33))  # String.trim() strips every char <= ' '
_INT_RE = re.compile(r"[+-]?[0-9]+")
_DOUBLE_RE = re.compile(r"[+-]?(?:NaN|Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)[fFdD]?")
_COMMA_WITH_WHITESPACE = re.compile(r"[ \t\n\x0b\f\r]*,[ \t\n\x0b\f\r]*")


def _java_trim(s: str) -> str:
    return s.strip(_JAVA_WS)


def java_double_str(x: float) -> str:
    """``Double.toString``: shortest round-trip digits, ``1.0E7`` style outside [1e-3, 1e7)."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "-0.0" if math.copysign(1.0, x) < 0 else "0.0"
    sign = "-" if x < 0 else ""
    ax = abs(x)
    digits_tuple = Decimal(repr(ax)).normalize().as_tuple()
    digits = "".join(map(str, digits_tuple.digits))
    exp10 = len(digits) + int(digits_tuple.exponent) - 1  # x = d.ddd * 10**exp10
    if 1e-3 <= ax < 1e7:
        if exp10 >= 0:
            int_part = digits[: exp10 + 1].ljust(exp10 + 1, "0")
            frac = digits[exp10 + 1 :] or "0"
        else:
            int_part = "0"
            frac = "0" * (-exp10 - 1) + digits
        return f"{sign}{int_part}.{frac}"
    frac = digits[1:] or "0"
    return f"{sign}{digits[0]}.{frac}E{exp10}"


def _java_str(value: Any) -> str:
    """How Java's ``String.valueOf`` would print a parsed config value (for error messages)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return java_double_str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_java_str(v) for v in value) + "]"
    return str(value)


def _parse_int(name: str, raw: Any, lo: int, hi: int, type_: ConfigType) -> int:
    if isinstance(raw, bool):
        raise ConfigException(name, raw, _expected_int_message(type_, raw))
    if isinstance(raw, int):
        if lo <= raw <= hi:
            return raw
        raise ConfigException(name, raw, f"Not a number of type {type_.name}")
    if isinstance(raw, str):
        s = _java_trim(raw)
        if not _INT_RE.fullmatch(s):
            raise ConfigException(name, raw, f"Not a number of type {type_.name}")
        n = int(s)
        if not lo <= n <= hi:
            raise ConfigException(name, raw, f"Not a number of type {type_.name}")
        return n
    raise ConfigException(name, raw, _expected_int_message(type_, raw))


def _expected_int_message(type_: ConfigType, raw: Any) -> str:
    what = {
        ConfigType.INT: "a 32-bit integer",
        ConfigType.SHORT: "a 16-bit integer (short)",
        ConfigType.LONG: "a 64-bit integer (long)",
    }[type_]
    return f"Expected value to be {what}, but it was a {type(raw).__name__}"


def parse_value(name: str, value: Any, type_: ConfigType) -> Any:
    """Parse ``value`` (normally a string) as ``ConfigDef.parseType`` does; ``None`` stays ``None``.

    Raises :class:`ConfigException` with Kafka's wording on a malformed value.
    """
    if value is None:
        return None
    if type_ is ConfigType.BOOLEAN:
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            s = _java_trim(value).lower()
            if s == "true":
                return True
            if s == "false":
                return False
        raise ConfigException(name, value, "Expected value to be either true or false")
    if type_ is ConfigType.STRING:
        if isinstance(value, str):
            return _java_trim(value)
        raise ConfigException(name, value, f"Expected value to be a string, but it was a {type(value).__name__}")
    if type_ is ConfigType.PASSWORD:
        if isinstance(value, Password):
            return value
        if isinstance(value, str):
            return Password(_java_trim(value))
        raise ConfigException(name, value, f"Expected value to be a string, but it was a {type(value).__name__}")
    if type_ is ConfigType.INT:
        return _parse_int(name, value, INT_MIN, INT_MAX, type_)
    if type_ is ConfigType.SHORT:
        return _parse_int(name, value, SHORT_MIN, SHORT_MAX, type_)
    if type_ is ConfigType.LONG:
        return _parse_int(name, value, LONG_MIN, LONG_MAX, type_)
    if type_ is ConfigType.DOUBLE:
        if isinstance(value, bool):
            raise ConfigException(name, value, "Expected value to be a double, but it was a bool")
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            s = _java_trim(value)
            if _DOUBLE_RE.fullmatch(s):
                core = s[:-1] if s[-1] in "fFdD" and not s.endswith("Infinity") else s
                return float(core)
            raise ConfigException(name, value, "Not a number of type DOUBLE")
        raise ConfigException(name, value, f"Expected value to be a double, but it was a {type(value).__name__}")
    if type_ is ConfigType.LIST:
        if isinstance(value, list | tuple):
            return [str(v) for v in value]
        if isinstance(value, str):
            s = _java_trim(value)
            return [] if not s else _COMMA_WITH_WHITESPACE.split(s)
        raise ConfigException(name, value, "Expected a comma separated list.")
    if type_ is ConfigType.CLASS:
        # There is no JVM to load the class from: keep the (trimmed) class name.
        if isinstance(value, str):
            return _java_trim(value)
        raise ConfigException(name, value, "Expected a Class instance or class name.")
    raise AssertionError(f"unknown config type {type_}")  # pragma: no cover


def to_config_string(value: Any, type_: ConfigType | None) -> str | None:
    """``ConfigDef.convertToString``: the string DescribeConfigs reports for a parsed value."""
    if value is None:
        return None
    if isinstance(value, Password):
        return value.value
    if type_ is ConfigType.LIST or isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return java_double_str(value)
    return str(value)


# --------------------------------------------------------------------------------------------
# Validators (ConfigDef.Range, ValidString, ValidList, ...)
# --------------------------------------------------------------------------------------------


class Validator:
    """A ``ConfigDef.Validator``: :meth:`ensure_valid` raises :class:`ConfigException`."""

    def ensure_valid(self, name: str, value: Any) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def __str__(self) -> str:  # pragma: no cover - interface
        return ""


def _num_str(n: float) -> str:
    return str(n) if isinstance(n, int) else java_double_str(n)


class Range(Validator):
    """``Range.atLeast`` / ``Range.between`` (inclusive bounds)."""

    def __init__(self, min_: float | None = None, max_: float | None = None) -> None:
        self.min = min_
        self.max = max_

    @classmethod
    def at_least(cls, min_: float) -> Range:
        """``Range.atLeast(min)``."""
        return cls(min_, None)

    @classmethod
    def between(cls, min_: float, max_: float) -> Range:
        """``Range.between(min, max)``."""
        return cls(min_, max_)

    def ensure_valid(self, name: str, value: Any) -> None:
        if value is None:
            raise ConfigException(name, None, "Value must be non-null")
        if self.min is not None and value < self.min:
            raise ConfigException(name, value, f"Value must be at least {_num_str(self.min)}")
        if self.max is not None and value > self.max:
            raise ConfigException(name, value, f"Value must be no more than {_num_str(self.max)}")

    def __str__(self) -> str:
        lo = "" if self.min is None else _num_str(self.min)
        hi = "" if self.max is None else _num_str(self.max)
        if self.min is None and self.max is None:
            return "[...]"
        if self.min is None:
            return f"[...,{hi}]"
        if self.max is None:
            return f"[{lo},...]"
        return f"[{lo},...,{hi}]"


class ValidString(Validator):
    """``ValidString.in(...)`` (case-sensitive)."""

    def __init__(self, *valid: str) -> None:
        self.valid = tuple(valid)

    def ensure_valid(self, name: str, value: Any) -> None:
        if value not in self.valid:
            raise ConfigException(name, value, "String must be one of: " + ", ".join(self.valid))

    def __str__(self) -> str:
        return "[" + ", ".join(self.valid) + "]"


class CaseInsensitiveValidString(Validator):
    """``CaseInsensitiveValidString.in(...)``."""

    def __init__(self, *valid: str) -> None:
        self.valid = tuple(valid)
        self._upper = {v.upper() for v in valid}

    def ensure_valid(self, name: str, value: Any) -> None:
        if value is None or str(value).upper() not in self._upper:
            raise ConfigException(name, value, "String must be one of (case insensitive): " + ", ".join(self.valid))

    def __str__(self) -> str:
        return "(case insensitive) [" + ", ".join(self.valid) + "]"


class ValidList(Validator):
    """``ValidList.in(...)`` / ``ValidList.anyNonDuplicateValues(...)`` (Kafka 4.x semantics)."""

    def __init__(self, valid: Sequence[str] = (), *, empty_allowed: bool = True, null_allowed: bool = False) -> None:
        self.valid = tuple(valid)
        self.empty_allowed = empty_allowed
        self.null_allowed = null_allowed

    @classmethod
    def any_non_duplicate(cls, *, empty_allowed: bool, null_allowed: bool) -> ValidList:
        """``ValidList.anyNonDuplicateValues(isEmptyAllowed, isNullAllowed)``."""
        return cls((), empty_allowed=empty_allowed, null_allowed=null_allowed)

    def ensure_valid(self, name: str, value: Any) -> None:
        if value is None:
            if self.null_allowed:
                return
            raise ConfigException(f"Configuration '{name}' values must not be null.")
        if not self.empty_allowed and not value:
            valid = "any non-empty value" if not self.valid else "[" + ", ".join(self.valid) + "]"
            raise ConfigException(f"Configuration '{name}' must not be empty. Valid values include: {valid}")
        if len(set(value)) != len(value):
            raise ConfigException(f"Configuration '{name}' values must not be duplicated.")
        for item in value:
            if item == "":
                raise ConfigException(f"Configuration '{name}' values must not be empty.")
            if self.valid and item not in self.valid:
                raise ConfigException(name, item, "String must be one of: " + ", ".join(self.valid))

    def __str__(self) -> str:
        return "[" + ", ".join(self.valid) + "]" if self.valid else ""


class _GzipLevelValidator(Validator):
    """``GzipCompression.LevelValidator``: 1..9 or -1 (Deflater.DEFAULT_COMPRESSION)."""

    def ensure_valid(self, name: str, value: Any) -> None:
        if value is None or not (value == -1 or 1 <= value <= 9):
            raise ConfigException(name, value, "Value must be between 1 and 9 or equal to -1")

    def __str__(self) -> str:
        return "[1,...,9] or -1"


class _ThrottledReplicaListValidator(Validator):
    """``ThrottledReplicaListValidator``: ``*`` or ``partition:broker`` pairs."""

    _PAIR = re.compile(r"(?:[0-9]+:[0-9]+)?")

    def ensure_valid(self, name: str, value: Any) -> None:
        items = [_java_trim(str(v)) for v in (value or [])]
        if not (all(self._PAIR.fullmatch(s) for s in items) or "".join(items) == "*"):
            raise ConfigException(
                name,
                value,
                f"{name} must be the literal '*' or a list of replicas in the following format: "
                "[partitionId]:[brokerId],[partitionId]:[brokerId],...",
            )

    def __str__(self) -> str:
        return "[partitionId]:[brokerId],[partitionId]:[brokerId],..."


# --------------------------------------------------------------------------------------------
# The tables
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BrokerSynonym:
    """A broker key that supplies a topic key's default; ``to_ms`` converts hours/minutes to ms."""

    name: str
    to_ms: int = 1


@dataclass(frozen=True)
class ConfigKey:
    """One row of a ``ConfigDef``.

    ``default`` is the parsed default (``None`` is Kafka's ``null``; :data:`NO_DEFAULT` means the key
    is required). ``synonyms`` (topic keys only) are the broker keys supplying the topic default, in
    Kafka's order. ``note`` says how Chronik treats the key where that differs from Kafka
    (for example "accepted; has no effect").
    """

    name: str
    type: ConfigType
    default: Any
    validator: Validator | None
    importance: Importance
    documentation: str
    scope: str  # "broker" or "topic"
    internal: bool = False
    synonyms: tuple[BrokerSynonym, ...] = ()
    note: str | None = None

    @property
    def has_default(self) -> bool:
        """Whether the key has a default (possibly ``null``)."""
        return self.default is not NO_DEFAULT

    @property
    def default_string(self) -> str | None:
        """The default as DescribeConfigs/``kafka-configs`` print it (``None`` for ``null``)."""
        if self.default is NO_DEFAULT:
            return None
        return to_config_string(self.default, self.type)

    @property
    def valid_values(self) -> str:
        """The "Valid Values" column of Kafka's generated docs."""
        return str(self.validator) if self.validator is not None else ""

    def parse(self, value: Any) -> Any:
        """Parse and validate ``value`` for this key (``None`` means ``null``)."""
        parsed = parse_value(self.name, value, self.type)
        if self.validator is not None and (parsed is not None or isinstance(self.validator, ValidList)):
            self.validator.ensure_valid(self.name, parsed)
        return parsed


B, S, I, SH, L, D, LS, C, P = (  # noqa: E741 - short aliases keep the tables readable
    ConfigType.BOOLEAN,
    ConfigType.STRING,
    ConfigType.INT,
    ConfigType.SHORT,
    ConfigType.LONG,
    ConfigType.DOUBLE,
    ConfigType.LIST,
    ConfigType.CLASS,
    ConfigType.PASSWORD,
)
HIGH, MEDIUM, LOW = Importance.HIGH, Importance.MEDIUM, Importance.LOW

_COMPRESSION_TYPES = ("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer")
_TIMESTAMP_TYPES = ("CreateTime", "LogAppendTime")
_CLEANUP_POLICIES = ("compact", "delete")
_LOG_LEVELS = ("DEBUG", "INFO", "WARN", "WARNING", "ERROR", "CRITICAL")
_DEFAULT_PROTOCOL_MAP = "SASL_SSL:SASL_SSL,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT"

_INFORMATIONAL = "Accepted for compatibility; it has no effect in Chronik."
_SINGLE_NODE = "Accepted for compatibility; Chronik is a single node and does not replicate."

# --- topic documentation (TopicConfig.*_DOC, Kafka 4.4) -------------------------------------

_DOC_SEGMENT_BYTES = (
    "This configuration controls the segment file size for the log. Retention and cleaning is always done a file "
    "at a time so a larger segment size means fewer files but less granular control over retention. The active "
    "segment is rolled once it reaches this size."
)
_DOC_SEGMENT_MS = (
    "This configuration controls the period of time after which Kafka will force the log to roll even if the "
    "segment file isn't full to ensure that retention can delete or compact old data. This forces active segment "
    "rolling by time, even if the active segment has not reached <code>segment.bytes</code>. For compacted "
    "topics, <code>max.compaction.lag.ms</code> can trigger active segment rolling sooner: the effective "
    "time-based roll threshold is the smaller of <code>segment.ms</code> and <code>max.compaction.lag.ms</code>."
)
_DOC_SEGMENT_JITTER_MS = (
    "The maximum random jitter subtracted from the scheduled segment roll time to avoid thundering herds of segment "
    "rolling"
)
_DOC_SEGMENT_INDEX_BYTES = (
    "This configuration controls the size of the index that maps offsets to file positions. We preallocate this "
    "index file and shrink it only after log rolls. You generally should not need to change this setting."
)
_DOC_FLUSH_MESSAGES = (
    "This setting allows specifying an interval at which we will force an fsync of data written to the log. For "
    "example if this was set to 1 we would fsync after every message; if it were 5 we would fsync after every "
    "five messages. In general we recommend you not set this and use replication for durability and allow the "
    "operating system's background flush capabilities as it is more efficient. This setting can be overridden on "
    'a per-topic basis (see <a href="https://kafka.apache.org/documentation/#topicconfigs">the per-topic '
    "configuration section</a>)."
)
_DOC_FLUSH_MS = (
    "This setting allows specifying a time interval at which we will force an fsync of data written to the log. For "
    "example if this was set to 1000 we would fsync after 1000 ms had passed. Note that this setting depends on the "
    "broker-level configuration <code>log.flush.scheduler.interval.ms</code>, which controls how frequently the "
    "flush check occurs. In general we recommend you not set this and use replication for durability and allow the "
    "operating system's background flush capabilities as it is more efficient."
)
_DOC_RETENTION_BYTES = (
    "This configuration controls the maximum size a partition (which consists of log segments) can grow to before "
    'we will discard old log segments to free up space if we are using the "delete" retention policy. By default '
    "there is no size limit only a time limit. Since this limit is enforced at the partition level, multiply it by "
    "the number of partitions to compute the topic retention in bytes. Additionally, retention.bytes configuration "
    'operates independently of "segment.ms" and "segment.bytes" configurations. Moreover, it triggers the rolling '
    "of new segment if the retention.bytes is configured to zero."
)
_DOC_RETENTION_MS = (
    "This configuration controls the maximum time we will retain a log before we will discard old log segments to "
    'free up space if we are using the "delete" retention policy. This represents an SLA on how soon consumers must '
    "read their data. If set to -1, no time limit is applied. Additionally, retention.ms configuration operates "
    'independently of "segment.ms" and "segment.bytes" configurations. Moreover, it triggers the rolling of new '
    "segment if the retention.ms condition is satisfied."
)
_DOC_MAX_MESSAGE_BYTES = "The largest record batch size allowed by Kafka (after compression if compression is enabled)."
_DOC_INDEX_INTERVAL_BYTES = (
    "This setting controls how frequently Kafka adds entries to its offset index and, conditionally, to its time "
    "index. The default setting ensures that we index a message roughly every 4096 bytes. More frequent indexing "
    "allows reads to jump closer to the exact position in the log but results in larger index files. You probably "
    "don't need to change this.<p> Note: the time index will be inserted only when the timestamp is greater than the "
    "last indexed timestamp.</p>"
)
_DOC_FILE_DELETE_DELAY_MS = "The time to wait before deleting a file from the filesystem"
_DOC_DELETE_RETENTION_MS = (
    "The amount of time to retain delete tombstone markers for <a "
    'href="https://kafka.apache.org/documentation/#compaction">log compacted</a> topics. This setting also gives '
    "a bound on the time in which a consumer must complete a read if they begin from offset 0 to ensure that "
    "they get a valid snapshot of the final stage (otherwise delete tombstones may be collected before they "
    "complete their scan)."
)
_DOC_MIN_COMPACTION_LAG_MS = (
    "The minimum time a message will remain uncompacted in the log. Only applicable for logs that are being compacted."
)
_DOC_MAX_COMPACTION_LAG_MS = (
    "The maximum time a message will remain ineligible for compaction in the log. Only applicable for logs that "
    "are being compacted. Because the active segment is never compacted, for compacted topics this value also "
    "drives active segment rolling: the effective time-based roll threshold is the smaller of "
    "<code>segment.ms</code> and <code>max.compaction.lag.ms</code>. Active segment rolling moves records out of "
    "the active segment, after which <code>max.compaction.lag.ms</code> makes them eligible for compaction even "
    "if <code>min.cleanable.dirty.ratio</code> is not met. See <a "
    'href="https://kafka.apache.org/documentation/#compaction">log compaction</a>.'
)
_DOC_MIN_CLEANABLE_DIRTY_RATIO = (
    "This configuration controls how frequently the log compactor will attempt to clean the log (assuming <a "
    'href="https://kafka.apache.org/documentation/#compaction">log compaction</a> is enabled). By default we '
    "will avoid cleaning a log where more than 50% of the log has been compacted. This ratio bounds the maximum "
    "space wasted in the log by duplicates (at 50% at most 50% of the log could be duplicates). A higher ratio "
    "will mean fewer, more efficient cleanings but will mean more wasted space in the log. If the "
    "max.compaction.lag.ms or the min.compaction.lag.ms configurations are also specified, then the log "
    "compactor considers the log to be eligible for compaction as soon as either: (i) the dirty ratio threshold "
    "has been met and the log has had dirty (uncompacted) records for at least the min.compaction.lag.ms "
    "duration, or (ii) if the log has had dirty (uncompacted) records for at most the max.compaction.lag.ms "
    "period."
)
_DOC_CLEANUP_POLICY = (
    'This config designates the retention policy to use on log segments. The "delete" policy (which is the '
    'default) will discard old segments when their retention time or size limit has been reached. The "compact" '
    'policy will enable <a href="https://kafka.apache.org/documentation/#compaction">log compaction</a>, which '
    "retains the latest value for each key. It is also possible to specify both policies in a comma-separated "
    'list (e.g. "delete,compact"). In this case, old segments will be discarded per the retention time and size '
    "configuration, while retained segments will be compacted. An empty list means infinite retention - no "
    "cleanup policies will be applied and log segments will be retained indefinitely. Note that with remote "
    "storage enabled, local retention limits (log.local.retention.ms and log.local.retention.bytes) are still "
    "applied to local segments."
)
_DOC_UNCLEAN_LEADER_ELECTION = (
    "Indicates whether to enable replicas not in the ISR set to be elected as leader as a last resort, even "
    "though doing so may result in data loss.<p>Note: In KRaft mode, when enabling this config dynamically, it "
    "needs to wait for the unclean leader electionthread to trigger election periodically (default is 5 "
    "minutes). Please run <code>kafka-leader-election.sh</code> with <code>unclean</code> option to trigger the "
    "unclean leader election immediately if needed.</p>"
)
_DOC_MIN_INSYNC_REPLICAS = (
    "Specifies the <i>minimum</i> number of in-sync replicas (including the leader) required for a write to "
    'succeed when a producer sets <code>acks</code> to "all" (or "-1"). In the <code>acks=all</code> case, every '
    "in-sync replica must acknowledge a write for it to be considered successful. E.g., if a topic has "
    "<code>replication.factor</code> of 3 and the ISR set includes all three replicas, then all three replicas "
    "must acknowledge an <code>acks=all</code> write for it to succeed, even if <code>min.insync.replicas</code> "
    "happens to be less than 3. If <code>acks=all</code> and the current ISR set contains fewer than "
    "<code>min.insync.replicas</code> members, then the producer will raise an exception (either "
    "<code>NotEnoughReplicas</code> or <code>NotEnoughReplicasAfterAppend</code>).<br> Regardless of the "
    "<code>acks</code> setting, the messages will not be visible to the consumers until they are replicated to "
    "all in-sync replicas and the <code>min.insync.replicas</code> condition is met.<br> When used together, "
    "<code>min.insync.replicas</code> and <code>acks</code> allow you to enforce greater durability guarantees. "
    "A typical scenario would be to create a topic with a replication factor of 3, set "
    '<code>min.insync.replicas</code> to 2, and produce with <code>acks</code> of "all". This ensures that a '
    "majority of replicas must persist a write before it's considered successful by the producer and it's "
    "visible to consumers.<p>Note that when the Eligible Leader Replicas feature is enabled, the semantics of "
    "this config changes. Please refer to <a "
    'href="https://kafka.apache.org/documentation/#eligible_leader_replicas">the ELR section</a> for more '
    "info.</p>"
)
_DOC_COMPRESSION_TYPE = (
    "Specify the final compression type for a given topic. This configuration accepts the standard compression "
    "codecs ('gzip', 'snappy', 'lz4', 'zstd'). It additionally accepts 'uncompressed' which is equivalent to no "
    "compression; and 'producer' which means retain the original compression codec set by the producer."
)
_DOC_PREALLOCATE = "True if we should preallocate the file on disk when creating a new log segment."
_DOC_TS_TYPE = "Define whether the timestamp in the message is message create time or log append time."
_DOC_TS_BEFORE = (
    "This configuration sets the allowable timestamp difference between the broker's timestamp and the message "
    "timestamp. The message timestamp can be earlier than or equal to the broker's timestamp, with the maximum "
    "allowable difference determined by the value set in this configuration. If message.timestamp.type=CreateTime, "
    "the message will be rejected if the difference in timestamps exceeds this specified threshold. This "
    "configuration is ignored if message.timestamp.type=LogAppendTime."
)
_DOC_TS_AFTER = (
    "This configuration sets the allowable timestamp difference between the message timestamp and the broker's "
    "timestamp. The message timestamp can be later than or equal to the broker's timestamp, with the maximum "
    "allowable difference determined by the value set in this configuration. If message.timestamp.type=CreateTime, "
    "the message will be rejected if the difference in timestamps exceeds this specified threshold. This "
    "configuration is ignored if message.timestamp.type=LogAppendTime."
)
_DOC_THROTTLED = (
    "A list of replicas for which log replication should be throttled on the {side} side. The list should describe "
    "a set of replicas in the form [PartitionId]:[BrokerId],[PartitionId]:[BrokerId]:... or alternatively the "
    "wildcard '*' can be used to throttle all replicas for this topic."
)


def _compression_level_doc(codec: str) -> str:
    return f"The compression level to use if compression.type is set to <code>{codec}</code>."


_ENTRIES_B: list[ConfigKey] = []
_ENTRIES_T: list[ConfigKey] = []


_DOC_MAX_DECOMPRESSED = (
    "The maximum decompressed size, in bytes, of a single record the broker will accept; larger records are rejected "
    "with an <code>InvalidRecordException</code>. It is enforced where the broker decompresses records: produce "
    "validation of compressed batches, log compaction, and offset lookups by timestamp or max timestamp against the "
    "local log or remote storage. Unlike <code>max.message.bytes</code>, which bounds the compressed batch on the "
    "wire, this bounds the decompressed size of an individual record. Lowering it below the size of already-stored "
    "records makes compaction and timestamp offset lookups of affected partitions fail until it is raised again. The "
    "default imposes no limit beyond the largest record the broker could allocate anyway; set a smaller value to "
    "enforce a per-record cap."
)


def _copy_lag_doc(unit: str, prefix: str) -> str:
    """Kafka 4.4's doc of ``[log.]remote.copy.lag.{ms,bytes}`` (KIP-1241)."""
    time_based = unit == "ms"
    return (
        "Controls one of the two upload eligibility checks (time and size) for copying segments to remote storage. "
        f"A non-active segment is upload-eligible when either this {'time' if time_based else 'size'}-based check or "
        f"<code>{prefix}remote.copy.lag.{'bytes' if time_based else 'ms'}</code> is satisfied. When set to 0, uploads "
        f"are immediately eligible regardless of lag checks. When set to a positive value ({unit}), the segment is "
        + (
            "time-eligible once elapsed time since its latest record reaches this value. "
            if time_based
            else "size-eligible once bytes of newer local log data after that segment reaches this value. "
        )
        + f"When set to -1, this value is derived from effective local retention {'time' if time_based else 'size'} "
        f"(<code>{prefix}local.retention.{unit}</code>). If that effective local retention "
        f"{'time' if time_based else 'size'} is unlimited (-1), this {'time' if time_based else 'size'}-based check is "
        f"not applied. A positive value should not exceed effective local retention {'time' if time_based else 'size'} "
        "unless local retention is unlimited (-1)."
    )


def _b(
    name: str,
    type_: ConfigType,
    default: Any,
    validator: Validator | None,
    importance: Importance,
    doc: str,
    *,
    internal: bool = False,
    note: str | None = None,
) -> None:
    _ENTRIES_B.append(ConfigKey(name, type_, default, validator, importance, doc, "broker", internal, (), note))


def _t(
    name: str,
    type_: ConfigType,
    default: Any,
    validator: Validator | None,
    doc: str,
    *synonyms: BrokerSynonym | str,
    internal: bool = False,
    note: str | None = None,
) -> None:
    syns = tuple(s if isinstance(s, BrokerSynonym) else BrokerSynonym(s) for s in synonyms)
    _ENTRIES_T.append(ConfigKey(name, type_, default, validator, MEDIUM, doc, "topic", internal, syns, note))


# fmt: off
# --- broker: server basics (KRaftConfigs, ServerConfigs) -------------------------------------
_b("node.id", I, 1, Range.at_least(0), HIGH,
   "The node ID associated with the roles this process is playing when <code>process.roles</code> is non-empty. "
   "This is required configuration when running in KRaft mode.",
   note="Kafka requires it; Chronik defaults to 1 (as Kafka's sample server.properties). Synonym of broker.id.")
_b("broker.id", I, -1, None, HIGH, "The broker id for this server.",
   note="Synonym of node.id: setting one sets both; they must match if both are set.")
_b("process.roles", LS, ["broker", "controller"], ValidList(("broker", "controller"), empty_allowed=False), HIGH,
   "The roles that this process plays: 'broker', 'controller', or 'broker,controller' if it is both. ",
   note="Kafka requires it; Chronik is always one combined node, so only 'broker,controller' is accepted.")
_b("controller.listener.names", LS, None, ValidList.any_non_duplicate(empty_allowed=False, null_allowed=True), HIGH,
   "A comma-separated list of the names of the listeners used by the controller. This is required when "
   "communicating with the controller quorum, the broker will always use the first listener in this list.",
   note="Chronik has no separate controller: listeners named here are accepted but neither bound nor advertised.")
_b("message.max.bytes", I, 1024 * 1024 + 12, Range.at_least(0), HIGH,
   _DOC_MAX_MESSAGE_BYTES + "This can be set per topic with the topic level <code>max.message.bytes</code> config.")
_b("num.io.threads", I, 8, Range.at_least(1), HIGH,
   "The number of threads that the server uses for processing requests, which may include disk I/O",
   note="Informational: Chronik handles requests on the reactor thread.")
_b("background.threads", I, 10, Range.at_least(1), HIGH,
   "The number of threads to use for various background processing tasks", note=_INFORMATIONAL)
_b("request.timeout.ms", I, 30000, None, HIGH,
   "The configuration controls the maximum amount of time the client will wait for the response of a request. If "
   "the response is not received before the timeout elapses the client will resend the request if necessary or "
   "fail the request if retries are exhausted.", note=_INFORMATIONAL)
_b("delete.topic.enable", B, True, None, HIGH,
   "Enables delete topic. Delete topic through the admin tool will have no effect if this config is turned off")
_b("compression.type", S, "producer", ValidString(*_COMPRESSION_TYPES), HIGH,
   "Specify the final compression type for a given topic. This configuration accepts the standard compression "
   "codecs ('gzip', 'snappy', 'lz4', 'zstd'). It additionally accepts 'uncompressed' which is equivalent to no "
   "compression; and 'producer' which means retain the original compression codec set by the producer.")
_b("compression.gzip.level", I, -1, _GzipLevelValidator(), MEDIUM,
   "The compression level to use if compression.type is set to 'gzip'.")
_b("compression.lz4.level", I, 9, Range.between(1, 17), MEDIUM,
   "The compression level to use if compression.type is set to 'lz4'.")
_b("compression.zstd.level", I, 3, Range.between(-131072, 22), MEDIUM,
   "The compression level to use if compression.type is set to 'zstd'.")
_b("max.incremental.fetch.session.cache.slots", I, 1000, Range.at_least(0), MEDIUM,
   "The maximum number of total incremental fetch sessions that we will maintain. FetchSessionCache is sharded "
   "into 8 shards and the limit is equally divided among all shards. Sessions are allocated to each shard in "
   "round-robin. Only entries within a shard are considered eligible for eviction.")
_b("fetch.max.bytes", I, 55 * 1024 * 1024, Range.at_least(1024), MEDIUM,
   "The maximum number of bytes we will return for a fetch request. Must be at least 1024.")
_b("max.request.partition.size.limit", I, 2000, Range.at_least(1), MEDIUM,
   "The maximum number of partitions can be served in one request.")
_b("unstable.api.versions.enable", B, False, None, HIGH,
   "Whether unreleased API versions are advertised by this node.", internal=True)

# --- broker: socket server (SocketServerConfigs) ---------------------------------------------
_b("listeners", LS, ["PLAINTEXT://:9092"], ValidList.any_non_duplicate(empty_allowed=False, null_allowed=False), HIGH,
   "Listener List - Comma-separated list of URIs we will listen on and the listener names. If the listener name is "
   "not a security protocol, <code>listener.security.protocol.map</code> must also be set.\n Listener names and "
   "port numbers must be unique unless one listener is an IPv4 address and the other listener is an IPv6 address "
   "(for the same port).\n Specify hostname as 0.0.0.0 to bind to all interfaces.\n Leave hostname empty to bind to "
   "default interface.\n Examples of legal listener lists:\n <code>PLAINTEXT://myhost:9092,SSL://:9091</code>\n "
   "<code>CLIENT://0.0.0.0:9092,REPLICATION://localhost:9093</code>\n "
   "<code>PLAINTEXT://127.0.0.1:9092,SSL://[::1]:9092</code>\n",
   note="An empty host binds all IPv4 interfaces.")
_b("advertised.listeners", LS, None, ValidList.any_non_duplicate(empty_allowed=False, null_allowed=True), HIGH,
   "Specifies the listener addresses that the Kafka brokers will advertise to clients and other brokers. The config "
   "is useful where the actual listener configuration <code>listeners</code> does not represent the addresses that "
   "clients should use to connect, such as in cloud environments. In IaaS environments, this may need to be "
   "different from the interface to which the broker binds. If this is not set, the value for "
   "<code>listeners</code> will be used. Unlike <code>listeners</code>, it is not valid to advertise the 0.0.0.0 "
   "meta-address.\n Also unlike <code>listeners</code>, there can be duplicated ports in this property, so that one "
   "listener can be configured to advertise another listener's address. This can be useful in some cases where "
   "external load balancers are used.",
   note="When derived from listeners, an empty or wildcard host is advertised as 127.0.0.1.")
_b("listener.security.protocol.map", S, _DEFAULT_PROTOCOL_MAP, None, LOW,
   "Map between listener names and security protocols. This must be defined for the same security protocol to be "
   "usable in more than one port or IP. For example, internal and external traffic can be separated even if SSL is "
   "required for both. Concretely, the user could define listeners with names INTERNAL and EXTERNAL and this "
   "property as: <code>INTERNAL:SSL,EXTERNAL:SSL</code>. As shown, key and value are separated by a colon and map "
   "entries are separated by commas. Each listener name should only appear once in the map. Different security "
   "(SSL and SASL) settings can be configured for each listener by adding a normalised prefix (the listener name is "
   "lowercased) to the config name. For example, to set a different keystore for the INTERNAL listener, a config "
   "with name <code>listener.name.internal.ssl.keystore.location</code> would be set. If the config for the listener "
   "name is not set, the config will fallback to the generic config (i.e. <code>ssl.keystore.location</code>). Note "
   "that in KRaft a default mapping from the listener names defined by <code>controller.listener.names</code> to "
   "PLAINTEXT is assumed if no explicit mapping is provided and no other security protocol is in use.")
_b("socket.send.buffer.bytes", I, 100 * 1024, None, HIGH,
   "The SO_SNDBUF buffer of the socket server sockets. If the value is -1, the OS default will be used.")
_b("socket.receive.buffer.bytes", I, 100 * 1024, None, HIGH,
   "The SO_RCVBUF buffer of the socket server sockets. If the value is -1, the OS default will be used.")
_b("socket.request.max.bytes", I, 100 * 1024 * 1024, Range.at_least(1), HIGH,
   "The maximum number of bytes in a socket request")
_b("socket.listen.backlog.size", I, 50, Range.at_least(1), MEDIUM,
   "The maximum number of pending connections on the socket. In Linux, you may also need to configure "
   "<code>somaxconn</code> and <code>tcp_max_syn_backlog</code> kernel parameters accordingly to make the "
   "configuration takes effect.")
_b("max.connections.per.ip", I, INT_MAX, Range.at_least(0), MEDIUM,
   "The maximum number of connections we allow from each ip address. This can be set to 0 if there are overrides "
   "configured using max.connections.per.ip.overrides property. New connections from the ip address are dropped if "
   "the limit is reached.")
_b("max.connections.per.ip.overrides", S, "", None, MEDIUM,
   "A comma-separated list of per-ip or hostname overrides to the default maximum number of connections. An example "
   'value is "hostName:100,127.0.0.1:200"')
_b("max.connections", I, INT_MAX, Range.at_least(0), MEDIUM,
   "The maximum number of connections we allow in the broker at any time. This limit is applied in addition to any "
   "per-ip limits configured using max.connections.per.ip. Listener-level limits may also be configured by "
   "prefixing the config name with the listener prefix, for example, "
   "<code>listener.name.internal.max.connections.per.ip</code>. Broker-wide limit should be configured based on "
   "broker capacity while listener limits should be configured based on application requirements. New connections "
   "are blocked if either the listener or broker limit is reached. Connections on the inter-broker listener are "
   "permitted even if broker-wide limit is reached. The least recently used connection on another listener will be "
   "closed in this case.")
_b("connections.max.idle.ms", L, 10 * 60 * 1000, None, MEDIUM,
   "Idle connections timeout: the server socket processor threads close the connections that idle more than this")
_b("queued.max.requests", I, 500, Range.at_least(1), HIGH,
   "The number of queued requests allowed for data-plane, before blocking the network threads")
_b("queued.max.request.bytes", L, -1, None, MEDIUM,
   "The number of queued bytes allowed before no more requests are read")
_b("num.network.threads", I, 3, Range.at_least(1), HIGH,
   "The number of threads that the server uses for receiving requests from the network and sending responses to "
   "the network. Noted: each listener (except for controller listener) creates its own thread pool.",
   note="Informational: Chronik does network I/O on the reactor thread.")

# --- broker: log (ServerLogConfigs via LogConfig.SERVER_CONFIG_DEF) --------------------------
_b("num.partitions", I, 1, Range.at_least(1), MEDIUM, "The default number of log partitions per topic")
_b("log.dir", LS, [DEFAULT_DATA_DIR], ValidList.any_non_duplicate(empty_allowed=False, null_allowed=False), HIGH,
   "A comma-separated list of the directories where the log data is stored. (supplemental to log.dirs property)",
   note="Kafka's default is /tmp/kafka-logs; Chronik's is ./chronik-data. Exactly one directory is supported.")
_b("log.dirs", LS, None, ValidList.any_non_duplicate(empty_allowed=False, null_allowed=True), HIGH,
   "A comma-separated list of the directories where the log data is stored. If not set, the value in log.dir is "
   "used.", note="Chronik's data directory (one directory). Set by CHRONIK_DATA_DIR and --data-dir.")
_b("log.segment.bytes", I, 1024 * 1024 * 1024, Range.at_least(1024 * 1024), HIGH,
   "The maximum size of a single log file")
_b("log.roll.ms", L, None, None, HIGH,
   "The maximum time before a new log segment is rolled out (in milliseconds). If not set, the value in "
   "log.roll.hours is used")
_b("log.roll.hours", I, 24 * 7, Range.at_least(1), HIGH,
   "The maximum time before a new log segment is rolled out (in hours), secondary to log.roll.ms property")
_b("log.roll.jitter.ms", L, None, None, HIGH,
   "The maximum jitter to subtract from logRollTimeMillis (in milliseconds). If not set, the value in "
   "log.roll.jitter.hours is used")
_b("log.roll.jitter.hours", I, 0, Range.at_least(0), HIGH,
   "The maximum jitter to subtract from logRollTimeMillis (in hours), secondary to log.roll.jitter.ms property")
_b("log.retention.ms", L, None, None, HIGH,
   "The number of milliseconds to keep a log file before deleting it (in milliseconds), If not set, the value in "
   "log.retention.minutes is used. If set to -1, no time limit is applied.")
_b("log.retention.minutes", I, None, None, HIGH,
   "The number of minutes to keep a log file before deleting it (in minutes), secondary to log.retention.ms "
   "property. If not set, the value in log.retention.hours is used")
_b("log.retention.hours", I, 24 * 7, None, HIGH,
   "The number of hours to keep a log file before deleting it (in hours), tertiary to log.retention.ms property")
_b("log.retention.bytes", L, -1, None, HIGH, "The maximum size of the log before deleting it")
_b("log.retention.check.interval.ms", L, 5 * 60 * 1000, Range.at_least(1), MEDIUM,
   "The frequency in milliseconds that the log cleaner checks whether any log is eligible for deletion")
_b("log.cleanup.policy", LS, ["delete"], ValidList(_CLEANUP_POLICIES), MEDIUM, _DOC_CLEANUP_POLICY)
_b("log.index.size.max.bytes", I, 10 * 1024 * 1024, Range.at_least(4), MEDIUM,
   "The maximum size in bytes of the offset index", note=_INFORMATIONAL)
_b("log.index.interval.bytes", I, 4096, Range.at_least(0), MEDIUM,
   "The interval with which we add an entry to the offset index.", note=_INFORMATIONAL)
_b("log.flush.interval.messages", L, LONG_MAX, Range.at_least(1), HIGH,
   "The number of messages accumulated on a log partition before messages are flushed to disk.",
   note="1 selects Chronik's sync mode: acks wait for a group commit (fsync).")
_b("log.segment.delete.delay.ms", L, 60000, Range.at_least(0), HIGH,
   "The amount of time to wait before deleting a file from the filesystem. If the value is 0 and there is no file "
   "to delete, the system will wait 1 millisecond. Low value will cause busy waiting")
_b("log.flush.scheduler.interval.ms", L, LONG_MAX, None, HIGH,
   "The frequency in ms that the log flusher checks whether any log needs to be flushed to disk")
_b("log.flush.interval.ms", L, None, None, HIGH,
   "The maximum time in ms that a message in any topic is kept in memory before flushed to disk. If not set, the "
   "value in log.flush.scheduler.interval.ms is used")
_b("log.flush.offset.checkpoint.interval.ms", I, 60000, Range.at_least(0), HIGH,
   "The frequency with which we update the persistent record of the last flush which acts as the log recovery "
   "point.", note=_INFORMATIONAL)
_b("log.flush.start.offset.checkpoint.interval.ms", I, 60000, Range.at_least(0), HIGH,
   "The frequency with which we update the persistent record of log start offset", note=_INFORMATIONAL)
_b("log.preallocate", B, False, None, MEDIUM,
   "Should pre allocate file when create new segment? If you are using Kafka on Windows, you probably need to set "
   "it to true.", note=_INFORMATIONAL)
_b("num.recovery.threads.per.data.dir", I, 2, Range.at_least(1), HIGH,
   "The number of threads per data directory to be used for log recovery at startup and flushing at shutdown",
   note=_INFORMATIONAL)
_b("auto.create.topics.enable", B, True, None, HIGH, "Enable auto creation of topic on the server.")
_b("min.insync.replicas", I, 1, Range.at_least(1), HIGH, _DOC_MIN_INSYNC_REPLICAS)
_b("log.message.timestamp.type", S, "CreateTime", ValidString(*_TIMESTAMP_TYPES), MEDIUM,
   "Define whether the timestamp in the message is message create time or log append time. The value should be "
   "either <code>CreateTime</code> or <code>LogAppendTime</code>.")
_b("log.message.timestamp.before.max.ms", L, LONG_MAX, Range.at_least(0), MEDIUM,
   _DOC_TS_BEFORE.replace("message.timestamp.type", "log.message.timestamp.type"))
_b("log.message.timestamp.after.max.ms", L, 3600000, Range.at_least(0), MEDIUM,
   _DOC_TS_AFTER.replace("message.timestamp.type", "log.message.timestamp.type"))
_b("create.topic.policy.class.name", C, None, None, LOW,
   "The create topic policy class that should be used for validation. The class should implement the "
   "<code>org.apache.kafka.server.policy.CreateTopicPolicy</code> interface.", note=_INFORMATIONAL)
_b("alter.config.policy.class.name", C, None, None, LOW,
   "The alter configs policy class that should be used for validation. The class should implement the "
   "<code>org.apache.kafka.server.policy.AlterConfigPolicy</code> interface.", note=_INFORMATIONAL)
_b("log.local.retention.ms", L, -2, Range.at_least(-2), MEDIUM,
   "The number of milliseconds to keep the local log segments before it gets eligible for deletion. Default value "
   "is -2, it represents `log.retention.ms` value is to be used. The effective value should always be less than or "
   "equal to `log.retention.ms` value.", note="Chronik has no tiered storage.")
_b("log.local.retention.bytes", L, -2, Range.at_least(-2), MEDIUM,
   "The maximum size of local log segments that can grow for a partition before it gets eligible for deletion. "
   "Default value is -2, it represents `log.retention.bytes` value to be used. The effective value should always be "
   "less than or equal to `log.retention.bytes` value.", note="Chronik has no tiered storage.")
_b("log.remote.copy.lag.ms", L, 0, Range.at_least(-1), MEDIUM,
   _copy_lag_doc("ms", "log."), note="Chronik has no tiered storage.")
_b("log.remote.copy.lag.bytes", L, -1, Range.at_least(-1), MEDIUM,
   _copy_lag_doc("bytes", "log."), note="Chronik has no tiered storage.")
_b("max.decompressed.message.bytes", I, 2147483639, Range.between(1, 2147483639), MEDIUM,
   _DOC_MAX_DECOMPRESSED + " This can be set per topic with the topic level "
   "<code>max.decompressed.message.bytes</code> config.",
   note="Not enforced: Chronik bounds decompression by its own limits.")

# --- broker: log cleaner (CleanerConfig) -----------------------------------------------------
_b("log.cleaner.threads", I, 1, Range.at_least(0), MEDIUM,
   "The number of background threads to use for log cleaning")
_b("log.cleaner.io.max.bytes.per.second", D, DOUBLE_MAX, None, MEDIUM,
   "The log cleaner will be throttled so that the sum of its read and write i/o will be less than this value on "
   "average")
_b("log.cleaner.dedupe.buffer.size", L, 128 * 1024 * 1024, None, MEDIUM,
   "The total memory used for log deduplication across all cleaner threads")
_b("log.cleaner.io.buffer.size", I, 512 * 1024, Range.at_least(0), MEDIUM,
   "The total memory used for log cleaner I/O buffers across all cleaner threads")
_b("log.cleaner.io.buffer.load.factor", D, 0.9, None, MEDIUM,
   "Log cleaner dedupe buffer load factor. The percentage full the dedupe buffer can become. A higher value will "
   "allow more log to be cleaned at once but will lead to more hash collisions")
_b("log.cleaner.backoff.ms", L, 15 * 1000, Range.at_least(0), MEDIUM,
   "The amount of time to sleep when there are no logs to clean")
_b("log.cleaner.min.cleanable.ratio", D, 0.5, Range.between(0, 1), MEDIUM,
   "The minimum ratio of dirty log to total log for a log to eligible for cleaning. If the "
   "log.cleaner.max.compaction.lag.ms or the log.cleaner.min.compaction.lag.ms configurations are also specified, "
   "then the log compactor considers the log eligible for compaction as soon as either: (i) the dirty ratio "
   "threshold has been met and the log has had dirty (uncompacted) records for at least the "
   "log.cleaner.min.compaction.lag.ms duration, or (ii) if the log has had dirty (uncompacted) records for at most "
   "the log.cleaner.max.compaction.lag.ms period.")
_b("log.cleaner.enable", B, True, None, MEDIUM,
   "This configuration has been deprecated and will be removed in Kafka 5.0. Users should not set it to false to "
   "prepare for its future removal. Enable the log cleaner process to run on the server. Should be enabled if using "
   "any topics with a cleanup.policy=compact including the internal offsets topic. If disabled those topics will "
   "not be compacted and continually grow in size.")
_b("log.cleaner.delete.retention.ms", L, 24 * 60 * 60 * 1000, Range.at_least(0), MEDIUM,
   "The amount of time to retain tombstone message markers for log compacted topics. This setting also gives a "
   "bound on the time in which a consumer must complete a read if they begin from offset 0 to ensure that they get "
   "a valid snapshot of the final stage (otherwise  tombstones messages may be collected before a consumer completes "
   "their scan).")
_b("log.cleaner.min.compaction.lag.ms", L, 0, Range.at_least(0), MEDIUM,
   "The minimum time a message will remain uncompacted in the log. Only applicable for logs that are being "
   "compacted.")
_b("log.cleaner.max.compaction.lag.ms", L, LONG_MAX, Range.at_least(1), MEDIUM,
   "The maximum time a message will remain ineligible for compaction in the log. Only applicable for logs that are "
   "being compacted.")

# --- broker: replication (ReplicationConfigs) ------------------------------------------------
_b("default.replication.factor", I, 1, None, MEDIUM,
   "The replication factor for automatically created topics, and for topics created with -1 as the replication "
   "factor")
_b("replica.lag.time.max.ms", L, 30000, None, HIGH,
   "If a follower hasn't sent any fetch requests or hasn't consumed up to the leader's log end offset for at least "
   "this time, the leader will remove the follower from ISR", note=_SINGLE_NODE)
_b("unclean.leader.election.enable", B, False, None, HIGH,
   "Indicates whether to enable replicas not in the ISR set to be elected as leader as a last resort, even though "
   "doing so may result in data loss<p>Note: In KRaft mode, when enabling this config dynamically, it needs to wait "
   "for the unclean leader election thread to trigger election periodically (default is 5 minutes). Please run "
   "`kafka-leader-election.sh` with `unclean` option to trigger the unclean leader election immediately if "
   "needed.</p>", note=_SINGLE_NODE)
_b("auto.leader.rebalance.enable", B, True, None, HIGH,
   "Enables auto leader balancing. A background thread checks the distribution of partition leaders at regular "
   "intervals, configurable by leader.imbalance.check.interval.seconds. If the leader imbalance exceeds "
   "leader.imbalance.per.broker.percentage, leader rebalance to the preferred leader for partitions is triggered.",
   note=_SINGLE_NODE)

# --- broker: group coordinator (GroupCoordinatorConfig) --------------------------------------
_b("offsets.topic.num.partitions", I, 50, Range.at_least(1), HIGH,
   "The number of partitions for the offset commit topic (should not change after deployment).")
_b("offsets.topic.replication.factor", SH, 3, Range.at_least(1), HIGH,
   "The replication factor for the offsets topic (set higher to ensure availability). Internal topic creation will "
   "fail until the cluster size meets this replication factor requirement.", note=_SINGLE_NODE)
_b("offsets.topic.segment.bytes", I, 100 * 1024 * 1024, Range.at_least(1), HIGH,
   "The offsets topic segment bytes should be kept relatively small in order to facilitate faster log compaction "
   "and cache loads.")
_b("offsets.topic.compression.codec", I, 0, None, HIGH,
   'Compression codec for the offsets topic - compression may be used to achieve "atomic" commits.')
_b("offsets.load.buffer.size", I, 5 * 1024 * 1024, Range.at_least(1), HIGH,
   "Batch size for reading from the offsets segments when loading group metadata  into the cache (soft-limit, "
   "overridden if records are too large).")
_b("offsets.commit.timeout.ms", I, 5000, Range.at_least(1), HIGH,
   "Offset commit will be delayed until all replicas for the offsets topic receive the commit or this timeout is "
   "reached. This is similar to the producer request timeout. This is applied to all the writes made by the "
   "coordinator.")
_b("offset.metadata.max.bytes", I, 4096, None, HIGH,
   "The maximum size for a metadata entry associated with an offset commit.")
_b("offsets.retention.minutes", I, 7 * 24 * 60, Range.at_least(1), HIGH,
   "For subscribed consumers, committed offset of a specific partition will be expired and discarded when 1) this "
   "retention period has elapsed after the consumer group loses all its consumers (i.e. becomes empty); 2) this "
   "retention period has elapsed since the last time an offset is committed for the partition and the group is no "
   "longer subscribed to the corresponding topic. For standalone consumers (using manual assignment), offsets will "
   "be expired after this retention period has elapsed since the time of last commit. Note that when a group is "
   "deleted via the delete-group request, its committed offsets will also be deleted without extra retention "
   "period; also when a topic is deleted via the delete-topic request, upon propagated metadata update any group's "
   "committed offsets for that topic will also be deleted without extra retention period.")
_b("offsets.retention.check.interval.ms", L, 600000, Range.at_least(1), HIGH,
   "Frequency at which to check for stale offsets")
_b("group.min.session.timeout.ms", I, 6000, None, MEDIUM,
   "The minimum allowed session timeout for registered consumers. Shorter timeouts result in quicker failure "
   "detection at the cost of more frequent consumer heartbeating, which can overwhelm broker resources.")
_b("group.max.session.timeout.ms", I, 1800000, None, MEDIUM,
   "The maximum allowed session timeout for registered consumers. Longer timeouts give consumers more time to "
   "process messages in between heartbeats at the cost of a longer time to detect failures.")
_b("group.initial.rebalance.delay.ms", I, 3000, None, MEDIUM,
   "The amount of time the group coordinator will wait for more consumers to join a new group before performing "
   "the first rebalance. A longer delay means potentially fewer rebalances, but increases the time until processing "
   "begins.")
_b("group.max.size", I, INT_MAX, Range.at_least(1), MEDIUM,
   "The maximum number of consumers that a single consumer group can accommodate.")

# --- broker: transactions (TransactionStateManagerConfig, TransactionLogConfig) --------------
_b("transaction.max.timeout.ms", I, 15 * 60 * 1000, Range.at_least(1), HIGH,
   "The maximum allowed timeout for transactions. If a client's requested transaction time exceed this, then the "
   "broker will return an error in InitProducerIdRequest. This prevents a client from too large of a timeout, which "
   "can stall consumers reading from topics included in the transaction.")
_b("transactional.id.expiration.ms", I, 7 * 24 * 60 * 60 * 1000, Range.at_least(1), HIGH,
   "The time in ms that the transaction coordinator will wait without receiving any transaction status updates for "
   "the current transaction before expiring its transactional id. Transactional IDs will not expire while a the "
   "transaction is still ongoing.")
_b("transaction.state.log.num.partitions", I, 50, Range.at_least(1), HIGH,
   "The number of partitions for the transaction topic (should not change after deployment).")
_b("transaction.state.log.replication.factor", SH, 3, Range.at_least(1), HIGH,
   "The replication factor for the transaction topic (set higher to ensure availability). Internal topic creation "
   "will fail until the cluster size meets this replication factor requirement.", note=_SINGLE_NODE)
_b("transaction.state.log.min.isr", I, 2, Range.at_least(1), HIGH,
   "The minimum number of replicas that must acknowledge a write to transaction topic in order to be considered "
   "successful.", note=_SINGLE_NODE)
_b("transaction.state.log.segment.bytes", I, 100 * 1024 * 1024, Range.at_least(1), HIGH,
   "The transaction topic segment bytes should be kept relatively small in order to facilitate faster log "
   "compaction and cache loads")
_b("transaction.state.log.load.buffer.size", I, 5 * 1024 * 1024, Range.at_least(1), HIGH,
   "Batch size for reading from the transaction log segments when loading producer ids and transactions into the "
   "cache (soft-limit, overridden if records are too large).")
_b("transaction.abort.timed.out.transaction.cleanup.interval.ms", I, 10000, Range.at_least(1), LOW,
   "The interval at which to rollback transactions that have timed out")
_b("transaction.remove.expired.transaction.cleanup.interval.ms", I, 3600000, Range.at_least(1), LOW,
   "The interval at which to remove transactions that have expired due to <code>transactional.id.expiration.ms</code>"
   " passing")
_b("transaction.partition.verification.enable", B, True, None, LOW,
   "Enable verification that checks that the partition has been added to the transaction before writing "
   "transactional records to the partition")
_b("producer.id.expiration.ms", I, 86400000, Range.at_least(1), LOW,
   "The time in ms that a topic partition leader will wait before expiring producer IDs. Producer IDs will not "
   "expire while a transaction associated to them is still ongoing. Note that producer IDs may expire sooner if the "
   "last write from the producer ID is deleted due to the topic's retention settings. Setting this value the same "
   "or higher than <code>delivery.timeout.ms</code> can help prevent expiration during retries and protect against "
   "message duplication, but the default should be reasonable for most use cases.")

# --- broker: security (BrokerSecurityConfigs, SslConfigs, SaslConfigs) -----------------------
# Every key below may also be given per listener as ``listener.name.<listener>.<key>`` (see
# BrokerConfig.listener_value); SASL JAAS configs only that way:
# ``listener.name.<listener>.<mechanism>.sasl.jaas.config``.
_b("ssl.keystore.type", S, "JKS", None, MEDIUM,
   "The file format of the key store file. This is optional for client. The values currently supported by the "
   "default `ssl.engine.factory.class` are [JKS, PKCS12, PEM].",
   note="PEM and PKCS12 are supported; JKS is not (convert it with keytool -importkeystore).")
_b("ssl.keystore.location", S, None, None, HIGH,
   "The location of the key store file. This is optional for client and can be used for two-way authentication "
   "for client.",
   note="Reloaded without restart when the file changes (checked at most once a second, on new connections).")
_b("ssl.keystore.password", P, None, None, HIGH,
   "The store password for the key store file. This is optional for client and only needed if "
   "'ssl.keystore.location' is configured. Key store password is not supported for PEM format.")
_b("ssl.key.password", P, None, None, HIGH,
   "The password of the private key in the key store file or the PEM key specified in 'ssl.keystore.key'.")
_b("ssl.keystore.key", P, None, None, HIGH,
   "Private key in the format specified by 'ssl.keystore.type'. Default SSL engine factory supports only PEM format "
   "with PKCS#8 keys. If the key is encrypted, key password must be specified using 'ssl.key.password'")
_b("ssl.keystore.certificate.chain", P, None, None, HIGH,
   "Certificate chain in the format specified by 'ssl.keystore.type'. Default SSL engine factory supports only PEM "
   "format with a list of X.509 certificates")
_b("ssl.truststore.type", S, "JKS", None, MEDIUM,
   "The file format of the trust store file. The values currently supported by the default "
   "`ssl.engine.factory.class` are [JKS, PKCS12, PEM].",
   note="PEM and PKCS12 are supported; JKS is not.")
_b("ssl.truststore.location", S, None, None, HIGH, "The location of the trust store file.",
   note="Reloaded without restart when the file changes, as ssl.keystore.location.")
_b("ssl.truststore.password", P, None, None, HIGH,
   "The password for the trust store file. If a password is not set, trust store file configured will still be "
   "used, but integrity checking is disabled. Trust store password is not supported for PEM format.")
_b("ssl.truststore.certificates", P, None, None, HIGH,
   "Trusted certificates in the format specified by 'ssl.truststore.type'. Default SSL engine factory supports only "
   "PEM format with X.509 certificates.")
_b("ssl.client.auth", S, "none", ValidString("required", "requested", "none"), MEDIUM,
   "Configures kafka broker to request client authentication. The following settings are common: <ul> "
   "<li><code>ssl.client.auth=required</code> If set to required client authentication is required. "
   "<li><code>ssl.client.auth=requested</code> This means client authentication is optional. unlike required, if "
   "this option is set client can choose not to provide authentication information about itself <li><code>"
   "ssl.client.auth=none</code> This means client authentication is not needed.</ul>",
   note="On SASL_SSL listeners only the listener-prefixed value applies (KIP-684).")
_b("ssl.principal.mapping.rules", S, "DEFAULT", None, LOW,
   "A list of rules for mapping from distinguished name from the client certificate to short name. The rules are "
   "evaluated in order and the first rule that matches a principal name is used to map it to a short name. Any "
   "later rules in the list are ignored. By default, distinguished name of the X.500 certificate will be the "
   "principal. For more details on the format please see <a href=\"#security_authz\"> security authorization and "
   "acls</a>. Note that this configuration is ignored if an extension of KafkaPrincipalBuilder is provided by the "
   "<code>principal.builder.class</code> configuration.")
_b("ssl.enabled.protocols", LS, ["TLSv1.2", "TLSv1.3"], None, MEDIUM,
   "The list of protocols enabled for SSL connections. The default is 'TLSv1.2,TLSv1.3'. This means that clients "
   "and servers will prefer TLSv1.3 if both support it and fallback to TLSv1.2 otherwise (assuming both support at "
   "least TLSv1.2). This default should be fine for most use cases. Also see the config documentation for "
   "`ssl.protocol` to understand how it can impact the TLS version negotiation behavior.",
   note="Only TLSv1.2 and TLSv1.3 can be enabled.")
_b("ssl.protocol", S, "TLSv1.3", None, MEDIUM,
   "The SSL protocol used to generate the SSLContext. The default is 'TLSv1.3', which should be fine for most use "
   "cases. A typical alternative to the default is 'TLSv1.2'. Allowed values for this config are dependent on the "
   "JVM. Clients using the defaults for this config and 'ssl.enabled.protocols' will downgrade to 'TLSv1.2' if the "
   "server does not support 'TLSv1.3'. If this config is set to 'TLSv1.2', however, clients will not use 'TLSv1.3' "
   "even if it is one of the values in `ssl.enabled.protocols` and the server only supports 'TLSv1.3'.",
   note=_INFORMATIONAL)
_b("ssl.cipher.suites", LS, [], None, LOW,
   "A list of cipher suites. This is a named combination of authentication, encryption, MAC and key exchange "
   "algorithm used to negotiate the security settings for a network connection using TLS or SSL network protocol. "
   "By default all the available cipher suites are supported.",
   note="OpenSSL cipher names (TLS 1.2 suites); TLS 1.3 suites are OpenSSL's defaults.")
_b("ssl.endpoint.identification.algorithm", S, "https", None, LOW,
   "The endpoint identification algorithm to validate server hostname using server certificate. ",
   note=_INFORMATIONAL)
_b("sasl.enabled.mechanisms", LS, ["GSSAPI"], None, MEDIUM,
   "The list of SASL mechanisms enabled in the Kafka server. The list may contain any mechanism for which a "
   "security provider is available. Only GSSAPI is enabled by default.",
   note="PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 and OAUTHBEARER are supported; GSSAPI is not.")
_b("sasl.server.max.receive.size", I, 524288, None, MEDIUM,
   "The maximum receive size allowed before and during initial SASL authentication. Default receive size is 512KB. "
   "GSSAPI limits requests to 64K, but we allow upto 512KB by default for custom SASL mechanisms. In practice, "
   "PLAIN, SCRAM and OAUTH mechanisms can use much smaller limits.")
_b("sasl.server.callback.handler.class", C, None, None, MEDIUM,
   "The fully qualified name of a SASL server callback handler class that implements the AuthenticateCallbackHandler "
   "interface. Server callback handlers must be prefixed with listener prefix and SASL mechanism name in lower-case. "
   "For example, "
   "listener.name.sasl_ssl.plain.sasl.server.callback.handler.class=com.example.CustomPlainCallbackHandler.",
   note="Only org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler (JWKS validation "
   "for OAUTHBEARER) is understood; without it OAUTHBEARER uses the unsecured-JWT validator, as in Kafka.")
_b("sasl.oauthbearer.jwks.endpoint.url", S, None, None, MEDIUM,
   "The OAuth/OIDC provider URL from which the provider's JWKS (JSON Web Key Set) can be retrieved. The URL can be "
   "HTTP(S)-based or file-based.",
   note="Only file:// URLs (read on the first authentication, re-read when the file changes).")
_b("sasl.oauthbearer.expected.audience", LS, None, None, LOW,
   "The (optional) comma-delimited setting for the broker to use to verify that the JWT was issued for one of the "
   "expected audiences. The JWT will be inspected for the standard OAuth \"aud\" claim and if this value is set, "
   "the broker will match the value from JWT's \"aud\" claim to see if there is an exact match. If there is no "
   "match, the broker will reject the JWT and authentication will fail.")
_b("sasl.oauthbearer.expected.issuer", S, None, None, LOW,
   "The (optional) setting for the broker to use to verify that the JWT was created by the expected issuer. The JWT "
   "will be inspected for the standard OAuth \"iss\" claim and if this value is set, the broker will match it "
   "exactly against what is in the JWT's \"iss\" claim. If there is no match, the broker will reject the JWT and "
   "authentication will fail.")
_b("sasl.oauthbearer.sub.claim.name", S, "sub", None, LOW,
   "The OAuth claim for the subject is often named \"sub\", but this (optional) setting can provide a different name "
   "to use for the subject included in the JWT payload's claims if the OAuth/OIDC provider uses a different name "
   "for that claim.")
_b("sasl.oauthbearer.scope.claim.name", S, "scope", None, LOW,
   "The OAuth claim for the scope is often named \"scope\", but this (optional) setting can provide a different "
   "name to use for the scope included in the JWT payload's claims if the OAuth/OIDC provider uses a different name "
   "for that claim.")
_b("sasl.oauthbearer.clock.skew.seconds", I, 30, None, LOW,
   "The (optional) value in seconds to allow for differences between the time of the OAuth/OIDC identity provider "
   "and the broker.")
_b("connections.max.reauth.ms", L, 0, None, MEDIUM,
   "When explicitly set to a positive number (the default is 0, not a positive number), a session lifetime that "
   "will not exceed the configured value will be communicated to v2.2.0 or later clients when they authenticate. "
   "The broker will disconnect any such connection that is not re-authenticated within the session lifetime and "
   "that is then subsequently used for any purpose other than re-authentication. Configuration names can "
   "optionally be prefixed with listener prefix and SASL mechanism name in lower-case. For example, "
   "listener.name.sasl_ssl.oauthbearer.connections.max.reauth.ms=3600000")
_b("connection.failed.authentication.delay.ms", I, 100, Range.at_least(0), LOW,
   "Connection close delay on failed authentication: this is the time (in milliseconds) by which connection close "
   "will be delayed on authentication failure. This must be configured to be less than connections.max.idle.ms to "
   "prevent connection timeout.")

# --- broker: authorization (ServerConfigs, StandardAuthorizer) --------------------------------
_b("authorizer.class.name", S, "", None, LOW,
   "The fully qualified name of a class that implements <code>org.apache.kafka.server.authorizer.Authorizer</code> "
   "interface, which is used by the broker for authorization.",
   note="org.apache.kafka.metadata.authorizer.StandardAuthorizer and kafka.security.authorizer.AclAuthorizer both "
   "enable Chronik's ACL authorizer (StandardAuthorizer semantics, ACLs stored with the broker's data); empty "
   "disables authorization (everything allowed, the ACL APIs answer SECURITY_DISABLED); other classes are refused.")
_b("super.users", S, None, None, LOW,
   "A semicolon-separated list of principals (<code>User:Bob;User:Alice</code>) that are allowed to perform any "
   "operation on any resource, whatever the ACLs say.", internal=True,
   note="StandardAuthorizer's own setting, not a KafkaConfig key (so not listed by DescribeConfigs, as in Kafka).")
_b("allow.everyone.if.no.acl.found", B, False, None, LOW,
   "Whether a resource with no ACLs at all is accessible to everyone (true) or to super users only (false).",
   internal=True,
   note="StandardAuthorizer's own setting, not a KafkaConfig key (so not listed by DescribeConfigs, as in Kafka).")

# --- broker: client quotas (QuotaConfig) -----------------------------------------------------
_b("quota.window.num", I, 11, Range.at_least(1), LOW,
   "The number of samples to retain in memory for client quotas")
_b("quota.window.size.seconds", I, 1, Range.at_least(1), LOW,
   "The time span of each sample for client quotas")

# --- broker: Chronik extras ------------------------------------------------------------------
_b("chronik.log.level", S, "INFO", CaseInsensitiveValidString(*_LOG_LEVELS), MEDIUM,
   "Chronik: the level of the broker's log (stderr, one line per event). Also set by CHRONIK_LOG_LEVEL.")
_b("chronik.cluster.id", S, None, None, MEDIUM,
   "Chronik: the cluster id written to meta.properties when the data directory is first used (a 22-character "
   "base64url UUID, as printed by <code>kafka-storage.sh random-uuid</code>). If unset, a random id is generated. "
   "Once the data directory has a meta.properties, a configured id must match the stored one.")

# --- topic configs (LogConfig, Kafka 4.3) ----------------------------------------------------
_H = MS_PER_HOUR
_M = MS_PER_MINUTE
_t("segment.bytes", I, 1024 * 1024 * 1024, Range.at_least(1024 * 1024), _DOC_SEGMENT_BYTES, "log.segment.bytes",
   note=_INFORMATIONAL)
_t("segment.ms", L, 7 * 24 * _H, Range.at_least(1), _DOC_SEGMENT_MS,
   "log.roll.ms", BrokerSynonym("log.roll.hours", _H), note=_INFORMATIONAL)
_t("segment.jitter.ms", L, 0, Range.at_least(0), _DOC_SEGMENT_JITTER_MS,
   "log.roll.jitter.ms", BrokerSynonym("log.roll.jitter.hours", _H), note=_INFORMATIONAL)
_t("segment.index.bytes", I, 10 * 1024 * 1024, Range.at_least(4), _DOC_SEGMENT_INDEX_BYTES,
   "log.index.size.max.bytes", note=_INFORMATIONAL)
_t("flush.messages", L, LONG_MAX, Range.at_least(1), _DOC_FLUSH_MESSAGES, "log.flush.interval.messages")
_t("flush.ms", L, LONG_MAX, Range.at_least(0), _DOC_FLUSH_MS,
   "log.flush.interval.ms", "log.flush.scheduler.interval.ms")
_t("retention.bytes", L, -1, None, _DOC_RETENTION_BYTES, "log.retention.bytes")
_t("retention.ms", L, 7 * 24 * _H, Range.at_least(-1), _DOC_RETENTION_MS,
   "log.retention.ms", BrokerSynonym("log.retention.minutes", _M), BrokerSynonym("log.retention.hours", _H))
_t("max.message.bytes", I, 1024 * 1024 + 12, Range.at_least(0), _DOC_MAX_MESSAGE_BYTES, "message.max.bytes")
_t("index.interval.bytes", I, 4096, Range.at_least(0), _DOC_INDEX_INTERVAL_BYTES, "log.index.interval.bytes",
   note=_INFORMATIONAL)
_t("delete.retention.ms", L, 24 * _H, Range.at_least(0), _DOC_DELETE_RETENTION_MS, "log.cleaner.delete.retention.ms")
_t("min.compaction.lag.ms", L, 0, Range.at_least(0), _DOC_MIN_COMPACTION_LAG_MS, "log.cleaner.min.compaction.lag.ms")
_t("max.compaction.lag.ms", L, LONG_MAX, Range.at_least(1), _DOC_MAX_COMPACTION_LAG_MS,
   "log.cleaner.max.compaction.lag.ms")
_t("file.delete.delay.ms", L, 60000, Range.at_least(0), _DOC_FILE_DELETE_DELAY_MS, "log.segment.delete.delay.ms",
   note=_INFORMATIONAL)
_t("min.cleanable.dirty.ratio", D, 0.5, Range.between(0, 1), _DOC_MIN_CLEANABLE_DIRTY_RATIO,
   "log.cleaner.min.cleanable.ratio")
_t("cleanup.policy", LS, ["delete"], ValidList(_CLEANUP_POLICIES), _DOC_CLEANUP_POLICY, "log.cleanup.policy")
_t("unclean.leader.election.enable", B, False, None, _DOC_UNCLEAN_LEADER_ELECTION, "unclean.leader.election.enable",
   note=_SINGLE_NODE)
_t("min.insync.replicas", I, 1, Range.at_least(1), _DOC_MIN_INSYNC_REPLICAS, "min.insync.replicas")
_t("compression.type", S, "producer", ValidString(*_COMPRESSION_TYPES), _DOC_COMPRESSION_TYPE, "compression.type")
_t("compression.gzip.level", I, -1, _GzipLevelValidator(), _compression_level_doc("gzip"), "compression.gzip.level")
_t("compression.lz4.level", I, 9, Range.between(1, 17), _compression_level_doc("lz4"), "compression.lz4.level")
_t("compression.zstd.level", I, 3, Range.between(-131072, 22), _compression_level_doc("zstd"),
   "compression.zstd.level")
_t("preallocate", B, False, None, _DOC_PREALLOCATE, "log.preallocate", note=_INFORMATIONAL)
_t("message.timestamp.type", S, "CreateTime", ValidString(*_TIMESTAMP_TYPES), _DOC_TS_TYPE,
   "log.message.timestamp.type")
_t("message.timestamp.before.max.ms", L, LONG_MAX, Range.at_least(0), _DOC_TS_BEFORE,
   "log.message.timestamp.before.max.ms")
_t("message.timestamp.after.max.ms", L, 3600000, Range.at_least(0), _DOC_TS_AFTER,
   "log.message.timestamp.after.max.ms")
_t("leader.replication.throttled.replicas", LS, [], _ThrottledReplicaListValidator(),
   _DOC_THROTTLED.format(side="leader"), note=_SINGLE_NODE)
_t("follower.replication.throttled.replicas", LS, [], _ThrottledReplicaListValidator(),
   _DOC_THROTTLED.format(side="follower"), note=_SINGLE_NODE)
_t("remote.storage.enable", B, False, None,
   "To enable tiered storage for a topic, set this configuration to true. To disable tiered storage for a topic "
   "that has it enabled, set this configuration to false. When disabling, you must also set "
   "<code>remote.log.delete.on.disable</code> to true.",
   note="Chronik has no tiered storage: true is rejected, as by a Kafka broker with tiered storage disabled.")
_t("local.retention.ms", L, -2, Range.at_least(-2),
   "The number of milliseconds to keep the local log segment before it gets deleted. Default value is -2, it "
   "represents <code>retention.ms</code> value is to be used. The effective value should always be less than or "
   "equal to <code>retention.ms</code> value.", "log.local.retention.ms", note="Chronik has no tiered storage.")
_t("local.retention.bytes", L, -2, Range.at_least(-2),
   "The maximum size of local log segments that can grow for a partition before it deletes the old segments. "
   "Default value is -2, it represents <code>retention.bytes</code> value to be used. The effective value should "
   "always be less than or equal to <code>retention.bytes</code> value.", "log.local.retention.bytes",
   note="Chronik has no tiered storage.")
_t("remote.log.copy.disable", B, False, None,
   "Determines whether tiered data for a topic should become read only, and no more data uploading on a topic. Once "
   "this config is set to true, the local retention configuration (i.e. local.retention.ms/bytes) becomes "
   "irrelevant, and all data expiration follows the topic-wide retention configuration(i.e. retention.ms/bytes).",
   note="Chronik has no tiered storage.")
_t("remote.log.delete.on.disable", B, False, None,
   "Determines whether tiered data for a topic should be deleted after tiered storage is disabled on a topic. This "
   "configuration should be enabled when trying to set <code>remote.storage.enable</code> from true to false",
   note="Chronik has no tiered storage.")
_t("remote.copy.lag.ms", L, 0, Range.at_least(-1), _copy_lag_doc("ms", ""), "log.remote.copy.lag.ms",
   note="Chronik has no tiered storage.")
_t("remote.copy.lag.bytes", L, -1, Range.at_least(-1), _copy_lag_doc("bytes", ""), "log.remote.copy.lag.bytes",
   note="Chronik has no tiered storage.")
_t("max.decompressed.message.bytes", I, 2147483639, Range.between(1, 2147483639), _DOC_MAX_DECOMPRESSED,
   "max.decompressed.message.bytes", note="Not enforced: Chronik bounds decompression by its own limits.")
_t("errors.deadletterqueue.group.enable", B, False, None,
   "Enable this topic to be used as a dead-letter queue for share groups. When set to <code>true</code>, share "
   "groups can write undeliverable records to this topic. When set to <code>false</code> (the default), attempts to "
   "use this topic as a DLQ will be rejected.", note="Chronik has no share groups.")
_t("internal.segment.bytes", I, None, None,
   "The maximum size of a single log file. This should be used for testing only.", internal=True, note=_INFORMATIONAL)

# fmt: on

#: Every broker config Chronik knows, in definition order.
BROKER_CONFIGS: Final[Mapping[str, ConfigKey]] = {k.name: k for k in _ENTRIES_B}
#: Every topic config (Kafka 4.3's ``LogConfig`` keys), in definition order.
TOPIC_CONFIGS: Final[Mapping[str, ConfigKey]] = {k.name: k for k in _ENTRIES_T}

#: Broker key -> the topic key it is a synonym of.
BROKER_TO_TOPIC: Final[Mapping[str, str]] = {s.name: t.name for t in _ENTRIES_T for s in t.synonyms}

for _key in (*_ENTRIES_B, *_ENTRIES_T):  # ConfigDef validates defaults when a key is defined
    if _key.default is not None and _key.validator is not None:
        _key.validator.ensure_valid(_key.name, _key.default)
for _topic_key in _ENTRIES_T:
    for _syn in _topic_key.synonyms:
        assert _syn.name in BROKER_CONFIGS, _syn.name
del _key, _topic_key, _syn

#: Kafka broker configs that Chronik accepts in a config file and ignores (logged at startup).
# fmt: off
IGNORED_KAFKA_CONFIGS: Final = frozenset(
    {
        # KRaft / controller quorum
        "controller.quorum.voters", "controller.quorum.bootstrap.servers", "controller.quorum.election.timeout.ms",
        "controller.quorum.fetch.timeout.ms", "controller.quorum.election.backoff.max.ms",
        "controller.quorum.append.linger.ms", "controller.quorum.request.timeout.ms",
        "controller.quorum.retry.backoff.ms",
        "controller.socket.timeout.ms", "metadata.log.dir", "metadata.log.segment.bytes", "metadata.log.segment.ms",
        "metadata.max.retention.bytes", "metadata.max.retention.ms", "metadata.max.idle.interval.ms",
        "metadata.log.max.record.bytes.between.snapshots", "metadata.log.max.snapshot.interval.ms",
        "initial.broker.registration.timeout.ms", "broker.heartbeat.interval.ms", "broker.session.timeout.ms",
        "sasl.mechanism.controller.protocol", "early.start.listeners", "server.max.startup.time.ms",
        "cordoned.log.dirs", "log.dir.failure.timeout.ms", "unstable.feature.versions.enable",
        # inter-broker and replication
        "inter.broker.listener.name", "security.inter.broker.protocol", "inter.broker.protocol.version",
        "broker.rack", "num.replica.fetchers", "num.replica.alter.log.dirs.threads", "replica.fetch.max.bytes",
        "replica.fetch.min.bytes", "replica.fetch.wait.max.ms", "replica.fetch.backoff.ms",
        "replica.fetch.response.max.bytes", "replica.socket.timeout.ms", "replica.socket.receive.buffer.bytes",
        "replica.high.watermark.checkpoint.interval.ms", "replica.selector.class",
        "leader.imbalance.per.broker.percentage", "leader.imbalance.check.interval.seconds",
        "controlled.shutdown.enable", "fetch.purgatory.purge.interval.requests",
        "producer.purgatory.purge.interval.requests", "delete.records.purgatory.purge.interval.requests",
        "socket.connection.setup.timeout.ms", "socket.connection.setup.timeout.max.ms",
        "max.connection.creation.rate",
        # security
        "principal.builder.class", "security.providers",
        # quotas
        "client.quota.callback.class",
        "replication.quota.window.num", "replication.quota.window.size.seconds",
        "alter.log.dirs.replication.quota.window.num", "alter.log.dirs.replication.quota.window.size.seconds",
        "leader.replication.throttled.rate", "follower.replication.throttled.rate",
        "replica.alter.log.dirs.io.max.bytes.per.second",
        # metrics, misc
        "metric.reporters", "metrics.num.samples", "metrics.sample.window.ms", "metrics.recording.level",
        "auto.include.jmx.reporter", "kafka.metrics.reporters", "kafka.metrics.polling.interval.secs",
        "config.providers", "log.initial.task.delay.ms", "reserved.broker.max.id", "broker.id.generation.enable",
        "group.coordinator.rebalance.protocols", "group.coordinator.threads", "group.coordinator.append.linger.ms",
        "group.coordinator.background.threads", "group.coordinator.cached.buffer.max.bytes",
        "offsets.topic.num.partitions.override", "telemetry.max.bytes",
        # ZooKeeper (removed in Kafka 4.0)
        "zookeeper.connect", "zookeeper.connection.timeout.ms", "zookeeper.session.timeout.ms",
        "zookeeper.max.in.flight.requests", "zookeeper.set.acl", "zookeeper.metadata.migration.enable",
    }
)
# fmt: on
#: Prefixes of Kafka broker configs that Chronik accepts and ignores (security, tiered storage, ...).
IGNORED_KAFKA_PREFIXES: Final = (
    "listener.name.",
    "ssl.",
    "sasl.",
    "delegation.token.",
    "remote.log.",
    "log.remote.",
    "share.",
    "group.share.",
    "group.streams.",
    "group.consumer.",
    "zookeeper.",
    "controller.quorum.",
    "kafka.metrics.",
    "metrics.",
    "client.telemetry.",
    "errors.",
)


def _is_ignored_kafka_config(name: str) -> bool:
    return name in IGNORED_KAFKA_CONFIGS or name.startswith(IGNORED_KAFKA_PREFIXES)


def suggest_config_names(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Close matches for a misspelt config name (``difflib``)."""
    return difflib.get_close_matches(name, list(candidates), n=n, cutoff=0.75)


def _unknown_key_message(name: str, where: str) -> str:
    text = f"unknown configuration '{name}'{where}"
    hints: list[str] = []
    if name in TOPIC_CONFIGS and TOPIC_CONFIGS[name].synonyms:
        broker_names = [s.name for s in TOPIC_CONFIGS[name].synonyms]
        hints.append(
            f"'{name}' is a topic config; its broker-wide default is " + " / ".join(f"'{b}'" for b in broker_names)
        )
    else:
        matches = suggest_config_names(name, BROKER_CONFIGS)
        if matches:
            hints.append("did you mean " + " or ".join(f"'{m}'" for m in matches) + "?")
    if hints:
        text += ": " + "; ".join(hints)
    return text + " (Chronik rejects unknown configs where Kafka only warns)"


# --------------------------------------------------------------------------------------------
# Config files: java.util.Properties and YAML
# --------------------------------------------------------------------------------------------

_PROP_WS = " \t\f"
_PROP_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """``Properties.LineReader``: (1-based first line number, logical line without terminators)."""
    natural = re.split(r"\r\n|\r|\n", text)
    i = 0
    while i < len(natural):
        line = natural[i]
        start = i + 1
        i += 1
        stripped = line.lstrip(_PROP_WS)
        if not stripped or stripped[0] in "#!":
            continue  # blank and comment lines; a comment is never continued
        parts = [stripped]
        while _ends_with_odd_backslashes(parts[-1]):
            parts[-1] = parts[-1][:-1]
            if i >= len(natural):
                break
            parts.append(natural[i].lstrip(_PROP_WS))
            i += 1
        yield start, "".join(parts)


def _ends_with_odd_backslashes(s: str) -> bool:
    n = len(s) - len(s.rstrip("\\"))
    return n % 2 == 1


def _unescape(s: str, line_no: int, source: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(s):
        ch = s[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        i += 1
        if i >= len(s):
            break  # a lone trailing backslash (continuation at end of file) is dropped
        ch = s[i]
        if ch == "u":
            hexdigits = s[i + 1 : i + 5]
            if len(hexdigits) != 4 or not all(c in "0123456789abcdefABCDEF" for c in hexdigits):
                raise ConfigError([f"{source}:{line_no}: malformed \\uxxxx encoding"])
            out.append(chr(int(hexdigits, 16)))
            i += 5
            continue
        out.append(_PROP_ESCAPES.get(ch, ch))
        i += 1
    return "".join(out)


def parse_properties(text: str, source: str = "<properties>") -> list[tuple[str, str, int]]:
    """Parse Java ``.properties`` text as ``java.util.Properties.load`` does.

    Returns ``(key, value, line_number)`` in file order (duplicates included: the last one wins when
    the entries are put into a dict). Keys end at the first unescaped ``=``, ``:`` or whitespace;
    whitespace around the separator is skipped; the value keeps trailing whitespace (typed parsing
    trims it later, as Kafka does).
    """
    entries: list[tuple[str, str, int]] = []
    for line_no, line in _logical_lines(text):
        key_end = len(line)
        i = 0
        while i < len(line):
            ch = line[i]
            if ch == "\\":
                i += 2
                continue
            if ch in "=:" or ch in _PROP_WS:
                key_end = i
                break
            i += 1
        raw_key = line[:key_end]
        rest = line[key_end:]
        rest = rest.lstrip(_PROP_WS)
        if rest[:1] in ("=", ":"):
            rest = rest[1:].lstrip(_PROP_WS)
        entries.append((_unescape(raw_key, line_no, source), _unescape(rest, line_no, source), line_no))
    return entries


def _yaml_scalar(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return java_double_str(value)
    if isinstance(value, list | tuple):
        items = [_yaml_scalar(v) for v in value]
        return ",".join("" if v is None else v for v in items)
    return str(value)


def _flatten_yaml(node: Any, prefix: str, out: list[tuple[str, str | None]], source: str) -> None:
    if isinstance(node, Mapping):
        for k, v in node.items():
            if not isinstance(k, str | int | float | bool):
                raise ConfigError([f"{source}: unsupported YAML key {k!r}"])
            key = str(k) if not isinstance(k, bool) else ("true" if k else "false")
            _flatten_yaml(v, f"{prefix}.{key}" if prefix else key, out, source)
    elif isinstance(node, list | tuple) and any(isinstance(v, Mapping | list | tuple) for v in node):
        raise ConfigError([f"{source}: '{prefix}': lists of mappings or lists are not supported"])
    else:
        out.append((prefix, _yaml_scalar(node)))


def load_config_file(path: str | os.PathLike[str]) -> list[tuple[str, str, Origin]]:
    """Read a ``.properties`` or YAML (``.yaml``/``.yml``) config file: ``(key, value, origin)``.

    YAML nulls are skipped ("not set"). Raises :class:`ConfigError` if the file cannot be read or
    parsed.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise ConfigError([f"cannot read config file {p}: {e.strerror or e}"]) from e
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    if text.startswith("\ufeff"):
        text = text[1:]
    if p.suffix.lower() in (".yaml", ".yml"):
        import yaml  # local import: only YAML configs need PyYAML

        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise ConfigError([f"cannot parse YAML config file {p}: {e}"]) from e
        if doc is None:
            return []
        if not isinstance(doc, Mapping):
            raise ConfigError([f"YAML config file {p} must contain a mapping, not {type(doc).__name__}"])
        flat: list[tuple[str, str | None]] = []
        _flatten_yaml(doc, "", flat, str(p))
        return [(k, v, Origin("file", str(p))) for k, v in flat if v is not None]
    return [(k, v, Origin("file", f"{p}:{line}")) for k, v, line in parse_properties(text, str(p))]


# --------------------------------------------------------------------------------------------
# Listeners
# --------------------------------------------------------------------------------------------

SECURITY_PROTOCOLS: Final = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SUPPORTED_SECURITY_PROTOCOLS: Final = SECURITY_PROTOCOLS
_LISTENER_RE = re.compile(r"(.*)://\[?([0-9a-zA-Z\-%._:]*)\]?:(-?[0-9]+)")
_WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", "0:0:0:0:0:0:0:0"})
ADVERTISED_FALLBACK_HOST: Final = "127.0.0.1"


@dataclass(frozen=True)
class Endpoint:
    """One listener: ``NAME://host:port`` with its security protocol.

    ``host`` is ``None`` for an empty host (Kafka: bind the wildcard address).
    """

    listener_name: str
    security_protocol: str
    host: str | None
    port: int

    @property
    def bind_host(self) -> str:
        """The interface to bind (Twisted's ``interface``): ``""`` (all IPv4) for an empty host."""
        return self.host or ""

    def __str__(self) -> str:
        host = self.host or ""
        if ":" in host:
            host = f"[{host}]"
        return f"{self.listener_name}://{host}:{self.port}"


def parse_security_protocol_map(value: str | None, controller_listener_names: Sequence[str] = ()) -> dict[str, str]:
    """``listener.security.protocol.map`` -> {LISTENER_NAME: PROTOCOL} (names upper-cased).

    Controller listener names not in the map default to PLAINTEXT, as in KRaft.
    """
    result: dict[str, str] = {}
    text = _java_trim(value or "")
    if text:
        for entry in _COMMA_WITH_WHITESPACE.split(text):
            if ":" not in entry:
                raise ConfigException(
                    "listener.security.protocol.map", value, f"'{entry}' is not of the form LISTENER_NAME:PROTOCOL"
                )
            name, _, proto = entry.rpartition(":")
            name, proto = _java_trim(name).upper(), _java_trim(proto).upper()
            if proto not in SECURITY_PROTOCOLS:
                raise ConfigException(
                    f"Invalid security protocol `{_java_trim(entry.rpartition(':')[2])}` defined in "
                    "listener.security.protocol.map"
                )
            if not name:
                raise ConfigException("listener.security.protocol.map", value, f"empty listener name in '{entry}'")
            result[name] = proto
    for name in controller_listener_names:
        result.setdefault(name.upper(), "PLAINTEXT")
    return result


def parse_listeners(
    entries: Sequence[str],
    protocol_map: Mapping[str, str],
    config_name: str = "listeners",
    *,
    distinct_ports: bool = True,
) -> list[Endpoint]:
    """Parse listener URIs as ``SocketServerConfigs.listenerListToEndPoints`` and check them.

    Listener names must be unique; with ``distinct_ports`` (``listeners``, not
    ``advertised.listeners``) so must ports, except for one IPv4 and one IPv6 listener.
    """
    endpoints: list[Endpoint] = []
    for entry in entries:
        m = _LISTENER_RE.fullmatch(entry)
        if not m:
            raise ConfigException(config_name, entry, f"Unable to parse {entry} to a broker endpoint")
        name = m.group(1).upper()
        host = m.group(2) or None
        port = int(m.group(3))
        if not 0 <= port <= 65535:
            raise ConfigException(config_name, entry, f"port {port} is out of range [0, 65535]")
        proto = protocol_map.get(name)
        if proto is None:
            raise ConfigException(config_name, entry, f"No security protocol defined for listener {name}")
        endpoints.append(Endpoint(name, proto, host, port))
    names = [e.listener_name for e in endpoints]
    if len(set(names)) != len(names):
        raise ConfigException(
            config_name, ",".join(entries), f"Each listener must have a different name, listeners: {','.join(entries)}"
        )
    if distinct_ports:
        by_port: dict[int, list[Endpoint]] = {}
        for e in endpoints:
            if e.port != 0:
                by_port.setdefault(e.port, []).append(e)
        for port, eps in by_port.items():
            if len(eps) == 1:
                continue
            v6 = [e for e in eps if e.host and ":" in e.host]
            v4 = [e for e in eps if e.host and ":" not in e.host]
            if not (len(eps) == 2 and len(v6) == 1 and len(v4) == 1):
                raise ConfigException(
                    config_name,
                    ",".join(entries),
                    "Each listener must have a different port unless exactly one listener has an IPv4 address and "
                    f"the other IPv6 address, listeners: {','.join(entries)}, port: {port}",
                )
    return endpoints


def _replace_port(entry: str, port: int) -> str:
    m = _LISTENER_RE.fullmatch(entry)
    assert m is not None
    return entry[: m.start(3)] + str(port) + entry[m.end(3) :]


# --------------------------------------------------------------------------------------------
# DescribeConfigs value types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigSynonym:
    """``DescribeConfigsSynonym``: one place a value is (or could be) set."""

    name: str
    value: str | None
    source: ConfigSource


@dataclass(frozen=True)
class ConfigEntry:
    """``DescribeConfigsResourceResult``: one config as DescribeConfigs reports it."""

    name: str
    value: str | None
    source: ConfigSource
    is_sensitive: bool
    read_only: bool
    synonyms: tuple[ConfigSynonym, ...]
    config_type: int
    documentation: str | None


# --------------------------------------------------------------------------------------------
# BrokerConfig
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    """Where a broker config value came from: ``layer`` is ``default``, ``file``, ``env``,
    ``override`` or ``explicit`` (:meth:`BrokerConfig.from_values`); ``detail`` names the file and
    line, the environment variable, or the flag."""

    layer: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.layer} {self.detail}".strip()

    @property
    def source(self) -> ConfigSource:
        """The DescribeConfigs source: everything but a default is a static broker config."""
        return ConfigSource.DEFAULT_CONFIG if self.layer == "default" else ConfigSource.STATIC_BROKER_CONFIG


_DEFAULT_ORIGIN = Origin("default")


@dataclass(frozen=True)
class MetaProperties:
    """``<data dir>/meta.properties`` (Kafka KRaft v1 layout)."""

    cluster_id: str
    node_id: int
    directory_id: str | None = None
    version: int = 1
    extra: Mapping[str, str] = field(default_factory=dict)


#: Lower-cased SASL mechanism names that may prefix a per-listener key (``<mechanism>.sasl.jaas.config``).
SASL_MECHANISM_PREFIXES: Final = ("plain", "scram-sha-256", "scram-sha-512", "oauthbearer", "gssapi")
_LISTENER_KEY_RE = re.compile(r"listener\.name\.([^.]+)\.(.+)")
_SASL_JAAS_KEY: Final = ConfigKey(
    "sasl.jaas.config", ConfigType.PASSWORD, None, None, MEDIUM, "JAAS login context parameters.", "broker"
)


def _listener_override_base(key: str) -> str | None:
    """The broker key a ``listener.name.<listener>.[<mechanism>.]<key>`` override sets, if it is one we read."""
    m = _LISTENER_KEY_RE.fullmatch(key)
    if m is None:
        return None
    rest = m.group(2)
    mech, _, after = rest.partition(".")
    if mech.lower() in SASL_MECHANISM_PREFIXES and after:
        rest = after
        if rest == "sasl.jaas.config":
            return rest
    return rest if rest in BROKER_CONFIGS and rest.startswith(("ssl.", "sasl.", "connections.max.reauth.ms")) else None


def _normalise_listener_key(key: str) -> str:
    m = _LISTENER_KEY_RE.fullmatch(key)
    assert m is not None
    rest = m.group(2)
    mech, _, after = rest.partition(".")
    if mech.lower() in SASL_MECHANISM_PREFIXES and after:
        rest = f"{mech.lower()}.{after}"
    return f"listener.name.{m.group(1).lower()}.{rest}"


def _env_name_to_config(env_name: str) -> str:
    return env_name[len(ENV_PREFIX) :].lower().replace("_", ".")


class BrokerConfig:
    """The broker's effective configuration: typed values plus where each one came from.

    Build it with :meth:`load` (file, environment, overrides), :meth:`from_values` or
    :meth:`defaults`. Read values with :meth:`get` / ``get_int`` / ``get_long`` / ``get_boolean``
    / ``get_string`` / ``get_list`` / ``get_double``, or as attributes with dots spelt as
    underscores (``config.num_partitions``). Derived views: :attr:`data_dir`, :attr:`listeners`,
    :attr:`advertised_listeners`, :attr:`node_id`, :attr:`log_level`, :attr:`cluster_id`.
    """

    def __init__(
        self,
        raw: Mapping[str, str],
        origins: Mapping[str, Origin],
        values: Mapping[str, Any],
        ignored: Sequence[tuple[str, str, Origin]] = (),
        meta: MetaProperties | None = None,
    ) -> None:
        self._raw = dict(raw)
        self._origins = dict(origins)
        self._values = dict(values)
        self._ignored = tuple(ignored)
        self._meta = meta
        self._listeners: list[Endpoint] = []
        self._controller_listeners: list[Endpoint] = []
        self._advertised: list[Endpoint] = []
        #: ``listener.name.<listener>.[<mechanism>.]<key>`` values (listener lower-cased), typed as ``<key>``.
        self._listener_values: dict[str, Any] = {}

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def defaults(cls) -> BrokerConfig:
        """Every key at its default."""
        return cls.from_values({})

    @classmethod
    def from_values(cls, values: Mapping[str, Any], *, layer: str = "explicit") -> BrokerConfig:
        """Build from a mapping of broker keys to values (strings, or typed values).

        Unknown keys raise :class:`ConfigError` exactly as in :meth:`load`.
        """
        entries = [(k, v if isinstance(v, str) else _yaml_scalar(v), Origin(layer, "")) for k, v in values.items()]
        return cls._build([(k, v, o) for k, v, o in entries if v is not None])

    @classmethod
    def load(
        cls,
        config_file: str | os.PathLike[str] | None = None,
        overrides: Sequence[str] | Mapping[str, str] = (),
        env: Mapping[str, str] | None = None,
        data_dir: str | os.PathLike[str] | None = None,
    ) -> BrokerConfig:
        """Load defaults < ``config_file`` < environment < ``overrides`` (< ``data_dir``).

        ``overrides`` are ``"key=value"`` strings (``--override``) or a mapping; ``env`` defaults to
        ``os.environ``; ``data_dir`` (``--data-dir``) overrides ``log.dirs``. Raises
        :class:`ConfigError` listing every problem.
        """
        env = os.environ if env is None else env
        errors: list[str] = []
        entries: list[tuple[str, str, Origin]] = []
        if config_file is not None:
            entries.extend(load_config_file(config_file))

        # Environment: CHRONIK_CFG_* first, then the named convenience variables.
        env_values: dict[str, tuple[str, Origin]] = {}
        for name in sorted(env):
            if name.startswith(ENV_PREFIX) and len(name) > len(ENV_PREFIX):
                env_values[_env_name_to_config(name)] = (env[name], Origin("env", name))
        for var, key in ((ENV_DATA_DIR, "log.dirs"), (ENV_LOG_LEVEL, "chronik.log.level")):
            value = env.get(var, "")
            if value == "":
                continue
            if key in env_values and env_values[key][0] != value:
                errors.append(
                    f"{var}={value!r} conflicts with {env_values[key][1].detail}={env_values[key][0]!r}; set only one"
                )
                continue
            env_values[key] = (value, Origin("env", var))
        entries.extend((k, v, o) for k, (v, o) in env_values.items())

        kafka_port = env.get(ENV_KAFKA_PORT, "")
        if kafka_port != "":
            merged = {k: v for k, v, _ in entries}
            try:
                listeners_value = _apply_kafka_port(merged, kafka_port)
            except ConfigException as e:
                errors.append(str(e))
            else:
                entries.append(("listeners", listeners_value, Origin("env", ENV_KAFKA_PORT)))

        if isinstance(overrides, Mapping):
            entries.extend((k, v, Origin("override", f"--override {k}")) for k, v in overrides.items())
        else:
            for item in overrides:
                key, sep, value = item.partition("=")
                key = _java_trim(key)
                if not sep or not key:
                    errors.append(f"invalid --override {item!r}: expected KEY=VALUE")
                    continue
                entries.append((key, value, Origin("override", f"--override {key}")))
        if data_dir is not None:
            dd = os.fspath(data_dir)
            previous = [v for k, v, o in entries if k == "log.dirs" and o.layer == "override"]
            if previous and previous[-1] != dd:
                errors.append(f"--data-dir {dd!r} conflicts with --override log.dirs={previous[-1]}")
            entries.append(("log.dirs", dd, Origin("override", "--data-dir")))
        return cls._build(entries, errors)

    @classmethod
    def _build(cls, entries: Sequence[tuple[str, str, Origin]], errors: list[str] | None = None) -> BrokerConfig:
        errors = list(errors or [])
        raw: dict[str, str] = {}
        origins: dict[str, Origin] = {}
        ignored: dict[str, tuple[str, Origin]] = {}
        listener_raw: dict[str, tuple[str, Origin]] = {}
        for key, value, origin in entries:
            if key in BROKER_CONFIGS:
                raw[key] = value
                origins[key] = origin
            elif _listener_override_base(key) is not None:
                listener_raw[_normalise_listener_key(key)] = (value, origin)
            elif _is_ignored_kafka_config(key):
                ignored[key] = (value, origin)
            else:
                where = f" ({origin})" if origin.layer != "explicit" else ""
                errors.append(_unknown_key_message(key, where))

        # Kafka's populateSynonyms: node.id <-> broker.id.
        if "node.id" in raw and "broker.id" not in raw:
            raw["broker.id"], origins["broker.id"] = raw["node.id"], origins["node.id"]
        elif "broker.id" in raw and "node.id" not in raw:
            raw["node.id"], origins["node.id"] = raw["broker.id"], origins["broker.id"]

        values: dict[str, Any] = {}
        for name, key in BROKER_CONFIGS.items():
            if name in raw:
                try:
                    values[name] = key.parse(raw[name])
                except ConfigException as e:
                    errors.append(f"{e} ({origins[name]})")
                    values[name] = key.default
            else:
                values[name] = key.default
        if "broker.id" not in raw:
            values["broker.id"] = values["node.id"]

        config = cls(raw, origins, values, [(k, v, o) for k, (v, o) in ignored.items()])
        for key, (value, origin) in listener_raw.items():
            base = _listener_override_base(key)
            assert base is not None
            try:
                typed = _SASL_JAAS_KEY.parse(value) if base == "sasl.jaas.config" else BROKER_CONFIGS[base].parse(value)
            except ConfigException as e:
                errors.append(f"{str(e).replace(base, key, 1)} ({origin})")
                continue
            config._listener_values[key] = typed
            config._origins[key] = origin
        if not errors:
            errors.extend(config._validate())
        if errors:
            raise ConfigError(errors)
        return config

    def _validate(self) -> list[str]:
        """Cross-key checks (KafkaConfig's ``validateValues``); also resolves listeners."""
        errors: list[str] = []
        v = self._values
        if self.is_set("node.id") and self.is_set("broker.id") and v["node.id"] != v["broker.id"]:
            errors.append(
                f"The values for broker.id ({v['broker.id']}) and node.id ({v['node.id']}) must match if both are "
                "specified."
            )
        roles = v["process.roles"]
        if sorted(roles) != ["broker", "controller"]:
            errors.append(
                f"Invalid value {','.join(roles)} for configuration process.roles: Chronik is a single combined node, "
                f"so process.roles must be 'broker,controller' ({self.origin('process.roles')})"
            )
        dirs = self.get_list("log.dirs") if v["log.dirs"] is not None else self.get_list("log.dir")
        if len(dirs) != 1:
            which = "log.dirs" if v["log.dirs"] is not None else "log.dir"
            errors.append(
                f"Invalid value {','.join(dirs)} for configuration {which}: Chronik stores its data in exactly one "
                f"directory ({self.origin(which)})"
            )
        if v["log.cleaner.min.compaction.lag.ms"] > v["log.cleaner.max.compaction.lag.ms"]:
            errors.append(
                "conflict topic config setting min.compaction.lag.ms "
                f"({v['log.cleaner.min.compaction.lag.ms']}) > max.compaction.lag.ms "
                f"({v['log.cleaner.max.compaction.lag.ms']})"
            )
        if v["group.min.session.timeout.ms"] > v["group.max.session.timeout.ms"]:
            errors.append(
                f"group.min.session.timeout.ms ({v['group.min.session.timeout.ms']}) must not be greater than "
                f"group.max.session.timeout.ms ({v['group.max.session.timeout.ms']})"
            )
        try:
            self._resolve_listeners()
        except ConfigException as e:
            name = e.name or ("advertised.listeners" if "advertised" in str(e) else "listeners")
            origin = self.origin(name) if name in BROKER_CONFIGS else self.origin("listeners")
            errors.append(f"{e} ({origin})")
        return errors

    def _resolve_listeners(self) -> None:
        controller_names = [n.upper() for n in (self._values["controller.listener.names"] or [])]
        proto_map = parse_security_protocol_map(self._values["listener.security.protocol.map"], controller_names)
        all_listeners = parse_listeners(self._values["listeners"], proto_map, "listeners")
        broker = [e for e in all_listeners if e.listener_name not in controller_names]
        controller = [e for e in all_listeners if e.listener_name in controller_names]
        if not broker:
            raise ConfigException(
                "listeners",
                ",".join(self._values["listeners"]),
                "no broker listener (every listener is a controller listener named in controller.listener.names)",
            )
        advertised_entries = self._values["advertised.listeners"]
        if advertised_entries is None:
            advertised = [replace(e, host=_advertisable(e.host)) for e in broker]
        else:
            parsed = parse_listeners(advertised_entries, proto_map, "advertised.listeners", distinct_ports=False)
            parsed = [e for e in parsed if e.listener_name not in controller_names]
            broker_names = {e.listener_name for e in broker}
            names = [e.listener_name for e in parsed]
            if not set(names) <= broker_names:
                raise ConfigException(
                    "advertised.listeners listener names must be equal to or a subset of the ones defined in "
                    f"listeners. Found {','.join(names)}. The valid options based on the current configuration are "
                    f"{','.join(e.listener_name for e in broker)}"
                )
            for e in parsed:
                if e.host in _WILDCARD_HOSTS:
                    raise ConfigException(
                        f"advertised.listeners cannot use the nonroutable meta-address {e.host}. Use a routable IP "
                        "address."
                    )
            advertised = [replace(e, host=_advertisable(e.host)) for e in parsed]
        self._listeners = broker
        self._controller_listeners = controller
        self._advertised = advertised

    # -- generic access ----------------------------------------------------------------------

    def get(self, name: str) -> Any:
        """The typed value of broker key ``name`` (``None`` for an unset key without default)."""
        try:
            return self._values[name]
        except KeyError:
            raise KeyError(_unknown_key_message(name, "")) from None

    def _typed(self, name: str, *types: ConfigType) -> Any:
        key = BROKER_CONFIGS.get(name)
        if key is None:
            raise KeyError(_unknown_key_message(name, ""))
        if key.type not in types:
            raise TypeError(f"{name} is a {key.type.name} config, not {'/'.join(t.name for t in types)}")
        return self._values[name]

    def get_int(self, name: str) -> int | None:
        """An INT or SHORT value."""
        return self._typed(name, ConfigType.INT, ConfigType.SHORT)

    def get_short(self, name: str) -> int | None:
        """A SHORT value."""
        return self._typed(name, ConfigType.SHORT)

    def get_long(self, name: str) -> int | None:
        """A LONG (or INT/SHORT) value."""
        return self._typed(name, ConfigType.LONG, ConfigType.INT, ConfigType.SHORT)

    def get_double(self, name: str) -> float | None:
        """A DOUBLE value."""
        return self._typed(name, ConfigType.DOUBLE)

    def get_boolean(self, name: str) -> bool | None:
        """A BOOLEAN value."""
        return self._typed(name, ConfigType.BOOLEAN)

    def get_string(self, name: str) -> str | None:
        """A STRING or CLASS value."""
        return self._typed(name, ConfigType.STRING, ConfigType.CLASS)

    def get_list(self, name: str) -> list[str] | None:
        """A LIST value (a copy)."""
        value = self._typed(name, ConfigType.LIST)
        return None if value is None else list(value)

    def get_password(self, name: str) -> Password | None:
        """A PASSWORD value."""
        return self._typed(name, ConfigType.PASSWORD)

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_"):
            raise AttributeError(attr)
        name = attr.replace("_", ".")
        values = self.__dict__.get("_values", {})
        if name in values:
            return values[name]
        raise AttributeError(f"{type(self).__name__} has no attribute or config {attr!r} ({name})")

    def listener_value(self, listener_name: str, name: str, mechanism: str | None = None) -> Any:
        """``name`` for one listener (and SASL mechanism), as Kafka's ``valuesWithPrefixOverride``.

        ``listener.name.<listener>.<mechanism>.<name>`` (with ``mechanism``), then
        ``listener.name.<listener>.<name>``, then the broker-wide ``name`` (``None`` for
        ``sasl.jaas.config``, which Kafka only reads with both prefixes).
        """
        prefix = f"listener.name.{listener_name.lower()}."
        if mechanism is not None:
            key = f"{prefix}{mechanism.lower()}.{name}"
            if key in self._listener_values:
                return self._listener_values[key]
        if prefix + name in self._listener_values:
            return self._listener_values[prefix + name]
        return self._values.get(name)

    def listener_overrides(self) -> dict[str, Any]:
        """Every ``listener.name.*`` value given (typed)."""
        return dict(self._listener_values)

    def is_set(self, name: str) -> bool:
        """Whether ``name`` was set explicitly (file, environment, override), not defaulted."""
        return name in self._raw

    def raw_value(self, name: str) -> str | None:
        """The value exactly as given (``None`` if not set)."""
        return self._raw.get(name)

    def origin(self, name: str) -> Origin:
        """Where ``name``'s value came from."""
        return self._origins.get(name, _DEFAULT_ORIGIN)

    def source(self, name: str) -> ConfigSource:
        """DescribeConfigs source of ``name``: STATIC_BROKER_CONFIG if set, else DEFAULT_CONFIG."""
        return self.origin(name).source

    def value_string(self, name: str) -> str | None:
        """``name``'s value as DescribeConfigs prints it (``None`` for null)."""
        return to_config_string(self._values[name], BROKER_CONFIGS[name].type)

    def items(self) -> Iterator[tuple[str, Any]]:
        """(name, typed value) for every broker key, in table order."""
        for name in BROKER_CONFIGS:
            yield name, self._values[name]

    @property
    def ignored(self) -> tuple[tuple[str, str, Origin], ...]:
        """Kafka keys that were given but are ignored: ``(name, value, origin)``."""
        return self._ignored

    def changed(self) -> list[str]:
        """Names of the keys set explicitly, in table order."""
        return [n for n in BROKER_CONFIGS if n in self._raw]

    # -- derived views -----------------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        """The (absolute) data directory: ``log.dirs``, else ``log.dir``."""
        dirs = self._values["log.dirs"] if self._values["log.dirs"] is not None else self._values["log.dir"]
        return Path(os.path.expanduser(dirs[0])).absolute()

    @property
    def node_id(self) -> int:
        """``node.id`` (= ``broker.id``)."""
        return int(self._values["node.id"])

    @property
    def listeners(self) -> list[Endpoint]:
        """The broker listeners to bind (controller listeners excluded)."""
        return list(self._listeners)

    @property
    def controller_listeners(self) -> list[Endpoint]:
        """Listeners named in ``controller.listener.names`` (accepted, not served)."""
        return list(self._controller_listeners)

    @property
    def advertised_listeners(self) -> list[Endpoint]:
        """What Metadata/FindCoordinator advertise: never a wildcard or empty host."""
        return list(self._advertised)

    def advertised_for(self, listener_name: str) -> Endpoint | None:
        """The advertised endpoint of a listener (by name, case-insensitive)."""
        wanted = listener_name.upper()
        return next((e for e in self._advertised if e.listener_name == wanted), None)

    @property
    def log_level(self) -> str:
        """``chronik.log.level`` as a :mod:`logging` level name (``WARN`` -> ``WARNING``)."""
        level = str(self._values["chronik.log.level"]).upper()
        return "WARNING" if level == "WARN" else level

    @property
    def meta(self) -> MetaProperties | None:
        """The data directory's ``meta.properties`` once :meth:`with_meta` attached it."""
        return self._meta

    @property
    def cluster_id(self) -> str | None:
        """The cluster id: from ``meta.properties`` once attached, else ``chronik.cluster.id``."""
        if self._meta is not None:
            return self._meta.cluster_id
        return self._values["chronik.cluster.id"]

    def with_meta(self, meta: MetaProperties) -> BrokerConfig:
        """A copy carrying the data directory's ``meta.properties`` (see :attr:`cluster_id`)."""
        other = BrokerConfig(self._raw, self._origins, self._values, self._ignored, meta)
        other._listener_values = self._listener_values
        other._listeners, other._controller_listeners, other._advertised = (
            self._listeners,
            self._controller_listeners,
            self._advertised,
        )
        return other

    def __repr__(self) -> str:
        changed = ", ".join(f"{n}={self.value_string(n)!r}" for n in self.changed())
        return f"BrokerConfig({changed})"


def _advertisable(host: str | None) -> str:
    return ADVERTISED_FALLBACK_HOST if host is None or host in _WILDCARD_HOSTS else host


def _apply_kafka_port(merged: Mapping[str, str], port_text: str) -> str:
    """Rewrite the PLAINTEXT listener's port in the current ``listeners`` value (``KAFKA_PORT``)."""
    port_s = _java_trim(port_text)
    if not _INT_RE.fullmatch(port_s) or not 0 <= int(port_s) <= 65535:
        raise ConfigException(f"{ENV_KAFKA_PORT}={port_text!r} is not a port number (0-65535)")
    port = int(port_s)
    current = merged.get("listeners")
    entries = BROKER_CONFIGS["listeners"].default if current is None else parse_value("listeners", current, LS)
    controller_names = {
        n.upper() for n in (parse_value("controller.listener.names", merged.get("controller.listener.names"), LS) or [])
    }
    try:
        proto_map = parse_security_protocol_map(
            merged.get("listener.security.protocol.map", _DEFAULT_PROTOCOL_MAP), sorted(controller_names)
        )
    except ConfigException:
        proto_map = {"PLAINTEXT": "PLAINTEXT"}
    out = list(entries)
    for i, entry in enumerate(out):
        m = _LISTENER_RE.fullmatch(entry)
        if not m:
            continue
        name = m.group(1).upper()
        if name not in controller_names and proto_map.get(name) == "PLAINTEXT":
            out[i] = _replace_port(entry, port)
            return ",".join(out)
    raise ConfigException(f"{ENV_KAFKA_PORT} is set but listeners ({','.join(entries)}) has no PLAINTEXT listener")


# --------------------------------------------------------------------------------------------
# DescribeConfigs: broker resources
# --------------------------------------------------------------------------------------------

_SYNONYM_FAMILIES: Final = (
    ("log.roll.ms", "log.roll.hours"),
    ("log.roll.jitter.ms", "log.roll.jitter.hours"),
    ("log.retention.ms", "log.retention.minutes", "log.retention.hours"),
)
_LISTENER_OVERRIDE_RE = re.compile(r"listener\.name\.[^.]*\.(.*)")


def broker_config_synonyms(name: str, match_listener_override: bool = True) -> list[str]:
    """``DynamicBrokerConfig.brokerConfigSynonyms``: the broker keys that can supply ``name``."""
    for family in _SYNONYM_FAMILIES:
        if name in family:
            return list(family)
    if name == "log.flush.interval.ms":
        return ["log.flush.interval.ms", "log.flush.scheduler.interval.ms"]
    m = _LISTENER_OVERRIDE_RE.fullmatch(name)
    if match_listener_override and m:
        return [name, m.group(1)]
    return [name]


def _broker_synonym_entries(config: BrokerConfig, names: Sequence[str], sensitive: bool) -> list[ConfigSynonym]:
    """``configSynonyms`` without the final ``dropWhile``: static values, then defaults."""
    out: list[ConfigSynonym] = []
    for n in names:
        if config.is_set(n):
            out.append(ConfigSynonym(n, None if sensitive else config.raw_value(n), ConfigSource.STATIC_BROKER_CONFIG))
    for n in names:
        key = BROKER_CONFIGS.get(n)
        if key is not None and key.has_default and key.default is not None:
            out.append(ConfigSynonym(n, None if sensitive else key.default_string, ConfigSource.DEFAULT_CONFIG))
    return out


def describe_broker_configs(
    config: BrokerConfig,
    names: Iterable[str] | None = None,
    *,
    include_synonyms: bool = True,
    include_documentation: bool = False,
    include_internal: bool = False,
) -> list[ConfigEntry]:
    """DescribeConfigs for this broker (resource type BROKER, name = node id), as Kafka answers.

    ``names`` limits the answer (unknown names are silently left out, as in Kafka); ``None`` or
    empty means all (non-internal) keys, sorted by name. Every config is read-only: Chronik has
    no dynamic broker configs.
    """
    wanted = set(names) if names else None
    out: list[ConfigEntry] = []
    for name in sorted(BROKER_CONFIGS):
        key = BROKER_CONFIGS[name]
        if wanted is not None:
            if name not in wanted:
                continue
        elif key.internal and not include_internal:
            continue
        sensitive = key.type is ConfigType.PASSWORD
        synonyms = _broker_synonym_entries(config, broker_config_synonyms(name), sensitive)
        while synonyms and synonyms[0].name != name:  # Kafka's dropWhile
            synonyms.pop(0)
        source = synonyms[0].source if synonyms else ConfigSource.DEFAULT_CONFIG
        out.append(
            ConfigEntry(
                name=name,
                value=None if sensitive else config.value_string(name),
                source=source,
                is_sensitive=sensitive,
                read_only=True,
                synonyms=tuple(synonyms) if include_synonyms else (),
                config_type=key.type.describe_id,
                documentation=key.documentation if include_documentation else None,
            )
        )
    return out


# --------------------------------------------------------------------------------------------
# Topic configs: resolution, validation, DescribeConfigs
# --------------------------------------------------------------------------------------------


def _broker_default_for_topic(key: ConfigKey, broker: BrokerConfig) -> Any:
    """The topic default a broker implies (``KafkaConfig.extractLogConfigMap``)."""
    value = key.default
    for syn in key.synonyms:
        broker_value = broker.get(syn.name)
        if broker_value is not None:
            value = broker_value * syn.to_ms if syn.to_ms != 1 else broker_value
            if key.name == "retention.ms" and value < 0:
                value = -1  # KafkaConfig.logRetentionTimeMillis
            break
    return list(value) if isinstance(value, list) else value


def topic_config_defaults(broker: BrokerConfig) -> dict[str, Any]:
    """Typed defaults for every topic key, taking the broker's synonyms into account."""
    return {name: _broker_default_for_topic(key, broker) for name, key in TOPIC_CONFIGS.items()}


def effective_topic_configs(topic_overrides: Mapping[str, str], broker: BrokerConfig) -> dict[str, Any]:
    """Typed effective values of every topic key for a topic with ``topic_overrides``.

    Overrides must already be valid (see :func:`validate_topic_configs`);
    :class:`ConfigException` otherwise.
    """
    values = topic_config_defaults(broker)
    for name, raw in topic_overrides.items():
        key = TOPIC_CONFIGS.get(name)
        if key is None:
            raise ConfigException(f"Unknown topic config name: {name}")
        values[name] = key.parse(raw)
    return values


def resolve_topic_config(
    name: str, topic_overrides: Mapping[str, str], broker_config: BrokerConfig
) -> tuple[Any, ConfigSource, list[ConfigSynonym]]:
    """DescribeConfigs' answer for one topic key: ``(typed value, source, synonyms)``.

    * set on the topic: ``DYNAMIC_TOPIC_CONFIG`` (1), synonyms start with the topic override;
    * else set in the broker config (any synonym, file/env/override): ``STATIC_BROKER_CONFIG`` (4);
    * else ``DEFAULT_CONFIG`` (5).

    Synonyms follow Kafka's order: the topic override, then every statically set broker synonym
    (in ``ServerTopicConfigSynonyms`` order), then every broker synonym with a non-null default.
    (Kafka additionally drops leading synonyms that are not the primary broker key; see the module
    docstring.) Use :func:`to_config_string` for the value string.
    """
    key = TOPIC_CONFIGS.get(name)
    if key is None:
        raise ConfigException(f"Unknown topic config name: {name}")
    sensitive = key.type is ConfigType.PASSWORD
    synonyms = _broker_synonym_entries(broker_config, [s.name for s in key.synonyms], sensitive)
    if name in topic_overrides:
        value = key.parse(topic_overrides[name])
        shown = None if sensitive else to_config_string(value, key.type)
        synonyms.insert(0, ConfigSynonym(name, shown, ConfigSource.DYNAMIC_TOPIC_CONFIG))
    else:
        value = _broker_default_for_topic(key, broker_config)
    source = synonyms[0].source if synonyms else ConfigSource.DEFAULT_CONFIG
    return value, source, synonyms


def describe_topic_configs(
    topic_overrides: Mapping[str, str],
    broker_config: BrokerConfig,
    names: Iterable[str] | None = None,
    *,
    include_synonyms: bool = True,
    include_documentation: bool = False,
) -> list[ConfigEntry]:
    """DescribeConfigs for a TOPIC resource: every (non-internal) topic key, sorted by name.

    ``names`` limits the answer; unknown names are silently left out, as in Kafka.
    """
    wanted = set(names) if names else None
    out: list[ConfigEntry] = []
    for name in sorted(TOPIC_CONFIGS):
        key = TOPIC_CONFIGS[name]
        if wanted is not None:
            if name not in wanted:
                continue
        elif key.internal:
            continue
        value, source, synonyms = resolve_topic_config(name, topic_overrides, broker_config)
        sensitive = key.type is ConfigType.PASSWORD
        out.append(
            ConfigEntry(
                name=name,
                value=None if sensitive else to_config_string(value, key.type),
                source=source,
                is_sensitive=sensitive,
                read_only=False,
                synonyms=tuple(synonyms) if include_synonyms else (),
                config_type=key.type.describe_id,
                documentation=key.documentation if include_documentation else None,
            )
        )
    return out


@dataclass(frozen=True)
class TopicConfigError:
    """An invalid topic config, as CreateTopics/AlterConfigs report it."""

    error_code: int
    message: str


def _topic_errors(
    configs: Mapping[str, str | None], broker_config: BrokerConfig | None
) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """All problems in Kafka's checking order, as ``(key, message)``, plus the parsed values."""
    problems: list[tuple[str, str]] = []
    nulls = [k for k, v in configs.items() if v is None]
    if nulls:
        message = "Null value not supported for topic configs: " + ",".join(nulls)
        problems.extend((k, message) for k in nulls)
    for k in configs:
        if k not in TOPIC_CONFIGS:
            problems.append((k, f"Unknown topic config name: {k}"))
    parsed: dict[str, Any] = {}
    for name, key in TOPIC_CONFIGS.items():  # ConfigDef.parse walks keys in definition order
        raw = configs.get(name)
        if raw is None:
            continue
        try:
            parsed[name] = key.parse(raw)
        except ConfigException as e:
            problems.append((name, str(e)))
    if any(k in configs for k in ("min.compaction.lag.ms", "max.compaction.lag.ms")):
        defaults = topic_config_defaults(broker_config) if broker_config is not None else {}

        def effective(n: str) -> Any:
            return parsed.get(n, defaults.get(n, TOPIC_CONFIGS[n].default))

        lo, hi = effective("min.compaction.lag.ms"), effective("max.compaction.lag.ms")
        if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
            culprit = "min.compaction.lag.ms" if "min.compaction.lag.ms" in configs else "max.compaction.lag.ms"
            problems.append(
                (culprit, f"conflict topic config setting min.compaction.lag.ms ({lo}) > max.compaction.lag.ms ({hi})")
            )
    if parsed.get("remote.storage.enable"):
        problems.append(
            (
                "remote.storage.enable",
                "Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log "
                "storage.",
            )
        )
    return problems, parsed


def validate_topic_configs(
    configs: Mapping[str, str | None], broker_config: BrokerConfig | None = None
) -> dict[str, TopicConfigError]:
    """Check topic configs as CreateTopics/AlterConfigs do: ``{key: error}`` for each bad key.

    Every error is ``INVALID_CONFIG`` (40) with Kafka's message: ``Unknown topic config name: x``,
    ``Invalid value v for configuration k: ...``, ``Null value not supported for topic configs:
    ...``, the compaction-lag conflict, and tiered storage being unavailable. An empty dict means
    valid. Kafka reports only the first problem per request; :func:`first_topic_config_error`
    gives that one.
    """
    problems, _ = _topic_errors(configs, broker_config)
    out: dict[str, TopicConfigError] = {}
    for key, message in problems:
        out.setdefault(key, TopicConfigError(INVALID_CONFIG, message))
    return out


def first_topic_config_error(
    configs: Mapping[str, str | None], broker_config: BrokerConfig | None = None
) -> TopicConfigError | None:
    """The single error Kafka would return for this config set (``None`` if valid)."""
    problems, _ = _topic_errors(configs, broker_config)
    return TopicConfigError(INVALID_CONFIG, problems[0][1]) if problems else None


# --------------------------------------------------------------------------------------------
# meta.properties and the cluster id
# --------------------------------------------------------------------------------------------

META_PROPERTIES: Final = "meta.properties"
_CLUSTER_ID_RE = re.compile(r"[A-Za-z0-9_-]{22}")


def _uuid_to_kafka_string(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def generate_cluster_id(randbytes: Callable[[], bytes] | None = None) -> str:
    """A random id in Kafka's ``Uuid.randomUuid().toString()`` form (22 base64url characters).

    Like Kafka, never returns the reserved all-zero/one UUIDs or a string starting with ``-``.
    """
    while True:
        raw = randbytes() if randbytes is not None else uuid.uuid4().bytes
        if raw in (bytes(16), bytes(15) + b"\x01"):
            continue
        text = _uuid_to_kafka_string(raw)
        if not text.startswith("-"):
            return text


def is_valid_cluster_id(text: str) -> bool:
    """Whether ``text`` is a base64url-encoded 16-byte UUID (what ``Uuid.fromString`` accepts)."""
    if not _CLUSTER_ID_RE.fullmatch(text):
        return False
    try:
        return len(base64.urlsafe_b64decode(text + "==")) == 16
    except ValueError:  # pragma: no cover - the regex already guarantees the alphabet
        return False


def read_meta_properties(data_dir: str | os.PathLike[str]) -> MetaProperties | None:
    """Read ``<data_dir>/meta.properties`` (``None`` if absent; :class:`ConfigError` if invalid)."""
    path = Path(data_dir) / META_PROPERTIES
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as e:
        raise ConfigError([f"cannot read {path}: {e.strerror or e}"]) from e
    props = {k: _java_trim(v) for k, v, _ in parse_properties(text, str(path))}
    try:
        version = int(props.get("version", ""))
    except ValueError:
        raise ConfigError([f"{path}: missing or invalid 'version'"]) from None
    if version != 1:
        raise ConfigError([f"{path}: unsupported meta.properties version {version} (Chronik reads version 1)"])
    cluster_id = props.get("cluster.id", "")
    if not cluster_id:
        raise ConfigError([f"{path}: missing 'cluster.id'"])
    try:
        node_id = int(props.get("node.id", ""))
    except ValueError:
        raise ConfigError([f"{path}: missing or invalid 'node.id'"]) from None
    extra = {k: v for k, v in props.items() if k not in ("version", "cluster.id", "node.id", "directory.id")}
    return MetaProperties(cluster_id, node_id, props.get("directory.id"), version, extra)


def _write_meta_properties(data_dir: Path, meta: MetaProperties) -> None:
    lines = ["#", "# Written by Chronik (Kafka KRaft meta.properties, version 1)"]
    fields = {"cluster.id": meta.cluster_id, "node.id": str(meta.node_id), "version": str(meta.version)}
    if meta.directory_id:
        fields["directory.id"] = meta.directory_id
    fields.update(meta.extra)
    lines += [f"{k}={fields[k]}" for k in sorted(fields)]
    fd, tmp = tempfile.mkstemp(prefix=".meta.properties.", dir=data_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, data_dir / META_PROPERTIES)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(data_dir, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def ensure_meta_properties(config: BrokerConfig) -> MetaProperties:
    """Read, or on first use create, ``<data dir>/meta.properties``; check it against ``config``.

    On first use the cluster id is ``chronik.cluster.id`` or a fresh random id. Later, a
    configured ``chronik.cluster.id`` or ``node.id`` that differs from the stored one is an error
    (:class:`ConfigError`), as Kafka refuses a log directory formatted for another cluster or node.
    """
    data_dir = config.data_dir
    configured = config.get("chronik.cluster.id")
    if configured is not None and not is_valid_cluster_id(configured):
        raise ConfigError(
            [
                f"Invalid value {configured} for configuration chronik.cluster.id: expected a 22-character base64url "
                f"UUID such as {generate_cluster_id()} ({config.origin('chronik.cluster.id')})"
            ]
        )
    meta = read_meta_properties(data_dir)
    if meta is None:
        meta = MetaProperties(
            cluster_id=configured or generate_cluster_id(),
            node_id=config.node_id,
            directory_id=generate_cluster_id(),
        )
        _write_meta_properties(data_dir, meta)
        return meta
    problems: list[str] = []
    path = data_dir / META_PROPERTIES
    if configured is not None and configured != meta.cluster_id:
        problems.append(
            f"{path} belongs to cluster {meta.cluster_id}, but chronik.cluster.id is {configured} "
            f"({config.origin('chronik.cluster.id')})"
        )
    if meta.node_id != config.node_id:
        problems.append(
            f"{path} was written by node {meta.node_id}, but node.id is {config.node_id} ({config.origin('node.id')})"
        )
    if problems:
        raise ConfigError(problems)
    return meta
