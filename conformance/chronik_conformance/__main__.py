"""Command line: ``python -m chronik_conformance {run,brokers,prepare}``."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time

from chronik_conformance.brokers import Broker, ChronikBroker, KafkaBroker
from chronik_conformance.topics import create_scenario_topics


def _brokers(args: argparse.Namespace) -> int:
    """Start both brokers with the scenario topics under ``--prefix``; print the addresses; wait for Ctrl-C."""
    brokers: list[Broker] = [ChronikBroker(), KafkaBroker()]
    try:
        for b in brokers:
            b.start()
            create_scenario_topics(b.bootstrap, args.prefix)
            print(f"{b.name} {b.version} on {b.bootstrap} (topics under prefix {args.prefix!r})", flush=True)
        print("Ctrl-C stops both", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(1)
    finally:
        for b in brokers:
            b.stop()
    return 0


def _prepare(args: argparse.Namespace) -> int:
    """Create the scenario topics on a running broker."""
    for name in create_scenario_topics(args.bootstrap, args.prefix):
        print(name)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chronik_conformance", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("brokers", help="start Chronik and Kafka with the scenario topics, for driver development")
    p.add_argument("--prefix", default="dev")
    p.set_defaults(func=_brokers)
    p = sub.add_parser("prepare", help="create the scenario topics on a running broker")
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--prefix", required=True)
    p.set_defaults(func=_prepare)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
