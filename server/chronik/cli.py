"""The ``chronik`` command: ``chronik start`` runs the broker, ``chronik config`` shows its config.

Usage::

    chronik start  [--config FILE] [--override KEY=VALUE ...] [--data-dir DIR]
    chronik config [--config FILE] [--override KEY=VALUE ...] [--data-dir DIR]
                   [--changed] [--json] [--topic-defaults]

The configuration is loaded by :meth:`chronik.config.BrokerConfig.load`: defaults < ``--config``
file (``.properties`` or ``.yaml``) < environment (``CHRONIK_DATA_DIR``, ``KAFKA_PORT``,
``CHRONIK_LOG_LEVEL``, ``CHRONIK_CFG_<NAME>``) < ``--override`` < ``--data-dir``.

``chronik start`` does, in order:

1. load and validate the configuration (exit 2 with every problem listed if it is invalid);
2. set up logging (:func:`chronik.logconfig.setup_logging`, level ``chronik.log.level``: one line
   per event on stderr, with timestamps; Twisted's log is bridged into it) and log the ignored
   Kafka keys and the non-default values;
3. create the data directory and take an exclusive, non-blocking ``fcntl.flock`` on
   ``<data dir>/.lock``, writing our pid into it. If another process holds it, print
   ``another Chronik broker is using DIR (pid N)`` and exit 1. The lock is released when the
   process exits, however it exits; the file is left in place;
4. read or create ``<data dir>/meta.properties`` (cluster id, node id; exit 1 on a mismatch);
5. call ``chronik.broker.app.serve(config)`` and exit with its return value (``None`` is 0).

Contract with ``chronik.broker.app.serve(config: BrokerConfig) -> int | None``:

* it is called with logging configured, the data directory locked and ``config.cluster_id`` /
  ``config.meta`` set from ``meta.properties``; it must not reconfigure logging;
* it runs the Twisted reactor and returns when the reactor has stopped;
* it owns SIGTERM/SIGINT: the reactor's signal handlers stop the reactor, and ``serve()`` installs
  ``reactor.addSystemEventTrigger("before", "shutdown", ...)`` triggers that stop accepting
  connections (``stopListening`` on every port), let in-flight requests finish (pending responses
  and group commits, with a bound), flush (``storage.sync()``) and close the storage. The CLI adds
  no signal handling of its own;
* the data-directory lock is held until ``serve()`` returns or raises.

Exit codes: 0 success, 1 runtime failure (data directory locked or unusable, broker runtime missing,
``meta.properties`` mismatch), 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import fcntl
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from chronik.config import (
    BROKER_CONFIGS,
    BrokerConfig,
    ConfigError,
    Password,
    describe_topic_configs,
    ensure_meta_properties,
)
from chronik.logconfig import setup_logging

__all__ = ["LOCK_FILE", "DataDirLock", "DataDirLocked", "build_parser", "main"]

LOCK_FILE = ".lock"
_log = logging.getLogger("chronik.cli")


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("chronik")
    except Exception:  # pragma: no cover - not installed
        return "unknown"


# --------------------------------------------------------------------------------------------
# Data directory lock
# --------------------------------------------------------------------------------------------


class DataDirLocked(RuntimeError):
    """Another process holds the data directory's lock; :attr:`pid` is its pid if known."""

    def __init__(self, data_dir: Path, pid: int | None) -> None:
        self.data_dir = data_dir
        self.pid = pid
        super().__init__(f"another Chronik broker is using {data_dir} (pid {pid if pid is not None else 'unknown'})")


class DataDirLock:
    """An exclusive ``flock`` on ``<data dir>/.lock`` whose file holds the owner's pid."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, data_dir: Path) -> DataDirLock:
        """Lock ``data_dir`` without blocking; :class:`DataDirLocked` if someone else holds it."""
        path = data_dir / LOCK_FILE
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise DataDirLocked(data_dir, _read_pid(path)) from None
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return cls(path, fd)

    @property
    def held(self) -> bool:
        """Whether this object still holds the lock."""
        return self._fd is not None

    def release(self) -> None:
        """Unlock (idempotent). The lock file stays: deleting it would race with a new owner."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def __enter__(self) -> DataDirLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_pid(path: Path) -> int | None:
    try:
        text = path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


# --------------------------------------------------------------------------------------------
# Argument parsing
# --------------------------------------------------------------------------------------------


def _add_config_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        "-c",
        metavar="FILE",
        help="broker config file: Java .properties (server.properties) or YAML (.yaml/.yml)",
    )
    p.add_argument(
        "--override",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set a config value, overriding the file and the environment (repeatable)",
    )
    p.add_argument("--data-dir", metavar="DIR", help="the data directory (same as --override log.dirs=DIR)")


def build_parser() -> argparse.ArgumentParser:
    """The ``chronik`` argument parser (subcommands ``start`` and ``config``)."""
    parser = argparse.ArgumentParser(
        prog="chronik",
        description="Chronik, a Kafka-compatible broker.",
        epilog="Environment: CHRONIK_DATA_DIR (log.dirs), KAFKA_PORT (PLAINTEXT listener port), "
        "CHRONIK_LOG_LEVEL, CHRONIK_CFG_<NAME> (any config; dots as underscores, e.g. CHRONIK_CFG_NUM_PARTITIONS=3).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    start = sub.add_parser("start", help="run the broker", description="Run the broker in the foreground.")
    _add_config_arguments(start)
    show = sub.add_parser(
        "config",
        help="print the effective configuration and where each value comes from",
        description="Print the effective broker configuration with the source of each value.",
    )
    _add_config_arguments(show)
    show.add_argument("--changed", action="store_true", help="only the values that are not defaults")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.add_argument(
        "--topic-defaults",
        action="store_true",
        help="print the topic config defaults this broker gives new topics (DescribeConfigs view)",
    )
    return parser


def _load_config(args: argparse.Namespace) -> BrokerConfig:
    return BrokerConfig.load(config_file=args.config, overrides=args.override, data_dir=args.data_dir)


# --------------------------------------------------------------------------------------------
# chronik config
# --------------------------------------------------------------------------------------------


def _display_value(config: BrokerConfig, name: str) -> str:
    value = config.get(name)
    if isinstance(value, Password):
        return Password.HIDDEN
    text = config.value_string(name)
    return "null" if text is None else text


def _cmd_config(args: argparse.Namespace, out: TextIO) -> int:
    config = _load_config(args)
    if args.topic_defaults:
        entries = describe_topic_configs({}, config)
        if args.json:
            rows = [
                {
                    "name": e.name,
                    "value": e.value,
                    "source": e.source.name,
                    "synonyms": [{"name": s.name, "value": s.value, "source": s.source.name} for s in e.synonyms],
                }
                for e in entries
            ]
            json.dump(rows, out, indent=2)
            out.write("\n")
            return 0
        for e in entries:
            synonyms = ", ".join(f"{s.source.name}:{s.name}={s.value}" for s in e.synonyms)
            out.write(
                f"{e.name}={e.value if e.value is not None else 'null'}  ({e.source.name}; synonyms={{{synonyms}}})\n"
            )
        return 0

    names = [n for n in BROKER_CONFIGS if not BROKER_CONFIGS[n].internal or config.is_set(n)]
    if args.changed:
        names = [n for n in names if config.is_set(n)]
    names.sort()
    if args.json:
        doc: dict[str, Any] = {
            "configs": [
                {
                    "name": n,
                    "value": _display_value(config, n) if config.get(n) is not None else None,
                    "source": config.source(n).name,
                    "origin": str(config.origin(n)),
                    "type": BROKER_CONFIGS[n].type.name,
                    "default": BROKER_CONFIGS[n].default_string,
                }
                for n in names
            ],
            "ignored": [{"name": k, "value": v, "origin": str(o)} for k, v, o in config.ignored],
            "data_dir": str(config.data_dir),
            "listeners": [str(e) for e in config.listeners],
            "advertised_listeners": [str(e) for e in config.advertised_listeners],
            "node_id": config.node_id,
        }
        json.dump(doc, out, indent=2)
        out.write("\n")
        return 0
    out.write("# Effective Chronik broker configuration (precedence: default < file < env < override)\n")
    width = min(60, max((len(n) + 1 + len(_display_value(config, n)) for n in names), default=0))
    for n in names:
        line = f"{n}={_display_value(config, n)}"
        out.write(f"{line.ljust(width)}  ({config.origin(n)})\n")
    for name, value in sorted(config.listener_overrides().items()):
        shown = Password.HIDDEN if isinstance(value, Password) else value
        line = f"{name}={','.join(shown) if isinstance(shown, list) else shown}"
        out.write(f"{line.ljust(width)}  ({config.origin(name)})\n")
    for name, value, origin in config.ignored:
        out.write(f"# ignored Kafka config: {name}={value}  ({origin})\n")
    out.write(f"# data directory: {config.data_dir}\n")
    out.write(f"# listeners: {', '.join(str(e) for e in config.listeners)}\n")
    out.write(f"# advertised listeners: {', '.join(str(e) for e in config.advertised_listeners)}\n")
    return 0


# --------------------------------------------------------------------------------------------
# chronik start
# --------------------------------------------------------------------------------------------


def _cmd_start(args: argparse.Namespace, err: TextIO) -> int:
    config = _load_config(args)  # ConfigError is reported by main()
    setup_logging(config.log_level)
    _log.info("Chronik %s starting (pid %d)", _version(), os.getpid())
    for name, value, origin in config.ignored:
        _log.info("ignoring Kafka config %s=%s (%s): not used by Chronik", name, value, origin)
    for name in config.changed():
        _log.info("config %s=%s (%s)", name, _display_value(config, name), config.origin(name))
    for name, _ in config.items():
        if not config.is_set(name):
            _log.debug("config %s=%s (default)", name, _display_value(config, name))

    data_dir = config.data_dir
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        print(f"chronik: cannot create data directory {data_dir}: {e.strerror or e}", file=err)
        return 1
    try:
        lock = DataDirLock.acquire(data_dir)
    except DataDirLocked as e:
        print(f"chronik: {e}", file=err)
        return 1
    except OSError as e:
        print(f"chronik: cannot lock data directory {data_dir}: {e.strerror or e}", file=err)
        return 1
    with lock:
        try:
            meta = ensure_meta_properties(config)
        except ConfigError as e:
            print(f"chronik: {e}", file=err)
            return 1
        config = config.with_meta(meta)
        _log.info("data directory %s: cluster id %s, node id %d", data_dir, meta.cluster_id, meta.node_id)
        try:
            from chronik.broker.app import serve
        except ModuleNotFoundError as e:
            if e.name in ("chronik.broker", "chronik.broker.app"):
                print(
                    "chronik: the broker runtime is not available (module chronik.broker.app is missing); "
                    "this build can load and check configurations only",
                    file=err,
                )
                return 1
            raise
        result = serve(config)
        _log.info("Chronik stopped")
        return 0 if result is None else int(result)


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``chronik`` command; returns the process exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as e:  # --help, --version, usage errors
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        if args.command == "start":
            return _cmd_start(args, sys.stderr)
        return _cmd_config(args, sys.stdout)
    except ConfigError as e:
        print(f"chronik: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # before the reactor took over SIGINT
        return 130


if __name__ == "__main__":  # pragma: no cover
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
