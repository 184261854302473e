"""Conformance driver for kcat: every Kafka operation is one run of the ``kcat`` binary.

``python driver.py --bootstrap H:P --prefix P --scenarios a,b``. kcat's limits, per SCENARIOS.md:

- ``-P`` reads ``key<TAB>value`` lines and sets the same ``-H`` headers on every record of a run, and it cannot
  set timestamps: batched produces carry only the ``("s", scenario)`` header, and the per-record ``i`` header
  and the ``T0`` timestamps are listed in ``facts.skipped_checks`` (consume-timestamp produces one record per
  run so each gets the full standard headers and a distinct broker-side timestamp, and looks those up);
- delivery reports (offsets, errors) are read from kcat's stderr at verbosity 2 (``-v -v``);
- no admin API beyond ``-L`` (metadata) and ``-Q`` (offsets for times): the admin scenarios are unsupported.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from common import (
    AuthFailure,
    Ctx,
    Got,
    Record,
    Unsupported,
    compare_records,
    fail,
    main,
    security_scenarios,
    standard_records,
)

KCAT = os.environ.get("KCAT", shutil.which("kcat") or "kcat")

#: librdkafka's text for broker error codes kcat prints (``rd_kafka_err2str``) → (name, Kafka code).
BROKER_ERRORS = {"Broker: Message size too large": ("MSG_SIZE_TOO_LARGE", 10)}

DELIVERED = re.compile(r"Message delivered to partition (-?\d+) \(offset (-?\d+)\)")
FAILED = re.compile(r"Delivery failed for message: (.*)")
EOF = re.compile(r"Reached end of topic (\S+) \[(\d+)\] at offset (\d+)")


class KcatError(Exception):
    """kcat exited non-zero; the message holds its command and last stderr line."""


def version() -> str:
    """``kcat X (librdkafka Y)`` from ``kcat -V``."""
    out = subprocess.run([KCAT, "-V"], capture_output=True, text=True, timeout=10)
    m = re.search(r"Version (\S+) .*librdkafka (\S+)", out.stdout + out.stderr)
    return f"kcat {m.group(1)} (librdkafka {m.group(2)})" if m else f"kcat (unknown: {out.stdout.strip()!r})"


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, subprocess.TimeoutExpired):
        return f"kcat timed out: {' '.join(map(str, exc.cmd))}"
    return f"{type(exc).__name__}: {exc}"


def broker_error(text: str) -> str:
    """kcat's error text, with the librdkafka name and Kafka code when known."""
    name, code = BROKER_ERRORS.get(text.strip(), ("?", "?"))
    return f"{name} (code {code}): {text.strip()}"


def kcat(ctx: Ctx, args: Sequence[str], stdin: bytes | None = None, check: bool = True) -> tuple[str, str, int]:
    """Run kcat against the bootstrap; return (stdout, stderr, returncode)."""
    conn = [a for k, v in ctx.conn.items() for a in ("-X", f"{k}={v}")]
    cmd = [KCAT, "-b", ctx.bootstrap, "-X", "client.id=conformance-kcat", *conn, *args]
    p = subprocess.run(cmd, input=stdin, capture_output=True, timeout=ctx.remaining())
    out, err = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
    if os.environ.get("CONFORMANCE_VERBOSE"):
        sys.stderr.write(f"$ {' '.join(cmd)}\n{err}")
    if check and p.returncode != 0:
        last = (err.strip().splitlines() or ["(no stderr)"])[-1]
        raise KcatError(f"kcat {' '.join(args[:6])} exited {p.returncode}: {last}")
    return out, err, p.returncode


def producer_args(topic: str, partition: int, conf: dict[str, str], headers: Sequence[tuple[str, bytes]]) -> list[str]:
    args = ["-P", "-t", topic, "-p", str(partition), "-K", "\\t", "-D", "\\n", "-v", "-v"]
    for k, v in conf.items():
        args += ["-X", f"{k}={v}"]
    for name, value in headers:
        args += ["-H", f"{name}={value.decode()}"]
    return args


def produce_raw(
    ctx: Ctx,
    records: Sequence[Record],
    conf: dict[str, str],
    topic: str | None = None,
    partition: int = 0,
    headers: Sequence[tuple[str, bytes]] | None = None,
) -> tuple[list[int], list[str]]:
    """Produce records in one kcat run; return the delivery offsets and the delivery errors, in report order."""
    if headers is None:
        headers = (("s", ctx.scenario.encode()),)
        ctx.skip("per-record header i (kcat -H sets the same headers on every record of a run)")
    data = b"".join(r.key + b"\t" + r.value + b"\n" for r in records)
    ctx.step(f"kcat -P of {len(records)} records")
    _, err, rc = kcat(ctx, producer_args(topic or ctx.topic, partition, conf, headers), data, check=False)
    failed = [f.strip() for f in FAILED.findall(err)]
    if rc != 0 and not failed:
        raise KcatError(f"kcat -P exited {rc}: {(err.strip().splitlines() or [''])[-1]}")
    return [int(o) for p, o in DELIVERED.findall(err) if int(p) == partition], failed


def produce(
    ctx: Ctx,
    records: Sequence[Record],
    conf: dict[str, str],
    topic: str | None = None,
    partition: int = 0,
    headers: Sequence[tuple[str, bytes]] | None = None,
) -> list[int]:
    """:func:`produce_raw` that fails the scenario on a delivery error or a missing report."""
    offsets, failed = produce_raw(ctx, records, conf, topic, partition, headers)
    if failed:
        fail("delivery", "success", failed[0], broker_error(failed[0]))
    ctx.check(len(offsets) == len(records), "delivery reports", len(records), len(offsets))
    return offsets


def no_timestamps(ctx: Ctx) -> None:
    ctx.skip("timestamps (kcat -P cannot set them)")


def to_got(d: dict[str, Any]) -> Got:
    h = d.get("headers") or []
    return Got(
        offset=int(d["offset"]),
        key=None if d.get("key") is None else d["key"].encode(),
        value=None if d.get("payload") is None else d["payload"].encode(),
        headers=tuple((h[n], (h[n + 1] or "").encode()) for n in range(0, len(h), 2)),
        timestamp=d.get("ts"),
        create_time=d.get("tstype") == "create",
    )


def consume(ctx: Ctx, offset: str, topic: str | None = None, partition: int = 0, label: str = "read-back") -> list[Got]:
    """``kcat -C -o OFFSET -e -J``: read a partition from ``offset`` to its end."""
    ctx.step(f"{label}: kcat -C -o {offset} -e")
    out, _, _ = kcat(ctx, ["-C", "-t", topic or ctx.topic, "-p", str(partition), "-o", offset, "-e", "-J"])
    return [to_got(json.loads(line)) for line in out.splitlines() if line.strip()]


def only_s_header(ctx: Ctx) -> Callable[[Record], tuple[tuple[str, bytes], ...]]:
    return lambda r: (("s", ctx.scenario.encode()),)


def compare_batch(ctx: Ctx, label: str, got: Sequence[Got], expected: Sequence[tuple[int, Record]]) -> None:
    """Read-back check for records produced in one kcat run (constant headers, broker-chosen timestamps)."""
    no_timestamps(ctx)
    compare_records(ctx, label, got, expected, check_timestamps=False, headers_of=only_s_header(ctx))
    for g in got:
        ctx.check(g.create_time is True, f"{label} offset {g.offset} timestamp type", "create", "not create")


def metadata_json(ctx: Ctx, topic: str | None = None) -> dict[str, Any]:
    ctx.step("kcat -L")
    out, _, _ = kcat(ctx, ["-L", "-J", *(["-t", topic] if topic else [])])
    return json.loads(out)  # type: ignore[no-any-return]


# --- scenarios ---------------------------------------------------------------------------------------------------


def connect(ctx: Ctx) -> None:
    md = metadata_json(ctx)
    brokers = [(b["id"], b["name"]) for b in md["brokers"]]
    ctx.facts.update(brokers=brokers, controller_id=md.get("controllerid"))
    ctx.skip("cluster_id (not in kcat -L output)")
    ctx.check(len(brokers) == 1, "broker count", 1, len(brokers))
    bid, addr = brokers[0]
    ctx.facts["broker_id"] = bid
    ctx.check(addr == ctx.bootstrap, "broker address", ctx.bootstrap, addr)
    ctx.check(bid >= 0, "broker id >= 0", ">= 0", bid)


def metadata(ctx: Ctx) -> None:
    md = metadata_json(ctx)
    bid = md["brokers"][0]["id"]
    (t,) = metadata_json(ctx, ctx.topic)["topics"]
    if t.get("error"):
        fail("topic metadata error", "none", t["error"])
    parts = {p["partition"]: p for p in t["partitions"]}
    ctx.check(set(parts) == {0, 1, 2}, "partitions", [0, 1, 2], sorted(parts))
    for n in sorted(parts):
        p = parts[n]
        got = (p["leader"], [r["id"] for r in p["replicas"]], [r["id"] for r in p["isrs"]])
        ctx.check(got == (bid, [bid], [bid]), f"partition {n} leader/replicas/isr", (bid, [bid], [bid]), got)
    listed = [x["topic"] for x in md["topics"]]
    ctx.check(ctx.topic in listed, "topic listing contains the topic", ctx.topic, "absent")


def roundtrip(codec: str) -> Callable[[Ctx], None]:
    def run(ctx: Ctx) -> None:
        recs = standard_records(ctx.scenario, 200)
        offsets = produce(ctx, recs, {"compression.codec": codec, "acks": "all", "linger.ms": "10"})
        ctx.check(offsets == list(range(200)), "delivery offsets", "0..199", [*offsets[:5], "..."])
        ctx.facts["produced"] = 200
        compare_batch(ctx, "read-back", consume(ctx, "0"), list(enumerate(recs)))

    return run


def max_message_bytes(ctx: Ctx) -> None:
    conf = {"acks": "all", "compression.codec": "none", "enable.idempotence": "false"}
    a = Record(b"a", b"a" * 60_000, (), 0)
    offsets = produce(ctx, [a], conf, headers=())
    ctx.check(offsets == [0], "record A offset", [0], offsets)
    offsets, failed = produce_raw(ctx, [Record(b"b", b"b" * 70_000, (), 0)], conf, headers=())
    if not failed:
        fail("record B", "Broker: Message size too large (MSG_SIZE_TOO_LARGE, code 10)", f"acknowledged at {offsets}")
    ctx.facts["error"] = BROKER_ERRORS.get(failed[0], (failed[0],))[0]
    ctx.facts["error_text"] = failed[0]
    ctx.check(failed[0] in BROKER_ERRORS, "record B error", "Broker: Message size too large (code 10)", failed[0])
    got = consume(ctx, "0")
    ctx.check(len(got) == 1, "read-back count", 1, len(got))
    ctx.check((got[0].offset, got[0].key, len(got[0].value or b"")) == (0, b"a", 60_000), "read-back", "A", got[0])


def acks(level: str) -> Callable[[Ctx], None]:
    def run(ctx: Ctx) -> None:
        recs = standard_records(ctx.scenario, 100)
        conf = {"acks": level, "compression.codec": "none"}
        if level != "all":
            conf["enable.idempotence"] = "false"
        produce(ctx, recs, conf)
        compare_batch(ctx, "read-back", consume(ctx, "0"), list(enumerate(recs)))

    return run


def consume_earliest(ctx: Ctx) -> None:
    recs = standard_records(ctx.scenario, 20)
    produce(ctx, recs, {"acks": "all"})
    ctx.facts["start"] = "-o beginning -X auto.offset.reset=earliest"
    got = consume(ctx, "beginning")
    compare_batch(ctx, "read-back", got, list(enumerate(recs)))


class Stream:
    """A running ``kcat -C`` whose stdout lines and stderr lines are queued by reader threads."""

    def __init__(self, ctx: Ctx, args: Sequence[str]) -> None:
        cmd = [KCAT, "-b", ctx.bootstrap, "-X", "client.id=conformance-kcat", *args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
        self.out: queue.Queue[str] = queue.Queue()
        self.err: queue.Queue[str] = queue.Queue()
        for pipe, q in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(target=self._pump, args=(pipe, q), daemon=True).start()

    @staticmethod
    def _pump(pipe: Any, q: queue.Queue[str]) -> None:
        for line in pipe:
            q.put(line)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def consume_latest(ctx: Ctx) -> None:
    recs = standard_records(ctx.scenario, 11)
    produce(ctx, recs[:10], {"acks": "all"})
    s = Stream(ctx, ["-C", "-t", ctx.topic, "-p", "0", "-o", "end", "-X", "auto.offset.reset=latest", "-J", "-u"])
    try:
        ctx.step("kcat -C -o end: 'Reached end of topic' (position resolved)")
        pos = None
        while pos is None:
            if s.proc.poll() is not None and s.err.empty():
                raise KcatError(f"kcat -C exited {s.proc.returncode} before reaching the end")
            try:
                line = s.err.get(timeout=ctx.remaining(1.0))
            except queue.Empty:
                continue
            m = EOF.search(line)
            if m:
                pos = int(m.group(3))
        ctx.facts["resolved_position"] = pos
        ctx.check(pos == 10, "resolved position", 10, pos)
        ctx.check(s.out.empty(), "records before record 10", 0, s.out.qsize())
        produce(ctx, [recs[10]], {"acks": "all"})
        ctx.step("record 10 from the running kcat -C")
        got: list[Got] = []
        deadline: float | None = None
        while deadline is None or time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                got.append(to_got(json.loads(s.out.get(timeout=0.2))))
            if got and deadline is None:
                deadline = time.monotonic() + 1.0
    finally:
        s.close()
    compare_batch(ctx, "read-back", got, [(10, recs[10])])


def consume_timestamp(ctx: Ctx) -> None:
    recs = standard_records(ctx.scenario, 10)
    for i, r in enumerate(recs):  # one run per record: full headers, a distinct broker-side timestamp each
        offsets = produce(ctx, [r], {"acks": "all"}, headers=r.headers)
        ctx.check(offsets == [i], f"record {i} offset", [i], offsets)
        time.sleep(0.005)
    ts = [g.timestamp or 0 for g in consume(ctx, "0", label="timestamps")]
    ctx.check(len(ts) == 10 and all(a < b for a, b in itertools.pairwise(ts)), "increasing timestamps", 10, ts)
    ctx.skip("T0-based timestamps (kcat -P cannot set them; looked up the records' own timestamps instead)")
    queries = {"ts(5)": ts[5], "ts(5)+1": ts[5] + 1, "ts(9)+60000": ts[9] + 60000}
    found = {}
    for label, q in queries.items():
        ctx.step(f"kcat -Q {label}")
        out, _, _ = kcat(ctx, ["-Q", "-J", "-t", f"{ctx.topic}:0:{q}"])
        found[label] = json.loads(out)[ctx.topic]["0"]["offset"]
    ctx.facts["offsets_for_times"] = found
    ctx.facts["none_reported_as"] = found["ts(9)+60000"]
    ctx.check(found["ts(5)"] == 5, "offset for ts(5)", 5, found["ts(5)"])
    ctx.check(found["ts(5)+1"] == 6, "offset for ts(5)+1", 6, found["ts(5)+1"])
    ctx.check(found["ts(9)+60000"] == -1, "offset for ts(9)+60000", "-1 (none)", found["ts(9)+60000"])
    got = consume(ctx, str(found["ts(5)"]))
    compare_records(ctx, "read-back", got, [(i, recs[i]) for i in range(5, 10)], check_timestamps=False)
    ctx.check([g.timestamp for g in got] == ts[5:], "read-back timestamps", ts[5:], [g.timestamp for g in got])


def idempotent(ctx: Ctx) -> None:
    recs = standard_records(ctx.scenario, 3000)
    conf = {"enable.idempotence": "true", "acks": "all", "max.in.flight.requests.per.connection": "5"}
    ctx.facts["runs"] = "one kcat -P per partition (kcat -p takes one partition)"
    ctx.skip("producer_id (not exposed by kcat)")
    for part in range(3):
        idx = list(range(part, 3000, 3))
        offsets = produce(ctx, [recs[i] for i in idx], conf, partition=part)
        ctx.check(offsets == list(range(1000)), f"partition {part} delivery offsets", "0..999", offsets[:5])
    for part in range(3):
        idx = list(range(part, 3000, 3))
        got = consume(ctx, "0", partition=part, label=f"partition {part}")
        compare_batch(ctx, f"partition {part}", got, [(n, recs[i]) for n, i in enumerate(idx)])


def unsupported(what: str) -> Callable[[Ctx], None]:
    def run(ctx: Ctx) -> None:
        raise Unsupported(f"kcat has no admin API ({what}); it only lists metadata (-L) and offsets for times (-Q)")

    return run


def restart_produce(ctx: Ctx) -> None:
    recs = standard_records("restart", 100)
    produce(ctx, recs, {"acks": "all"}, topic=f"{ctx.prefix}.restart", headers=(("s", b"restart"),))
    ctx.facts["produced"] = 100


def restart_consume(ctx: Ctx) -> None:
    recs = standard_records("restart", 100)
    got = consume(ctx, "0", topic=f"{ctx.prefix}.restart")
    no_timestamps(ctx)
    ctx.skip("per-record header i (kcat -H sets the same headers on every record of a run)")
    compare_records(
        ctx, "read-back", got, list(enumerate(recs)), check_timestamps=False, headers_of=lambda r: r.headers[1:]
    )


# --- security (SCENARIOS.md, "Security scenarios") ----------------------------------------------------------------

#: kcat 1.7.1 is built on librdkafka 2.0.2, whose SCRAM client-final-message repeats the client nonce (fixed in
#: librdkafka 2.6.1, confluentinc/librdkafka#4895): Kafka 4.x (and Chronik) refuse its proof, so SCRAM is unusable.
USABLE = ("PLAIN",)
SCRAM_SKIP = "SCRAM-SHA-256/512: librdkafka 2.0.2 (kcat) sends a wrong client-final nonce (fixed in librdkafka 2.6.1)"
SKIPS = {"SCRAM-SHA-256": SCRAM_SKIP, "SCRAM-SHA-512": SCRAM_SKIP}


def secured_conf(ctx: Ctx, protocol: str, mechanism: str | None = None, user: str | None = None,
                 password: str | None = None) -> dict[str, str]:
    """``-X`` settings for the ``protocol`` listener of the ``--security`` file (the mechanism's user by default)."""
    sec = ctx.secured()
    conf = {"security.protocol": protocol}
    if protocol.endswith("SSL"):  # chain against the CA, name (IP SAN) against the address
        conf.update({"ssl.ca.location": sec["ca_file"], "enable.ssl.certificate.verification": "true",
                     "ssl.endpoint.identification.algorithm": "https"})
    if mechanism is not None:
        u = sec["users"][mechanism]
        conf.update({"sasl.mechanism": mechanism, "sasl.username": user or u["username"],
                     "sasl.password": password if password is not None else u["password"]})
    return conf


def secured_roundtrip(ctx: Ctx, protocol: str, mechanism: str | None, n: int, partition: int, label: str) -> None:
    bootstrap = ctx.bootstrap
    ctx.bootstrap, ctx.conn = ctx.secured()[protocol.lower()], secured_conf(ctx, protocol, mechanism)
    try:
        recs = standard_records(ctx.scenario, n)
        offsets = produce(ctx, recs, {"acks": "all"}, partition=partition)
        ctx.check(offsets == list(range(n)), f"{label}: delivery offsets", f"0..{n - 1}", offsets)
        got = consume(ctx, "0", partition=partition, label=label)
        compare_batch(ctx, label, got, list(enumerate(recs)))
    finally:
        ctx.bootstrap, ctx.conn = bootstrap, {}


def security_auth_failure(ctx: Ctx) -> None:
    af = AuthFailure(ctx, USABLE, SKIPS)
    bootstrap = ctx.bootstrap
    ctx.bootstrap = af.sec["sasl_plaintext"]
    try:
        for mech in af.mechanisms:
            for what, user, password in af.attempts(mech):
                ctx.conn = secured_conf(ctx, "SASL_PLAINTEXT", mech, user, password)
                _, err, rc = kcat(ctx, ["-L", "-m", "5"], check=False)
                m = re.search(r"SASL authentication error: ([^(\n]*)", err)
                if rc == 0 or m is None:
                    fail(f"{mech} {what}", "SASL authentication error", f"exit {rc}: {err.strip()[-200:]}")
                af.refused[f"{mech} {what}"] = f"_AUTHENTICATION: {m.group(1).strip()}"
            ctx.conn = secured_conf(ctx, "SASL_PLAINTEXT", mech)
            af.listed(mech, [t["topic"] for t in metadata_json(ctx).get("topics", [])])
    finally:
        ctx.bootstrap, ctx.conn = bootstrap, {}
    af.done()
    ctx.skip("SASL_AUTHENTICATION_FAILED (58): kcat prints librdkafka's _AUTHENTICATION with the broker's message")


SCENARIOS: dict[str, Callable[[Ctx], None]] = {
    "connect": connect,
    "metadata": metadata,
    **{f"roundtrip-{c}": roundtrip(c) for c in ("none", "gzip", "snappy", "lz4", "zstd")},
    "max-message-bytes": max_message_bytes,
    **{f"acks-{n}": acks(n) for n in ("0", "1", "all")},
    "consume-earliest": consume_earliest,
    "consume-latest": consume_latest,
    "consume-timestamp": consume_timestamp,
    "idempotent": idempotent,
    "admin-topics": unsupported("CreateTopics/DeleteTopics"),
    "admin-configs": unsupported("DescribeConfigs/AlterConfigs"),
    "admin-partitions": unsupported("CreatePartitions"),
    "admin-records": unsupported("DeleteRecords"),
    "restart-produce": restart_produce,
    "restart-consume": restart_consume,
    **security_scenarios(secured_roundtrip, USABLE, SKIPS),
    "security-auth-failure": security_auth_failure,
}

if __name__ == "__main__":
    sys.exit(main("kcat", version, SCENARIOS, describe_error))
