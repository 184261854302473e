"""The scenario catalogue of ``conformance/SCENARIOS.md``: names, the topics the runner creates, the fast subset."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "ALL_SCENARIOS",
    "FAST_SCENARIOS",
    "GROUP_SCENARIOS",
    "RESTART_CONSUME",
    "RESTART_PRODUCE",
    "SCENARIO_TOPICS",
    "SECURITY_SCENARIOS",
    "TopicSpec",
    "topic_name",
]

CODECS = ("none", "gzip", "snappy", "lz4", "zstd")

#: Over the SSL / SASL listeners of the ``--security`` file.
SECURITY_SCENARIOS = ("security-ssl", "security-sasl-plaintext", "security-sasl-ssl", "security-auth-failure")

#: Every scenario in report order; ``restart`` stands for the pair below.
ALL_SCENARIOS: tuple[str, ...] = (
    "connect",
    "metadata",
    *(f"roundtrip-{c}" for c in CODECS),
    "max-message-bytes",
    "acks-0",
    "acks-1",
    "acks-all",
    "consume-earliest",
    "consume-latest",
    "consume-timestamp",
    "idempotent",
    "admin-topics",
    "admin-configs",
    "admin-partitions",
    "admin-records",
    "restart",
    "group-offsets",
    "group-rebalance",
    "group-cooperative",
    "group-static",
    "group-consumer-protocol",
    *SECURITY_SCENARIOS,
)

#: Scenarios that use consumer groups (the broker side is issue 5).
GROUP_SCENARIOS = tuple(s for s in ALL_SCENARIOS if s.startswith("group-"))

#: What CI runs on every push (with the required clients): the core of each area, one compressed codec.
FAST_SCENARIOS: tuple[str, ...] = (
    "connect",
    "metadata",
    "roundtrip-none",
    "roundtrip-zstd",
    "max-message-bytes",
    "acks-all",
    "consume-earliest",
    "consume-timestamp",
    "idempotent",
    "admin-topics",
    "admin-configs",
    "admin-records",
    "restart",
    "group-offsets",
    "group-rebalance",
    "group-consumer-protocol",
    *SECURITY_SCENARIOS,
)

RESTART_PRODUCE = "restart-produce"
RESTART_CONSUME = "restart-consume"


#: Standard records carry 2023 timestamps: without this, time retention (7 days) deletes them mid-run.
KEEP_FOREVER = {"retention.ms": "-1"}


@dataclass(frozen=True)
class TopicSpec:
    """A topic the runner creates before a driver runs (replication factor 1, no time retention)."""

    scenario: str
    partitions: int = 1
    extra_configs: dict[str, str] = field(default_factory=dict)

    @property
    def configs(self) -> dict[str, str]:
        return {**KEEP_FOREVER, **self.extra_configs}


SCENARIO_TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec("metadata", 3),
    *(TopicSpec(f"roundtrip-{c}") for c in CODECS),
    TopicSpec("max-message-bytes", 1, {"max.message.bytes": "65536"}),
    TopicSpec("acks-0"),
    TopicSpec("acks-1"),
    TopicSpec("acks-all"),
    TopicSpec("consume-earliest"),
    TopicSpec("consume-latest"),
    TopicSpec("consume-timestamp"),
    TopicSpec("idempotent", 3),
    TopicSpec("admin-records"),
    TopicSpec("restart"),
    TopicSpec("group-rebalance", 12),
    TopicSpec("group-cooperative", 12),
    TopicSpec("group-consumer-protocol", 12),
    TopicSpec("group-static", 4),
    TopicSpec("security-ssl"),
    # partition m: mechanism m of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER
    TopicSpec("security-sasl-plaintext", 4),
    TopicSpec("security-sasl-ssl", 4),
    TopicSpec("security-auth-failure"),
)


def topic_name(prefix: str, scenario: str) -> str:
    """``T(s)`` of SCENARIOS.md."""
    return f"{prefix}.{scenario}"
