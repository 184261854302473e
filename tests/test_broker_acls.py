"""ACLs over TCP: CreateAcls/DescribeAcls/DeleteAcls at every version, confluent-kafka's AdminClient,
Kafka's own ``kafka-acls`` tool (AclCommand), errors, and durability across restarts."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
)

from chronik.protocol.errors import ErrorCode
from chronik_protocol.messages.create_acls_request import AclCreation, CreateAclsRequest
from chronik_protocol.messages.delete_acls_request import DeleteAclsFilter, DeleteAclsRequest
from chronik_protocol.messages.describe_acls_request import DescribeAclsRequest

from .broker_process import BrokerProcess
from .raw_client import call

AUTHORIZER = "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer"
TIMEOUT = 15
ANY_FILTER = dict(
    resource_type_filter=1,
    resource_name_filter=None,
    pattern_type_filter=1,
    principal_filter=None,
    host_filter=None,
    operation=1,
    permission_type=1,
)


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    with BrokerProcess(tmp_path_factory.mktemp("acls") / "data", AUTHORIZER, "super.users=User:ANONYMOUS") as b:
        yield b


def creation(name: str, pattern: int = 3, **kw: Any) -> AclCreation:
    base = dict(principal="User:alice", host="*", operation=3, permission_type=3, resource_type=2)
    return AclCreation(resource_name=name, resource_pattern_type=pattern, **{**base, **kw})


def create(port: int, version: int, *creations: AclCreation) -> list[tuple[int, str | None]]:
    resp: Any = call(port, 30, version, CreateAclsRequest(creations=list(creations)))
    return [(r.error_code, r.error_message) for r in resp.results]


def describe(port: int, version: int, **flt: Any) -> list[tuple[int, str, int, str, int]]:
    resp: Any = call(port, 29, version, DescribeAclsRequest(**{**ANY_FILTER, **flt}))
    assert resp.error_code == 0, resp
    return sorted(
        (r.resource_type, r.resource_name, r.pattern_type, a.principal, a.operation)
        for r in resp.resources
        for a in r.acls
    )


def delete(port: int, version: int, *filters: dict[str, Any]) -> list[list[tuple[str, int, str]]]:
    resp: Any = call(
        port, 31, version, DeleteAclsRequest(filters=[DeleteAclsFilter(**{**ANY_FILTER, **f}) for f in filters])
    )
    assert all(r.error_code == 0 for r in resp.filter_results), resp
    return [
        sorted((m.resource_name, m.pattern_type, m.principal) for m in r.matching_acls) for r in resp.filter_results
    ]


@pytest.mark.parametrize("version", [0, 1, 2, 3])
def test_create_describe_delete_every_version(broker: BrokerProcess, version: int) -> None:
    p, name = broker.port, f"raw-v{version}"
    mine = {"resource_type_filter": 2, "resource_name_filter": name, "pattern_type_filter": 1 if version else 3}
    creations = [creation(name), creation(name, principal="User:bob", operation=4)]
    if version >= 1:  # PREFIXED patterns came with v1 (KIP-290); v0 has no pattern type field: LITERAL
        creations.append(creation(name, 4))
    assert create(p, version, *creations) == [(0, "")] * len(creations)
    expected = [(2, name, 3, "User:alice", 3), (2, name, 3, "User:bob", 4)]
    if version >= 1:
        expected.append((2, name, 4, "User:alice", 3))
    assert describe(p, version, **mine) == sorted(expected)
    if version >= 1:  # MATCH: what applies to a topic named name + "x"
        match = {"resource_type_filter": 2, "resource_name_filter": name + "x", "pattern_type_filter": 2}
        assert describe(p, version, **match) == [(2, name, 4, "User:alice", 3)]
    deleted = delete(p, version, {**mine, "principal_filter": "User:bob"}, mine)
    assert deleted[0] == [(name, 3, "User:bob")]
    assert len(deleted[1]) == len(expected)  # overlapping filters both list the ACL
    assert describe(p, version, **mine) == []


def test_errors_over_the_wire(broker: BrokerProcess) -> None:
    p = broker.port
    assert create(p, 3, creation("e1", principal="alice"), creation("e2", resource_type=4), creation("e3")) == [
        (
            ErrorCode.INVALID_REQUEST,
            "Could not parse principal from `alice` (no colon is present separating the principal type from the "
            "principal name)",
        ),
        (ErrorCode.INVALID_REQUEST, "The only valid name for the CLUSTER resource is kafka-cluster"),
        (0, ""),
    ]
    # pattern type MATCH in a creation fails the whole request, as in Kafka 4.4.0
    assert create(p, 3, creation("e4"), creation("e5", 2)) == [(ErrorCode.UNKNOWN_SERVER_ERROR, None)] * 2
    resp: Any = call(
        p, 31, 3, DeleteAclsRequest(filters=[DeleteAclsFilter(**{**ANY_FILTER, "pattern_type_filter": 99})])
    )
    assert [(r.error_code, r.error_message) for r in resp.filter_results] == [
        (ErrorCode.INVALID_REQUEST, "Unknown patternFilter.")
    ]
    assert delete(p, 3, {"resource_name_filter": "e3"}) == [[("e3", 3, "User:alice")]]


def test_confluent_admin_round_trip(broker: BrokerProcess) -> None:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    read = AclBinding(
        ResourceType.TOPIC,
        "ck",
        ResourcePatternType.LITERAL,
        "User:alice",
        "*",
        AclOperation.READ,
        AclPermissionType.ALLOW,
    )
    deny = AclBinding(
        ResourceType.GROUP,
        "ck-",
        ResourcePatternType.PREFIXED,
        "User:*",
        "10.0.0.1",
        AclOperation.ALL,
        AclPermissionType.DENY,
    )
    for f in admin.create_acls([read, deny]).values():
        assert f.result(TIMEOUT) is None
    any_ck = AclBindingFilter(
        ResourceType.ANY, None, ResourcePatternType.ANY, None, None, AclOperation.ANY, AclPermissionType.ANY
    )
    got = [b for b in admin.describe_acls(any_ck).result(TIMEOUT) if b.name.startswith("ck")]
    assert sorted(got) == sorted([read, deny])
    group_match = AclBindingFilter(
        ResourceType.GROUP,
        "ck-consumers",
        ResourcePatternType.MATCH,
        None,
        None,
        AclOperation.ANY,
        AclPermissionType.ANY,
    )
    assert admin.describe_acls(group_match).result(TIMEOUT) == [deny]
    topic_ck = AclBindingFilter(
        ResourceType.TOPIC, "ck", ResourcePatternType.LITERAL, None, None, AclOperation.ANY, AclPermissionType.ANY
    )
    [fut] = admin.delete_acls([topic_ck]).values()
    assert fut.result(TIMEOUT) == [read]
    [fut] = admin.delete_acls([group_match]).values()
    assert fut.result(TIMEOUT) == [deny]
    assert [b for b in admin.describe_acls(any_ck).result(TIMEOUT) if b.name.startswith("ck")] == []


def _java_ready() -> bool:
    from tests.javacheck.runner import java_available

    try:
        from chronik_conformance.kafka_reference import LIB_DIR
    except ImportError:
        return False
    return java_available() and (any(LIB_DIR.glob("kafka-tools-*.jar")) or shutil.which("mvn") is not None)


@pytest.mark.skipif(not _java_ready(), reason="needs java and the Kafka 4.4.0 jars (or mvn to fetch them)")
def test_kafka_acls_tool(broker: BrokerProcess) -> None:
    from chronik_conformance.kafka_reference import ensure_kafka_lib, tool_command

    ensure_kafka_lib()

    def acls(*args: str) -> str:
        cmd = tool_command("org.apache.kafka.tools.AclCommand", "--bootstrap-server", broker.bootstrap, *args)
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout

    out = acls("--add", "--allow-principal", "User:alice", "--operation", "Read", "--topic", "tool-t")
    assert "(principal=User:alice, host=*, operation=READ, permissionType=ALLOW)" in out
    out = acls("--list", "--topic", "tool-t")
    assert "Current ACLs for resource `ResourcePattern(resourceType=TOPIC, name=tool-t, patternType=LITERAL)`" in out
    assert "(principal=User:alice, host=*, operation=READ, permissionType=ALLOW)" in out
    acls("--remove", "--force", "--allow-principal", "User:alice", "--operation", "Read", "--topic", "tool-t")
    assert describe(broker.port, 3, resource_name_filter="tool-t") == []


def test_security_disabled_and_cluster_authorization_failed(tmp_path: Path) -> None:
    with BrokerProcess(tmp_path / "plain") as b:
        assert create(b.port, 3, creation("x")) == [(ErrorCode.SECURITY_DISABLED, "No Authorizer is configured.")]
        resp: Any = call(b.port, 29, 3, DescribeAclsRequest(**ANY_FILTER))
        assert (resp.error_code, resp.error_message) == (54, "No Authorizer is configured on the broker")
    with BrokerProcess(tmp_path / "locked", AUTHORIZER) as b:  # ANONYMOUS is no super user, no ACL allows it
        [(code, message)] = create(b.port, 3, creation("x"))
        assert (
            code == ErrorCode.CLUSTER_AUTHORIZATION_FAILED and message and message.endswith("needs ALTER permission.")
        )
        resp = call(b.port, 29, 1, DescribeAclsRequest(**ANY_FILTER))
        assert resp.error_code == ErrorCode.CLUSTER_AUTHORIZATION_FAILED


def test_acls_survive_restarts(tmp_path: Path) -> None:
    b = BrokerProcess(tmp_path / "data", AUTHORIZER, "super.users=User:ANONYMOUS")
    with b:
        assert create(b.port, 3, creation("d1"), creation("d2", 4), creation("d1")) == [(0, "")] * 3
    with b:  # graceful restart
        assert describe(b.port, 3) == [(2, "d1", 3, "User:alice", 3), (2, "d2", 4, "User:alice", 3)]
        assert delete(b.port, 3, {"resource_name_filter": "d1"}) == [[("d1", 3, "User:alice")]]
        b.kill()  # acknowledged changes are synced: a crash keeps them
    with b:
        assert describe(b.port, 3) == [(2, "d2", 4, "User:alice", 3)]
