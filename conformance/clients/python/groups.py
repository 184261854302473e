"""Consumer-group scenarios shared by the Python drivers (``conformance/SCENARIOS.md``, "Consumer-group scenarios").

Every consumer runs in its own thread (aiokafka: its own event loop in its own thread) and records, against one
monotonic clock (:meth:`Group.now`), its assignment/revocation callbacks, the records it consumed and the outcome
of each synchronous commit. A driver supplies only the client-specific parts:

- ``run_member(member)``: create a consumer, subscribe with callbacks that call :meth:`Member.assigned` /
  :meth:`Member.released`, poll until ``member.stop`` is set (short polls), report each poll's records with
  :meth:`Member.consumed`, commit them synchronously and report :meth:`Member.commit_ok` or
  :meth:`Member.commit_failed`, and close the consumer;
- a producer: ``produce(group)`` for the paced 3,000 records (wait :meth:`Group.wait_due` before record ``i``), and
  ``produce_batch(start, stop)`` for group-static; both return the delivered ``(partition, offset)`` of each record.

:func:`run_rebalance` and :func:`run_static` run the timelines and the checks.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from traceback import format_exception_only
from typing import Any

from common import CheckFailed, Ctx, fail

__all__ = [
    "PARTITIONS",
    "RATE",
    "RECORDS",
    "Group",
    "Key",
    "Member",
    "MemberListener",
    "run_rebalance",
    "run_static",
]

RECORDS = 3000
PARTITIONS = 12
RATE = 300.0  # records per second
#: Seconds after the start at which a member joins / closes (group-rebalance timeline).
JOIN_AT = {"C1": 0.0, "C2": 2.0, "C3": 4.0}
CLOSE_AT = {"C1": 6.0, "C2": 8.0}
#: Seconds kept in reserve at the end of a scenario to close the members and report.
RESERVE = 7.0
Key = tuple[int, int]  # (partition, offset)


@dataclass(frozen=True)
class Event:
    """A rebalance callback: ``assigned``, ``revoked`` or ``lost``, at ``t`` seconds on the shared clock."""

    t: float
    kind: str
    partitions: tuple[int, ...]

    def show(self) -> str:
        return f"{self.t * 1000:.0f} {self.kind} {list(self.partitions)}"


@dataclass(frozen=True)
class Interval:
    """Partition ``partition`` owned by ``member`` from ``start`` to ``end`` (seconds)."""

    partition: int
    start: float
    end: float
    member: str


@dataclass
class Group:
    """Everything the consumers of one scenario share: clock, ownership intervals, commits, consumed records."""

    ctx: Ctx
    t0: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)
    intervals: list[Interval] = field(default_factory=list)
    commits: list[dict[int, int]] = field(default_factory=list)  # in completion order
    commit_errors: Counter[str] = field(default_factory=Counter)
    consumer_errors: Counter[str] = field(default_factory=Counter)
    keys: set[Key] = field(default_factory=set)
    consumed_total: int = 0
    rebalances: int = 0
    member_error: str | None = None

    @property
    def id(self) -> str:
        """The group id: ``PREFIX.<scenario>``."""
        return self.ctx.topic

    def now(self) -> float:
        """The shared monotonic clock: seconds since the scenario's group started."""
        return time.monotonic() - self.t0

    def due_in(self, i: int, rate: float = RATE) -> float:
        """Seconds until record ``i`` is due at ``rate`` records/s (negative when late)."""
        return i / rate - self.now()

    def wait_due(self, i: int, rate: float = RATE) -> None:
        """Sleep until record ``i`` is due at ``rate`` records/s."""
        ahead = self.due_in(i, rate)
        if ahead > 0.002:
            time.sleep(ahead)

    def consumed_all(self, keys: Iterable[Key]) -> bool:
        with self.lock:
            return self.keys.issuperset(keys)

    def unique(self) -> int:
        with self.lock:
            return len(self.keys)

    def raise_member_error(self) -> None:
        if self.member_error is not None:
            raise CheckFailed(self.member_error)

    def pause(self, what: str, seconds: float = 0.05) -> None:
        """One wait step: fail on a member's error, or when only the reserve is left of the scenario's time."""
        self.raise_member_error()
        if self.ctx.remaining() <= RESERVE:
            raise CheckFailed(f"timeout: {what}")
        time.sleep(seconds)

    def sleep_until(self, at: float, what: str) -> None:
        self.ctx.step(what)
        while self.now() < at:
            self.pause(what, min(0.05, max(0.001, at - self.now())))


class Member:
    """One consumer of the group in its own thread, with its callbacks, ownership and stop signal."""

    def __init__(self, name: str, group: Group, run: Callable[[Member], None]) -> None:
        self.name = name
        self.group = group
        self.events: list[Event] = []
        self.owned: dict[int, float] = {}
        self.stop = threading.Event()
        self.stop_at = float("inf")
        self.closed = threading.Event()
        self._lock = threading.Lock()
        self._run = run
        self.thread = threading.Thread(target=self._main, name=f"member-{name}", daemon=True)

    # --- called by the driver's consumer loop -------------------------------------------------------------------

    def assigned(self, partitions: Iterable[int]) -> None:
        """An assignment callback (incremental or full): the partitions now owned from now on."""
        t = self.group.now()
        parts = tuple(sorted(partitions))
        with self._lock:
            self.events.append(Event(t, "assigned", parts))
            for p in parts:
                self.owned.setdefault(p, t)
        with self.group.lock:
            self.group.rebalances += 1

    def released(self, kind: str, partitions: Iterable[int]) -> None:
        """A revocation (``revoked``) or loss (``lost``) callback; empty ones are not recorded."""
        t = self.group.now()
        parts = tuple(sorted(partitions))
        if not parts:
            return
        with self._lock:
            self.events.append(Event(t, kind, parts))
            ended = [(p, self.owned.pop(p)) for p in parts if p in self.owned]
        with self.group.lock:
            self.group.intervals.extend(Interval(p, since, t, self.name) for p, since in ended)

    def consumed(self, records: Iterable[Key]) -> None:
        """Records ``(partition, offset)`` returned by one poll."""
        with self.group.lock:
            for k in records:
                self.group.keys.add(k)
                self.group.consumed_total += 1

    def commit_ok(self, offsets: Mapping[int, int]) -> None:
        """A synchronous commit of ``{partition: offset}`` succeeded (recorded in completion order)."""
        with self.group.lock:
            self.group.commits.append(dict(offsets))

    def commit_failed(self, name: str) -> None:
        """A commit failed with the error ``name``."""
        with self.group.lock:
            self.group.commit_errors[name] += 1

    def error(self, name: str) -> None:
        """A non-fatal error the consumer reported (shown in ``facts.consumer_errors``)."""
        with self.group.lock:
            self.group.consumer_errors[name] += 1

    # --- used by the scenario -----------------------------------------------------------------------------------

    def _main(self) -> None:
        try:
            self._run(self)
        except BaseException as exc:  # reported by the scenario thread
            err = format_exception_only(type(exc), exc)[-1].strip()
            with self.group.lock:
                if self.group.member_error is None:
                    self.group.member_error = f"{self.name}: {err}"
        finally:
            t = self.group.now()
            with self._lock:
                ended = list(self.owned.items())
                self.owned.clear()
            with self.group.lock:
                self.group.intervals.extend(Interval(p, since, t, self.name) for p, since in ended)
            self.closed.set()

    def start(self) -> None:
        self.thread.start()

    def stop_and_join(self, timeout: float = 10.0) -> None:
        """Ask the member to close (its consumer's ``close``) and wait for it."""
        if self.stop_at == float("inf"):
            self.stop_at = self.group.now()
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join(timeout)

    def has_assignment(self) -> bool:
        with self._lock:
            return any(e.kind == "assigned" and e.partitions for e in self.events)

    def owned_now(self) -> list[int]:
        with self._lock:
            return sorted(self.owned)

    def history(self) -> list[Event]:
        with self._lock:
            return list(self.events)


class MemberListener:
    """The rebalance listener of kafka-python and aiokafka (mixed into their ``ConsumerRebalanceListener``)."""

    def __init__(self, m: Member) -> None:
        self.m = m

    def on_partitions_assigned(self, assigned: Iterable[Any]) -> None:
        self.m.assigned(tp.partition for tp in assigned)

    def on_partitions_revoked(self, revoked: Iterable[Any]) -> None:
        self.m.released("revoked", (tp.partition for tp in revoked))


def stop_all(members: Sequence[Member], seconds: float = 5.0) -> None:
    """Ask every started member to close at once, and wait at most ``seconds`` in all for them."""
    deadline = time.monotonic() + seconds
    running = [m for m in members if m.thread.is_alive()]
    for m in running:
        m.stop_at = min(m.stop_at, m.group.now())
        m.stop.set()
    for m in running:
        m.thread.join(max(0.0, deadline - time.monotonic()))


# --- checks ----------------------------------------------------------------------------------------------------------


def check_commits(g: Group) -> None:
    """(b) Per partition, successfully committed offsets never decrease in completion order."""
    last: dict[int, int] = {}
    for n, c in enumerate(g.commits):
        for p, off in sorted(c.items()):
            prev = last.get(p)
            if prev is not None and off < prev:
                fail(f"committed offsets of partition {p} never decrease (commit #{n})", f">= {prev}", off)
            last[p] = off


def check_no_overlap(g: Group) -> None:
    """(c) The ownership intervals of a partition never overlap."""
    by: dict[int, list[Interval]] = {}
    for iv in g.intervals:
        by.setdefault(iv.partition, []).append(iv)
    for p, ivs in sorted(by.items()):
        ivs.sort(key=lambda iv: iv.start)
        for a, b in itertools.pairwise(ivs):
            if b.start < a.end:
                fail(
                    f"partition {p} owned by one consumer at a time",
                    f"{a.member} until {a.end * 1000:.0f} ms before {b.member} from",
                    f"{b.start * 1000:.0f} ms",
                )


def check_kept(member: Member) -> None:
    """Cooperative: ``member`` loses no partition before it is asked to close."""
    for e in member.history():
        if e.kind != "assigned" and e.t < member.stop_at:
            fail(f"{member.name} keeps its partitions (incremental rebalance)", "no revocation", e.show())


def group_facts(g: Group, members: Sequence[Member]) -> None:
    with g.lock:
        g.ctx.facts.update(
            consumed=g.consumed_total,
            duplicates=g.consumed_total - len(g.keys),
            rebalances=g.rebalances,
            commits=len(g.commits),
            commit_errors=dict(sorted(g.commit_errors.items())),
        )
        if g.consumer_errors:
            g.ctx.facts["consumer_errors"] = dict(sorted(g.consumer_errors.items()))
    g.ctx.facts["callbacks_ms"] = {m.name: [e.show() for e in m.history()] for m in members}


# --- scenarios -------------------------------------------------------------------------------------------------------


def run_rebalance(
    ctx: Ctx,
    run_member: Callable[[Member], None],
    produce: Callable[[Group], list[Key]],
    *,
    cooperative: bool = False,
) -> None:
    """group-rebalance / group-cooperative / group-consumer-protocol: the 3-member timeline and its checks."""
    g = Group(ctx)
    members = [Member(name, g, run_member) for name in ("C1", "C2", "C3")]
    c1, c2, c3 = members
    delivered: list[list[Key]] = []
    produce_error: list[str] = []

    def producer() -> None:
        try:
            delivered.append(produce(g))
        except BaseException as exc:  # reported below
            produce_error.append(f"produce: {type(exc).__name__}: {exc}")

    prod = threading.Thread(target=producer, name="producer", daemon=True)
    try:
        ctx.step(f"produce {RECORDS} records at {RATE:.0f}/s; C1 starts")
        prod.start()
        c1.start()
        g.sleep_until(JOIN_AT["C2"], "C2 joins at 2 s")
        c2.start()
        g.sleep_until(JOIN_AT["C3"], "C3 joins at 4 s")
        c3.start()
        g.sleep_until(CLOSE_AT["C1"], "C1 closes at 6 s")
        c1.stop_and_join(min(10.0, ctx.remaining()))
        g.sleep_until(CLOSE_AT["C2"], "C2 closes at 8 s")
        c2.stop_and_join(min(10.0, ctx.remaining()))
        ctx.step("producer done")
        while prod.is_alive():
            g.pause(f"producing {RECORDS} records")
        if produce_error:
            raise CheckFailed(produce_error[0])
        keys = delivered[0]
        ctx.facts["produced"] = len(keys)
        what = "C3 consumes every record"
        ctx.step(what)
        while not g.consumed_all(keys):
            if c3.closed.is_set():
                g.raise_member_error()
                raise CheckFailed("C3 stopped before every record was consumed")
            g.pause(f"{what} (have {g.unique()} of {len(keys)})")
        c3.stop_and_join(min(10.0, ctx.remaining()))
        g.raise_member_error()
    finally:
        stop_all(members)
        group_facts(g, members)
    check_commits(g)
    check_no_overlap(g)
    if cooperative:
        check_kept(c3)


def run_static(
    ctx: Ctx,
    run_member: Callable[[str], Callable[[Member], None]],
    produce_batch: Callable[[int, int], list[Key]],
) -> None:
    """group-static: A and B (static), A closes without leaving, A' rejoins with A's instance id within 5 s."""
    g = Group(ctx)
    ctx.step("produce records 0..99")
    first = produce_batch(0, 100)
    a = Member("A", g, run_member(f"{ctx.prefix}.a"))
    b = Member("B", g, run_member(f"{ctx.prefix}.b"))
    a2 = Member("A2", g, run_member(f"{ctx.prefix}.a"))
    members = [a, b, a2]
    try:
        ctx.step("A joins")
        a.start()
        while not a.has_assignment():
            g.pause("A's first assignment")
        what = "B joins; A and B consume records 0..99"
        ctx.step(what)
        b.start()
        while not (
            b.has_assignment()
            and g.consumed_all(first)
            and a.owned_now()
            and b.owned_now()
            and len(a.owned_now()) + len(b.owned_now()) == 4
        ):
            g.pause(what)
        assign_a, assign_b = a.owned_now(), b.owned_now()
        ctx.facts.update(assignment_a=assign_a, assignment_b=assign_b)
        ctx.step("close A (static member: no LeaveGroup)")
        a.stop_and_join(min(10.0, ctx.remaining()))
        ctx.step("A' joins with A's instance id")
        a2.start()
        ctx.step("produce records 100..199")
        second = produce_batch(100, 200)
        what = "A' and B consume records 100..199"
        ctx.step(what)
        while not (g.consumed_all(second) and a2.owned_now()):
            g.pause(what)
        assign_a2 = a2.owned_now()
        ctx.facts["assignment_a2"] = assign_a2
        events = b.history()
        first = next(n for n, e in enumerate(events) if e.kind == "assigned" and e.partitions)
        shown = [e.show() for e in events[first:]]  # before: empty assignments while B's join settles
        only_first = "B sees no revocation or new assignment after its first assignment"
        ctx.check(len(shown) == 1, only_first, shown[:1], shown)
        ctx.check(assign_a2 == assign_a, "A' gets A's partitions", assign_a, assign_a2)
    finally:
        stop_all(members)
        group_facts(g, members)
