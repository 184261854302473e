"""The conformance harness's own logic: judging cells, known gaps, reading driver output, the report."""

from __future__ import annotations

import sys
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

from chronik_conformance import runner
from chronik_conformance.clients import ClientSpec
from chronik_conformance.knowngaps import KNOWN_GAPS_FILE, KnownGaps
from chronik_conformance.report import judge, render_html, render_markdown


def _run(results: list[tuple[str, str, str, str]], sweep: list[dict] | None = None) -> dict:
    clients = sorted({r[1] for r in results})
    scenarios = list(dict.fromkeys(r[2] for r in results))
    return {
        "started": "2026-11-26 12:00 UTC",
        "mode": "fast",
        "seconds": 12.0,
        "scenarios": scenarios,
        "clients": [{"name": c, "required": True, "version": f"{c} 1.0", "build_ok": True} for c in clients],
        "brokers": {"kafka": {"version": "4.4.0"}, "chronik": {"version": "0.1.0"}},
        "environment": {"chronik_commit": "abc123", "python": "3.11"},
        "results": [
            {"broker": b, "client": c, "scenario": s, "status": st, "detail": f"{b} said {st}", "facts": {}}
            for b, c, s, st in results
        ],
        "sweep": sweep,
    }


def test_judge_classifies_every_combination() -> None:
    run = _run(
        [
            ("kafka", "x", "ok", "pass"),
            ("chronik", "x", "ok", "pass"),
            ("kafka", "x", "bug", "pass"),
            ("chronik", "x", "bug", "fail"),
            ("kafka", "x", "gap", "pass"),
            ("chronik", "x", "gap", "fail"),
            ("kafka", "x", "scen", "fail"),
            ("chronik", "x", "scen", "pass"),
            ("kafka", "x", "na", "unsupported"),
            ("chronik", "x", "na", "unsupported"),
            ("kafka", "x", "odd", "unsupported"),
            ("chronik", "x", "odd", "pass"),
        ]
    )
    gaps = KnownGaps({"scenarios": [{"client": "*", "scenario": "ga?", "reason": "not yet", "issue": 9}]})
    outcomes = {c.scenario: c.outcome for c in judge(run, gaps).cells}
    assert outcomes == {
        "ok": "ok",
        "bug": "chronik-bug",
        "gap": "known-gap",
        "scen": "scenario-bug",
        "na": "n/a",
        "odd": "inconsistent",
    }
    verdict = judge(run, gaps)
    assert not verdict.passed
    assert {c.scenario for c in verdict.red} == {"bug", "scen", "odd"}
    gap_cell = next(c for c in verdict.cells if c.scenario == "gap")
    assert gap_cell.explanation == "not yet (issue 9)"


def test_sweep_rows_need_a_known_gap_to_pass() -> None:
    sweep = [
        {"api": "Metadata", "version": 12, "status": "same", "differences": []},
        {"api": "Metadata", "version": 13, "status": "differs", "differences": [{"path": "a", "chronik": 1}]},
        {"api": "CreateAcls", "version": 3, "status": "kafka-only", "differences": []},
    ]
    run = _run([("kafka", "x", "ok", "pass"), ("chronik", "x", "ok", "pass")], sweep)
    verdict = judge(run, KnownGaps({"sweep": [{"api": "*Acls", "versions": "0-3", "reason": "issue 6"}]}))
    assert [r.outcome for r in verdict.sweep] == ["ok", "difference", "known-gap"]
    assert not verdict.passed
    verdict = judge(run, KnownGaps({"sweep": [{"api": "*", "versions": "3,13", "reason": "r"}]}))
    assert verdict.passed


def test_a_gap_without_reason_is_refused() -> None:
    with pytest.raises(ValueError, match="without a reason"):
        KnownGaps({"scenarios": [{"client": "*", "scenario": "x", "reason": " "}]})


def test_the_committed_known_gaps_file_parses() -> None:
    KnownGaps.load(KNOWN_GAPS_FILE)


def test_reports_show_each_cell_and_explain_failures() -> None:
    run = _run([("kafka", "x", "s", "pass"), ("chronik", "x", "s", "fail")])
    verdict = judge(run, KnownGaps())
    md = render_markdown(run, verdict)
    assert "| s | ✅ / ❌ |" in md
    assert "chronik said fail" in md
    assert "**FAIL**" in md
    page = render_html(run, verdict)
    assert "class='chronik-bug'" in page and "chronik said fail" in page


def _script(tmp_path: Path, body: str) -> ClientSpec:
    path = tmp_path / "driver.py"
    path.write_text(body)
    return ClientSpec("fake", "fake", "Python", False, (sys.executable, str(path)))


class _Broker:
    name = "chronik"
    bootstrap = "127.0.0.1:1"


def test_run_driver_reads_lines_and_fails_missing_scenarios(tmp_path: Path) -> None:
    client = _script(
        tmp_path,
        "import json, sys\n"
        "print('not json', file=sys.stderr)\n"
        "print(json.dumps({'scenario': 'a', 'status': 'pass', 'facts': {'n': 1}, 'seconds': 0.5}))\n"
        "print('garbage')\n"
        "sys.exit(3)\n",
    )
    got = runner.run_driver(client, _Broker(), "p", ["a", "b"], tmp_path / "log", lambda _: None)
    assert [(r.scenario, r.status) for r in got] == [("a", "pass"), ("b", "fail")]
    assert got[0].facts == {"n": 1}
    assert "exited 3" in got[1].detail
    assert "unparsable driver line" in (tmp_path / "log").read_text()


def test_run_driver_kills_a_hung_driver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "PER_SCENARIO_S", 0.5)
    monkeypatch.setattr(runner, "DRIVER_SLACK_S", 0.0)
    client = _script(tmp_path, "import time\ntime.sleep(60)\n")
    got = runner.run_driver(client, _Broker(), "p", ["a"], tmp_path / "log", lambda _: None)
    assert got[0].status == "fail" and "killed" in got[0].detail


def test_restart_pair_folds_into_one_result() -> None:
    R = runner.ScenarioResult
    merged = runner._merge_restart(
        [
            R("kafka", "x", "restart-produce", "pass"),
            R("kafka", "x", "restart-consume", "pass"),
            R("chronik", "x", "restart-produce", "pass"),
            R("chronik", "x", "restart-consume", "fail", "3 records missing"),
        ]
    )
    by = {(r.broker, r.scenario): r for r in merged}
    assert by[("kafka", "restart")].status == "pass"
    assert by[("chronik", "restart")].status == "fail"
    assert "3 records missing" in by[("chronik", "restart")].detail


def test_sweep_gaps_can_name_several_apis_and_one_status() -> None:
    gaps = KnownGaps({"sweep": [{"api": ["EndTxn", "Add*Txn"], "status": "kafka-only", "reason": "no txns"}]})
    assert gaps.sweep_gap("AddOffsetsToTxn", 3, "kafka-only") is not None
    assert gaps.sweep_gap("EndTxn", 0, "kafka-only") is not None
    assert gaps.sweep_gap("EndTxn", 0, "differs") is None
    assert gaps.sweep_gap("Produce", 9, "kafka-only") is None


def test_acl_matrix_rows_are_judged_like_the_sweep() -> None:
    run = _run([("kafka", "x", "ok", "pass"), ("chronik", "x", "ok", "pass")])
    run["acl_matrix"] = [
        {"api": "Produce", "version": 9, "status": "same", "differences": [], "principal": "alice"},
        {"api": "Fetch", "version": 12, "status": "differs", "principal": "bob",
         "differences": [{"path": "x.error_code", "chronik": 0, "kafka": 29}]},
    ]
    verdict = judge(run, KnownGaps())
    assert [r.outcome for r in verdict.acl] == ["ok", "difference"] and not verdict.passed
    md = render_markdown(run, verdict)
    assert "## ACL matrix" in md and "| Fetch | 12 | bob | differs |" in md


def test_every_known_gap_names_something_that_exists() -> None:
    """A stale entry (its API implemented, its scenario gone) hides nothing but misleads readers: each sweep
    entry names a real API, each scenario entry a real scenario."""
    from chronik_conformance.scenarios import ALL_SCENARIOS
    from chronik_protocol.api_table import APIS

    names = {api.name for api in APIS.values()}
    gaps = KnownGaps.load(KNOWN_GAPS_FILE)
    for entry in gaps.sweep:
        patterns = entry["api"] if isinstance(entry["api"], list) else [entry["api"]]
        for pattern in patterns:
            assert any(fnmatchcase(n, pattern) for n in names), f"known gap names no API: {pattern}"
    for entry in gaps.scenarios:
        assert any(fnmatchcase(s, entry["scenario"]) for s in ALL_SCENARIOS), entry
