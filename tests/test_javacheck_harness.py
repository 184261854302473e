"""Prove the Java cross-check harness (tests/javacheck) itself, with hand-written vectors.

The bytes below are written by hand from the Kafka protocol guide (big-endian ints, int16-length
strings before flexible versions, unsigned-varint length+1 "compact" strings/arrays and a tagged
field section from the flexible version on), and must match what Kafka's Java classes produce from
the hand-written JSON, at every pinned release.
"""

from __future__ import annotations

import base64
import math
import time
from typing import Any

import pytest

from tests.javacheck import runner
from tests.javacheck.runner import java_available, run_java

pytestmark = pytest.mark.skipif(not java_available(), reason="java/javac (JDK 17+) not installed")

VERSIONS = ["4.4.0", "3.9.2"]


def _s(text: str) -> str:
    """Hex of a string's UTF-8 bytes."""
    return text.encode().hex()


def h(*parts: str) -> str:
    """Hex pieces joined (one piece per protocol field, for reading)."""
    return "".join(parts)


def vec(vid: str, message: str, version: int, js: dict[str, Any] | None, hexstr: str | None) -> dict:
    """One input vector for run_java."""
    return {"id": vid, "message": message, "version": version, "json": js, "python_hex": hexstr}


# (vector, the exact hex Java must produce from the JSON); the JSON is also what Java must write
# back (java_json) after parsing the hand-written bytes.
GOOD: list[tuple[dict, str]] = [
    # ApiVersionsRequest v3 (flexible): compact strings (varint len+1) then an empty tag section.
    (
        vec(
            "ApiVersionsRequest/v3",
            "ApiVersionsRequest",
            3,
            {"clientSoftwareName": "chronik", "clientSoftwareVersion": "0.1.0"},
            "08" + _s("chronik") + "06" + _s("0.1.0") + "00",
        ),
        "086368726f6e696b06302e312e3000",
    ),
    # ApiVersionsRequest v0 has no fields at all: an empty body.
    (vec("ApiVersionsRequest/v0", "ApiVersionsRequest", 0, {}, ""), ""),
    # RequestHeader v1: int16 key, int16 version, int32 correlation id, int16-length client id.
    (
        vec(
            "RequestHeader/v1",
            "RequestHeader",
            1,
            {"requestApiKey": 18, "requestApiVersion": 3, "correlationId": 7, "clientId": "rdkafka"},
            h("0012", "0003", "00000007", "0007", _s("rdkafka")),
        ),
        "0012000300000007000772646b61666b61",
    ),
    # RequestHeader v2 is flexible, but ClientId keeps its int16 length; then the tag section.
    (
        vec(
            "RequestHeader/v2",
            "RequestHeader",
            2,
            {"requestApiKey": 0, "requestApiVersion": 9, "correlationId": -2, "clientId": "rdkafka"},
            h("0000", "0009", "fffffffe", "0007", _s("rdkafka"), "00"),
        ),
        "00000009fffffffe000772646b61666b6100",
    ),
    # A null ClientId is int16 -1 even in v2.
    (
        vec(
            "RequestHeader/v2/null",
            "RequestHeader",
            2,
            {"requestApiKey": 18, "requestApiVersion": 3, "correlationId": 7, "clientId": None},
            h("0012", "0003", "00000007", "ffff", "00"),
        ),
        "0012000300000007ffff00",
    ),
    (vec("ResponseHeader/v0", "ResponseHeader", 0, {"correlationId": 7}, "00000007"), "00000007"),
    (vec("ResponseHeader/v1", "ResponseHeader", 1, {"correlationId": 7}, "0000000700"), "0000000700"),
    # A "data" spec: class DefaultPrincipalData (no extra Data suffix), flexible from v0.
    (
        vec(
            "DefaultPrincipalData/v0",
            "DefaultPrincipalData",
            0,
            {"type": "User", "name": "alice", "tokenAuthenticated": True},
            h("05", _s("User"), "06", _s("alice"), "01", "00"),
        ),
        "055573657206616c6963650100",
    ),
    # Records are base64 in JSON; a null records field is compact length 0.
    (
        vec(
            "ProduceRequest/v9",
            "ProduceRequest",
            9,
            {
                "transactionalId": None,
                "acks": -1,
                "timeoutMs": 1000,
                "topicData": [
                    {
                        "name": "t",
                        "partitionData": [
                            {"index": 0, "records": base64.b64encode(b"\x01\x02\x03").decode()},
                            {"index": 1, "records": None},
                        ],
                    }
                ],
            },
            h(
                h("00", "ffff", "000003e8", "02", "02", _s("t"), "03"),
                h("00000000", "04", "010203", "00"),
                h("00000001", "00", "00"),
                h("00", "00"),
            ),
        ),
        "00ffff000003e8020274030000000004010203000000000100000000",
    ),
    # float64 must be a JSON float (1.5, not 1); uuid is Kafka's url-safe unpadded base64.
    (
        vec(
            "AlterClientQuotasRequest/v1",
            "AlterClientQuotasRequest",
            1,
            {
                "entries": [
                    {
                        "entity": [{"entityType": "user", "entityName": None}],
                        "ops": [{"key": "k", "value": 1.5, "remove": False}],
                    }
                ],
                "validateOnly": True,
            },
            h(
                h("02", "02", "05", _s("user"), "00", "00"),
                h("02", "02", _s("k"), "3ff8000000000000", "00", "00"),
                h("00", "01", "00"),
            ),
        ),
        "02020575736572000002026b3ff80000000000000000000100",
    ),
    (
        vec(
            "MetadataRequest/v12",
            "MetadataRequest",
            12,
            {
                "topics": [{"topicId": "AAAAAAAAAAAAAAAAAAAAAQ", "name": None}],
                "allowAutoTopicCreation": False,
                "includeTopicAuthorizedOperations": True,
            },
            h("02", "00" * 15 + "01", "00", "00", "00", "01", "00"),
        ),
        "02000000000000000000000000000000010000000100",
    ),
    # A tagged int64 (tag 1, default -1) set: count 1, tag 1, size 8, value; defaults are omitted.
    (
        vec(
            "ApiVersionsResponse/v3/tagged",
            "ApiVersionsResponse",
            3,
            {
                "errorCode": 0,
                "apiKeys": [{"apiKey": 18, "minVersion": 0, "maxVersion": 4}],
                "throttleTimeMs": 0,
                "finalizedFeaturesEpoch": 5,
            },
            h("0000", "02", "0012", "0000", "0004", "00", "00000000", "01", "01", "08", "0000000000000005"),
        ),
        "00000200120000000400000000000101080000000000000005",
    ),
]


@pytest.mark.parametrize("kafka_version", VERSIONS)
def test_hand_written_vectors_are_byte_exact(kafka_version: str) -> None:
    """Java serializes the JSON to the hand-written bytes, parses them back whole and equal."""
    results = run_java(kafka_version, [v for v, _ in GOOD])
    assert [r["id"] for r in results] == [v["id"] for v, _ in GOOD]
    for (vector, expected_hex), r in zip(GOOD, results, strict=True):
        assert r["error"] is None, (vector["id"], r["error"])
        assert r["java_hex"] == expected_hex, vector["id"]
        assert r["java_hex"] == vector["python_hex"], vector["id"]
        assert r["consumed_all"] is True, vector["id"]
        assert r["reserialized_equals_python"] is True, vector["id"]
        assert r["parsed_equals_json"] is True, vector["id"]
        assert r["java_json"] == vector["json"], vector["id"]


def _avr3(vid: str, hexstr: str | None) -> dict:
    """ApiVersionsRequest v3 {chronik, 0.1.0} with the given python bytes."""
    return vec(
        vid,
        "ApiVersionsRequest",
        3,
        {"clientSoftwareName": "chronik", "clientSoftwareVersion": "0.1.0"},
        hexstr,
    )


AVR3 = "08" + _s("chronik") + "06" + _s("0.1.0") + "00"


@pytest.mark.parametrize("kafka_version", VERSIONS)
def test_wrong_bytes_are_caught(kafka_version: str) -> None:
    """Bytes that differ from Kafka's come back as a mismatch or an error, never as a pass."""
    vectors = [
        _avr3("trailing-byte", AVR3 + "00"),
        _avr3("other-value", "08" + _s("chronik") + "06" + _s("0.1.1") + "00"),
        _avr3("truncated", AVR3[:-6]),
        # A non-minimal varint length (0x88 0x00 = 8) parses, but Java writes 0x08.
        _avr3("non-minimal-varint", "8800" + _s("chronik") + "06" + _s("0.1.0") + "00"),
        # Non-flexible (int16 length) strings sent at flexible v3.
        _avr3("not-compact", "0007" + _s("chronik") + "0005" + _s("0.1.0")),
        # An unknown tagged field (tag 9, 1 byte) is kept by Java, but the messages differ.
        vec("unknown-tag", "ResponseHeader", 1, {"correlationId": 7}, h("00000007", "01", "09", "01", "ff")),
    ]
    r = {x["id"]: x for x in run_java(kafka_version, vectors)}
    assert all(x["java_hex"] == AVR3 for k, x in r.items() if k != "unknown-tag")

    assert r["trailing-byte"]["consumed_all"] is False
    assert r["trailing-byte"]["reserialized_equals_python"] is False

    assert r["other-value"]["parsed_equals_json"] is False
    assert r["other-value"]["reserialized_equals_python"] is True
    assert r["other-value"]["java_json"]["clientSoftwareVersion"] == "0.1.1"

    assert r["truncated"]["error_stage"] == "parse"
    assert r["truncated"]["error"]  # the wording differs between releases
    assert r["truncated"]["reserialized_equals_python"] is False

    assert r["non-minimal-varint"]["error"] is None
    assert r["non-minimal-varint"]["parsed_equals_json"] is True
    assert r["non-minimal-varint"]["reserialized_equals_python"] is False

    assert r["not-compact"]["error_stage"] == "parse"
    assert "serialized as null" in r["not-compact"]["error"]

    assert r["unknown-tag"]["error"] is None
    assert r["unknown-tag"]["reserialized_equals_python"] is True
    assert r["unknown-tag"]["parsed_equals_json"] is False
    assert r["unknown-tag"]["java_json"] == {"correlationId": 7}


@pytest.mark.parametrize("kafka_version", VERSIONS)
def test_errors_are_per_vector(kafka_version: str) -> None:
    """Bad vectors report an error in their own result and the run goes on."""
    vectors = [
        vec("no-class", "NoSuchRequest", 0, {}, "00"),
        vec("misspelt-key", "ResponseHeader", 0, {"correlationID": 7}, "00000007"),
        vec("int-as-string", "ResponseHeader", 0, {"correlationId": "7"}, None),
        vec("int32-overflow", "ResponseHeader", 0, {"correlationId": 2**31}, None),
        vec(
            "float-as-int",
            "AlterClientQuotasRequest",
            1,
            {
                "entries": [{"entity": [], "ops": [{"key": "k", "value": 1, "remove": False}]}],
                "validateOnly": False,
            },
            None,
        ),
        vec(
            "bad-uuid",
            "MetadataRequest",
            12,
            {
                "topics": [{"topicId": "not-a-uuid", "name": None}],
                "allowAutoTopicCreation": False,
                "includeTopicAuthorizedOperations": False,
            },
            None,
        ),
        vec("missing-mandatory", "RequestHeader", 1, {"requestApiKey": 1}, None),
        vec("bad-version", "ResponseHeader", 7, {"correlationId": 7}, "00000007"),
        _avr3("still-fine", AVR3),
    ]
    r = {x["id"]: x for x in run_java(kafka_version, vectors)}
    assert len(r) == len(vectors)
    expected = {
        "no-class": ("class", "ClassNotFoundException"),
        "misspelt-key": ("json_fields", "UnknownJsonField"),
        "int-as-string": ("json_read", "NumberFormatException"),
        "int32-overflow": ("json_read", "NumberFormatException"),
        "float-as-int": ("json_read", "NumberFormatException"),
        "bad-uuid": ("json_read", "IllegalArgumentException"),
        "missing-mandatory": ("json_read", "RuntimeException"),
        "bad-version": ("version", "UnsupportedVersionException"),
    }
    for vid, (stage, exc) in expected.items():
        assert r[vid]["error_stage"] == stage, (vid, r[vid]["error"])
        assert r[vid]["error"].startswith(exc + ": "), (vid, r[vid]["error"])
    assert "correlationID" in r["misspelt-key"]["error"]
    assert r["still-fine"]["error"] is None
    assert r["still-fine"]["reserialized_equals_python"] is True


def _quota(value: float) -> dict:
    """AlterClientQuotasRequest JSON with one float64 op value."""
    return {
        "entries": [{"entity": [], "ops": [{"key": "k", "value": value, "remove": False}]}],
        "validateOnly": False,
    }


def _quota_hex(double_hex: str) -> str:
    """AlterClientQuotasRequest v1 bytes around one float64 (as 16 hex digits)."""
    return h("02", "01", "02", "02", _s("k"), double_hex, "00", "00", "00", "00", "00")


@pytest.mark.parametrize("kafka_version", VERSIONS)
def test_json_value_formats(kafka_version: str) -> None:
    """The value formats documented in CodecCheck.java, edge cases included."""
    ok = [
        vec("nan", "AlterClientQuotasRequest", 1, _quota(math.nan), _quota_hex("7ff8000000000000")),
        vec("-inf", "AlterClientQuotasRequest", 1, _quota(-math.inf), _quota_hex("fff0000000000000")),
        vec("-0.0", "AlterClientQuotasRequest", 1, _quota(-0.0), _quota_hex("8000000000000000")),
        vec("1e300", "AlterClientQuotasRequest", 1, _quota(1e300), _quota_hex("7e37e43c8800759c")),
        vec("bytes", "SaslAuthenticateRequest", 2, {"authBytes": "AAEC/w=="}, "05000102ff00"),
        vec("empty-bytes", "SaslAuthenticateRequest", 2, {"authBytes": ""}, "0100"),
        vec(
            "int64-min",
            "ApiVersionsResponse",
            3,
            {"errorCode": 0, "apiKeys": [], "throttleTimeMs": 0, "finalizedFeaturesEpoch": -(2**63)},
            h("0000", "01", "00000000", "01", "01", "08", "8000000000000000"),
        ),
    ]
    bad = [
        vec("url-safe-base64", "SaslAuthenticateRequest", 2, {"authBytes": "AAEC_w=="}, None),
        vec("unpadded-base64", "SaslAuthenticateRequest", 2, {"authBytes": "AAEC/w"}, None),
    ]
    r = {x["id"]: x for x in run_java(kafka_version, ok + bad)}
    for v in ok:
        got = r[v["id"]]
        assert got["error"] is None, (v["id"], got["error"])
        assert got["java_hex"] == v["python_hex"], v["id"]
        assert got["reserialized_equals_python"] is True, v["id"]
    assert math.isnan(r["nan"]["java_json"]["entries"][0]["ops"][0]["value"])
    assert r["-inf"]["java_json"]["entries"][0]["ops"][0]["value"] == -math.inf
    assert math.copysign(1, r["-0.0"]["java_json"]["entries"][0]["ops"][0]["value"]) == -1
    assert r["bytes"]["java_json"] == {"authBytes": "AAEC/w=="}
    assert r["int64-min"]["java_json"]["finalizedFeaturesEpoch"] == -(2**63)
    for v in bad:
        assert r[v["id"]]["error_stage"] == "json_read", v["id"]


def test_release_differences() -> None:
    """What differs between the pinned releases shows up as per-vector errors, not crashes."""
    avr5 = vec(
        "ApiVersionsRequest/v5",
        "ApiVersionsRequest",
        5,
        {"clientSoftwareName": "a", "clientSoftwareVersion": "b", "clusterId": None, "nodeId": 3},
        h("02", _s("a"), "02", _s("b"), "00", "00000003", "00"),
    )
    rh0 = vec(
        "RequestHeader/v0",
        "RequestHeader",
        0,
        {"requestApiKey": 7, "requestApiVersion": 0, "correlationId": 1},
        h("0007", "0000", "00000001"),
    )
    new = {x["id"]: x for x in run_java("4.4.0", [avr5, rh0])}
    old = {x["id"]: x for x in run_java("3.9.2", [avr5, rh0])}
    assert new["ApiVersionsRequest/v5"]["java_hex"] == "02610262000000000300"
    assert new["ApiVersionsRequest/v5"]["reserialized_equals_python"] is True
    assert old["ApiVersionsRequest/v5"]["error"] is not None
    assert old["RequestHeader/v0"]["java_hex"] == "0007000000000001"
    assert old["RequestHeader/v0"]["reserialized_equals_python"] is True
    assert new["RequestHeader/v0"]["error"] is not None


def test_batch_is_fast() -> None:
    """A thousand vectors go through one JVM in well under the time budget of a sweep."""
    vectors = [dict(v, id=f"{v['id']}#{i}") for i in range(1000 // len(GOOD) + 1) for v, _ in GOOD]
    start = time.monotonic()
    results = run_java("4.4.0", vectors)
    elapsed = time.monotonic() - start
    assert len(results) == len(vectors)
    assert all(r["error"] is None and r["reserialized_equals_python"] for r in results)
    assert elapsed < 30, elapsed


def test_missing_jdk_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without java/javac, run_java raises JavaCheckError naming the JDK, not a FileNotFoundError."""
    monkeypatch.setattr(runner.shutil, "which", lambda _name: None)
    assert runner.java_available() is False
    with pytest.raises(runner.JavaCheckError, match="javac"):
        runner.run_java("4.4.0", [vec("x", "ResponseHeader", 0, {"correlationId": 1}, None)])
