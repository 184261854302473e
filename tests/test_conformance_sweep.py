"""The protocol sweep's comparison logic (conformance/chronik_conformance/sweep.py), without brokers."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "conformance"))

from chronik_conformance.sweep import (
    BUILDERS,
    IGNORED_FIELDS,
    Difference,
    Plan,
    Side,
    SweepResult,
    compare,
    format_table,
    to_plain,
)
from chronik_protocol.api_table import APIS
from chronik_protocol.messages.metadata_response import (
    MetadataResponse,
    MetadataResponseBroker,
    MetadataResponsePartition,
    MetadataResponseTopic,
)


def _metadata(node: int, error: int = 0, port: int = 9092, partitions: int = 2) -> dict:
    return to_plain(
        MetadataResponse(
            throttle_time_ms=node * 7,
            brokers=[MetadataResponseBroker(node_id=node, host=f"h{node}", port=port)],
            cluster_id=f"cluster-{node}",
            controller_id=node,
            topics=[
                MetadataResponseTopic(
                    error_code=error,
                    name="t",
                    topic_id=uuid.uuid4(),
                    partitions=[
                        MetadataResponsePartition(
                            partition_index=i, leader_id=node, replica_nodes=[node], isr_nodes=[node]
                        )
                        for i in range(partitions)
                    ],
                )
            ],
        )
    )


def test_ignored_fields_and_node_ids_compare_equal() -> None:
    """Throttle time, cluster id, topic ids, hosts and ports are ignored; each side's own node id matches."""
    assert compare("Metadata", _metadata(1), _metadata(7, port=1234), "case", 1, 7) == []


def test_a_differing_error_code_is_reported_with_its_path() -> None:
    diffs = compare("Metadata", _metadata(1, error=3), _metadata(1), "case", 1, 1)
    assert diffs == [Difference("case.topics[name=t].error_code", 3, 0)]


def test_nested_arrays_keyed_by_index_field() -> None:
    """Lists of structs are matched by key (partition_index), so a missing partition is one difference."""
    diffs = compare("Metadata", _metadata(1, partitions=2), _metadata(1, partitions=3), "case", 1, 1)
    assert diffs == [Difference("case.topics[name=t].partitions[partition_index=2]", "<missing>", "<present>")]


def test_node_id_other_than_self_is_a_difference() -> None:
    c, k = _metadata(1), _metadata(1)
    k["topics"][0]["partitions"][0]["leader_id"] = -1
    diffs = compare("Metadata", c, k, "case", 1, 1)
    assert diffs == [Difference("case.topics[name=t].partitions[partition_index=0].leader_id", "<self>", -1)]


def test_lists_without_key_compare_by_position_and_length() -> None:
    diffs = compare("X", {"v": [1, 2]}, {"v": [1, 3, 4]}, "c")
    assert diffs == [Difference("c.v[1]", 2, 3), Difference("c.v[2]", "<missing>", 4)]


def test_key_must_be_unique_within_each_side() -> None:
    """Duplicate names on one side fall back to positional comparison (the duplicate is reported)."""
    c = {"topics": [{"name": "a", "error_code": 42}, {"name": "a", "error_code": 42}]}
    k = {"topics": [{"name": "a", "error_code": 42}]}
    assert compare("CreateTopics", c, k, "c") == [
        Difference("c.topics[1]", {"name": "a", "error_code": 42}, "<missing>")
    ]


def test_presence_rule_ignores_only_presence() -> None:
    """Metadata's all-topics listing ignores topics only one side has, but compares the common ones."""
    c = {"topics": [{"name": "a", "error_code": 0}, {"name": "mine", "error_code": 0}]}
    k = {"topics": [{"name": "a", "error_code": 5}]}
    assert compare("Metadata", c, k, "all") == [Difference("all.topics[name=a].error_code", 0, 5)]
    assert len(compare("Metadata", c, k, "named")) == 2


def test_error_message_and_api_specific_rules() -> None:
    assert compare("CreateTopics", {"error_message": "x"}, {"error_message": "y"}, "c") == []
    assert compare("InitProducerId", {"producer_id": 1}, {"producer_id": 9}, "c") == []
    assert compare("Produce", {"producer_id": 1}, {"producer_id": 9}, "c") == [Difference("c.producer_id", 1, 9)]


def test_every_ignore_rule_has_a_reason() -> None:
    for api, pattern, reason in IGNORED_FIELDS:
        assert api == "*" or api in {a.name for a in APIS.values()}, api
        assert pattern and len(reason) > 10


def test_builders_encode_every_common_version() -> None:
    """Every request case of every builder encodes at every version the codecs define."""
    plan, side = Plan("t"), Side(node_id=1, topic_ids={})
    for key, build in BUILDERS.items():
        api = APIS[key]
        for v in range(api.min_version, api.max_version + 1):
            for label, body in build(plan, side, v):
                body.encode(v)
                assert label


def test_results_are_json_serialisable_and_tabulated() -> None:
    r = SweepResult("Fetch", 1, 4, "differs", [Difference("a.b", uuid.uuid4().hex, None)], "")
    assert json.loads(json.dumps(r.to_dict()))["differences"][0]["path"] == "a.b"
    table = format_table([r, SweepResult("Fetch", 1, 3, "chronik-only")])
    assert "differs" in table and "chronik-only=1" in table
