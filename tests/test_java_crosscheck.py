"""Byte-exact against Kafka's own Java serializers, at every pinned kafka-clients release.

For every (message, version) a release defines, values are generated (defaults; every
field non-default with tagged fields set; every nullable null; random), and sent to
tests/javacheck/CodecCheck.java as Kafka's JSON form plus our encoding:

- Java reads the JSON with Kafka's generated ``*JsonConverter`` and serializes it: those
  bytes must equal ours, and must decode in Python (both codecs) to the original value and
  re-encode to identical bytes;
- Java parses our bytes, which must equal its JSON-read message, be consumed entirely and
  re-serialize to the identical bytes.

Values with unknown tagged fields have no JSON form: for those Java only parses and
re-serializes our bytes (Kafka keeps unknown tags too).
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from chronik_protocol.api_table import MESSAGES, RELEASES, construct_codec, message_class
from tests.javacheck.runner import java_available, run_java

from .protocol_values import message_value, to_kafka_json

pytestmark = pytest.mark.skipif(
    not java_available(),
    reason="java/javac not on PATH: install a JDK 17 (scripts/test does) to run the check",
)

MODES = ("defaults", "filled", "nulls", "random", "random", "random")


def _vectors(release: str) -> tuple[list[dict[str, Any]], dict[str, tuple[str, int, Any]]]:
    vectors: list[dict[str, Any]] = []
    values: dict[str, tuple[str, int, Any]] = {}
    for name in sorted(MESSAGES):
        cls = message_class(name)
        for version in cls.RELEASE_VERSIONS.get(release, ()):
            con = construct_codec(name)[version]
            for i, mode in enumerate(MODES):
                rng = random.Random(f"{name}/{version}/{i}")
                value = cls() if mode == "defaults" else message_value(con, rng, mode)
                try:
                    data = bytes(value.encode(version))
                except ValueError:
                    continue  # e.g. the default of a non-nullable records field is null, as in Java
                vid = f"{name}/v{version}/{i}-{mode}"
                values[vid] = (name, version, value)
                vectors.append(
                    {
                        "id": vid,
                        "message": name,
                        "version": version,
                        "json": to_kafka_json(con, value, cls.RENAMED_IN.get(release)),
                        "python_hex": data.hex(),
                    }
                )
            if con.flexible:
                value = message_value(con, random.Random(f"{name}/{version}/u"), "random", unknown_tags=True)
                vid = f"{name}/v{version}/unknown-tags"
                vectors.append(
                    {
                        "id": vid,
                        "message": name,
                        "version": version,
                        "json": None,
                        "python_hex": bytes(value.encode(version)).hex(),
                    }
                )
    return vectors, values


@pytest.mark.parametrize("release", RELEASES)
def test_byte_exact_against_kafka_java(release: str) -> None:
    vectors, values = _vectors(release)
    assert len(vectors) > 1500
    results = run_java(release, vectors)
    assert len(results) == len(vectors)
    failures: list[str] = []
    checked_messages = set()
    for vec, res in zip(vectors, results, strict=True):
        vid = vec["id"]
        if res["error"]:
            failures.append(f"{vid}: Java {res.get('error_stage')}: {res['error']}")
            continue
        if not res["reserialized_equals_python"] or not res["consumed_all"]:
            failures.append(f"{vid}: Java re-serialized our bytes differently or left bytes unread")
            continue
        checked_messages.add(vec["message"])
        if vec["json"] is None:
            continue
        if res["java_hex"] != vec["python_hex"]:
            failures.append(f"{vid}: Java wrote {res['java_hex']}, we wrote {vec['python_hex']}")
            continue
        if not res["parsed_equals_json"]:
            failures.append(f"{vid}: Java parsed our bytes to a different message than the JSON")
            continue
        name, version, value = values[vid]
        java_bytes = bytes.fromhex(res["java_hex"])
        decoded = message_class(name).decode(java_bytes, version)
        if decoded != value:
            failures.append(f"{vid}: straight-line decode of Java bytes differs: {decoded!r} != {value!r}")
        elif construct_codec(name)[version].parse(java_bytes) != value:
            failures.append(f"{vid}: Construct decode of Java bytes differs")
        elif bytes(decoded.encode(version)) != java_bytes:
            failures.append(f"{vid}: re-encoding Java bytes is not identical")
    assert not failures, f"{len(failures)} mismatches with kafka-clients {release}:\n" + "\n".join(failures[:25])
    expected = {n for n in MESSAGES if message_class(n).RELEASE_VERSIONS.get(release)}
    assert checked_messages == expected
