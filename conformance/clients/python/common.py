"""Shared by the Python-run drivers: standard records, read-back checks, JSON result lines, the scenario loop.

The contract is ``conformance/SCENARIOS.md``. A driver module defines one function per scenario taking a
:class:`Ctx` (sync, or ``async`` for aiokafka) and calls :func:`main` with them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

__all__ = [
    "MECHANISMS",
    "PASSWORD_MECHANISMS",
    "SCENARIO_TIMEOUT",
    "T0",
    "AuthFailure",
    "CheckFailed",
    "Ctx",
    "Got",
    "Record",
    "Unsupported",
    "check_offsets",
    "check_offsets_for_times",
    "compare_records",
    "main",
    "sasl_mechanisms",
    "security_scenarios",
    "skip_unusable",
    "standard_record",
    "standard_records",
    "to_got",
]

T0 = 1_700_000_000_000
SCENARIO_TIMEOUT = 60.0

ScenarioFn = Callable[["Ctx"], None] | Callable[["Ctx"], Awaitable[None]]


@dataclass(frozen=True)
class Record:
    """A record as sent."""

    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...]
    timestamp: int


@dataclass(frozen=True)
class Got:
    """A record as read back; ``create_time`` is None when the client does not expose the timestamp type."""

    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    timestamp: int | None
    create_time: bool | None = None


def standard_record(scenario: str, i: int) -> Record:
    """Standard record ``i`` of scenario ``scenario``."""
    return Record(
        key=f"k{i}".encode(),
        value=(f"{scenario}-v{i}-" + "abcdefghij" * (i % 10)).encode(),
        headers=(("i", str(i).encode()), ("s", scenario.encode())),
        timestamp=T0 + i * 1000,
    )


def standard_records(scenario: str, stop: int, start: int = 0) -> list[Record]:
    """Standard records ``start..stop-1``."""
    return [standard_record(scenario, i) for i in range(start, stop)]


class CheckFailed(Exception):
    """A scenario check failed; the message is the one-line detail."""


class Unsupported(Exception):
    """The client's API cannot express the scenario; the message says what is missing."""


@dataclass
class Ctx:
    """One scenario run: names, facts, and what the scenario is waiting for (for the timeout detail)."""

    scenario: str
    prefix: str
    bootstrap: str
    facts: dict[str, Any] = field(default_factory=dict)
    awaiting: str = "start"
    #: The ``--security`` file (SCENARIOS.md, "Security scenarios"), None when not given.
    security: dict[str, Any] | None = None
    #: Client settings a driver adds to every client of this scenario (e.g. the secured listener's).
    conn: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    @property
    def topic(self) -> str:
        """``T(s)`` for this scenario."""
        return f"{self.prefix}.{self.scenario}"

    @property
    def host(self) -> str:
        return self.bootstrap.rsplit(":", 1)[0]

    @property
    def port(self) -> int:
        return int(self.bootstrap.rsplit(":", 1)[1])

    def secured(self) -> dict[str, Any]:
        """The ``--security`` file's contents; fails the scenario when the runner gave none."""
        if self.security is None:
            raise CheckFailed("security scenario without --security FILE")
        return self.security

    def step(self, what: str) -> None:
        """Record what the scenario waits for next (reported on timeout)."""
        self.awaiting = what

    def remaining(self, cap: float = SCENARIO_TIMEOUT) -> float:
        """Seconds left before the scenario timeout, at most ``cap`` (never below 0.1)."""
        return max(0.1, min(cap, SCENARIO_TIMEOUT - 1.0 - (time.monotonic() - self.started)))

    def skip(self, check: str) -> None:
        """A check the client cannot do: listed in ``facts.skipped_checks``."""
        skipped = self.facts.setdefault("skipped_checks", [])
        if check not in skipped:
            skipped.append(check)

    def check(self, ok: bool, name: str, expected: Any, actual: Any, error: str = "") -> None:
        """Fail the scenario with ``name: expected X, got Y`` unless ``ok``."""
        if not ok:
            fail(name, expected, actual, error)


def fail(name: str, expected: Any, actual: Any, error: str = "") -> None:
    """Raise :class:`CheckFailed` with a one-line detail."""
    detail = f"{name}: expected {expected!r}, got {actual!r}"
    if error:
        detail += f" ({error})"
    raise CheckFailed(detail)


# --- security (SCENARIOS.md, "Security scenarios") ----------------------------------------------------------------

#: The SASL mechanisms of the security scenarios, in partition order (mechanism m writes to partition m).
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER")
#: The mechanisms with a username and password (a driver without OAUTHBEARER uses these).
PASSWORD_MECHANISMS = MECHANISMS[:3]


def not_implemented(mech: str) -> str:
    """The skipped check of a mechanism the driver does not implement."""
    return f"{mech}: not implemented in this driver"


def skip_unusable(ctx: Ctx, usable: Sequence[str], skip: Mapping[str, str] | None = None) -> None:
    """List each mechanism not in ``usable`` as a skipped check: ``skip[mech]``, else :func:`not_implemented`."""
    for mech in MECHANISMS:
        if mech not in usable:
            ctx.skip((skip or {}).get(mech) or not_implemented(mech))


def sasl_mechanisms(
    ctx: Ctx, usable: Sequence[str] = PASSWORD_MECHANISMS, skip: Mapping[str, str] | None = None
) -> Iterator[tuple[int, str]]:
    """The (partition, mechanism) round trips of a security-sasl-* scenario; the ``mechanisms`` fact once all passed.

    A mechanism not in ``usable`` is a skipped check (:func:`skip_unusable`).
    """
    used = []
    skip_unusable(ctx, usable, skip)
    for m, mech in enumerate(MECHANISMS):
        if mech not in usable:
            continue
        ctx.step(f"{mech}: produce and read back")
        yield m, mech
        used.append(mech)
    ctx.facts["mechanisms"] = used


#: A driver's secured round trip: ``(ctx, protocol, mechanism or None, n, partition, label)`` produces standard
#: records 0..n-1 to the partition of T(s) over the protocol's listener as the mechanism's user and reads them back.
SecuredRoundtrip = Callable[["Ctx", str, "str | None", int, int, str], None]


def security_scenarios(
    roundtrip: SecuredRoundtrip, usable: Sequence[str] = PASSWORD_MECHANISMS, skip: Mapping[str, str] | None = None
) -> dict[str, Callable[[Ctx], None]]:
    """security-ssl, security-sasl-plaintext and security-sasl-ssl of a (sync) driver, from its round trip."""

    def ssl(ctx: Ctx) -> None:
        roundtrip(ctx, "SSL", None, 20, 0, "read-back")
        ctx.facts["ca_verified"] = True

    def sasl(protocol: str) -> Callable[[Ctx], None]:
        def run(ctx: Ctx) -> None:
            for m, mech in sasl_mechanisms(ctx, usable, skip):
                roundtrip(ctx, protocol, mech, 10, m, f"read-back {mech}")

        return run

    return {
        "security-ssl": ssl,
        "security-sasl-plaintext": sasl("SASL_PLAINTEXT"),
        "security-sasl-ssl": sasl("SASL_SSL"),
    }


def kafka_python_sasl(
    sec: dict[str, Any], mechanism: str, token_provider: Callable[[str], Any], user: str | None = None,
    password: str | None = None,
) -> dict[str, Any]:
    """kafka-python's and aiokafka's (same names) SASL settings for the mechanism's user, or ``user``/``password``;
    OAUTHBEARER: ``token_provider(token)`` (the user's token, or ``password``) as ``sasl_oauth_token_provider``."""
    u = sec["users"][mechanism]
    if mechanism == "OAUTHBEARER":
        token = password if password is not None else u["token"]
        return {"sasl_mechanism": mechanism, "sasl_oauth_token_provider": token_provider(token)}
    return {
        "sasl_mechanism": mechanism,
        "sasl_plain_username": user or u["username"],
        "sasl_plain_password": password if password is not None else u["password"],
    }


class AuthFailure:
    """The bookkeeping of security-auth-failure: each mechanism's refused logins, the good login after them, facts.

    A driver loops ``for mech in af.mechanisms``, ``for what, user, password in af.attempts(mech)`` (records each
    refusal in ``af.refused``; for OAUTHBEARER ``password`` is the token to send), then calls
    ``af.listed(mech, topics)`` with what the right login lists, and ``af.done()`` at the end. The mechanisms of
    :data:`MECHANISMS` not in ``mechanisms`` are skipped checks (:func:`skip_unusable`).
    """

    def __init__(
        self, ctx: Ctx, mechanisms: Sequence[str] = PASSWORD_MECHANISMS, skip: Mapping[str, str] | None = None
    ) -> None:
        self.ctx = ctx
        self.sec = ctx.secured()
        self.mechanisms = tuple(mechanisms)
        self.refused: dict[str, str] = {}
        skip_unusable(ctx, self.mechanisms, skip)

    def attempts(self, mech: str) -> Iterator[tuple[str, str, str]]:
        """The refused logins of ``mech``: (what, user, password), wrong password then unknown user; for
        OAUTHBEARER (what, principal, token), an expired token then a signed one."""
        u = self.sec["users"][mech]
        tries = (
            (("expired token", u["username"], self.sec["expired_token"]),
             ("signed token", u["username"], self.sec["bad_token"]))
            if mech == "OAUTHBEARER"
            else (("wrong password", u["username"], self.sec["wrong_password"]),
                  ("unknown user", self.sec["unknown_user"], u["password"]))
        )
        for what, user, password in tries:
            self.ctx.step(f"{mech} {what}: authentication error")
            yield what, user, password
        right = "token" if mech == "OAUTHBEARER" else "password"
        self.ctx.step(f"{mech}: metadata with the right {right} after the refusals")

    def listed(self, mech: str, topics: Collection[str]) -> None:
        """Check that the right login of ``mech`` after the refusals lists T(s)."""
        self.ctx.check(self.ctx.topic in topics, f"{mech} login after the refusals: topic listed", self.ctx.topic,
                       f"{len(topics)} other topics")

    def done(self) -> None:
        self.ctx.facts["refused"] = self.refused
        self.ctx.facts["mechanisms"] = list(self.mechanisms)


# --- kafka-python and aiokafka (the same record and metadata classes) ----------------------------------------------


def check_offsets(meta: dict[int, Any], indices: list[int], expected: list[int]) -> None:
    """Delivery ``meta[i].offset`` of each record i of ``indices`` is the ``expected`` one."""
    for i, e in zip(indices, expected, strict=True):
        if meta[i].offset != e:
            fail(f"delivery offset of record {i}", e, meta[i].offset)


def to_got(r: Any) -> Got:
    """A kafka-python or aiokafka ``ConsumerRecord`` as read back."""
    return Got(
        offset=r.offset,
        key=r.key,
        value=r.value,
        headers=tuple((k, v) for k, v in (r.headers or ())),
        timestamp=r.timestamp,
        create_time=r.timestamp_type == 0,
    )


def check_offsets_for_times(ctx: Ctx, found: Mapping[int, Any]) -> None:
    """Check consume-timestamp's lookups: ``found`` maps T0+5000, T0+5500, T0+60000 to an ``OffsetAndTimestamp``."""
    offs = {str(k - T0): (None if v is None else v.offset) for k, v in found.items()}
    ctx.facts["offsets_for_times"] = offs
    ctx.facts["none_reported_as"] = offs["60000"]
    ctx.check(offs["5000"] == 5, "offset for T0+5000", 5, offs["5000"])
    ctx.check(offs["5500"] == 6, "offset for T0+5500", 6, offs["5500"])
    ctx.check(offs["60000"] is None, "offset for T0+60000", None, offs["60000"])


def _short(b: bytes | None, limit: int = 60) -> str:
    if b is None:
        return "None"
    r = repr(b)
    return r if len(r) <= limit else r[:limit] + f"...({len(b)} bytes)"


def compare_records(
    ctx: Ctx,
    label: str,
    got: Sequence[Got],
    expected: Sequence[tuple[int, Record]],
    *,
    check_timestamps: bool = True,
    headers_of: Callable[[Record], tuple[tuple[str, bytes], ...]] | None = None,
) -> None:
    """Check "read back identical": same count, in order, key/value/headers/timestamp/offset equal."""
    ctx.facts["consumed" if label == "read-back" else f"consumed_{label.replace(' ', '_')}"] = len(got)
    for n, ((off, rec), g) in enumerate(zip(expected, got, strict=False)):
        where = f"{label} record #{n} (expected offset {off})"
        ctx.check(g.offset == off, f"{where} offset", off, g.offset)
        ctx.check(g.key == rec.key, f"{where} key", _short(rec.key), _short(g.key))
        ctx.check(g.value == rec.value, f"{where} value", _short(rec.value), _short(g.value))
        want_headers = rec.headers if headers_of is None else headers_of(rec)
        ctx.check(tuple(g.headers) == want_headers, f"{where} headers", want_headers, tuple(g.headers))
        if check_timestamps:
            ctx.check(g.timestamp == rec.timestamp, f"{where} timestamp", rec.timestamp, g.timestamp)
            if g.create_time is not None:
                ctx.check(g.create_time, f"{where} timestamp type", "CreateTime", "LogAppendTime")
    ctx.check(len(got) == len(expected), f"{label} count", len(expected), len(got))


def _json_default(o: Any) -> Any:
    if isinstance(o, bytes):
        return o.decode(errors="replace")
    if isinstance(o, set | frozenset | tuple):
        return list(o)
    return str(o)


def _emit(out: IO[str], scenario: str, status: str, detail: str, facts: Mapping[str, Any], seconds: float) -> None:
    line = {
        "scenario": scenario,
        "status": status,
        "detail": " ".join(detail.split()),
        "facts": dict(facts),
        "seconds": round(seconds, 2),
    }
    out.write(json.dumps(line, default=_json_default) + "\n")
    out.flush()


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[IO[str]]:
    """Keep the real stdout for the JSON lines; anything a library prints goes to stderr."""
    real = sys.stdout
    sys.stdout = sys.stderr
    try:
        yield real
    finally:
        sys.stdout = real


def _run_sync(fn: Callable[[Ctx], None], ctx: Ctx) -> tuple[BaseException | None, bool]:
    """Run ``fn`` in a daemon thread; return (exception, timed_out)."""
    box: list[BaseException] = []

    def target() -> None:
        try:
            fn(ctx)
        except BaseException as exc:  # reported as the scenario's failure
            box.append(exc)

    t = threading.Thread(target=target, name=ctx.scenario, daemon=True)
    t.start()
    t.join(SCENARIO_TIMEOUT)
    if t.is_alive():
        return None, True
    return (box[0] if box else None), False


def _run_async(fn: Callable[[Ctx], Awaitable[None]], ctx: Ctx) -> tuple[BaseException | None, bool]:
    async def guarded() -> tuple[BaseException | None, bool]:
        try:
            await asyncio.wait_for(fn(ctx), SCENARIO_TIMEOUT)
        except TimeoutError:
            return None, True
        except BaseException as exc:  # reported as the scenario's failure
            return exc, False
        return None, False

    return asyncio.run(guarded())


def main(
    client: str,
    version: Callable[[], str],
    scenarios: Mapping[str, ScenarioFn],
    describe_error: Callable[[BaseException], str],
    argv: Sequence[str] | None = None,
) -> int:
    """Parse the driver command line, run the scenarios in order, print one JSON line each."""
    parser = argparse.ArgumentParser(description=f"Conformance driver for {client}")
    parser.add_argument("--bootstrap")
    parser.add_argument("--prefix")
    parser.add_argument("--scenarios", default="")
    parser.add_argument("--security", help="JSON file: secured listeners, CA file, users (SCENARIOS.md)")
    parser.add_argument("--client-version", action="store_true", help="print the client's version and exit")
    parser.add_argument("--verbose", action="store_true", help="library logging to stderr")
    args = parser.parse_args(argv)
    if args.client_version:
        print(version(), flush=True)
        return 0
    if not args.bootstrap or not args.prefix:
        parser.error("--bootstrap and --prefix are required")
    if args.verbose:
        os.environ["CONFORMANCE_VERBOSE"] = "1"
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
    else:
        logging.disable(logging.CRITICAL)
    names = [s for s in args.scenarios.split(",") if s]
    security = None
    if args.security:
        with open(args.security, encoding="utf-8") as f:
            security = json.load(f)
    abandoned = False
    with _stdout_to_stderr() as out:
        for name in names:
            ctx = Ctx(scenario=name, prefix=args.prefix, bootstrap=args.bootstrap, security=security)
            fn = scenarios.get(name)
            if fn is None:
                _emit(out, name, "unsupported", f"unknown scenario {name!r} for {client}", {}, 0.0)
                continue
            if inspect.iscoroutinefunction(fn):
                exc, timed_out = _run_async(fn, ctx)  # type: ignore[arg-type]
            else:
                exc, timed_out = _run_sync(fn, ctx)  # type: ignore[arg-type]
            seconds = time.monotonic() - ctx.started
            if timed_out:
                abandoned = True
                _emit(out, name, "fail", f"timeout: {ctx.awaiting}", ctx.facts, seconds)
            elif exc is None:
                _emit(out, name, "pass", "", ctx.facts, seconds)
            elif isinstance(exc, Unsupported):
                _emit(out, name, "unsupported", str(exc), ctx.facts, seconds)
            elif isinstance(exc, CheckFailed):
                _emit(out, name, "fail", str(exc), ctx.facts, seconds)
            else:
                _emit(out, name, "fail", f"{ctx.awaiting}: {describe_error(exc)}", ctx.facts, seconds)
    if abandoned:  # a scenario thread still blocks in the client: do not wait for it
        sys.stderr.flush()
        os._exit(0)
    return 0
