"""The two brokers under comparison, behind one small interface: start, restart on the same port and data, stop."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Protocol

from chronik_conformance.kafka_reference import (
    SINGLE_NODE_PROPS,
    KafkaReference,
    free_port,
    kafka_version,
    probe_api_versions,
)
from chronik_conformance.security import LISTENERS, SecuritySetup

__all__ = ["Broker", "ChronikBroker", "KafkaBroker"]


class Broker(Protocol):
    """What the runner needs of a broker."""

    name: str

    @property
    def bootstrap(self) -> str: ...

    @property
    def version(self) -> str: ...

    def start(self) -> None: ...

    def restart(self) -> None: ...

    def stop(self) -> None: ...

    def log_tail(self, lines: int = 40) -> str: ...

    @property
    def secure_addresses(self) -> dict[str, str]:
        """``{SSL|SASL_PLAINTEXT|SASL_SSL: host:port}`` of the secured listeners (empty without ``security``)."""
        ...


class ChronikBroker:
    """``python -m chronik.cli start`` on a free port with a fresh data dir (removed by ``stop``).

    It gets the settings the reference Kafka node gets from Kafka's shipped ``server.properties``
    where Chronik knows them (``group.initial.rebalance.delay.ms=0``, ``num.partitions=1``), so both
    brokers run the scenarios under the same configuration."""

    name = "chronik"
    SHARED_PROPS = ("group.initial.rebalance.delay.ms", "num.partitions")

    def __init__(self, *overrides: str, work_dir: Path | None = None, security: SecuritySetup | None = None) -> None:
        self._own_dir = work_dir is None
        self.work_dir = Path(tempfile.mkdtemp(prefix="chronik-conf-")) if work_dir is None else work_dir
        self.port = free_port()
        self.secure_ports = {name: free_port() for name in LISTENERS} if security is not None else {}
        shared = [f"{k}={SINGLE_NODE_PROPS[k]}" for k in self.SHARED_PROPS if k in SINGLE_NODE_PROPS]
        secured = [f"{k}={v}" for k, v in security.broker_props().items()] if security is not None else []
        self.overrides = [*shared, *secured, *overrides]
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def version(self) -> str:
        from importlib.metadata import version

        return version("chronik")

    @property
    def secure_addresses(self) -> dict[str, str]:
        return {name: f"127.0.0.1:{port}" for name, port in self.secure_ports.items()}

    @property
    def log_path(self) -> Path:
        return self.work_dir / "chronik.log"

    def start(self, timeout: float = 30.0) -> None:
        args = [sys.executable, "-m", "chronik.cli", "start", "--data-dir", str(self.work_dir / "data")]
        served = {"PLAINTEXT": self.port, **self.secure_ports}
        listeners = ",".join(f"{name}://127.0.0.1:{port}" for name, port in served.items())
        for o in [f"listeners={listeners}", *self.overrides]:
            args += ["--override", o]
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child, closed in _terminate()
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, env={**os.environ})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chronik exited with {self.proc.returncode}:\n{self.log_tail()}")
            if probe_api_versions("127.0.0.1", self.port, timeout=0.5):
                return
            time.sleep(0.05)
        self._terminate()
        raise TimeoutError(f"chronik did not serve on {self.bootstrap} within {timeout:.0f} s:\n{self.log_tail()}")

    def restart(self) -> None:
        self._terminate()
        self.start()

    def _terminate(self, timeout: float = 20.0) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def stop(self) -> None:
        self._terminate()
        if self._own_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class KafkaBroker:
    """Apache Kafka (KRaft, one node) from the Maven Central jars, via ``KafkaReference``."""

    name = "kafka"

    def __init__(self, security: SecuritySetup | None = None) -> None:
        secure_ports = {name: free_port() for name in LISTENERS} if security is not None else {}
        props = security.broker_props() if security is not None else {}
        self.ref = KafkaReference(props=props, extra_listeners=secure_ports)

    @property
    def secure_addresses(self) -> dict[str, str]:
        return {name: f"127.0.0.1:{port}" for name, port in self.ref.extra_listeners.items()}

    @property
    def bootstrap(self) -> str:
        return self.ref.bootstrap

    @property
    def version(self) -> str:
        return kafka_version(self.ref.lib_dir)

    def start(self) -> None:
        self.ref.start()

    def restart(self) -> None:
        self.ref.restart()

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.ref.stop()

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.ref.log().splitlines()[-lines:])
