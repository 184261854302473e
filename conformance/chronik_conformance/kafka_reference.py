"""Apache Kafka as a reference broker: a single KRaft node in a temp dir, started and stopped from Python.

No release tarball and no Docker engine here: the jars come from Maven Central
(``conformance/kafka-pom.xml``: ``kafka_2.13``, ``kafka-tools`` and ``slf4j-simple``), copied by
``mvn dependency:copy-dependencies`` into the git-ignored ``conformance/.kafka/lib/`` on first use.
The node runs in combined mode (``process.roles=broker,controller``, ``node.id=1``, a PLAINTEXT
listener and a CONTROLLER listener on free ports, ``controller.quorum.bootstrap.servers``), its log dir is formatted
with ``kafka.tools.StorageTool format --standalone`` (the class ``bin/kafka-storage.sh`` runs) and it
is started as ``java ... kafka.Kafka server.properties`` with the heap and GC flags of
``bin/kafka-server-start.sh``. Everything else is Kafka's default (no fsync per message).

Usage::

    from chronik_conformance.kafka_reference import KafkaReference, tool_command

    with KafkaReference() as kafka:                 # formats, starts, waits until it serves
        print(kafka.bootstrap, kafka.pid, kafka.version)
        subprocess.run(tool_command("org.apache.kafka.tools.TopicCommand",
                                    "--bootstrap-server", kafka.bootstrap, "--create", "--topic", "t"))
    # stopped (SIGTERM, then SIGKILL) and its temp dir removed, also when the body raised

Run on its own (``python -m chronik_conformance.kafka_reference``) it starts a node, prints its address and
waits for Ctrl-C.

Environment: ``CHRONIK_KAFKA_LIB`` points at another folder of jars; ``JAVA`` at another ``java``.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

__all__ = [
    "CONFORMANCE_DIR",
    "KAFKA_VERSION",
    "LIB_DIR",
    "KafkaReference",
    "classpath",
    "ensure_kafka_lib",
    "free_port",
    "java_version",
    "kafka_version",
    "probe_api_versions",
    "random_cluster_id",
    "tool_command",
]

CONFORMANCE_DIR = Path(__file__).resolve().parent.parent
POM = CONFORMANCE_DIR / "kafka-pom.xml"
LIB_DIR = Path(os.environ.get("CHRONIK_KAFKA_LIB", CONFORMANCE_DIR / ".kafka" / "lib"))
KAFKA_VERSION = "4.4.0"
JAVA = os.environ.get("JAVA", "java")

#: What ``bin/kafka-storage.sh`` runs (Kafka 4.x keeps the Scala ``kafka.tools.StorageTool`` in kafka_2.13).
STORAGE_TOOL = "kafka.tools.StorageTool"
BROKER_MAIN = "kafka.Kafka"
#: Logged by ``KafkaRaftServer`` once the broker and the controller are up.
STARTED_LINE = "Kafka Server started"

#: ``bin/kafka-server-start.sh``: KAFKA_HEAP_OPTS and KAFKA_JVM_PERFORMANCE_OPTS of kafka-run-class.sh.
BROKER_HEAP = ["-Xmx1G", "-Xms1G"]
JVM_PERFORMANCE_OPTS = [
    "-server",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-Djava.awt.headless=true",
]
#: ``bin/kafka-producer-perf-test.sh`` uses 512 MB; the other tools 256 MB.
TOOL_HEAP = ["-Xmx512M"]

#: The settings of Kafka's shipped ``config/server.properties`` that differ from the defaults and matter on one node.
SINGLE_NODE_PROPS: dict[str, str] = {
    "offsets.topic.replication.factor": "1",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "share.coordinator.state.topic.replication.factor": "1",
    "share.coordinator.state.topic.min.isr": "1",
    "group.initial.rebalance.delay.ms": "0",
    "num.partitions": "1",
}


def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_kafka_lib(lib_dir: Path = LIB_DIR, version: str = KAFKA_VERSION) -> Path:
    """Fetch the Kafka jars with Maven into ``lib_dir`` unless ``kafka_2.13-<version>.jar`` is already there."""
    if (lib_dir / f"kafka_2.13-{version}.jar").exists() and (lib_dir / f"kafka-tools-{version}.jar").exists():
        return lib_dir
    lib_dir.mkdir(parents=True, exist_ok=True)
    cmd = [
        "mvn",
        "-q",
        "-B",
        "-f",
        str(POM),
        "dependency:copy-dependencies",
        f"-Dkafka.version={version}",
        f"-DoutputDirectory={lib_dir}",
    ]
    print(f"fetching Kafka {version} jars: {' '.join(cmd)}", file=sys.stderr)
    subprocess.run(cmd, check=True)
    return lib_dir


def classpath(lib_dir: Path = LIB_DIR) -> str:
    """The JVM class path of every jar in ``lib_dir`` (a wildcard entry, expanded by ``java``)."""
    return str(lib_dir / "*")


def kafka_version(lib_dir: Path = LIB_DIR) -> str:
    """The Kafka release in ``lib_dir``, read from the ``kafka_2.13-<version>.jar`` file name."""
    jars = sorted(lib_dir.glob("kafka_2.13-*.jar"))
    if not jars:
        return "missing"
    return jars[-1].name.removeprefix("kafka_2.13-").removesuffix(".jar")


def java_version() -> str:
    """The first line of ``java -version``."""
    out = subprocess.run([JAVA, "-version"], capture_output=True, text=True, check=False)
    return (out.stderr or out.stdout).splitlines()[0] if (out.stderr or out.stdout) else "unknown"


def tool_command(
    main_class: str,
    *args: str,
    lib_dir: Path = LIB_DIR,
    heap: Sequence[str] = TOOL_HEAP,
    log_level: str = "warn",
    extra_classpath: Sequence[Path] = (),
) -> list[str]:
    """The command line that runs a Kafka tool (``org.apache.kafka.tools.ProducerPerformance`` ...) with our jars."""
    cp = os.pathsep.join([*(str(p) for p in extra_classpath), classpath(lib_dir)])
    return [
        JAVA,
        *heap,
        *JVM_PERFORMANCE_OPTS,
        f"-Dorg.slf4j.simpleLogger.defaultLogLevel={log_level}",
        "-cp",
        cp,
        main_class,
        *args,
    ]


def random_cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes, URL-safe base64 without padding (what ``random-uuid`` prints).

    Never one starting with ``-``: ``kafka-storage format --cluster-id -x...`` takes it for an option."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):
            return cluster_id


def probe_api_versions(host: str, port: int, timeout: float = 2.0) -> bool:
    """True if the broker answers an ApiVersions v0 request with error code 0.

    A listening socket is not enough: Kafka binds its ports before it processes requests.
    """
    client_id = b"kafka-reference-probe"
    body = struct.pack(">hhih", 18, 0, 1, len(client_id)) + client_id
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(struct.pack(">i", len(body)) + body)
            head = _recv_exactly(s, 4)
            (size,) = struct.unpack(">i", head)
            payload = _recv_exactly(s, size)
    except OSError:
        return False
    correlation_id, error_code = struct.unpack_from(">ih", payload)
    return correlation_id == 1 and error_code == 0


def _recv_exactly(s: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed")
        buf += chunk
    return bytes(buf)


class KafkaReference:
    """One Apache Kafka node (KRaft, broker+controller) in a temp dir; a context manager.

    ``start()`` formats the log dir, launches the JVM and returns once the broker answers
    ApiVersions and has logged ``Kafka Server started``; if it fails it stops the JVM before
    raising. ``stop()`` sends SIGTERM, waits ``timeout`` seconds, then SIGKILLs. An ``atexit`` hook
    kills a node that is still running when the interpreter exits.
    """

    def __init__(
        self,
        work_dir: Path | None = None,
        *,
        port: int | None = None,
        controller_port: int | None = None,
        props: Mapping[str, str] | None = None,
        heap: Sequence[str] = BROKER_HEAP,
        lib_dir: Path = LIB_DIR,
        version: str = KAFKA_VERSION,
        keep: bool = False,
        extra_listeners: Mapping[str, int] | None = None,
    ) -> None:
        """``work_dir`` (default: a new temp dir, removed by ``stop()`` unless ``keep``) holds the log dir,
        ``server.properties`` and ``kafka.log``; ``props`` overrides or adds broker properties;
        ``extra_listeners`` ({name: port}, each name also its security protocol: ``SSL``, ``SASL_SSL`` ...) are
        served and advertised besides PLAINTEXT (their ``ssl.*``/``sasl.*`` settings come with ``props``)."""
        self._own_dir = work_dir is None
        self.work_dir = Path(tempfile.mkdtemp(prefix="kafka-ref-")) if work_dir is None else work_dir
        self.port = port or free_port()
        self.controller_port = controller_port or free_port()
        self.extra_props = dict(props or {})
        self.extra_listeners = dict(extra_listeners or {})
        self.heap = list(heap)
        self.lib_dir = lib_dir
        self.version = version
        self.keep = keep
        self.cluster_id = random_cluster_id()
        self.proc: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None
        self._started_lines = 0

    # -- addresses and files -------------------------------------------------------------------

    @property
    def bootstrap(self) -> str:
        """``host:port`` of the PLAINTEXT listener."""
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """The JVM's process id (``start()`` first)."""
        if self.proc is None:
            raise RuntimeError("Kafka is not started")
        return self.proc.pid

    @property
    def log_path(self) -> Path:
        """The broker's stdout and stderr."""
        return self.work_dir / "kafka.log"

    @property
    def config_path(self) -> Path:
        """The generated ``server.properties``."""
        return self.work_dir / "server.properties"

    def properties(self) -> dict[str, str]:
        """The broker configuration written to ``server.properties``."""
        served = {"PLAINTEXT": self.port, **self.extra_listeners}
        advertised = ",".join(f"{name}://127.0.0.1:{port}" for name, port in served.items())
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.bootstrap.servers": f"127.0.0.1:{self.controller_port}",
            "listeners": f"{advertised},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": advertised,
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": ",".join(f"{name}:{name}" for name in served) + ",CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.work_dir / "logs"),
            **SINGLE_NODE_PROPS,
        }
        props.update(self.extra_props)
        return props

    def log(self) -> str:
        """The broker's output so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self, timeout: float = 90.0) -> KafkaReference:
        """Format the log dir, start the JVM and wait until it serves; clean up (``stop()``) if any step fails."""
        try:
            ensure_kafka_lib(self.lib_dir, self.version)
            self.work_dir.mkdir(parents=True, exist_ok=True)
            self.config_path.write_text("".join(f"{k}={v}\n" for k, v in self.properties().items()))
            self._format()
            self._launch(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def restart(self, timeout: float = 90.0) -> KafkaReference:
        """Stop the JVM (SIGTERM, as ``kafka-server-stop.sh``) and start it again on the same ports and log dir."""
        self._terminate()
        try:
            self._launch(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _launch(self, timeout: float) -> None:
        cmd = tool_command(BROKER_MAIN, str(self.config_path), lib_dir=self.lib_dir, heap=self.heap, log_level="info")
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child, closed in stop()
        self._log_file = log
        self._started_lines = self.log().count(STARTED_LINE)
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=self.work_dir)
        atexit.register(self._kill_at_exit)
        self._wait_serving(timeout)

    def _format(self) -> None:
        """``kafka-storage.sh format --standalone --cluster-id ID --config server.properties``."""
        fmt = tool_command(
            STORAGE_TOOL,
            "format",
            "--standalone",
            "--cluster-id",
            self.cluster_id,
            "--config",
            str(self.config_path),
            lib_dir=self.lib_dir,
            heap=["-Xmx256M"],
        )
        done = subprocess.run(fmt, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{STORAGE_TOOL} format failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")

    def _wait_serving(self, timeout: float) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Kafka exited with {self.proc.returncode}:\n{self._log_tail()}")
            if self.log().count(STARTED_LINE) > self._started_lines and probe_api_versions("127.0.0.1", self.port):
                return
            time.sleep(0.2)
        raise TimeoutError(f"Kafka did not serve on {self.bootstrap} within {timeout:.0f} s:\n{self._log_tail()}")

    def _log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM, wait up to ``timeout`` s, then SIGKILL; remove the temp dir. Returns the exit code."""
        code = self._terminate(timeout)
        if self._own_dir and not self.keep:
            shutil.rmtree(self.work_dir, ignore_errors=True)
        return code

    def _terminate(self, timeout: float = 30.0) -> int | None:
        code: int | None = None
        if self.proc is not None:
            if self.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        self.proc.kill()
                    self.proc.wait(10)
            code = self.proc.returncode
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        atexit.unregister(self._kill_at_exit)
        self.proc = None
        return code

    def _kill_at_exit(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def __enter__(self) -> KafkaReference:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def main() -> None:
    """Start a node, print its address, wait for Ctrl-C."""
    with KafkaReference() as kafka:
        print(f"Kafka {kafka.version} on {kafka.bootstrap} (pid {kafka.pid}, dir {kafka.work_dir}); Ctrl-C stops it")
        with contextlib.suppress(KeyboardInterrupt):
            while kafka.proc is not None and kafka.proc.poll() is None:
                time.sleep(1)


if __name__ == "__main__":
    main()
