"""Command line: ``python -m chronik_conformance {run,brokers,prepare}``.

``run`` builds the client drivers, starts Chronik and Apache Kafka, runs the scenarios and the
protocol sweep, writes ``results.json``, ``report.md`` and ``report.html`` to ``--out`` and exits 1
if anything is red (a Chronik failure that is not a known gap, a scenario failing on Kafka, an
unexplained sweep difference). ``--fast`` is the CI subset: required clients, core scenarios, sweep.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from chronik_conformance.brokers import Broker, ChronikBroker, KafkaBroker
from chronik_conformance.clients import CLIENTS, client_by_name
from chronik_conformance.kafka_reference import CONFORMANCE_DIR, java_version
from chronik_conformance.knowngaps import KnownGaps
from chronik_conformance.report import judge, render_html, render_markdown
from chronik_conformance.runner import build_clients, prepare_security, run_clients, start_all
from chronik_conformance.scenarios import ALL_SCENARIOS, FAST_SCENARIOS, SECURITY_SCENARIOS
from chronik_conformance.security import SecuritySetup
from chronik_conformance.topics import create_scenario_topics

DEFAULT_OUT = CONFORMANCE_DIR / ".out"
PUBLISHED = CONFORMANCE_DIR / "report"


def _progress(line: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {line}", file=sys.stderr, flush=True)


def _first_line(cmd: list[str]) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "not found"
    text = (done.stdout or done.stderr).strip()
    return text.splitlines()[0] if text else "unknown"


def _environment() -> dict[str, str]:
    commit = _first_line(["git", "-C", str(CONFORMANCE_DIR), "rev-parse", "--short", "HEAD"])
    dirty = _first_line(["git", "-C", str(CONFORMANCE_DIR), "status", "--porcelain", "--untracked-files=no"])
    return {
        "chronik_commit": commit + ("+changes" if dirty not in ("", "unknown", "not found") else ""),
        "python": platform.python_version(),
        "java": java_version(),
        "go": _first_line(["go", "version"]),
        "node": _first_line(["node", "--version"]),
        "platform": platform.platform(),
    }


def _run_acl_matrix(run: dict) -> None:
    """Both brokers again, with SASL/PLAIN users and the StandardAuthorizer; the results go into ``run``."""
    _progress("ACL matrix: starting both brokers with SASL users and an authorizer")
    try:
        from chronik_conformance.acl_matrix import run_acl_matrix, start_brokers

        started = start_brokers()
        try:
            run["acl_matrix"] = run_acl_matrix(started.chronik_sasl, started.kafka_sasl)
        finally:
            started.chronik.stop()
            started.kafka.stop()
        same = sum(1 for r in run["acl_matrix"] if r["status"] == "same")
        _progress(f"ACL matrix: {same} of {len(run['acl_matrix'])} comparisons identical")
    except Exception as exc:  # the report says the matrix did not run, and why
        run["acl_matrix_error"] = f"{type(exc).__name__}: {exc}"
        _progress(f"ACL matrix failed: {run['acl_matrix_error']}")


def _run(args: argparse.Namespace) -> int:
    """Build, start, run, judge, report."""
    started = time.monotonic()
    out_dir = Path(args.out)
    log_dir = out_dir / "logs"
    shutil.rmtree(log_dir, ignore_errors=True)
    log_dir.mkdir(parents=True, exist_ok=True)
    if args.clients:
        clients = [client_by_name(n) for n in args.clients.split(",")]
    elif args.fast:
        clients = [c for c in CLIENTS if c.required]
    else:
        clients = list(CLIENTS)
    scenarios = args.scenarios.split(",") if args.scenarios else list(FAST_SCENARIOS if args.fast else ALL_SCENARIOS)
    unknown = sorted(set(scenarios) - set(ALL_SCENARIOS))
    if unknown:
        raise SystemExit(f"unknown scenarios {unknown}; known: {', '.join(ALL_SCENARIOS)}")
    gaps = KnownGaps.load()
    builds = build_clients(clients, log_dir, _progress)
    runnable = [c for c in clients if builds[c.name].ok]
    run: dict = {
        "started": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "mode": "fast" if args.fast else ("full" if not (args.clients or args.scenarios) else "partial"),
        "scenarios": scenarios,
        "clients": [
            {
                "name": c.name,
                "library": c.library,
                "language": c.language,
                "required": c.required,
                "version": builds[c.name].version,
                "build_ok": builds[c.name].ok,
                "build_detail": builds[c.name].detail,
            }
            for c in clients
        ],
        "environment": _environment(),
        "results": [],
        "sweep": None,
    }
    # The SSL / SASL listeners only when a security scenario runs: same CA, certificate and users on both brokers.
    security_dir = Path(tempfile.mkdtemp(prefix="chronik-conf-security-"))
    security = SecuritySetup(security_dir) if any(s in SECURITY_SCENARIOS for s in scenarios) else None
    security_files: dict[str, Path] = {}
    chronik_broker: ChronikBroker = ChronikBroker(security=security)
    kafka_broker: KafkaBroker = KafkaBroker(security=security)
    brokers: list[Broker] = [kafka_broker, chronik_broker]
    try:
        start_all(brokers, _progress)
    except BaseException:
        shutil.rmtree(security_dir, ignore_errors=True)
        raise
    try:
        run["brokers"] = {b.name: {"version": b.version, "bootstrap": b.bootstrap} for b in brokers}
        if security is not None:
            for b in brokers:
                security_files[b.name] = prepare_security(b, security, security_dir)
                run["brokers"][b.name]["secured_listeners"] = b.secure_addresses
        if not args.no_sweep:
            _progress("protocol sweep")
            try:
                from chronik_conformance.sweep import run_sweep

                run["sweep"] = [r.to_dict() for r in run_sweep(chronik_broker.bootstrap, kafka_broker.bootstrap)]
            except Exception as exc:  # the report says the sweep did not run, and why
                run["sweep_error"] = f"{type(exc).__name__}: {exc}"
                _progress(f"sweep failed: {run['sweep_error']}")
        for broker in brokers:
            results = run_clients(
                broker, runnable, scenarios, log_dir, args.jobs, _progress, security_files.get(broker.name)
            )
            run["results"].extend(r.to_dict() for r in results)
    finally:
        for b in brokers:
            if args.keep_logs:
                shutil.copy(b.log_path, log_dir / f"{b.name}-broker.log") if hasattr(b, "log_path") else None
            b.stop()
        shutil.rmtree(security_dir, ignore_errors=True)
    if not args.no_acl_matrix:
        _run_acl_matrix(run)
    run["seconds"] = time.monotonic() - started
    verdict = judge(run, gaps)
    (out_dir / "results.json").write_text(json.dumps(run, indent=1, sort_keys=True))
    (out_dir / "report.md").write_text(render_markdown(run, verdict))
    (out_dir / "report.html").write_text(render_html(run, verdict))
    if args.publish:
        PUBLISHED.mkdir(exist_ok=True)
        for name in ("report.md", "report.html", "results.json"):
            shutil.copy(out_dir / name, PUBLISHED / name)
    _progress(f"report: {out_dir / 'report.md'} and report.html ({run['seconds']:.0f} s)")
    for item in verdict.red:
        if hasattr(item, "client"):
            _progress(f"RED {item.client} {item.scenario}: {item.outcome} {item.explanation}")
        else:
            r = item.result
            who = f" as {r['principal']}" if "principal" in r else ""
            _progress(f"RED {'ACL matrix' if who else 'sweep'} {r['api']} v{r['version']}{who}: {r['status']}")
    _progress("PASS" if verdict.passed else f"FAIL: {len(verdict.red)} red items")
    return 0 if verdict.passed else 1


def _brokers(args: argparse.Namespace) -> int:
    """Start both brokers with the scenario topics under ``--prefix``; print the addresses; wait for Ctrl-C."""
    security_dir = Path(tempfile.mkdtemp(prefix="chronik-conf-security-"))
    security = SecuritySetup(security_dir)
    brokers: list[Broker] = [ChronikBroker(security=security), KafkaBroker(security=security)]
    try:
        for b in brokers:
            b.start()
            create_scenario_topics(b.bootstrap, args.prefix)
            sec_file = prepare_security(b, security, security_dir)
            print(f"{b.name} {b.version} on {b.bootstrap} (topics under prefix {args.prefix!r};"
                  f" --security {sec_file})", flush=True)
        print("Ctrl-C stops both", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(1)
    finally:
        for b in brokers:
            b.stop()
        shutil.rmtree(security_dir, ignore_errors=True)
    return 0


def _prepare(args: argparse.Namespace) -> int:
    """Create the scenario topics on a running broker."""
    for name in create_scenario_topics(args.bootstrap, args.prefix):
        print(name)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chronik_conformance", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="run the conformance suite and write the report")
    p.add_argument("--fast", action="store_true", help="CI subset: required clients, core scenarios, sweep")
    p.add_argument("--clients", help="comma-separated client names (default: all, or the required ones with --fast)")
    p.add_argument("--scenarios", help="comma-separated scenario names")
    p.add_argument("--no-sweep", action="store_true", help="skip the protocol sweep")
    p.add_argument("--no-acl-matrix", action="store_true", help="skip the ACL matrix (two more broker starts)")
    p.add_argument("--jobs", type=int, default=2, help="drivers running at once per broker (default 2)")
    p.add_argument("--out", default=str(DEFAULT_OUT), help=f"output directory (default {DEFAULT_OUT})")
    p.add_argument("--publish", action="store_true", help=f"also copy the report to {PUBLISHED}")
    p.add_argument("--keep-logs", action="store_true", help="copy the brokers' logs into the output directory")
    p.set_defaults(func=_run)
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
