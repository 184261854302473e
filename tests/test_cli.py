"""chronik.cli: argument parsing, ``chronik config`` output, ``chronik start``'s data-directory lock
and its hand-over to ``chronik.broker.app.serve``; chronik.logconfig's one-line format."""

from __future__ import annotations

import fcntl
import io
import json
import logging
import os
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from chronik import cli
from chronik.config import BrokerConfig, read_meta_properties
from chronik.logconfig import OneLineFormatter, level_from_name, setup_logging


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No CHRONIK_* / KAFKA_PORT from the developer's shell leaks into the tests."""
    for name in list(os.environ):
        if name.startswith("CHRONIK_") or name == "KAFKA_PORT":
            monkeypatch.delenv(name)


@pytest.fixture
def no_logging_setup(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``chronik start`` configures process-wide logging; record the level instead."""
    levels: list[str] = []
    monkeypatch.setattr(cli, "setup_logging", lambda level, **_: levels.append(level))
    return levels


@pytest.fixture
def fake_serve(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[BrokerConfig]]:
    """A stand-in ``chronik.broker.app`` whose ``serve`` records its config and checks the lock."""
    calls: list[BrokerConfig] = []

    def serve(config: BrokerConfig) -> int:
        calls.append(config)
        lock_file = config.data_dir / cli.LOCK_FILE
        assert lock_file.read_text().strip() == str(os.getpid())
        fd = os.open(lock_file, os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # still held while serve() runs
        finally:
            os.close(fd)
        return 0

    module = types.ModuleType("chronik.broker.app")
    module.serve = serve  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "chronik.broker.app", module)
    yield calls


# --------------------------------------------------------------------------------------------
# Argument parsing
# --------------------------------------------------------------------------------------------


def test_parser_start_arguments() -> None:
    args = cli.build_parser().parse_args(
        ["start", "--config", "server.properties", "--override", "a=1", "--override", "b=2", "--data-dir", "/d"]
    )
    assert (args.command, args.config, args.override, args.data_dir) == (
        "start",
        "server.properties",
        ["a=1", "b=2"],
        "/d",
    )
    args = cli.build_parser().parse_args(["config", "--changed", "--json"])
    assert (args.command, args.config, args.override, args.changed, args.json) == ("config", None, [], True, True)


def test_main_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    assert "usage: chronik" in capsys.readouterr().err
    assert cli.main(["frobnicate"]) == 2
    assert "invalid choice" in capsys.readouterr().err
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("chronik ")
    assert cli.main(["start", "--help"]) == 0
    assert "--override KEY=VALUE" in capsys.readouterr().out


# --------------------------------------------------------------------------------------------
# chronik config
# --------------------------------------------------------------------------------------------


def test_config_prints_values_with_sources(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    props = tmp_path / "server.properties"
    props.write_text("num.partitions=2\nlog.retention.hours=24\nzookeeper.connect=zk:2181\n")
    monkeypatch.setenv("CHRONIK_CFG_DEFAULT_REPLICATION_FACTOR", "1")
    rc = cli.main(["config", "--config", str(props), "--override", "num.partitions=5", "--data-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0
    lines = {line.split("=", 1)[0]: line for line in out.splitlines() if not line.startswith("#")}
    assert lines["num.partitions"].startswith("num.partitions=5 ")
    assert lines["num.partitions"].endswith("(override --override num.partitions)")
    assert lines["log.retention.hours"].endswith(f"(file {props}:2)")
    assert lines["default.replication.factor"].endswith("(env CHRONIK_CFG_DEFAULT_REPLICATION_FACTOR)")
    assert lines["log.dirs"].endswith("(override --data-dir)")
    assert lines["log.retention.ms"].startswith("log.retention.ms=null ")
    assert lines["log.retention.ms"].endswith("(default)")
    assert f"# ignored Kafka config: zookeeper.connect=zk:2181  (file {props}:3)" in out
    assert "# advertised listeners: PLAINTEXT://127.0.0.1:9092" in out
    assert not (tmp_path / ".lock").exists()  # `config` never touches the data directory


def test_config_changed_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["config", "--changed", "--override", "num.partitions=3", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert [line.split("=")[0] for line in out.splitlines() if not line.startswith("#")] == [
        "log.dirs",
        "num.partitions",
    ]
    assert cli.main(["config", "--json", "--override", "num.partitions=3"]) == 0
    doc = json.loads(capsys.readouterr().out)
    by_name = {c["name"]: c for c in doc["configs"]}
    assert by_name["num.partitions"] == {
        "name": "num.partitions",
        "value": "3",
        "source": "STATIC_BROKER_CONFIG",
        "origin": "override --override num.partitions",
        "type": "INT",
        "default": "1",
    }
    assert by_name["log.retention.ms"]["value"] is None
    assert by_name["message.max.bytes"]["source"] == "DEFAULT_CONFIG"
    assert doc["advertised_listeners"] == ["PLAINTEXT://127.0.0.1:9092"]
    assert doc["node_id"] == 1


def test_config_topic_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["config", "--topic-defaults", "--override", "log.retention.hours=24"]) == 0
    out = capsys.readouterr().out
    assert (
        "retention.ms=86400000  (STATIC_BROKER_CONFIG; synonyms={STATIC_BROKER_CONFIG:log.retention.hours=24, "
        "DEFAULT_CONFIG:log.retention.hours=168})"
    ) in out
    assert cli.main(["config", "--topic-defaults", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["max.message.bytes"]["value"] == "1048588"


def test_config_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["config", "--override", "num.partitons=3", "--override", "message.max.bytes=-1"]) == 2
    err = capsys.readouterr().err
    assert "chronik: invalid configuration:" in err
    assert "did you mean 'num.partitions'?" in err
    assert "Invalid value -1 for configuration message.max.bytes: Value must be at least 0" in err
    assert cli.main(["config", "--config", "/nonexistent/chronik.properties"]) == 2
    assert "cannot read config file /nonexistent/chronik.properties" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# chronik start
# --------------------------------------------------------------------------------------------


def test_start_refuses_a_locked_data_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_logging_setup: list[str], fake_serve: list[BrokerConfig]
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    fd = os.open(data_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # "another broker": this test process
        os.write(fd, f"{os.getpid()}\n".encode())
        rc = cli.main(["start", "--data-dir", str(data_dir)])
    finally:
        os.close(fd)
    assert rc == 1
    assert f"another Chronik broker is using {data_dir} (pid {os.getpid()})" in capsys.readouterr().err
    assert fake_serve == []  # never reached the broker
    assert not (data_dir / "meta.properties").exists()


def test_start_runs_serve_with_the_lock_held(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_logging_setup: list[str], fake_serve: list[BrokerConfig]
) -> None:
    data_dir = tmp_path / "new" / "data"  # created by `start`
    rc = cli.main(["start", "--data-dir", str(data_dir), "--override", "chronik.log.level=debug"])
    assert rc == 0, capsys.readouterr().err
    (config,) = fake_serve
    assert config.data_dir == data_dir
    meta = read_meta_properties(data_dir)
    assert meta is not None and config.cluster_id == meta.cluster_id and config.meta == meta
    assert no_logging_setup == ["DEBUG"]
    # released after serve() returned: the lock can be taken again, and a second start works
    with cli.DataDirLock.acquire(data_dir) as lock:
        assert lock.held
    assert cli.main(["start", "--data-dir", str(data_dir)]) == 0
    assert fake_serve[1].cluster_id == meta.cluster_id  # same cluster on restart


def test_start_without_broker_runtime(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_logging_setup: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "chronik.broker.app", None)  # import raises ModuleNotFoundError
    assert cli.main(["start", "--data-dir", str(tmp_path)]) == 1
    assert "the broker runtime is not available (module chronik.broker.app is missing)" in capsys.readouterr().err
    with cli.DataDirLock.acquire(tmp_path):  # the lock was released on the way out
        pass


def test_start_config_error_and_meta_mismatch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_logging_setup: list[str], fake_serve: list[BrokerConfig]
) -> None:
    assert cli.main(["start", "--data-dir", str(tmp_path), "--override", "listeners=nope"]) == 2
    assert "Unable to parse nope to a broker endpoint" in capsys.readouterr().err
    assert cli.main(["start", "--data-dir", str(tmp_path)]) == 0
    assert cli.main(["start", "--data-dir", str(tmp_path), "--override", "node.id=5"]) == 1
    assert "was written by node 1, but node.id is 5" in capsys.readouterr().err
    assert len(fake_serve) == 1


def test_data_dir_lock(tmp_path: Path) -> None:
    lock = cli.DataDirLock.acquire(tmp_path)
    assert (tmp_path / ".lock").read_text() == f"{os.getpid()}\n"
    with pytest.raises(cli.DataDirLocked) as excinfo:
        cli.DataDirLock.acquire(tmp_path)
    assert excinfo.value.pid == os.getpid()
    assert str(excinfo.value) == f"another Chronik broker is using {tmp_path} (pid {os.getpid()})"
    lock.release()
    lock.release()  # idempotent
    assert not lock.held
    (tmp_path / ".lock").write_text("garbage")
    with cli.DataDirLock.acquire(tmp_path), pytest.raises(cli.DataDirLocked, match=r"\(pid \d+\)"):
        cli.DataDirLock.acquire(tmp_path)


# --------------------------------------------------------------------------------------------
# Logging
# --------------------------------------------------------------------------------------------


def test_one_line_log_format() -> None:
    formatter = OneLineFormatter()
    record = logging.LogRecord("chronik.test", logging.WARNING, __file__, 1, "two\nlines %s", ("here",), None)
    line = formatter.format(record)
    assert "\n" not in line
    date, level, name, message = line.split(" ", 3)
    assert len(date) == len("2025-01-31T12:34:56.789+0000") and date[10] == "T"
    assert (level, name, message) == ("WARNING", "[chronik.test]", "two\\nlines here")
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    line = formatter.format(record)
    assert "\n" not in line and "failed | Traceback" in line and "ValueError: boom" in line


def test_setup_logging_replaces_its_own_handler() -> None:
    root = logging.getLogger()
    old_level = root.level
    first, second = io.StringIO(), io.StringIO()
    try:
        setup_logging("debug", stream=first, bridge_twisted=False)
        setup_logging("INFO", stream=second, bridge_twisted=False)
        logging.getLogger("chronik.test").info("hello")
        logging.getLogger("chronik.test").debug("hidden")
        assert first.getvalue() == ""
        assert second.getvalue().rstrip("\n").endswith("INFO  [chronik.test] hello")
        assert len([h for h in root.handlers if getattr(h, "_chronik", False)]) == 1
    finally:
        for handler in [h for h in root.handlers if getattr(h, "_chronik", False)]:
            root.removeHandler(handler)
        root.setLevel(old_level)
        logging.captureWarnings(False)
    assert level_from_name("warn") == logging.WARNING
    with pytest.raises(ValueError, match="unknown log level"):
        level_from_name("loud")
