"""Run tests/javacheck/CodecCheck.java against a pinned kafka-clients jar.

``run_java(version, vectors)`` fetches the jars (``scripts/java-deps``) if needed, compiles
CodecCheck.java into ``tests/javacheck/target/<version>/`` when stale, feeds the vectors to one
JVM as JSON Lines and returns one result dict per vector, in order. The JSON format the Kafka
converters accept, and the result keys, are documented at the top of CodecCheck.java.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SOURCE = HERE / "CodecCheck.java"
JAVA_DEPS = REPO / "scripts" / "java-deps"

RESULT_KEYS = (
    "id",
    "java_hex",
    "java_json",
    "parsed_equals_json",
    "reserialized_equals_python",
    "consumed_all",
    "error",
    "error_stage",
)


class JavaCheckError(RuntimeError):
    """The Java cross-check could not be set up or run (not a per-vector mismatch)."""


def java_available() -> bool:
    """Whether both ``java`` and ``javac`` are on PATH."""
    return shutil.which("java") is not None and shutil.which("javac") is not None


def lib_dir(kafka_version: str) -> Path:
    """Folder holding kafka-clients and its dependencies for ``kafka_version``."""
    return HERE / "lib" / kafka_version


def class_dir(kafka_version: str) -> Path:
    """Folder CodecCheck is compiled into for ``kafka_version``."""
    return HERE / "target" / kafka_version


def _classpath(*parts: Path | str) -> str:
    """Join classpath entries with the platform separator."""
    return os.pathsep.join(str(p) for p in parts)


def ensure_jars(kafka_version: str) -> Path:
    """Fetch the jars with scripts/java-deps if kafka-clients for this version is missing."""
    lib = lib_dir(kafka_version)
    jar = lib / f"kafka-clients-{kafka_version}.jar"
    if not jar.is_file():
        if shutil.which("mvn") is None:
            raise JavaCheckError(f"{jar} is missing and mvn is not installed to fetch it")
        proc = subprocess.run(["bash", str(JAVA_DEPS)], cwd=REPO, capture_output=True, text=True, check=False)
        if proc.returncode != 0 or not jar.is_file():
            raise JavaCheckError(
                f"scripts/java-deps failed to fetch {jar} (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
            )
    return lib


@contextlib.contextmanager
def _locked(name: str) -> Iterator[None]:
    """Serialize setup steps across processes (e.g. pytest-xdist workers) by a lock file."""
    (HERE / "target").mkdir(parents=True, exist_ok=True)
    with (HERE / "target" / f".{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ensure_compiled(kafka_version: str) -> Path:
    """Compile CodecCheck.java for ``kafka_version`` unless the .class is newer than the source."""
    if not java_available():
        raise JavaCheckError("java and javac (JDK 17+) are needed for the Java cross-check")
    target = class_dir(kafka_version)
    compiled = target / "CodecCheck.class"
    with _locked("java-deps"):
        lib = ensure_jars(kafka_version)
    with _locked(kafka_version):
        if compiled.is_file() and compiled.stat().st_mtime >= SOURCE.stat().st_mtime:
            return target
        target.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(
            ["javac", "-nowarn", "-cp", _classpath(lib / "*"), "-d", str(target), str(SOURCE)],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise JavaCheckError(f"javac failed for Kafka {kafka_version}:\n{proc.stdout}{proc.stderr}")
    return target


def run_java(kafka_version: str, vectors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Check ``vectors`` with Kafka ``kafka_version``'s Java classes; one result per vector.

    Each vector: ``{"id", "message", "version", "json" (dict or None), "python_hex"}``. Each
    result: ``{"id", "java_hex", "java_json", "parsed_equals_json",
    "reserialized_equals_python", "consumed_all", "error", "error_stage"}``.
    """
    if not vectors:
        return []
    target = ensure_compiled(kafka_version)
    classpath = _classpath(target, lib_dir(kafka_version) / "*")
    with tempfile.TemporaryDirectory(prefix="javacheck-") as tmp:
        infile = Path(tmp) / "in.jsonl"
        outfile = Path(tmp) / "out.jsonl"
        with infile.open("w", encoding="utf-8") as f:
            for vector in vectors:
                f.write(json.dumps(vector, separators=(",", ":")))
                f.write("\n")
        proc = subprocess.run(
            [
                "java",
                "-Xss8m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "-cp",
                classpath,
                "CodecCheck",
                str(infile),
                str(outfile),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise JavaCheckError(f"CodecCheck (Kafka {kafka_version}) exited {proc.returncode}:\n{proc.stderr}")
        with outfile.open(encoding="utf-8") as f:
            results = [json.loads(line) for line in f if line.strip()]
    if len(results) != len(vectors):
        raise JavaCheckError(f"CodecCheck returned {len(results)} results for {len(vectors)} vectors:\n{proc.stderr}")
    return results
