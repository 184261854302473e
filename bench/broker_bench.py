"""Chronik against Apache Kafka on this machine, in one run, measured with Kafka's own perf tools.

    .venv/bin/python bench/broker_bench.py                 # full run, about 4 minutes
    .venv/bin/python bench/broker_bench.py --quick         # smoke run, about 1-2 minutes
    .venv/bin/python bench/broker_bench.py --only chronik,100B      # one broker, some scenarios
    .venv/bin/python bench/broker_bench.py --only chronik --py-spy /tmp/prof   # profile Chronik
    .venv/bin/python bench/broker_bench.py --json /tmp/bench.json   # also write the rows as JSON
    .venv/bin/python bench/broker_bench.py --tls           # + every scenario again over TLS, about 7 minutes
    .venv/bin/python bench/broker_bench.py --tls --only TLS # the TLS scenarios only

For each broker, one after the other (never both at once: the machine is small):

* Chronik: ``python -m chronik.cli start --data-dir <temp> --override listeners=PLAINTEXT://127.0.0.1:<port>``
  with the repo's ``.venv`` Python, everything else default (no fsync per message);
* Apache Kafka 4.4.0: one KRaft node started by ``chronik_conformance.kafka_reference`` (combined broker+controller, the
  heap and GC flags of ``kafka-server-start.sh``, default flush settings); the jars are fetched with Maven into
  ``conformance/.kafka/lib`` on first use;

the script waits until the broker answers ApiVersions, produces a warm-up topic (not reported), then for each
scenario creates a 1-partition topic with ``org.apache.kafka.tools.TopicCommand`` and runs, with the same JVM
tools against both brokers:

``produce``
    ``org.apache.kafka.tools.ProducerPerformance --throughput -1`` (unthrottled), default producer settings
    except ``acks`` (Kafka 4 defaults: batch.size 16 KiB, linger.ms 5, buffer.memory 32 MiB; idempotent when
    acks=all). Its latencies are send-to-ack times of an unthrottled producer, so they are mostly time queued in
    the producer's 32 MiB buffer (about buffer / throughput), not broker latency: see ``latency``.
``consume``
    ``org.apache.kafka.tools.ConsumerPerformance`` reading the records back through a consumer group
    (figures are its ``fetch.*`` columns, which exclude the group join). Brokers without the group APIs get
    ``unsupported`` with the reason.
``consume-assign``
    ``bench/AssignConsumerPerf.java`` (compiled into ``bench/.kafka/classes``): the same read with
    ``assign()`` + ``seekToBeginning()`` and ConsumerPerformance's client settings, no group.
``latency`` (scenario ``100B-acks=all@<rate>``)
    ProducerPerformance throttled to a fixed rate well below both brokers' capacity, so its percentiles are
    the broker's (and the network's) send-to-ack latency.

A thread samples the broker's RSS (``/proc/<pid>/status`` VmRSS, summed over the pid and its descendants) every
50 ms and its CPU time (``/proc/<pid>/stat`` utime+stime). Each row reports the peak RSS during the phase and the
broker CPU time per record. The tools and the broker share the machine's cores (2 here), so the producer JVM
itself is a bottleneck: read the figures as "on this machine", not as a broker's capacity.

TLS (``--tls``): the script makes a CA and a server certificate for 127.0.0.1 (ECDSA P-256, ``cryptography``) in a
temp dir and gives both brokers an SSL listener next to the PLAINTEXT one, with the same PEM key store
(``ssl.keystore.type=PEM``, ``ssl.keystore.location``: PKCS#8 key, not encrypted, so no ``ssl.key.password``);
Kafka's CONTROLLER listener and inter-broker traffic stay PLAINTEXT. Every scenario is then run a second time as
``TLS <scenario>`` (after all the plaintext ones, after a warm-up over TLS) with the tools connecting to the SSL
listener (``--command-config`` / AssignConsumerPerf's 5th argument: ``security.protocol=SSL``,
``ssl.truststore.type=PEM``, ``ssl.truststore.location=<ca.pem>``; hostname verification on). Topics are created
through the PLAINTEXT listener. The TLS version and cipher a Python client negotiates with each broker are printed.

Printed: versions (Chronik git commit and dirty files, Python and libraries, Kafka, Java), one table per
broker, then the comparison table: for each scenario and phase, records/s, MB/s, p50/p99 latency (ms) and peak
RSS (MB) of both brokers with the ratio Chronik/Kafka (for rates > 1 means Chronik is faster; for latency and
RSS < 1 means Chronik is better). With ``--tls`` a second comparison table has the TLS rows, and a third the cost
of TLS per broker (each TLS row's rec/s, p99 and CPU µs/record divided by the same scenario's over PLAINTEXT).

Options:

``--quick``            small record counts (about 1-2 minutes in all).
``--only ITEMS``       comma-separated; items naming a broker (``chronik``, ``kafka``) select brokers, the others
                       select the scenarios whose name contains one of them (``100B``, ``1KB``, ``acks=all``,
                       ``@`` for the latency scenario) or phases (``produce``, ``consume``, ``consume-assign``;
                       keep ``produce``: the consumers read what it wrote).
``--records-100b N``   records per 100-byte scenario (full 2,000,000, quick 200,000).
``--records-1kb N``    records per 1 KiB scenario (full 500,000, quick 50,000).
``--rate N``           records/s of the latency scenario (default 5,000).
``--tls``              also run every scenario over the brokers' SSL listeners (rows ``TLS ...``; ``--only TLS``
                       keeps just those).
``--py-spy DIR``       profile Chronik with ``py-spy record --format raw`` during every Chronik phase and print the
                       top functions (self and inclusive) of each; the raw files stay in DIR. Profiling slows Chronik
                       down: do not compare the figures of such a run with Kafka's.
``--json FILE``        also write every row as JSON.
``--keep``             keep the brokers' temp dirs (data and logs) and print their paths.

Exit status 0 even if a phase failed (the row says why); 1 if a broker did not start.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import dataclasses
import datetime
import ipaddress
import json
import os
import platform
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType

from chronik_conformance.kafka_reference import (
    JAVA,
    LIB_DIR,
    KafkaReference,
    ensure_kafka_lib,
    free_port,
    java_version,
    kafka_version,
    probe_api_versions,
    tool_command,
)

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
CLASSES_DIR = BENCH_DIR / ".kafka" / "classes"
ASSIGN_SOURCE = BENCH_DIR / "AssignConsumerPerf.java"
CHRONIK_PYTHON = REPO / ".venv" / "bin" / "python"
PY_SPY = REPO / ".venv" / "bin" / "py-spy"

PRODUCER_PERF = "org.apache.kafka.tools.ProducerPerformance"
CONSUMER_PERF = "org.apache.kafka.tools.ConsumerPerformance"
TOPIC_COMMAND = "org.apache.kafka.tools.TopicCommand"
ASSIGN_PERF = "AssignConsumerPerf"

BROKERS = ("chronik", "kafka")
PHASES = ("produce", "consume", "consume-assign")
TOOL_TIMEOUT = 300.0
CONSUMER_IDLE_TIMEOUT_MS = 30_000

MiB = 1024 * 1024

# -- scenarios ---------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Scenario:
    """One topic: ``records`` records of ``size`` bytes produced with ``acks``, then read back."""

    size: int
    acks: str
    records: int
    throughput: int = -1  # records/s; -1 = unthrottled
    tls: bool = False  # over the brokers' SSL listeners

    @property
    def name(self) -> str:
        """``100B-acks=1``, ``1KB-acks=all``, ``100B-acks=all@5000/s``; ``TLS 100B-acks=1`` over TLS."""
        size = "1KB" if self.size == 1024 else f"{self.size}B"
        rate = "" if self.throughput < 0 else f"@{self.throughput}/s"
        return f"{'TLS ' if self.tls else ''}{size}-acks={self.acks}{rate}"

    @property
    def topic(self) -> str:
        """A topic name derived from the scenario."""
        return "bench-" + re.sub(r"[^A-Za-z0-9]+", "-", self.name).strip("-").lower()

    @property
    def phases(self) -> tuple[str, ...]:
        """The latency scenario is produce only."""
        return ("produce",) if self.throughput > 0 else PHASES


def scenarios(records_100b: int, records_1kb: int, rate: int, rate_seconds: float, tls: bool = False) -> list[Scenario]:
    """The four unthrottled scenarios and the fixed-rate latency scenario; with ``tls`` the same five again over
    TLS, after the plaintext ones."""
    out = []
    for over_tls in (False, True) if tls else (False,):
        out += [
            Scenario(size, acks, records_100b if size == 100 else records_1kb, tls=over_tls)
            for size in (100, 1024)
            for acks in ("1", "all")
        ]
        out.append(Scenario(100, "all", max(int(rate * rate_seconds), 1), throughput=rate, tls=over_tls))
    return out


# -- TLS ---------------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class TlsFiles:
    """PEM files for the SSL listeners of both brokers and the clients' properties file."""

    ca: Path  # the CA certificate: the clients' trust store
    keystore: Path  # the server's PKCS#8 key (not encrypted) + certificate + CA: both brokers' key store
    client_config: Path  # security.protocol=SSL + ssl.truststore.*: --command-config of the tools

    def broker_props(self) -> dict[str, str]:
        """The ``ssl.*`` settings of both brokers (Kafka's names, which Chronik takes too)."""
        return {"ssl.keystore.type": "PEM", "ssl.keystore.location": str(self.keystore)}


def make_tls_files(directory: Path) -> TlsFiles:
    """A CA and a server certificate for 127.0.0.1/localhost (ECDSA P-256, valid 2 days), made with ``cryptography``.

    The key is PKCS#8 without encryption, so neither broker gets ``ssl.key.password`` (Kafka's PEM key store
    wants an encrypted PKCS#8 key when that is set)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)

    def cert(
        subject: str, key: ec.EllipticCurvePrivateKey, issuer: str, issuer_key: ec.EllipticCurvePrivateKey, ca: bool
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            san = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = cert("Chronik bench CA", ca_key, "Chronik bench CA", ca_key, ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = cert("localhost", server_key, "Chronik bench CA", ca_key, ca=False)
    pem = serialization.Encoding.PEM
    key_pem = server_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    files = TlsFiles(directory / "ca.pem", directory / "server.keystore.pem", directory / "client-ssl.properties")
    files.ca.write_bytes(ca.public_bytes(pem))
    files.keystore.write_bytes(key_pem + server.public_bytes(pem) + ca.public_bytes(pem))
    files.client_config.write_text(
        f"security.protocol=SSL\nssl.truststore.type=PEM\nssl.truststore.location={files.ca}\n"
    )
    return files


def tls_probe(host: str, port: int, cafile: Path, timeout: float = 5.0) -> str:
    """``TLSv1.3 TLS_AES_256_GCM_SHA384`` as negotiated by a Python client verifying against ``cafile``."""
    context = ssl.create_default_context(cafile=str(cafile))
    with (
        socket.create_connection((host, port), timeout=timeout) as sock,
        context.wrap_socket(sock, server_hostname=host) as tls,
    ):
        cipher = tls.cipher()
        return f"{tls.version()} {cipher[0] if cipher else '?'}"


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """Where the tools connect for one transport: the bootstrap address and their ``--command-config`` file."""

    bootstrap: str
    client_config: Path | None = None


# -- results -----------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Row:
    """One phase of one scenario on one broker."""

    broker: str
    scenario: str
    phase: str
    records: int | None = None
    records_per_s: float | None = None
    mb_per_s: float | None = None
    avg_ms: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    p999_ms: float | None = None
    max_ms: float | None = None
    peak_rss_mb: float | None = None
    broker_cpu_s: float | None = None
    wall_s: float | None = None
    error: str | None = None

    @property
    def cpu_us_per_record(self) -> float | None:
        """Broker CPU time per record of the phase, in µs."""
        if self.broker_cpu_s is None or not self.records:
            return None
        return self.broker_cpu_s * 1e6 / self.records


PRODUCE_RE = re.compile(
    r"(?P<records>\d+) records sent, (?P<rps>[\d.]+) records/sec \((?P<mbps>[\d.]+) MB/sec\), "
    r"(?P<avg>[\d.]+) ms avg latency, (?P<max>[\d.]+) ms max latency, (?P<p50>\d+) ms 50th, (?P<p95>\d+) ms 95th, "
    r"(?P<p99>\d+) ms 99th, (?P<p999>\d+) ms 99.9th"
)


def parse_producer_performance(out: str, row: Row) -> None:
    """Fill ``row`` from ProducerPerformance's final summary line (the one with percentiles)."""
    matches = list(PRODUCE_RE.finditer(out))
    if not matches:
        raise ValueError("no summary line in ProducerPerformance output")
    m = matches[-1]
    row.records = int(m["records"])
    row.records_per_s = float(m["rps"])
    row.mb_per_s = float(m["mbps"])
    row.avg_ms = float(m["avg"])
    row.max_ms = float(m["max"])
    row.p50_ms = float(m["p50"])
    row.p99_ms = float(m["p99"])
    row.p999_ms = float(m["p999"])


def parse_consumer_performance(out: str, row: Row) -> None:
    """Fill ``row`` from ConsumerPerformance's CSV (header + one line): its ``fetch.*`` columns."""
    lines = [line for line in out.splitlines() if line.strip()]
    for i, line in enumerate(lines):
        if line.startswith("start.time"):
            header = [c.strip() for c in line.split(",")]
            if i + 1 >= len(lines):
                break
            values = dict(zip(header, (v.strip() for v in lines[i + 1].split(",")), strict=False))
            row.records = int(values["data.consumed.in.nMsg"])
            row.records_per_s = float(values["fetch.nMsg.sec"])
            row.mb_per_s = float(values["fetch.MB.sec"])
            return
    raise ValueError("no CSV result in ConsumerPerformance output")


# -- process sampling --------------------------------------------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = collections.defaultdict(list)
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(b")", 1)[1].split()[1])
        children[ppid].append(int(entry.name))
    out, todo = [pid], [pid]
    while todo:
        for child in children.get(todo.pop(), ()):
            out.append(child)
            todo.append(child)
    return out


def rss_bytes(pid: int) -> int:
    """VmRSS of one process, in bytes (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process (all its threads), in seconds."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


class ProcessSampler:
    """A thread sampling RSS (pid + descendants) every ``interval`` s; ``phase()`` measures peak RSS and CPU."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid = pid
        self.interval = interval
        self._pids = _descendants(pid)
        self._peak = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"rss-{pid}", daemon=True)

    def _rss(self) -> int:
        return sum(rss_bytes(p) for p in self._pids)

    def _cpu(self) -> float:
        return sum(cpu_seconds(p) for p in self._pids)

    def _run(self) -> None:
        n = 0
        while not self._stop.wait(self.interval):
            n += 1
            if n % 40 == 0:
                self._pids = _descendants(self.pid)
            rss = self._rss()
            with self._lock:
                self._peak = max(self._peak, rss)

    def start(self) -> ProcessSampler:
        """Start sampling."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop sampling."""
        self._stop.set()
        self._thread.join()

    def current_rss(self) -> int:
        """RSS now, in bytes."""
        return self._rss()

    @contextlib.contextmanager
    def phase(self, row: Row) -> Iterator[None]:
        """Record the peak RSS, the CPU time and the wall time of the block into ``row``."""
        with self._lock:
            self._peak = self._rss()
        cpu0, t0 = self._cpu(), time.monotonic()
        try:
            yield
        finally:
            cpu1, t1 = self._cpu(), time.monotonic()
            with self._lock:
                peak = max(self._peak, self._rss())
            row.peak_rss_mb = peak / MiB
            row.broker_cpu_s = cpu1 - cpu0
            row.wall_s = t1 - t0


# -- brokers -----------------------------------------------------------------------------------------------------


class ChronikBroker:
    """``python -m chronik.cli start`` in a temp data dir on a free port; a context manager."""

    name = "chronik"

    def __init__(self, keep: bool = False, tls: TlsFiles | None = None) -> None:
        """``keep`` leaves the temp dir (data and ``chronik.log``) in place; ``tls`` adds an SSL listener."""
        self.work_dir = Path(tempfile.mkdtemp(prefix="chronik-bench-"))
        self.port = free_port()
        self.tls = tls
        self.ssl_port = free_port() if tls else None
        self.keep = keep
        self.proc: subprocess.Popen[bytes] | None = None
        self.python = str(CHRONIK_PYTHON) if CHRONIK_PYTHON.exists() else sys.executable

    @property
    def bootstrap(self) -> str:
        """``host:port``."""
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """The broker's process id."""
        assert self.proc is not None
        return self.proc.pid

    @property
    def log_path(self) -> Path:
        """The broker's stdout and stderr."""
        return self.work_dir / "chronik.log"

    def start(self, timeout: float = 30.0) -> ChronikBroker:
        """Start the broker and wait until it answers ApiVersions; stop it if that fails."""
        listeners = f"PLAINTEXT://127.0.0.1:{self.port}"
        if self.tls is not None:
            listeners += f",SSL://127.0.0.1:{self.ssl_port}"
        cmd = [
            self.python,
            "-m",
            "chronik.cli",
            "start",
            "--data-dir",
            str(self.work_dir / "data"),
            "--override",
            f"listeners={listeners}",
        ]
        for key, value in (self.tls.broker_props() if self.tls else {}).items():
            cmd += ["--override", f"{key}={value}"]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
        deadline = time.monotonic() + timeout
        try:
            while not probe_api_versions("127.0.0.1", self.port, timeout=1.0):
                if self.proc.poll() is not None:
                    raise RuntimeError(f"Chronik exited with {self.proc.returncode}:\n{_tail(self.log_path)}")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"Chronik did not serve on {self.bootstrap}:\n{_tail(self.log_path)}")
                time.sleep(0.1)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout`` s; remove the temp dir unless ``keep``."""
        code = None
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(10)
            code = self.proc.returncode
        if not self.keep:
            shutil.rmtree(self.work_dir, ignore_errors=True)
        return code

    def __enter__(self) -> ChronikBroker:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def kafka_broker(keep: bool = False, tls: TlsFiles | None = None) -> tuple[KafkaReference, int | None]:
    """A ``KafkaReference`` (not started) and the port of its SSL listener if ``tls``.

    With ``tls`` the node listens on PLAINTEXT (clients and inter-broker), SSL (clients) and CONTROLLER (plaintext,
    KRaft)."""
    if tls is None:
        return KafkaReference(keep=keep), None
    port, ssl_port, controller_port = free_port(), free_port(), free_port()
    props = {
        "listeners": (
            f"PLAINTEXT://127.0.0.1:{port},SSL://127.0.0.1:{ssl_port},CONTROLLER://127.0.0.1:{controller_port}"
        ),
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port},SSL://127.0.0.1:{ssl_port}",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,SSL:SSL,CONTROLLER:PLAINTEXT",
        **tls.broker_props(),
    }
    return KafkaReference(port=port, controller_port=controller_port, props=props, keep=keep), ssl_port


def _tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


# -- tools -------------------------------------------------------------------------------------------------------


def compile_assign_consumer() -> Path:
    """Compile ``AssignConsumerPerf.java`` into ``bench/.kafka/classes`` unless the class is up to date."""
    target = CLASSES_DIR / f"{ASSIGN_PERF}.class"
    if target.exists() and target.stat().st_mtime >= ASSIGN_SOURCE.stat().st_mtime:
        return CLASSES_DIR
    CLASSES_DIR.mkdir(parents=True, exist_ok=True)
    javac = str(Path(shutil.which(JAVA) or JAVA).resolve().with_name("javac"))
    subprocess.run(
        [javac, "-nowarn", "-d", str(CLASSES_DIR), "-cp", str(LIB_DIR / "*"), str(ASSIGN_SOURCE)], check=True
    )
    return CLASSES_DIR


def run_tool(cmd: Sequence[str], timeout: float = TOOL_TIMEOUT) -> str:
    """Run a tool; return stdout + stderr; raise RuntimeError with the output's tail if it fails."""
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as e:
        raise RuntimeError(f"timed out after {timeout:.0f} s") from e
    out = done.stdout + done.stderr
    if done.returncode != 0:
        raise RuntimeError(short_error(out) or f"exit {done.returncode}")
    return out


def short_error(out: str) -> str:
    """The most telling line of a failed tool's output (an exception message, else the last line)."""
    lines = [line.strip() for line in out.splitlines() if line.strip()]
    for line in lines:
        if "does not support" in line or "Exception:" in line or line.startswith("Error"):
            return line[:160]
    return lines[-1][:160] if lines else ""


def create_topic(bootstrap: str, topic: str) -> None:
    """Create a 1-partition topic with Kafka's TopicCommand."""
    run_tool(
        tool_command(
            TOPIC_COMMAND,
            "--bootstrap-server",
            bootstrap,
            "--create",
            "--if-not-exists",
            "--topic",
            topic,
            "--partitions",
            "1",
            "--replication-factor",
            "1",
            heap=["-Xmx256M"],
        ),
        timeout=60,
    )


def produce_cmd(
    bootstrap: str, sc: Scenario, topic: str | None = None, records: int | None = None, config: Path | None = None
) -> list[str]:
    """ProducerPerformance for a scenario; ``config`` is a client properties file (``--command-config``)."""
    extra = ["--command-config", str(config)] if config else []
    return tool_command(
        PRODUCER_PERF,
        "--bootstrap-server",
        bootstrap,
        "--topic",
        topic or sc.topic,
        "--num-records",
        str(records or sc.records),
        "--record-size",
        str(sc.size),
        "--throughput",
        str(sc.throughput),
        "--command-property",
        f"acks={sc.acks}",
        *extra,
    )


def consume_cmd(bootstrap: str, sc: Scenario, phase: str, config: Path | None = None) -> list[str]:
    """ConsumerPerformance (group) or AssignConsumerPerf (no group) reading a scenario's topic from the start;
    ``config`` is a client properties file."""
    if phase == "consume":
        return tool_command(
            CONSUMER_PERF,
            "--bootstrap-server",
            bootstrap,
            "--topic",
            sc.topic,
            "--num-records",
            str(sc.records),
            "--timeout",
            str(CONSUMER_IDLE_TIMEOUT_MS),
            *(["--command-config", str(config)] if config else []),
        )
    return tool_command(
        ASSIGN_PERF,
        bootstrap,
        sc.topic,
        str(sc.records),
        str(CONSUMER_IDLE_TIMEOUT_MS),
        *([str(config)] if config else []),
        extra_classpath=[CLASSES_DIR],
    )


# -- py-spy ------------------------------------------------------------------------------------------------------


class PySpy:
    """``py-spy record --format raw`` of one process for the duration of a block."""

    def __init__(self, out_dir: Path, rate: int = 200) -> None:
        """Raw files go to ``out_dir``; ``rate`` samples per second."""
        self.out_dir = out_dir
        self.rate = rate
        out_dir.mkdir(parents=True, exist_ok=True)

    @contextlib.contextmanager
    def record(self, pid: int, name: str) -> Iterator[Path]:
        """Profile ``pid`` while the block runs; yield the raw output path (written when the block ends)."""
        out = self.out_dir / f"{name}.txt"
        cmd = [str(PY_SPY), "record", "--format", "raw", "--function", "--rate", str(self.rate)]
        cmd += ["--output", str(out), "--pid", str(pid)]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(0.5)  # let py-spy attach before the load starts
        try:
            yield out
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


_LINE_SUFFIX = re.compile(r":\d+\)$")


def summarize_raw_profile(path: Path, top: int = 15) -> str:
    """The top functions of a py-spy raw (collapsed stacks) file: self samples and inclusive samples."""
    if not path.exists():
        return f"  (no profile: {path} missing)"
    self_counts: collections.Counter[str] = collections.Counter()
    incl_counts: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [_LINE_SUFFIX.sub(")", f) for f in stack.split(";")]
        frames = [f for f in frames if not f.startswith("process ") and not f.startswith("thread ")]
        if not frames:
            continue
        self_counts[frames[-1]] += count
        for f in set(frames):
            incl_counts[f] += count
    if not total:
        return "  (no samples)"
    out = [f"  {total} samples (non-idle)", "  self%   incl%  function (file)"]
    for func, n in self_counts.most_common(top):
        out.append(f"  {100 * n / total:5.1f}  {100 * incl_counts[func] / total:6.1f}  {func}")
    out.append("  -- inclusive --")
    for func, n in incl_counts.most_common(top + 10):
        if any(s in func for s in ("<module>", "_run_module", "_run_code", "main (chronik/cli", "_cmd_start")):
            continue
        out.append(f"  {100 * self_counts[func] / total:5.1f}  {100 * n / total:6.1f}  {func}")
    return "\n".join(out)


# -- the run -----------------------------------------------------------------------------------------------------


def run_broker(
    broker: ChronikBroker | KafkaReference,
    name: str,
    plan: list[Scenario],
    phases: set[str],
    warmup: Scenario,
    profiler: PySpy | None,
    log: Callable[[str], None],
    endpoints: dict[bool, Endpoint] | None = None,
) -> list[Row]:
    """Every scenario and phase against one started broker.

    ``endpoints`` maps ``Scenario.tls`` to where the tools connect (default: the PLAINTEXT listener). Topics are
    created through the PLAINTEXT listener; each transport of the plan gets its own warm-up first."""
    endpoints = endpoints or {False: Endpoint(broker.bootstrap)}
    rows: list[Row] = []
    sampler = ProcessSampler(broker.pid).start()
    try:
        idle = Row(name, "idle after start", "-", peak_rss_mb=sampler.current_rss() / MiB)
        rows.append(idle)
        warmed: set[bool] = set()
        for sc in plan:
            ep = endpoints[sc.tls]
            if sc.tls not in warmed:
                warmed.add(sc.tls)
                label, topic = ("TLS warm-up", "bench-tls-warmup") if sc.tls else ("warm-up", "bench-warmup")
                log(f"{name}: {label} ({warmup.records} x {warmup.size} B, acks={warmup.acks})")
                try:
                    create_topic(broker.bootstrap, topic)
                    run_tool(produce_cmd(ep.bootstrap, warmup, topic=topic, config=ep.client_config))
                except RuntimeError as e:
                    log(f"{name}: {label} failed: {e}")
            try:
                create_topic(broker.bootstrap, sc.topic)
            except RuntimeError as e:
                rows.append(Row(name, sc.name, "produce", error=f"create topic: {e}"))
                continue
            for phase in sc.phases:
                if phase not in phases:
                    continue
                row = Row(name, sc.name, phase)
                if phase == "produce":
                    cmd = produce_cmd(ep.bootstrap, sc, config=ep.client_config)
                else:
                    cmd = consume_cmd(ep.bootstrap, sc, phase, config=ep.client_config)
                log(f"{name}: {sc.name} {phase}")
                prof = (
                    profiler.record(broker.pid, f"{name}-{sc.name}-{phase}".replace("=", "").replace(" ", "-"))
                    if profiler is not None and isinstance(broker, ChronikBroker)
                    else contextlib.nullcontext(None)
                )
                try:
                    with prof as prof_path, sampler.phase(row):
                        out = run_tool(cmd)
                    if phase == "produce":
                        parse_producer_performance(out, row)
                    else:
                        parse_consumer_performance(out, row)
                    if row.records is not None and row.records < sc.records:
                        row.error = f"read {row.records} of {sc.records} records"
                except (RuntimeError, ValueError) as e:
                    row.error = str(e)
                rows.append(row)
                log(f"{name}: {sc.name} {phase}: {fmt_row_brief(row)}")
                if prof_path is not None:
                    log(f"py-spy {prof_path}:\n{summarize_raw_profile(prof_path)}")
    finally:
        sampler.stop()
    return rows


def fmt_row_brief(row: Row) -> str:
    """``123,456 rec/s, 11.8 MB/s, p99 12 ms, RSS 150 MB`` or the error."""
    if row.error and row.records_per_s is None:
        return f"FAILED: {row.error}"
    parts = [f"{row.records_per_s:,.0f} rec/s", f"{row.mb_per_s:.1f} MB/s"]
    if row.p99_ms is not None:
        parts.append(f"p50 {row.p50_ms:.0f} ms, p99 {row.p99_ms:.0f} ms")
    if row.peak_rss_mb is not None:
        parts.append(f"RSS {row.peak_rss_mb:.0f} MB")
    return ", ".join(parts) + (f" ({row.error})" if row.error else "")


# -- reporting ---------------------------------------------------------------------------------------------------


def _num(v: float | None, fmt: str = ",.0f") -> str:
    return "-" if v is None else format(v, fmt)


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "-"
    return f"{a / b:.2f}"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], left: int = 2) -> str:
    """A plain-text table; the first ``left`` columns are left-aligned, the others right-aligned."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        pairs = enumerate(zip(cells, widths, strict=True))
        return "  ".join(c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in pairs)

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def broker_table(rows: list[Row]) -> str:
    """One broker's rows with every figure."""
    headers = [
        "scenario",
        "phase",
        "records",
        "rec/s",
        "MB/s",
        "avg ms",
        "p50",
        "p99",
        "p99.9",
        "max",
        "RSS MB",
        "CPU s",
        "CPU µs/rec",
        "note",
    ]
    body = [
        [
            r.scenario,
            r.phase,
            _num(r.records),
            _num(r.records_per_s),
            _num(r.mb_per_s, ".1f"),
            _num(r.avg_ms, ".1f"),
            _num(r.p50_ms),
            _num(r.p99_ms),
            _num(r.p999_ms),
            _num(r.max_ms),
            _num(r.peak_rss_mb),
            _num(r.broker_cpu_s, ".1f"),
            _num(r.cpu_us_per_record, ".2f"),
            (r.error or "")[:70],
        ]
        for r in rows
    ]
    return table(headers, body)


def comparison_table(rows: list[Row]) -> str:
    """Chronik and Kafka side by side, with the ratios Chronik/Kafka."""
    by_key: dict[tuple[str, str], dict[str, Row]] = collections.defaultdict(dict)
    order: list[tuple[str, str]] = []
    for r in rows:
        key = (r.scenario, r.phase)
        if key not in by_key:
            order.append(key)
        by_key[key][r.broker] = r
    headers = [
        "scenario",
        "phase",
        "rec/s C",
        "rec/s K",
        "C/K",
        "MB/s C",
        "MB/s K",
        "p50 C",
        "p50 K",
        "p99 C",
        "p99 K",
        "p99 C/K",
        "RSS C",
        "RSS K",
        "RSS C/K",
        "CPU µs/rec C",
        "K",
        "C/K",
    ]
    body = []
    for key in order:
        c = by_key[key].get("chronik", Row("chronik", *key))
        k = by_key[key].get("kafka", Row("kafka", *key))

        def val(r: Row, attr: str) -> float | None:
            return None if r.error and r.records_per_s is None and attr != "peak_rss_mb" else getattr(r, attr)

        def cell(r: Row, attr: str, fmt: str = ",.0f") -> str:
            if r.error and r.records_per_s is None:
                return "unsupported" if "not support" in r.error else "FAILED"
            return _num(getattr(r, attr), fmt)

        body.append(
            [
                key[0],
                key[1],
                cell(c, "records_per_s"),
                cell(k, "records_per_s"),
                _ratio(val(c, "records_per_s"), val(k, "records_per_s")),
                _num(val(c, "mb_per_s"), ".1f"),
                _num(val(k, "mb_per_s"), ".1f"),
                _num(val(c, "p50_ms")),
                _num(val(k, "p50_ms")),
                _num(val(c, "p99_ms")),
                _num(val(k, "p99_ms")),
                _ratio(val(c, "p99_ms"), val(k, "p99_ms")),
                _num(c.peak_rss_mb),
                _num(k.peak_rss_mb),
                _ratio(c.peak_rss_mb, k.peak_rss_mb),
                _num(val(c, "cpu_us_per_record"), ".2f"),
                _num(val(k, "cpu_us_per_record"), ".2f"),
                _ratio(val(c, "cpu_us_per_record"), val(k, "cpu_us_per_record")),
            ]
        )
    return table(headers, body)


def tls_cost_table(rows: list[Row]) -> str:
    """Per broker, each TLS row's rates and p99 against the same scenario over PLAINTEXT (TLS/plaintext)."""
    by_key = {(r.broker, r.scenario, r.phase): r for r in rows}
    headers = ["scenario", "phase", "rec/s TLS/plain C", "K", "p99 TLS/plain C", "K", "CPU µs/rec TLS/plain C", "K"]
    body = []
    for r in rows:
        if r.broker != "chronik" or not r.scenario.startswith("TLS "):
            continue
        plain = r.scenario.removeprefix("TLS ")
        cells = [r.scenario, r.phase]
        pairs = {b: (by_key.get((b, r.scenario, r.phase)), by_key.get((b, plain, r.phase))) for b in BROKERS}
        for attr in ("records_per_s", "p99_ms", "cpu_us_per_record"):
            for b in BROKERS:
                tls_row, plain_row = pairs[b]
                ok = tls_row is not None and plain_row is not None and tls_row.records_per_s and plain_row.records_per_s
                cells.append(_ratio(getattr(tls_row, attr), getattr(plain_row, attr)) if ok else "-")
        body.append(cells)
    return table(headers, body)


def _git(*args: str) -> str:
    done = subprocess.run(
        ["git", "--no-optional-locks", "-C", str(REPO), *args], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() if done.returncode == 0 else "unknown"


def versions(python: str) -> dict[str, str]:
    """Chronik's git commit (and modified tracked files), Python and library versions, Kafka and Java."""
    probe = (
        "import importlib.metadata as m, platform, json\n"
        "def v(n):\n"
        "    try:\n        return m.version(n)\n    except Exception:\n        return 'missing'\n"
        "try:\n    import chronik._accel; accel = 'yes'\nexcept Exception:\n    accel = 'no'\n"
        "print(json.dumps({'python': platform.python_version(), 'chronik': v('chronik'), 'twisted': v('twisted'),"
        " 'rocksdict': v('rocksdict'), 'accel': accel}))"
    )
    done = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=False, cwd=REPO)
    try:
        libs: dict[str, str] = json.loads(done.stdout)
    except json.JSONDecodeError:
        libs = {"python": "unknown"}
    dirty = _git("diff", "--name-only", "HEAD")
    modified = dirty.splitlines() if dirty not in ("", "unknown") else []
    return {
        "chronik_commit": _git("rev-parse", "--short=12", "HEAD"),
        "chronik_commit_subject": _git("log", "-1", "--format=%s"),
        "chronik_modified": ", ".join(modified) if modified else "none",
        "chronik_version": libs.get("chronik", "unknown"),
        "chronik_python": libs.get("python", "unknown"),
        "chronik_c_accel": libs.get("accel", "unknown"),
        "twisted": libs.get("twisted", "unknown"),
        "rocksdict": libs.get("rocksdict", "unknown"),
        "kafka": kafka_version(LIB_DIR),
        "java": java_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus, {platform.release()}",
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options (see the module docstring)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small record counts (about 1-2 minutes)")
    p.add_argument("--only", default="", help="comma-separated brokers (chronik, kafka), scenarios or phases")
    p.add_argument("--records-100b", type=int, default=None, help="records per 100 B scenario")
    p.add_argument("--records-1kb", type=int, default=None, help="records per 1 KiB scenario")
    p.add_argument("--rate", type=int, default=5000, help="records/s of the latency scenario")
    p.add_argument("--tls", action="store_true", help="also run every scenario over SSL listeners (rows 'TLS ...')")
    p.add_argument("--py-spy", type=Path, default=None, metavar="DIR", help="profile Chronik's phases into DIR")
    p.add_argument("--json", type=Path, default=None, metavar="FILE", help="write the rows as JSON")
    p.add_argument("--keep", action="store_true", help="keep the brokers' temp dirs")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print versions and tables."""
    args = parse_args(argv)
    t_start = time.monotonic()

    def log(msg: str) -> None:
        print(f"[{time.monotonic() - t_start:6.1f}s] {msg}", file=sys.stderr, flush=True)

    records_100b = args.records_100b or (200_000 if args.quick else 2_000_000)
    records_1kb = args.records_1kb or (50_000 if args.quick else 500_000)
    plan = scenarios(records_100b, records_1kb, args.rate, 3.0 if args.quick else 10.0, tls=args.tls)
    warmup = Scenario(100, "1", 100_000 if args.quick else 500_000)

    only = [s.strip() for s in args.only.split(",") if s.strip()]
    brokers = [b for b in BROKERS if b in only] or list(BROKERS)
    phase_items = {s for s in only if s in PHASES}
    phases = phase_items or set(PHASES)
    scenario_items = [s for s in only if s not in BROKERS and s not in PHASES]
    if scenario_items:
        plan = [sc for sc in plan if any(item in sc.name for item in scenario_items)]
    if not plan:
        print(f"--only {args.only!r} selects no scenario", file=sys.stderr)
        return 2

    ensure_kafka_lib()
    compile_assign_consumer()
    chronik_python = str(CHRONIK_PYTHON) if CHRONIK_PYTHON.exists() else sys.executable
    info = versions(chronik_python)
    print("== versions")
    for k, v in info.items():
        print(f"  {k:24} {v}")
    print(f"  {'scenarios':24} {', '.join(f'{sc.name} x {sc.records:,}' for sc in plan)}")
    print(f"  {'warm-up':24} {warmup.records:,} x {warmup.size} B, acks={warmup.acks} (not reported)")
    sys.stdout.flush()

    profiler = PySpy(args.py_spy) if args.py_spy else None
    tls_dir = Path(tempfile.mkdtemp(prefix="bench-tls-")) if any(sc.tls for sc in plan) else None
    tls = make_tls_files(tls_dir) if tls_dir else None
    tls_info: dict[str, str] = {}
    rows: list[Row] = []
    status = 0
    for name in brokers:
        log(f"starting {name}")
        broker: ChronikBroker | KafkaReference
        if name == "chronik":
            broker = ChronikBroker(keep=args.keep, tls=tls)
            ssl_port = broker.ssl_port
        else:
            broker, ssl_port = kafka_broker(keep=args.keep, tls=tls)
        try:
            with broker:
                log(f"{name} serves on {broker.bootstrap} (pid {broker.pid}, dir {broker.work_dir})")
                endpoints = {False: Endpoint(broker.bootstrap)}
                if tls is not None and ssl_port is not None:
                    endpoints[True] = Endpoint(f"127.0.0.1:{ssl_port}", tls.client_config)
                    try:
                        tls_info[name] = f"127.0.0.1:{ssl_port}, {tls_probe('127.0.0.1', ssl_port, tls.ca)}"
                    except (OSError, ssl.SSLError) as e:
                        tls_info[name] = f"127.0.0.1:{ssl_port}, TLS probe failed: {e}"
                    log(f"{name} SSL listener: {tls_info[name]}")
                rows += run_broker(broker, name, plan, phases, warmup, profiler, log, endpoints)
        except (RuntimeError, TimeoutError) as e:
            log(f"{name} failed to start: {e}")
            status = 1
        log(f"{name} stopped")
    if tls_dir is not None:
        shutil.rmtree(tls_dir, ignore_errors=True)

    for name in brokers:
        mine = [r for r in rows if r.broker == name]
        if mine:
            print(f"\n== {name}")
            print(broker_table(mine))
    if tls_info:
        print("\n== SSL listeners (version and cipher a Python client negotiates; same certificate for both)")
        for name, text in tls_info.items():
            print(f"  {name:8} {text}")
    if len(brokers) == 2:
        legend = "rates: > 1 = Chronik faster; latency, RSS, CPU: < 1 = Chronik better"
        plain_rows = [r for r in rows if not r.scenario.startswith("TLS ")]
        tls_rows = [r for r in rows if r.scenario.startswith("TLS ")]
        print(f"\n== PLAINTEXT: Chronik (C) / Kafka (K); {legend}")
        print(comparison_table(plain_rows))
        if tls_rows:
            print(f"\n== TLS: Chronik (C) / Kafka (K); {legend}")
            print(comparison_table(tls_rows))
            print("\n== TLS cost: TLS row / same scenario over PLAINTEXT, per broker (rates < 1 = TLS slower)")
            print(tls_cost_table(rows))
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\ntotal {time.monotonic() - t_start:.0f} s; load average at the end {load} (other work skews the figures)")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "versions": info,
                    "rows": [dataclasses.asdict(r) | {"cpu_us_per_record": r.cpu_us_per_record} for r in rows],
                },
                indent=2,
            )
        )
    return status


if __name__ == "__main__":
    sys.exit(main())
