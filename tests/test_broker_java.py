"""The Java client (kafka-clients, newest pinned release) against ``chronik start``: admin,
an idempotent acks=all producer with its defaults, an assigning consumer."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from chronik_protocol.api_table import RELEASES
from tests.javacheck.runner import java_available, lib_dir

from .broker_process import BrokerProcess

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(not java_available(), reason="java/javac not on PATH: install a JDK 17 (scripts/test does)")
@pytest.mark.parametrize("release", RELEASES)
def test_java_client_scenario(tmp_path: Path, release: str) -> None:
    if not lib_dir(release).is_dir():
        subprocess.run([str(ROOT / "scripts" / "java-deps")], check=True)
    with BrokerProcess(tmp_path / "data") as broker:
        proc = subprocess.run(
            [
                "java",
                "-cp",
                f"{lib_dir(release)}/*",
                str(ROOT / "tests/javacheck/ClientScenario.java"),
                broker.bootstrap,
                "2000",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:] + broker.log()[-3000:]
        assert "OK produced=2000 consumed=2000" in proc.stdout
