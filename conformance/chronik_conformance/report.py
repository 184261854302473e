"""Judge a run (what is a Chronik bug, a known gap, a scenario bug) and write it as Markdown and HTML."""

from __future__ import annotations

import html
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from chronik_conformance.knowngaps import KnownGaps

__all__ = ["Cell", "SweepRow", "Verdict", "judge", "render_html", "render_markdown"]

#: Cell outcomes that fail a run.
RED = frozenset({"chronik-bug", "scenario-bug", "inconsistent", "not-run"})

SYMBOL = {"pass": "✅", "fail": "❌", "unsupported": "⊘", None: "·"}


@dataclass
class Cell:
    """One (client, scenario): both brokers' results and what that means."""

    client: str
    scenario: str
    kafka: dict[str, Any] | None
    chronik: dict[str, Any] | None
    outcome: str  # ok | n/a | known-gap | chronik-bug | scenario-bug | inconsistent | not-run
    explanation: str = ""

    @property
    def red(self) -> bool:
        return self.outcome in RED


@dataclass
class SweepRow:
    result: dict[str, Any]
    outcome: str  # ok | known-gap | difference
    explanation: str = ""

    @property
    def red(self) -> bool:
        return self.outcome == "difference"


@dataclass
class Verdict:
    cells: list[Cell]
    sweep: list[SweepRow]
    acl: list[SweepRow] = field(default_factory=list)

    @property
    def red(self) -> list[Cell | SweepRow]:
        return [c for c in self.cells if c.red] + [r for r in self.sweep if r.red] + [r for r in self.acl if r.red]

    @property
    def passed(self) -> bool:
        return not self.red


def _status(r: dict[str, Any] | None) -> str | None:
    return None if r is None else str(r["status"])


def judge(run: dict[str, Any], gaps: KnownGaps) -> Verdict:
    """Classify every cell of the matrix and every sweep row."""
    by_key = {(r["broker"], r["client"], r["scenario"]): r for r in run["results"]}
    built = {c["name"]: c.get("build_ok", True) for c in run["clients"]}
    cells = []
    for client in (c["name"] for c in run["clients"]):
        for scenario in run["scenarios"]:
            k, c = by_key.get(("kafka", client, scenario)), by_key.get(("chronik", client, scenario))
            ks, cs = _status(k), _status(c)
            explanation = ""
            if not built.get(client, True) or (ks is None and cs is None):
                outcome, explanation = "not-run", "the driver was not built" if not built.get(client, True) else ""
            elif ks == "fail":
                outcome, explanation = "scenario-bug", "fails on Kafka too: the scenario or driver is wrong"
            elif ks == "pass" and cs == "pass":
                outcome = "ok"
            elif ks == "unsupported" and cs == "unsupported":
                outcome = "n/a"
            elif ks == "pass":
                gap = gaps.scenario_gap(client, scenario)
                if gap:
                    outcome = "known-gap"
                    explanation = gap.reason + (f" (issue {gap.issue})" if gap.issue else "")
                else:
                    outcome = "chronik-bug"
            else:
                outcome = "inconsistent"
                explanation = "the driver reported different capabilities on the two brokers"
            cells.append(Cell(client, scenario, k, c, outcome, explanation))
    return Verdict(cells, _judge_rows(run.get("sweep"), gaps), _judge_rows(run.get("acl_matrix"), gaps))


def _judge_rows(results: list[dict[str, Any]] | None, gaps: KnownGaps) -> list[SweepRow]:
    """Sweep-shaped results (the sweep, the ACL matrix): same, a known gap, or a difference."""
    rows = []
    for r in results or []:
        if r["status"] == "same":
            rows.append(SweepRow(r, "ok"))
            continue
        gap = gaps.sweep_gap(r["api"], int(r["version"]), r["status"])
        if gap:
            rows.append(SweepRow(r, "known-gap", gap.reason + (f" (issue {gap.issue})" if gap.issue else "")))
        else:
            rows.append(SweepRow(r, "difference"))
    return rows


# ---- Markdown -------------------------------------------------------------------------------


def _cell_md(cell: Cell) -> str:
    text = f"{SYMBOL[_status(cell.kafka)]} / {SYMBOL[_status(cell.chronik)]}"
    if cell.outcome == "known-gap":
        text += " ⚠️"
    return text


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _diffs_text(result: dict[str, Any], limit: int = 4) -> str:
    diffs = result.get("differences") or []
    parts = []
    for d in diffs[:limit]:
        if isinstance(d, dict):
            parts.append(f"`{d.get('path', '?')}`: Chronik {d.get('chronik')!r} vs Kafka {d.get('kafka')!r}")
        else:
            parts.append(str(d))
    if len(diffs) > limit:
        parts.append(f"… {len(diffs) - limit} more")
    detail = result.get("detail") or ""
    return "; ".join(parts) or detail


def _summary(run: dict[str, Any], verdict: Verdict) -> list[str]:
    counts = Counter(c.outcome for c in verdict.cells)
    sweep_counts = Counter(r.outcome for r in verdict.sweep)
    status_counts = Counter(r.result["status"] for r in verdict.sweep)
    lines = [
        f"- Client scenarios: **{counts['ok']} agree** (pass on both), {counts['n/a']} not expressible in the "
        f"client's API, **{counts['known-gap']} known gaps**, "
        f"**{counts['chronik-bug']} unexplained Chronik failures**, {counts['scenario-bug']} scenario bugs, "
        f"{counts['inconsistent'] + counts['not-run']} not run or inconsistent.",
    ]
    if verdict.sweep:
        lines.append(
            f"- Protocol sweep: {len(verdict.sweep)} (API, version) pairs — "
            + ", ".join(f"{v} {k}" for k, v in sorted(status_counts.items()))
            + f"; {sweep_counts['known-gap']} known gaps, **{sweep_counts['difference']} unexplained differences**."
        )
    elif run.get("sweep_error"):
        lines.append(f"- Protocol sweep: did not run ({run['sweep_error']}).")
    if verdict.acl:
        acl_counts = Counter(r.outcome for r in verdict.acl)
        lines.append(
            f"- ACL matrix: {len(verdict.acl)} (API, version, principal) comparisons — {acl_counts['ok']} identical, "
            f"{acl_counts['known-gap']} known gaps, **{acl_counts['difference']} unexplained differences**."
        )
    elif run.get("acl_matrix_error"):
        lines.append(f"- ACL matrix: did not run ({run['acl_matrix_error']}).")
    lines.append(f"- Verdict: **{'PASS' if verdict.passed else 'FAIL'}** ({len(verdict.red)} red items).")
    return lines


def render_markdown(run: dict[str, Any], verdict: Verdict) -> str:
    clients = [c["name"] for c in run["clients"]]
    b = run["brokers"]
    out = [
        "# Chronik conformance report",
        "",
        f"Chronik {b['chronik']['version']} ({run['environment'].get('chronik_commit', '?')}) against Apache Kafka "
        f"{b['kafka']['version']} (KRaft, single node), {run['mode']} run of {run['started']}, "
        f"{run['seconds']:.0f} s. Produced by `python -m chronik_conformance run`; scenarios are defined in "
        "[SCENARIOS.md](../SCENARIOS.md), known gaps in [known-gaps.yaml](../known-gaps.yaml).",
        "",
        *_summary(run, verdict),
        "",
        "## Client by scenario",
        "",
        "Each cell: result on **Kafka / Chronik** — ✅ pass, ❌ fail, ⊘ not expressible in the client's API, "
        "⚠️ known gap.",
        "",
        "| scenario | " + " | ".join(clients) + " |",
        "|---|" + "---|" * len(clients),
    ]
    grid = {(c.client, c.scenario): c for c in verdict.cells}
    for scenario in run["scenarios"]:
        out.append(f"| {scenario} | " + " | ".join(_cell_md(grid[(cl, scenario)]) for cl in clients) + " |")
    out += ["", "## Failures and gaps", ""]
    notable = [c for c in verdict.cells if c.outcome not in ("ok", "n/a")]
    if not notable:
        out.append("None: every scenario a client can express passes on both brokers.")
    for c in notable:
        out.append(f"- **{c.client} · {c.scenario}** — {c.outcome}")
        for name, r in (("Kafka", c.kafka), ("Chronik", c.chronik)):
            if r is not None and r["status"] != "pass":
                out.append(f"  - {name}: {r['status']}: {_md_escape(r.get('detail', ''))}")
        if c.explanation:
            out.append(f"  - {c.explanation}")
    unsupported = [c for c in verdict.cells if c.outcome == "n/a"]
    if unsupported:
        out += ["", "### Not expressible in the client's API", ""]
        for c in unsupported:
            detail = (c.kafka or {}).get("detail", "")
            out.append(f"- {c.client} · {c.scenario}: {_md_escape(detail)}")
    group_rows = _group_figures(verdict)
    if group_rows:
        out += [
            "",
            "## Consumer-group figures",
            "",
            "Records produced / consumed (duplicates) and assignment callbacks seen, as each driver counted them.",
            "",
            "| client | scenario | Kafka | Chronik |",
            "|---|---|---|---|",
            *group_rows,
        ]
    out += ["", "## Protocol sweep", ""]
    if not verdict.sweep:
        out.append(f"Not run{': ' + run['sweep_error'] if run.get('sweep_error') else ''}.")
    else:
        out += [
            "Every (API, version) either broker advertises, sent as raw requests built with Chronik's codecs to both "
            "brokers (valid requests and error paths), responses compared field by field (ignoring ids, throttle "
            "times, timestamps and messages).",
            "",
        ]
        red = [row for row in verdict.sweep if row.red]
        if red:
            out += ["### Unexplained differences", "", "| API | version | result | differences |", "|---|---|---|---|"]
            for row in red:
                r = row.result
                out.append(f"| {r['api']} | {r['version']} | {r['status']} | {_md_escape(_diffs_text(r))} |")
            out.append("")
        out += ["### Known gaps", ""]
        for reason, items in _grouped_gaps(verdict.sweep).items():
            out.append(f"- {_md_escape(reason)}")
            out.append(f"  - {', '.join(items)}")
        same = _ranges_by_api([row.result for row in verdict.sweep if row.outcome == "ok"])
        out += ["", "### Identical on both brokers", "", ", ".join(same) + "."]
    if verdict.acl:
        out += [
            "",
            "## ACL matrix",
            "",
            "Both brokers with SASL/PLAIN users and the StandardAuthorizer (`super.users=User:admin`): every "
            "implemented API sent as alice (no ACLs), carol (partial ACLs) and bob (the ACLs the request needs); "
            "error codes and authorized-operations fields compared.",
            "",
        ]
        red = [row for row in verdict.acl if row.outcome != "ok"]
        if red:
            out += ["| API | version | principal | result | differences | explanation |", "|---|---|---|---|---|---|"]
            for row in red:
                r = row.result
                out.append(
                    f"| {r['api']} | {r['version']} | {r.get('principal', '')} | {r['status']} | "
                    f"{_md_escape(_diffs_text(r))} | {_md_escape(row.explanation)} |"
                )
        else:
            same = _ranges_by_api([r.result for r in verdict.acl])
            out.append("Every comparison identical: " + ", ".join(same) + ".")
    out += ["", "## Versions", "", "| component | version |", "|---|---|"]
    out.append(f"| Chronik | {b['chronik']['version']} ({run['environment'].get('chronik_commit', '?')}) |")
    out.append(f"| Apache Kafka | {b['kafka']['version']} |")
    for c in run["clients"]:
        req = " (required)" if c["required"] else ""
        out.append(f"| {c['name']}{req} | {c.get('version', '?')} |")
    for k, v in run["environment"].items():
        if k != "chronik_commit":
            out.append(f"| {k} | {v} |")
    return "\n".join(out) + "\n"


GROUP_FACTS = ("produced", "consumed", "duplicates", "rebalances", "commit_errors")


def _group_facts(r: dict[str, Any] | None) -> str:
    if r is None or r["status"] != "pass":
        return "—" if r is None else r["status"]
    f = r.get("facts") or {}
    if "produced" not in f and "consumed" not in f:
        return "pass"
    text = f"{f.get('produced', '?')} / {f.get('consumed', '?')} ({f.get('duplicates', 0)} dup)"
    if "rebalances" in f:
        text += f", {f['rebalances']} assignments"
    if f.get("commit_errors"):
        text += f", commit errors {json.dumps(f['commit_errors'], sort_keys=True)}"
    return text


def _group_figures(verdict: Verdict) -> list[str]:
    """Markdown rows for the group scenarios that ran on at least one broker."""
    rows = []
    for c in verdict.cells:
        if c.scenario.startswith("group-") and c.scenario != "group-offsets" and c.outcome not in ("n/a", "not-run"):
            rows.append(f"| {c.client} | {c.scenario} | {_group_facts(c.kafka)} | {_group_facts(c.chronik)} |")
    return rows


def _ranges(versions: list[int]) -> str:
    """[0, 1, 2, 5] → "0-2, 5"."""
    out, start, prev = [], None, None
    for v in sorted(versions):
        if start is None:
            start = prev = v
        elif v == prev + 1:
            prev = v
        else:
            out.append(f"{start}-{prev}" if start != prev else str(start))
            start = prev = v
    if start is not None:
        out.append(f"{start}-{prev}" if start != prev else str(start))
    return ", ".join(out)


def _ranges_by_api(results: list[dict[str, Any]], with_status: bool = False) -> list[str]:
    """"Fetch v0-3 (chronik-only)" per API (and status), in first-seen order."""
    groups: dict[tuple[str, str], list[int]] = {}
    for r in results:
        groups.setdefault((r["api"], r["status"] if with_status else ""), []).append(int(r["version"]))
    return [f"{api} v{_ranges(vs)}" + (f" ({st})" if st else "") for (api, st), vs in groups.items()]


def _grouped_gaps(rows: list[SweepRow]) -> dict[str, list[str]]:
    """Known-gap sweep rows grouped by their explanation."""
    by_reason: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if row.outcome == "known-gap":
            by_reason.setdefault(row.explanation, []).append(row.result)
    return {reason: _ranges_by_api(results, with_status=True) for reason, results in by_reason.items()}


# ---- HTML -----------------------------------------------------------------------------------

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:3px 7px;text-align:left;
vertical-align:top}th{background:#f4f4f4}td.ok{background:#e6f6e6}td.n-a{background:#f2f2f2;color:#777}
td.known-gap{background:#fff4d6}td.chronik-bug,td.scenario-bug,td.inconsistent,td.not-run,td.difference
{background:#fbdada}code{font-size:90%}.pass{color:#161}.fail{color:#a11}details{margin:.3em 0}
"""


def _e(text: object) -> str:
    return html.escape(str(text))


def render_html(run: dict[str, Any], verdict: Verdict) -> str:
    clients = [c["name"] for c in run["clients"]]
    b = run["brokers"]
    parts = [
        "<!doctype html><meta charset=utf-8><title>Chronik conformance report</title>",
        f"<style>{_CSS}</style><h1>Chronik conformance report</h1>",
        f"<p>Chronik {_e(b['chronik']['version'])} ({_e(run['environment'].get('chronik_commit', '?'))}) against "
        f"Apache Kafka {_e(b['kafka']['version'])}, {_e(run['mode'])} run of {_e(run['started'])}, "
        f"{run['seconds']:.0f} s.</p><ul>",
        *(f"<li>{_e(line[2:]).replace('**', '')}</li>" for line in _summary(run, verdict)),
        "</ul><h2>Client by scenario</h2><p>Each cell: Kafka / Chronik. Hover for details.</p><table><tr><th>scenario",
        *(f"<th>{_e(c)}" for c in clients),
    ]
    grid = {(c.client, c.scenario): c for c in verdict.cells}
    for scenario in run["scenarios"]:
        parts.append(f"<tr><th>{_e(scenario)}")
        for cl in clients:
            cell = grid[(cl, scenario)]
            tip = " | ".join(
                f"{n}: {r['status']} {r.get('detail', '')}"
                for n, r in (("Kafka", cell.kafka), ("Chronik", cell.chronik))
                if r is not None
            )
            if cell.explanation:
                tip += f" | {cell.explanation}"
            parts.append(
                f"<td class='{cell.outcome.replace('/', '-')}' title='{_e(tip)}'>{_cell_md(cell)}"
            )
    parts.append("</table><h2>Failures and gaps</h2><ul>")
    for c in verdict.cells:
        if c.outcome in ("ok", "n/a"):
            continue
        items = "".join(
            f"<li>{n}: <b>{_e(r['status'])}</b> {_e(r.get('detail', ''))}"
            for n, r in (("Kafka", c.kafka), ("Chronik", c.chronik))
            if r is not None and r["status"] != "pass"
        )
        head = f"<b>{_e(c.client)} · {_e(c.scenario)}</b> — {_e(c.outcome)} {_e(c.explanation)}"
        parts.append(f"<li>{head}<ul>{items}</ul>")
    parts.append("</ul><h2>Protocol sweep</h2>")
    if verdict.sweep:
        red = [row for row in verdict.sweep if row.red]
        if red:
            parts.append("<h3>Unexplained differences</h3><table><tr><th>API<th>version<th>result<th>differences")
            for row in red:
                r = row.result
                parts.append(
                    f"<tr><td>{_e(r['api'])}<td>{_e(r['version'])}<td class='difference'>{_e(r['status'])}"
                    f"<td>{_e(_diffs_text(r, 10))}"
                )
            parts.append("</table>")
        parts.append("<h3>Known gaps</h3><table><tr><th>reason<th>(API, versions)")
        for reason, items in _grouped_gaps(verdict.sweep).items():
            parts.append(f"<tr><td class='known-gap'>{_e(reason)}<td>{_e(', '.join(items))}")
        same = _ranges_by_api([row.result for row in verdict.sweep if row.outcome == "ok"])
        parts.append(f"</table><h3>Identical on both brokers</h3><p>{_e(', '.join(same))}</p>")
    else:
        parts.append(f"<p>Not run {_e(run.get('sweep_error', ''))}</p>")
    parts.append("<h2>Figures</h2><table><tr><th>client<th>scenario<th>Kafka facts<th>Chronik facts")
    for c in verdict.cells:
        kf, cf = (c.kafka or {}).get("facts"), (c.chronik or {}).get("facts")
        if kf or cf:
            parts.append(
                f"<tr><td>{_e(c.client)}<td>{_e(c.scenario)}<td><code>{_e(json.dumps(kf, sort_keys=True))}</code>"
                f"<td><code>{_e(json.dumps(cf, sort_keys=True))}</code>"
            )
    parts.append("</table><h2>Versions</h2><table>")
    parts.append(f"<tr><td>Apache Kafka<td>{_e(b['kafka']['version'])}")
    for c in run["clients"]:
        parts.append(f"<tr><td>{_e(c['name'])}{' (required)' if c['required'] else ''}<td>{_e(c.get('version', '?'))}")
    for k, v in run["environment"].items():
        parts.append(f"<tr><td>{_e(k)}<td>{_e(v)}")
    parts.append("</table>")
    return "\n".join(parts) + "\n"
