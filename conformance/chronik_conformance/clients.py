"""The client drivers: how each is built (from its own registry, at pinned versions) and started.

Every driver implements ``conformance/SCENARIOS.md``. ``required`` clients gate CI (the fast subset
runs all of them); the others run in the full matrix.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CLIENTS", "CLIENTS_DIR", "ClientSpec", "client_by_name"]

CLIENTS_DIR = Path(__file__).resolve().parent.parent / "clients"


@dataclass(frozen=True)
class ClientSpec:
    """One client library and its driver program."""

    name: str
    library: str  # what the report calls it
    language: str
    required: bool
    command: tuple[str, ...]  # the driver; relative paths are under CLIENTS_DIR
    build: tuple[str, ...] = ()  # run once before the driver is used; empty for nothing to build
    env: dict[str, str] = field(default_factory=dict)

    def _resolve(self, argv: tuple[str, ...]) -> list[str]:
        out = []
        for a in argv:
            if a == "{python}":
                out.append(sys.executable)
            elif "/" in a and not a.startswith("/"):
                out.append(str(CLIENTS_DIR / a))
            else:
                out.append(a)
        return out

    def environ(self) -> dict[str, str]:
        return {**os.environ, "PYTHON": sys.executable, **self.env}

    def build_command(self) -> list[str]:
        return self._resolve(self.build)

    def driver_command(
        self, bootstrap: str, prefix: str, scenarios: list[str], security: Path | None = None
    ) -> list[str]:
        """The driver's command line; ``--security FILE`` only when a ``security-*`` scenario is asked for (drivers
        that predate the security scenarios never see the option)."""
        args = ["--bootstrap", bootstrap, "--prefix", prefix, "--scenarios", ",".join(scenarios)]
        if security is not None and any(s.startswith("security-") for s in scenarios):
            args += ["--security", str(security)]
        return [*self._resolve(self.command), *args]

    def version(self, timeout: float = 60.0) -> str:
        """What the driver says it is (``--client-version``), or why it could not say."""
        try:
            done = subprocess.run(
                [*self._resolve(self.command), "--client-version"],
                capture_output=True,
                text=True,
                timeout=timeout,
                env=self.environ(),
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"unknown ({exc})"
        lines = done.stdout.strip().splitlines()
        return lines[0] if done.returncode == 0 and lines else f"unknown (exit {done.returncode})"


CLIENTS: tuple[ClientSpec, ...] = (
    ClientSpec(
        "librdkafka", "confluent-kafka (librdkafka)", "Python/C", True, ("{python}", "python/confluent_driver.py")
    ),
    ClientSpec(
        "java-4.4", "kafka-clients 4.4.0", "Java", True, ("java/run",), ("java/build",), {"CLIENT_VARIANT": "4.4.0"}
    ),
    ClientSpec(
        "java-2.8", "kafka-clients 2.8.2", "Java", True, ("java/run",), ("java/build",), {"CLIENT_VARIANT": "2.8.2"}
    ),
    ClientSpec("sarama", "Sarama", "Go", True, ("go/.build/sarama-driver",), ("go/build",)),
    ClientSpec("franz-go", "franz-go", "Go", False, ("go/.build/franz-driver",), ("go/build",)),
    ClientSpec("kafka-python", "kafka-python", "Python", False, ("{python}", "python/kafka_python_driver.py")),
    ClientSpec("aiokafka", "aiokafka", "Python", False, ("{python}", "python/aiokafka_driver.py")),
    ClientSpec("kafkajs", "kafkajs", "Node.js", False, ("kafkajs/run",), ("kafkajs/build",)),
    ClientSpec("kcat", "kcat", "C (CLI)", False, ("{python}", "kcat/driver.py"), ("kcat/build",)),
    ClientSpec("kafka-tools", "Kafka's CLI tools (kafka-tools jar)", "Java (CLI)", False,
               ("{python}", "kafka_tools/driver.py")),
)


def client_by_name(name: str) -> ClientSpec:
    for c in CLIENTS:
        if c.name == name:
            return c
    raise KeyError(f"unknown client {name!r}; known: {', '.join(c.name for c in CLIENTS)}")
