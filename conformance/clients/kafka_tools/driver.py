"""Conformance driver for Apache Kafka's own command-line tools (the kafka-tools jar of the reference release).

Each step runs the class a ``bin/kafka-*.sh`` script runs (``TopicCommand``, ``ConfigCommand``,
``ConsumerGroupCommand``, ``GetOffsetShell``, ``DeleteRecordsCommand``, ``BrokerApiVersionsCommand``,
``ConsoleProducer``, ``ConsoleConsumer``) as a JVM process and checks what it prints, as an operator would.
Scenarios the tools cannot express (compression, acks, timestamps, idempotence) are ``unsupported``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "python"))

from common import PASSWORD_MECHANISMS, Ctx, Unsupported, fail, main, skip_unusable, standard_records

from chronik_conformance.kafka_reference import KAFKA_VERSION, ensure_kafka_lib, tool_command

TOOLS = "org.apache.kafka.tools."


class ToolFailed(Exception):
    """A tool exited non-zero; the message holds its exit code and output tail."""


def tool(ctx: Ctx, main_class: str, *args: str, stdin: str | None = None, expect_ok: bool = True) -> str:
    """Run one tool against the broker; its stdout+stderr (a failing tool raises :class:`ToolFailed`)."""
    name = main_class.rsplit(".", 1)[-1]
    ctx.step(f"{name} {' '.join(args)}")
    cmd = tool_command(TOOLS + main_class, *args, heap=["-Xmx256M"], log_level="error")
    done = subprocess.run(
        cmd, input=stdin, capture_output=True, text=True, timeout=ctx.remaining(45.0), check=False
    )
    out = done.stdout + done.stderr
    print(f"$ {name} {' '.join(args)} -> {done.returncode}\n{out}", file=sys.stderr)
    if expect_ok and done.returncode != 0:
        tail = " | ".join(out.strip().splitlines()[-3:])
        raise ToolFailed(f"{name} exited {done.returncode}: {tail}")
    return out


def conn_args(ctx: Ctx) -> list[str]:
    """``--command-config FILE`` with the client settings of ``ctx.conn`` (a secured listener's), if any."""
    if not ctx.conn:
        return []
    with tempfile.NamedTemporaryFile("w", suffix=".properties", delete=False) as f:
        f.write("".join(f"{k}={v}\n" for k, v in ctx.conn.items()))
    return ["--command-config", f.name]


def topics(ctx: Ctx, *args: str, expect_ok: bool = True) -> str:
    return tool(ctx, "TopicCommand", "--bootstrap-server", ctx.bootstrap, *args, expect_ok=expect_ok)


def listed(ctx: Ctx) -> set[str]:
    return set(topics(ctx, "--list").split())


def describe(ctx: Ctx, topic: str) -> list[dict[str, str]]:
    """``kafka-topics --describe``: one dict per partition line (Partition, Leader, Replicas, Isr)."""
    rows = []
    for line in topics(ctx, "--describe", "--topic", topic).splitlines():
        fields = dict(re.findall(r"(\w+): ?([^\t]*)", line))
        if "Partition" in fields:
            rows.append({k: v.strip() for k, v in fields.items()})
    return rows


def topic_configs(ctx: Ctx, topic: str, all_configs: bool) -> dict[str, str]:
    """``kafka-configs --describe [--all]``: name → 'value sensitive=… synonyms={…}'."""
    args = ["--bootstrap-server", ctx.bootstrap, "--describe", "--entity-type", "topics", "--entity-name", topic]
    out = tool(ctx, "ConfigCommand", *args, *(["--all"] if all_configs else []))
    configs = {}
    for line in out.splitlines():
        m = re.match(r"\s+([a-z0-9.]+)=(.*)$", line)
        if m:
            configs[m.group(1)] = m.group(2)
    return configs


def value_of(described: str) -> str:
    return described.split(" sensitive=")[0]


def produce(ctx: Ctx, topic: str, count: int) -> None:
    """Standard records' keys and values (headers too) through ConsoleProducer; it cannot set timestamps."""
    lines = []
    for r in standard_records(ctx.scenario, count):
        headers = ",".join(f"{k}:{v.decode()}" for k, v in r.headers)
        lines.append(f"{headers}\t{r.key.decode()}\t{r.value.decode()}")
    tool(
        ctx, "ConsoleProducer", "--bootstrap-server", ctx.bootstrap, "--topic", topic,
        "--reader-property", "parse.key=true", "--reader-property", "parse.headers=true",
        "--command-property", "acks=all", *conn_args(ctx), stdin="\n".join(lines) + "\n",
    )
    ctx.skip("timestamps (ConsoleProducer cannot set them)")


def consume(ctx: Ctx, topic: str, offset: str, count: int) -> list[tuple[int, str, str]]:
    """(offset, key, value) of ``count`` records of partition 0 from ``offset``, via ConsoleConsumer."""
    out = tool(
        ctx, "consumer.ConsoleConsumer", "--bootstrap-server", ctx.bootstrap, "--topic", topic,
        "--partition", "0", "--offset", offset, "--max-messages", str(count), "--timeout-ms", "20000",
        "--formatter-property", "print.offset=true", "--formatter-property", "print.key=true", *conn_args(ctx),
    )
    got = []
    for line in out.splitlines():
        m = re.match(r"Offset:(\d+)\t(\S*)\t(.*)$", line)
        if m:
            got.append((int(m.group(1)), m.group(2), m.group(3)))
    return got


def end_offsets(ctx: Ctx, topic: str, time_spec: str) -> int:
    """``kafka-get-offsets --time`` for partition 0 (-1 latest, -2 earliest, or a timestamp)."""
    out = tool(ctx, "GetOffsetShell", "--bootstrap-server", ctx.bootstrap, "--topic", topic, "--time", time_spec)
    m = re.search(rf"^{re.escape(topic)}:0:(-?\d*)$", out, re.M)
    if not m:
        raise ToolFailed(f"GetOffsetShell printed no offset for {topic}:0: {out.strip()[-200:]}")
    return int(m.group(1)) if m.group(1) else -1


# ---- scenarios ------------------------------------------------------------------------------


def connect(ctx: Ctx) -> None:
    out = tool(ctx, "BrokerApiVersionsCommand", "--bootstrap-server", ctx.bootstrap)
    m = re.search(r"^(\S+):(\d+) \(id: (-?\d+)", out, re.M)
    ctx.check(m is not None, "broker line", "host:port (id: N ...)", out.strip()[:200])
    assert m is not None
    brokers = re.findall(r"^\S+:\d+ \(id: ", out, re.M)
    ctx.check(len(brokers) == 1, "brokers listed", 1, len(brokers))
    ctx.check(f"{m.group(1)}:{m.group(2)}" == ctx.bootstrap, "broker address", ctx.bootstrap, m.group(0))
    ctx.check(int(m.group(3)) >= 0, "node id", ">= 0", m.group(3))
    ctx.facts["broker_id"] = int(m.group(3))
    apis = re.findall(r"^\s+(\w+)\(\d+\): (.*?),?$", out, re.M)
    ctx.facts["apis_usable"] = sum(1 for _, versions in apis if "UNSUPPORTED" not in versions)


def metadata(ctx: Ctx) -> None:
    rows = describe(ctx, ctx.topic)
    ctx.check(sorted(int(r["Partition"]) for r in rows) == [0, 1, 2], "partitions", [0, 1, 2], rows)
    for r in rows:
        leader = r["Leader"]
        ctx.check(r["Replicas"] == leader and r["Isr"] == leader, f"partition {r['Partition']}", leader, r)
    ctx.check(ctx.topic in listed(ctx), "listed", ctx.topic, "missing")


def admin_topics(ctx: Ctx) -> None:
    name = f"{ctx.prefix}.admin-topics-new"
    create = ["--create", "--topic", name, "--partitions", "3", "--replication-factor", "1"]
    topics(ctx, *create, "--config", "retention.ms=3600000")
    ctx.check(name in listed(ctx), "listed after create", name, "missing")
    ctx.check(len(describe(ctx, name)) == 3, "partitions", 3, "other")
    again = topics(ctx, *create, expect_ok=False)
    ctx.check("TopicExistsException" in again, "create again", "TopicExistsException", again.strip()[-200:])
    ctx.facts["create_again"] = "TopicExistsException"
    topics(ctx, "--delete", "--topic", name)
    deadline = time.monotonic() + 10
    while name in listed(ctx):
        ctx.check(time.monotonic() < deadline, "deleted within 10 s", "gone", "still listed")
        time.sleep(0.5)


def admin_configs(ctx: Ctx) -> None:
    name = f"{ctx.prefix}.admin-configs-new"
    topics(ctx, "--create", "--topic", name, "--partitions", "1", "--replication-factor", "1")
    before = topic_configs(ctx, name, all_configs=True)
    ctx.check(value_of(before.get("retention.ms", "")) == "604800000", "retention.ms default", "604800000", before)
    alter = ["--bootstrap-server", ctx.bootstrap, "--alter", "--entity-type", "topics", "--entity-name", name]
    tool(ctx, "ConfigCommand", *alter, "--add-config", "retention.ms=3600000,cleanup.policy=compact")
    ctx.facts["alter_api"] = "IncrementalAlterConfigs (kafka-configs)"
    after = topic_configs(ctx, name, all_configs=False)
    ctx.check(value_of(after.get("retention.ms", "")) == "3600000", "retention.ms", "3600000", after)
    ctx.check("DYNAMIC_TOPIC_CONFIG" in after.get("retention.ms", ""), "source", "DYNAMIC_TOPIC_CONFIG", after)
    ctx.check(value_of(after.get("cleanup.policy", "")) == "compact", "cleanup.policy", "compact", after)
    topics(ctx, "--delete", "--topic", name)


def admin_partitions(ctx: Ctx) -> None:
    name = f"{ctx.prefix}.admin-partitions-new"
    topics(ctx, "--create", "--topic", name, "--partitions", "1", "--replication-factor", "1")
    topics(ctx, "--alter", "--topic", name, "--partitions", "4")
    parts = sorted(int(r["Partition"]) for r in describe(ctx, name))
    ctx.check(parts == [0, 1, 2, 3], "partitions", [0, 1, 2, 3], parts)
    fewer = topics(ctx, "--alter", "--topic", name, "--partitions", "2", expect_ok=False)
    ctx.check("InvalidPartitionsException" in fewer, "decrease", "InvalidPartitionsException", fewer.strip()[-200:])
    topics(ctx, "--delete", "--topic", name)


def admin_records(ctx: Ctx) -> None:
    produce(ctx, ctx.topic, 10)
    ctx.check(end_offsets(ctx, ctx.topic, "-2") == 0, "earliest", 0, "other")
    ctx.check(end_offsets(ctx, ctx.topic, "-1") == 10, "latest", 10, "other")
    ctx.skip("offset by timestamp (records carry produce-time timestamps)")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"version": 1, "partitions": [{"topic": ctx.topic, "partition": 0, "offset": 4}]}, f)
    out = tool(ctx, "DeleteRecordsCommand", "--bootstrap-server", ctx.bootstrap, "--offset-json-file", f.name)
    Path(f.name).unlink()
    m = re.search(r"low_watermark: (\d+)", out)
    ctx.check(m is not None and int(m.group(1)) == 4, "low watermark", 4, out.strip()[-200:])
    ctx.check(end_offsets(ctx, ctx.topic, "-2") == 4, "earliest after delete", 4, "other")
    got = consume(ctx, ctx.topic, "earliest", 6)
    want = [(r_i, f"k{r_i}", standard_records(ctx.scenario, 10)[r_i].value.decode()) for r_i in range(4, 10)]
    ctx.check(got == want, "records 4..9", want, got)


def group_offsets(ctx: Ctx) -> None:
    """kafka-consumer-groups: commit by reset, describe lag, list, reset to earliest, delete."""
    topic = f"{ctx.prefix}.consume-earliest"
    if end_offsets(ctx, topic, "-1") == 0:
        produce(ctx, topic, 20)
    end = end_offsets(ctx, topic, "-1")
    group = f"{ctx.prefix}.group-offsets-tools"
    base = ["--bootstrap-server", ctx.bootstrap, "--group", group]
    tool(ctx, "consumer.group.ConsumerGroupCommand", *base, "--reset-offsets", "--topic", f"{topic}:0",
         "--to-offset", "7", "--execute")
    listing = tool(ctx, "consumer.group.ConsumerGroupCommand", "--bootstrap-server", ctx.bootstrap, "--list")
    ctx.check(group in listing.split(), "listed", group, listing.strip()[-200:])
    described = tool(ctx, "consumer.group.ConsumerGroupCommand", *base, "--describe", "--offsets")
    row = next((line.split() for line in described.splitlines() if line.startswith(group)), None)
    ctx.check(row is not None, "describe row", group, described.strip()[-300:])
    assert row is not None
    current, log_end, lag = row[3], row[4], row[5]
    ctx.check((current, log_end, lag) == ("7", str(end), str(end - 7)), "current/log-end/lag",
              ("7", str(end), str(end - 7)), (current, log_end, lag))
    ctx.facts["committed"] = 7
    tool(ctx, "consumer.group.ConsumerGroupCommand", *base, "--reset-offsets", "--topic", topic,
         "--to-earliest", "--execute")
    described = tool(ctx, "consumer.group.ConsumerGroupCommand", *base, "--describe", "--offsets")
    row = next((line.split() for line in described.splitlines() if line.startswith(group)), None)
    ctx.check(row is not None and row[3] == "0", "after reset to earliest", "0", row)
    out = tool(ctx, "consumer.group.ConsumerGroupCommand", *base, "--delete")
    ctx.check("successful" in out, "delete", "successful", out.strip()[-200:])
    listing = tool(ctx, "consumer.group.ConsumerGroupCommand", "--bootstrap-server", ctx.bootstrap, "--list")
    ctx.check(group not in listing.split(), "gone after delete", "absent", "listed")


# ---- security (SCENARIOS.md, "Security scenarios") ------------------------------------------

MECHANISMS = PASSWORD_MECHANISMS


def secured_conf(ctx: Ctx, protocol: str, mechanism: str | None = None, user: str | None = None,
                 password: str | None = None) -> dict[str, str]:
    """The ``--command-config`` properties of a secured listener (the mechanism's user by default)."""
    sec = ctx.secured()
    conf = {"security.protocol": protocol}
    if protocol.endswith("SSL"):  # the chain against the CA, the name (IP SAN) against the address ("https")
        conf.update({"ssl.truststore.type": "PEM", "ssl.truststore.location": sec["ca_file"]})
    if mechanism is not None:
        u = sec["users"][mechanism]
        module = "plain.PlainLoginModule" if mechanism == "PLAIN" else "scram.ScramLoginModule"
        quoted = [json.dumps(v) for v in (user or u["username"], password if password is not None else u["password"])]
        conf["sasl.mechanism"] = mechanism
        conf["sasl.jaas.config"] = (
            f"org.apache.kafka.common.security.{module} required username={quoted[0]} password={quoted[1]};"
        )
    return conf


def security_ssl(ctx: Ctx) -> None:
    bootstrap = ctx.bootstrap
    ctx.bootstrap, ctx.conn = ctx.secured()["ssl"], secured_conf(ctx, "SSL")
    try:
        produce(ctx, ctx.topic, 20)
        got = consume(ctx, ctx.topic, "0", 20)
    finally:
        ctx.bootstrap, ctx.conn = bootstrap, {}
    want = [(i, r.key.decode(), r.value.decode()) for i, r in enumerate(standard_records(ctx.scenario, 20))]
    ctx.facts["consumed"] = len(got)
    ctx.check(got == want, "records 0..19 over SSL", want[:2], got[:2])
    ctx.skip("headers (ConsoleConsumer output is parsed for offset, key and value only)")
    ctx.facts["ca_verified"] = True


def security_auth_failure(ctx: Ctx) -> None:
    sec = ctx.secured()
    refused: dict[str, str] = {}
    skip_unusable(ctx, MECHANISMS)
    bootstrap = ctx.bootstrap
    ctx.bootstrap = sec["sasl_plaintext"]
    try:
        for mech in MECHANISMS:
            u = sec["users"][mech]
            for what, user, password in (
                ("wrong password", u["username"], sec["wrong_password"]),
                ("unknown user", sec["unknown_user"], u["password"]),
            ):
                ctx.conn = secured_conf(ctx, "SASL_PLAINTEXT", mech, user, password)
                out = tool(ctx, "BrokerApiVersionsCommand", "--bootstrap-server", ctx.bootstrap, *conn_args(ctx),
                           expect_ok=False)
                m = re.search(r"SaslAuthenticationException: (.*)", out)
                if m is None:
                    fail(f"{mech} {what}", "SaslAuthenticationException", out.strip()[-200:])
                refused[f"{mech} {what}"] = f"SaslAuthenticationException: {m.group(1).strip()}"
            ctx.conn = secured_conf(ctx, "SASL_PLAINTEXT", mech)
            names = set(topics(ctx, "--list", *conn_args(ctx)).split())
            ctx.check(ctx.topic in names, f"{mech} login after the refusals: topic listed", ctx.topic,
                      f"{len(names)} other topics")
    finally:
        ctx.bootstrap, ctx.conn = bootstrap, {}
    ctx.facts["refused"] = refused
    ctx.facts["mechanisms"] = list(MECHANISMS)


def _unsupported(why: str) -> Callable[[Ctx], None]:
    def scenario(ctx: Ctx) -> None:
        raise Unsupported(why)

    return scenario


NOT_EXPRESSIBLE = {
    **{f"roundtrip-{c}": "the console tools cannot set timestamps" for c in ("none", "gzip", "snappy", "lz4", "zstd")},
    "max-message-bytes": "checked by the client scenarios",
    "acks-0": "checked by the client scenarios",
    "acks-1": "checked by the client scenarios",
    "acks-all": "checked by the client scenarios",
    "consume-earliest": "checked by the client scenarios",
    "consume-latest": "checked by the client scenarios",
    "consume-timestamp": "the console tools cannot set timestamps",
    "idempotent": "the console producer cannot target partitions per record",
    "restart-produce": "checked by the client scenarios",
    "restart-consume": "checked by the client scenarios",
    "group-rebalance": "needs several consumers in one process",
    "group-cooperative": "needs several consumers in one process",
    "group-static": "needs several consumers in one process",
    "group-consumer-protocol": "needs several consumers in one process",
    "security-sasl-plaintext": "the console producer cannot target a partition (mechanism m writes to partition m)",
    "security-sasl-ssl": "the console producer cannot target a partition (mechanism m writes to partition m)",
}

SCENARIOS = {
    "connect": connect,
    "metadata": metadata,
    "admin-topics": admin_topics,
    "admin-configs": admin_configs,
    "admin-partitions": admin_partitions,
    "admin-records": admin_records,
    "group-offsets": group_offsets,
    "security-ssl": security_ssl,
    "security-auth-failure": security_auth_failure,
    **{name: _unsupported(why) for name, why in NOT_EXPRESSIBLE.items()},
}


def version() -> str:
    ensure_kafka_lib()
    return f"kafka-tools {KAFKA_VERSION}"


def describe_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


if __name__ == "__main__":
    sys.exit(main("kafka-tools", version, SCENARIOS, describe_error))
