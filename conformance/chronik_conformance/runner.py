"""Run the client drivers against both brokers and collect every scenario's result.

Order per broker: every client's scenarios plus ``restart-produce`` (clients in parallel, each on its
own topic prefix), then one broker restart (same port and data), then every client's
``restart-consume``. Both brokers are started up front and always stopped, also on failure.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from chronik_conformance.brokers import Broker
from chronik_conformance.clients import ClientSpec
from chronik_conformance.scenarios import RESTART_CONSUME, RESTART_PRODUCE
from chronik_conformance.security import SecuritySetup
from chronik_conformance.topics import create_scenario_topics

__all__ = ["BuildResult", "ScenarioResult", "build_clients", "prepare_security", "run_clients"]

#: Seconds a driver may spend per scenario (the drivers time out at 60 s themselves) plus start-up slack.
PER_SCENARIO_S = 75.0
DRIVER_SLACK_S = 60.0

Progress = Callable[[str], None]


@dataclass
class ScenarioResult:
    """One scenario of one client against one broker (a line of a driver's output)."""

    broker: str
    client: str
    scenario: str
    status: str  # pass | fail | unsupported
    detail: str = ""
    facts: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class BuildResult:
    client: str
    ok: bool
    seconds: float
    detail: str = ""
    version: str = ""


def build_clients(clients: Sequence[ClientSpec], log_dir: Path, progress: Progress) -> dict[str, BuildResult]:
    """Build each client's driver once (shared build commands run once); never raises."""
    done: dict[tuple[str, ...], tuple[bool, str]] = {}
    results: dict[str, BuildResult] = {}
    for client in clients:
        start = time.monotonic()
        ok, detail = True, ""
        if client.build:
            key = (*client.build, *(f"{k}={v}" for k, v in sorted(client.env.items())))
            if key not in done:
                progress(f"building {client.name} ({' '.join(client.build)})")
                log = log_dir / f"build-{client.name}.log"
                try:
                    with open(log, "wb") as out:
                        proc = subprocess.run(
                            client.build_command(), stdout=out, stderr=subprocess.STDOUT, env=client.environ(),
                            timeout=900, check=False,
                        )
                    ok = proc.returncode == 0
                    detail = "" if ok else f"build exited {proc.returncode}: {_tail(log)}"
                except (OSError, subprocess.TimeoutExpired) as exc:
                    ok, detail = False, f"build failed: {exc}"
                done[key] = (ok, detail)
            ok, detail = done[key]
        version = client.version() if ok else "not built"
        results[client.name] = BuildResult(client.name, ok, time.monotonic() - start, detail, version)
        progress(f"{client.name}: {version}" if ok else f"{client.name}: BUILD FAILED {detail}")
    return results


def _tail(path: Path, lines: int = 8) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return ""


def run_driver(
    client: ClientSpec,
    broker: Broker,
    prefix: str,
    scenarios: list[str],
    log_path: Path,
    progress: Progress,
    security: Path | None = None,
) -> list[ScenarioResult]:
    """Start the driver, read its JSON lines as they come; a scenario without a line fails with the reason."""
    results: dict[str, ScenarioResult] = {}
    cmd = client.driver_command(broker.bootstrap, prefix, scenarios, security)
    timeout = PER_SCENARIO_S * len(scenarios) + DRIVER_SLACK_S
    with open(log_path, "ab") as err:
        err.write(f"$ {' '.join(cmd)}\n".encode())
        err.flush()
        try:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=client.environ(), text=True)
        except OSError as exc:
            why = f"driver did not start: {exc}"
            return [ScenarioResult(broker.name, client.name, s, "fail", why) for s in scenarios]
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                line = line.strip()
                if not line:
                    continue
                try:
                    data = json.loads(line)
                    name = str(data["scenario"])
                    result = ScenarioResult(
                        broker.name,
                        client.name,
                        name,
                        str(data.get("status", "fail")),
                        str(data.get("detail", "")),
                        dict(data.get("facts") or {}),
                        float(data.get("seconds") or 0.0),
                    )
                except (ValueError, KeyError, TypeError) as exc:
                    err.write(f"[runner] unparsable driver line ({exc}): {line}\n".encode())
                    continue
                results[name] = result
                progress(f"[{broker.name}] {client.name:<12} {name:<20} {result.status}"
                         + (f"  {result.detail[:150]}" if result.status == "fail" else ""))
            code = proc.wait()
        finally:
            killer.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    killed = code < 0
    out = []
    for s in scenarios:
        if s in results:
            out.append(results[s])
        else:
            why = f"driver killed after {timeout:.0f} s" if killed else f"driver exited {code} without a result"
            out.append(ScenarioResult(broker.name, client.name, s, "fail", f"{why}; stderr: {_tail(log_path, 3)}"))
    return out


def prefix_for(client: ClientSpec) -> str:
    return f"c-{client.name}"


def run_clients(
    broker: Broker,
    clients: Sequence[ClientSpec],
    scenarios: Sequence[str],
    log_dir: Path,
    jobs: int,
    progress: Progress,
    security: Path | None = None,
) -> list[ScenarioResult]:
    """Every client's scenarios against one running broker, with the restart pair around one broker restart.

    ``security`` is the broker's ``--security`` file (:func:`prepare_security`), passed to the drivers."""
    main = [s for s in scenarios if s != "restart"]
    with_restart = "restart" in scenarios
    phase1 = [*main, RESTART_PRODUCE] if with_restart else main
    results: list[ScenarioResult] = []
    lock = threading.Lock()

    def one(client: ClientSpec, names: list[str], prepare: bool) -> None:
        log = log_dir / f"{broker.name}-{client.name}.log"
        prefix = prefix_for(client)
        if prepare:
            try:
                create_scenario_topics(broker.bootstrap, prefix)
            except Exception as exc:  # setup failure: every scenario of this client fails with the reason
                with lock:
                    results.extend(
                        ScenarioResult(broker.name, client.name, s, "fail", f"topic setup failed: {exc}") for s in names
                    )
                return
        got = run_driver(client, broker, prefix, names, log, progress, security)
        with lock:
            results.extend(got)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for f in [pool.submit(one, c, phase1, True) for c in clients]:
            f.result()
    if with_restart:
        progress(f"[{broker.name}] restarting the broker")
        broker.restart()
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            for f in [pool.submit(one, c, [RESTART_CONSUME], False) for c in clients]:
                f.result()
    return _merge_restart(results)


def _merge_restart(results: list[ScenarioResult]) -> list[ScenarioResult]:
    """Fold ``restart-produce`` + ``restart-consume`` into one ``restart`` result per (broker, client)."""
    out = [r for r in results if r.scenario not in (RESTART_PRODUCE, RESTART_CONSUME)]
    pairs: dict[tuple[str, str], dict[str, ScenarioResult]] = {}
    for r in results:
        if r.scenario in (RESTART_PRODUCE, RESTART_CONSUME):
            pairs.setdefault((r.broker, r.client), {})[r.scenario] = r
    for (broker, client), pair in pairs.items():
        produce, consume = pair.get(RESTART_PRODUCE), pair.get(RESTART_CONSUME)
        parts = [p for p in (produce, consume) if p is not None]
        statuses = {p.status for p in parts}
        if len(parts) == 2 and statuses == {"pass"}:
            status = "pass"
        elif statuses == {"unsupported"}:
            status = "unsupported"
        else:
            status = "fail"
        detail = "; ".join(f"{p.scenario}: {p.detail}" for p in parts if p.status != "pass")
        if len(parts) < 2:
            detail = (detail + "; " if detail else "") + "restart-consume did not run"
        facts = {p.scenario: p.facts for p in parts if p.facts}
        out.append(
            ScenarioResult(broker, client, "restart", status, detail, facts, sum(p.seconds for p in parts))
        )
    return out


def prepare_security(broker: Broker, setup: SecuritySetup, directory: Path) -> Path:
    """Create the SCRAM users on a started broker; write its ``--security`` file into ``directory``."""
    setup.create_scram_users(broker.bootstrap)
    return setup.write_file(directory / f"security-{broker.name}.json", broker.secure_addresses)


def start_all(brokers: Sequence[Broker], progress: Progress) -> None:
    """Start the brokers concurrently (Kafka's JVM takes a while); stop all if any fails."""
    errors: list[BaseException] = []

    def start(b: Broker) -> None:
        try:
            t = time.monotonic()
            b.start()
            progress(f"{b.name} {b.version} serving on {b.bootstrap} ({time.monotonic() - t:.1f} s)")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(b,)) for b in brokers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        for b in brokers:
            with contextlib.suppress(Exception):
                b.stop()
        raise RuntimeError(f"broker start failed: {errors[0]}") from errors[0]
