"""Our error-code table equals Kafka's ``Errors`` enum in every pinned kafka-clients jar."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from chronik.protocol.errors import RETRIABLE, ErrorCode
from chronik_protocol.api_table import RELEASES
from tests.javacheck.runner import java_available, lib_dir

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(not java_available(), reason="java/javac not on PATH: install a JDK 17 (scripts/test does)")
@pytest.mark.parametrize("release", RELEASES)
def test_error_codes_match_kafka(release: str) -> None:
    if not lib_dir(release).is_dir():
        subprocess.run([str(ROOT / "scripts" / "java-deps")], check=True)
    out = subprocess.run(
        ["java", "-cp", f"{lib_dir(release)}/*", str(ROOT / "tests/javacheck/ErrorCodes.java")],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    kafka = {}
    retriable = set()
    for line in out.splitlines():
        code, name, *flag = line.split()
        kafka[name] = int(code)
        if flag:
            retriable.add(name)
    ours = {e.name: int(e) for e in ErrorCode}
    # The newest release is the table; an older one may lack newer codes but never disagrees.
    for name, code in kafka.items():
        assert ours.get(name) == code, f"{name}: Kafka {release} says {code}, we say {ours.get(name)}"
    if release == RELEASES[0]:
        assert ours == kafka
        assert {e.name for e in RETRIABLE} == retriable
