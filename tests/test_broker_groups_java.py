"""Consumer groups with the Java client 4.4.0 (classic and, KIP-848, consumer protocol) and Kafka's
own ``kafka-consumer-groups`` tool (``ConsumerGroupCommand`` of kafka-tools 4.4.0)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.javacheck.runner import java_available, lib_dir

from .broker_process import BrokerProcess

ROOT = Path(__file__).resolve().parent.parent
RELEASE = "4.4.0"
TOOLS_LIB = ROOT / "conformance" / ".kafka" / "lib"
TOOL = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"

pytestmark = pytest.mark.skipif(not java_available(), reason="java/javac not on PATH: install a JDK 17")


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    if not lib_dir(RELEASE).is_dir():
        subprocess.run([str(ROOT / "scripts" / "java-deps")], check=True)
    data = tmp_path_factory.mktemp("java-groups") / "data"
    with BrokerProcess(data, "group.initial.rebalance.delay.ms=0", "group.consumer.heartbeat.interval.ms=500") as b:
        yield b


def scenario(broker: BrokerProcess, protocol: str, topic: str, group: str, count: int = 1000) -> str:
    proc = subprocess.run(
        [
            "java",
            "-cp",
            f"{lib_dir(RELEASE)}/*",
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
            str(ROOT / "tests/javacheck/GroupScenario.java"),
            broker.bootstrap,
            protocol,
            topic,
            group,
            str(count),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:] + broker.log()[-3000:]
    return proc.stdout


def tool(broker: BrokerProcess, *args: str) -> str:
    proc = subprocess.run(
        [
            "java",
            "-cp",
            f"{TOOLS_LIB}/*",
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
            TOOL,
            "--bootstrap-server",
            broker.bootstrap,
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_java_classic_group_and_consumer_groups_tool(broker: BrokerProcess) -> None:
    out = scenario(broker, "classic", "java-classic", "jc")
    assert "OK protocol=classic consumed=1000 committed=1000" in out, out
    if not (TOOLS_LIB / f"kafka-tools-{RELEASE}.jar").exists():
        pytest.skip("kafka-tools jars not fetched (python -m chronik_conformance.kafka_reference fetches them)")
    assert "jc" in tool(broker, "--list").split()
    described = tool(broker, "--describe", "--group", "jc")
    rows = [line.split() for line in described.splitlines() if line.startswith("jc ")]
    assert sorted((r[1], r[2], r[3], r[4]) for r in rows) == sorted(
        ("java-classic", str(p), str(n), str(n)) for p, n in enumerate([167, 167, 167, 167, 166, 166])
    )
    state = tool(broker, "--describe", "--group", "jc", "--state")
    assert "Empty" in state and "127.0.0.1:" in state
    reset = tool(broker, "--reset-offsets", "--group", "jc", "--topic", "java-classic", "--to-earliest", "--execute")
    assert len([line for line in reset.splitlines() if line.startswith("jc ")]) == 6
    described = tool(broker, "--describe", "--group", "jc", "--offsets")
    assert sorted(line.split()[3] for line in described.splitlines() if line.startswith("jc ")) == ["0"] * 6


def test_java_consumer_protocol_group(broker: BrokerProcess) -> None:
    """KIP-848: group.protocol=consumer; the second member gets partitions only once the first revoked them."""
    out = scenario(broker, "consumer", "java-848", "j848")
    assert "OK protocol=consumer consumed=1000 committed=1000" in out, out
    if not (TOOLS_LIB / f"kafka-tools-{RELEASE}.jar").exists():
        pytest.skip("kafka-tools jars not fetched")
    state = tool(broker, "--describe", "--group", "j848", "--state")
    assert "uniform" in state and "Empty" in state
    described = tool(broker, "--describe", "--group", "j848")
    assert sorted(line.split()[3] for line in described.splitlines() if line.startswith("j848 ")) == sorted(
        ["167"] * 4 + ["166"] * 2
    )
    assert "j848" not in tool(broker, "--list", "--type", "classic").split()
    assert "j848" in tool(broker, "--list", "--type", "consumer").split()
    assert "successful" in tool(broker, "--delete", "--group", "j848")
