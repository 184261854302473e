"""The generator: comment stripping, normalisation, strict validation, the cross-release
proof, and drift detection."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from chronik_codegen import jsonc
from chronik_codegen.model import ModelError, build_model, snake
from chronik_codegen.paths import cache_dir, load_pins, output_dir
from chronik_codegen.render import check_tree, render_all
from chronik_codegen.specload import SpecError, load_spec_dir, load_spec_text

MINIMAL = {
    "apiKey": 99,
    "type": "request",
    "name": "DemoRequest",
    "validVersions": "0-2",
    "flexibleVersions": "1+",
    "fields": [
        {"name": "TopicName", "type": "string", "versions": "0+", "about": "see http://x // not a comment"},
        {"name": "Extra", "type": "int32", "versions": "1+", "taggedVersions": "1+", "tag": 0},
    ],
}


def _spec(**changes: object) -> dict:
    spec = copy.deepcopy(MINIMAL)
    spec.update(changes)
    return spec


def test_comments_are_stripped_but_not_inside_strings() -> None:
    text = '// header\n{"a": "http://x//y", /* block\n comment */ "b": 1} // tail'
    assert jsonc.loads(text) == {"a": "http://x//y", "b": 1}
    assert jsonc.strip_comments('{"s": "a \\" // b"}') == '{"s": "a \\" // b"}'


def test_java_tolerances_are_normalised() -> None:
    spec = _spec()
    spec["fields"] = [
        {"name": "Flag", "type": "bool", "versions": "0+", "default": False},
        {"name": "Count", "type": "int32", "versions": "0+", "default": -1},
        {"name": "Later", "type": "int32", "taggedVersions": "1+", "tag": "3"},
    ]
    loaded = load_spec_text(json.dumps(spec), "Demo.json")
    flag, count, later = loaded["fields"]
    assert flag["default"] == "false"  # not Python's "False"
    assert count["default"] == "-1"
    assert later["tag"] == 3 and later["versions"] == "1+"


def test_retired_stub_is_accepted() -> None:
    stub = {"apiKey": 4, "type": "request", "name": "LeaderAndIsrRequest", "validVersions": "none"}
    assert load_spec_text(json.dumps(stub), "LeaderAndIsrRequest.json")["validVersions"] == "none"


@pytest.mark.parametrize(
    ("mutate", "path", "needle"),
    [
        (lambda s: s["fields"][0].update(nullabelVersions="0+"), "fields[0]", "nullabelVersions"),
        (lambda s: s.update(validVersions="0-x"), "validVersions", "does not match"),
        (lambda s: s["fields"][1].update(type="int31"), "fields[1].type", "does not match"),
        (lambda s: s.update(flexibleVersions="1++"), "flexibleVersions", "does not match"),
        (lambda s: s.update(colour="red"), "", "colour"),
        (lambda s: s["fields"][1].pop("tag"), "fields[1]", "tag"),
    ],
)
def test_invalid_specs_fail_loudly_with_file_and_path(mutate, path: str, needle: str) -> None:
    spec = _spec()
    mutate(spec)
    with pytest.raises(SpecError) as info:
        load_spec_text(json.dumps(spec), "specs/Demo.json")
    assert info.value.file == "specs/Demo.json"
    assert info.value.path == path
    assert needle in str(info.value)


def _model_of(*sets: dict) -> dict:
    return build_model(
        {f"r{i}": {s["name"]: load_spec_text(json.dumps(s), "x.json") for s in group} for i, group in enumerate(sets)}
    )


def test_union_of_releases_and_identity_proof() -> None:
    new = _spec(validVersions="1-2")
    old = _spec(validVersions="0-1")
    model = _model_of([new], [old])
    assert list(model["DemoRequest"].versions) == [0, 1, 2]
    assert model["DemoRequest"].source_of[1] == ["r0", "r1"]

    changed = _spec(validVersions="0-1")
    changed["fields"][0]["nullableVersions"] = "1+"  # v1 now differs on the wire
    with pytest.raises(ModelError, match="DemoRequest v1 differs"):
        _model_of([new], [changed])


def test_unstable_version_of_older_release_may_change() -> None:
    new = _spec(validVersions="0-1")
    old = _spec(validVersions="0-1", latestVersionUnstable=True)
    old["fields"][0]["nullableVersions"] = "1+"
    model = _model_of([new], [old])
    assert model["DemoRequest"].superseded == {1: ["r1"]}


def test_rename_with_same_wire_format_is_merged() -> None:
    new = _spec(validVersions="1-2")
    old = _spec(validVersions="0-1")
    old["fields"][0]["name"] = "OldName"
    model = _model_of([new], [old])
    mv = model["DemoRequest"]
    assert mv.renamed == {"r1": {"DemoRequest.TopicName": "OldName"}}
    assert mv.versions[0].fields[0].py_name == "topic_name"  # old-only version uses the new name


def test_snake_case_names() -> None:
    assert snake("ThrottleTimeMs") == "throttle_time_ms"
    assert snake("ZkMigrationReady") == "zk_migration_ready"
    assert snake("IsrNodes") == "isr_nodes"
    assert snake("Async") == "async_"


def _real_files() -> dict[str, str]:
    releases = load_pins()
    sets = {r.version: load_spec_dir(cache_dir(r)) for r in releases}
    return render_all(build_model(sets), [r.version for r in releases])


def test_generated_tree_matches_the_pinned_specs(tmp_path: Path) -> None:
    files = _real_files()
    assert check_tree(output_dir(), files) == []
    # Drift is detected: an edited file, a missing one, a stale extra one.
    copy_dir = tmp_path / "chronik_protocol"
    for rel, text in files.items():
        (copy_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        (copy_dir / rel).write_text(text)
    (copy_dir / "messages/produce_request.py").write_text("# hand edit\n")
    (copy_dir / "messages/fetch_request.py").unlink()
    (copy_dir / "messages/stale.py").write_text("")
    assert check_tree(copy_dir, files) == [
        "missing: messages/fetch_request.py",
        "differs: messages/produce_request.py",
        "not generated (stale): messages/stale.py",
    ]


def test_every_generated_file_says_it_is_generated() -> None:
    pins = ", ".join(r.version for r in load_pins())
    for path in output_dir().rglob("*.py"):
        first = path.read_text().splitlines()[0]
        assert first.startswith("# Generated by chronik_codegen"), path
        assert pins in first, path
        if path.parent.name in {"messages", "constructs"} and path.name != "__init__.py":
            assert ".json" in first, path
