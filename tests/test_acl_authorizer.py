"""The ACL authorizer's rules, table-driven (Kafka's StandardAuthorizer: StandardAuthorizerData.authorize,
findResult, Authorizer.authorizeByResourceType), plus ACL filters, changes and persistence."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from chronik.config import BrokerConfig
from chronik.security.acl import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    Authorizer,
    PatternType,
    ResourceType,
    parse_super_users,
)
from chronik.security.acl.model import java_host_address
from chronik.storage.memory import MemoryStorage

TOPIC, GROUP, CLUSTER = ResourceType.TOPIC, ResourceType.GROUP, ResourceType.CLUSTER
LIT, PRE = PatternType.LITERAL, PatternType.PREFIXED
ALLOW, DENY = AclPermissionType.ALLOW, AclPermissionType.DENY
Op = AclOperation


def acl(
    name: str = "t",
    op: AclOperation = Op.READ,
    perm: AclPermissionType = ALLOW,
    *,
    principal: str = "User:alice",
    host: str = "*",
    pattern: PatternType = LIT,
    rtype: ResourceType = TOPIC,
) -> AclBinding:
    return AclBinding(rtype, name, pattern, principal, host, op, perm)


def ctx(principal: str = "User:alice", host: str = "10.0.0.1") -> SimpleNamespace:
    return SimpleNamespace(principal=principal, peer=(host, 5555))


# (case, ACLs, principal, host, operation, topic name, expected)
CASES = [
    ("no ACLs: default deny", [], "User:alice", "10.0.0.1", Op.READ, "t", False),
    ("literal allow", [acl()], "User:alice", "10.0.0.1", Op.READ, "t", True),
    ("literal allow, other name", [acl("u")], "User:alice", "10.0.0.1", Op.READ, "t", False),
    ("literal is not a prefix", [acl("t")], "User:alice", "10.0.0.1", Op.READ, "tt", False),
    ("other principal", [acl(principal="User:bob")], "User:alice", "10.0.0.1", Op.READ, "t", False),
    ("principal type matters", [acl(principal="Group:alice")], "User:alice", "10.0.0.1", Op.READ, "t", False),
    ("wildcard principal", [acl(principal="User:*")], "User:alice", "10.0.0.1", Op.READ, "t", True),
    ("wildcard principal, any type", [acl(principal="User:*")], "Group:x", "10.0.0.1", Op.READ, "t", True),
    ("exact host", [acl(host="10.0.0.1")], "User:alice", "10.0.0.1", Op.READ, "t", True),
    ("other host", [acl(host="10.0.0.2")], "User:alice", "10.0.0.1", Op.READ, "t", False),
    ("ipv6 host as Java writes it", [acl(host="0:0:0:0:0:0:0:1")], "User:alice", "::1", Op.READ, "t", True),
    ("wildcard resource", [acl("*")], "User:alice", "10.0.0.1", Op.READ, "anything", True),
    ("prefixed match", [acl("pay", pattern=PRE)], "User:alice", "10.0.0.1", Op.READ, "payments", True),
    ("prefixed equal name", [acl("pay", pattern=PRE)], "User:alice", "10.0.0.1", Op.READ, "pay", True),
    ("prefixed no match", [acl("pay", pattern=PRE)], "User:alice", "10.0.0.1", Op.READ, "pa", False),
    ("prefixed * is literal text", [acl("*", pattern=PRE)], "User:alice", "10.0.0.1", Op.READ, "t", False),
    ("other resource type", [acl(rtype=GROUP)], "User:alice", "10.0.0.1", Op.READ, "t", False),
    ("other operation", [acl(op=Op.WRITE)], "User:alice", "10.0.0.1", Op.READ, "t", False),
    ("ALL allows any op", [acl(op=Op.ALL)], "User:alice", "10.0.0.1", Op.ALTER_CONFIGS, "t", True),
    ("deny wins over allow", [acl(), acl(perm=DENY)], "User:alice", "10.0.0.1", Op.READ, "t", False),
    ("wildcard deny wins", [acl(), acl("*", perm=DENY)], "User:alice", "10.0.0.1", Op.READ, "t", False),
    (
        "prefixed deny wins",
        [acl("tx"), acl("t", perm=DENY, pattern=PRE)],
        "User:alice",
        "10.0.0.1",
        Op.READ,
        "tx",
        False,
    ),
    ("deny for everyone", [acl(), acl(perm=DENY, principal="User:*")], "User:alice", "10.0.0.1", Op.READ, "t", False),
    ("deny other host only", [acl(), acl(perm=DENY, host="10.9.9.9")], "User:alice", "10.0.0.1", Op.READ, "t", True),
    ("deny ALL", [acl(), acl(op=Op.ALL, perm=DENY)], "User:alice", "10.0.0.1", Op.DESCRIBE, "t", False),
    (
        "deny READ doesn't deny DESCRIBE",
        [acl(op=Op.DESCRIBE), acl(perm=DENY)],
        "User:alice",
        "10.0.0.1",
        Op.DESCRIBE,
        "t",
        True,
    ),
    ("deny other op", [acl(), acl(op=Op.WRITE, perm=DENY)], "User:alice", "10.0.0.1", Op.READ, "t", True),
    ("ACLs exist for others: denied", [acl(principal="User:bob")], "User:alice", "10.0.0.1", Op.WRITE, "t", False),
]
# implied operations: an ALLOW of the row's operation allows DESCRIBE / DESCRIBE_CONFIGS?
IMPLIED = [
    (Op.READ, Op.DESCRIBE, True),
    (Op.WRITE, Op.DESCRIBE, True),
    (Op.DELETE, Op.DESCRIBE, True),
    (Op.ALTER, Op.DESCRIBE, True),
    (Op.DESCRIBE, Op.DESCRIBE, True),
    (Op.CREATE, Op.DESCRIBE, False),
    (Op.ALTER_CONFIGS, Op.DESCRIBE, False),
    (Op.ALTER_CONFIGS, Op.DESCRIBE_CONFIGS, True),
    (Op.DESCRIBE_CONFIGS, Op.DESCRIBE_CONFIGS, True),
    (Op.ALTER, Op.DESCRIBE_CONFIGS, False),
    (Op.DESCRIBE, Op.READ, False),
    (Op.ALTER, Op.ALTER_CONFIGS, False),
    (Op.WRITE, Op.READ, False),
]


@pytest.mark.parametrize(
    ("case", "acls", "principal", "host", "op", "name", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_rules(
    case: str, acls: list[AclBinding], principal: str, host: str, op: AclOperation, name: str, expected: bool
) -> None:
    a = Authorizer()
    a.create(acls)
    assert a.authorize(ctx(principal, host), op, TOPIC, name) is expected


@pytest.mark.parametrize(("granted", "wanted", "expected"), IMPLIED)
def test_implied_operations(granted: AclOperation, wanted: AclOperation, expected: bool) -> None:
    a = Authorizer()
    a.create([acl(op=granted)])
    assert a.authorize(ctx(), wanted, TOPIC, "t") is expected
    # a DENY implies nothing: it denies only its own operation
    d = Authorizer()
    d.create([acl(op=Op.ALL), acl(op=granted, perm=DENY)])
    assert d.authorize(ctx(), wanted, TOPIC, "t") is (wanted is not granted)


def test_super_users_and_allow_everyone() -> None:
    a = Authorizer(super_users={"User:admin"})
    a.create([acl(op=Op.ALL, perm=DENY, principal="User:*")])
    assert a.authorize(ctx("User:admin"), Op.WRITE, TOPIC, "t")  # super users ignore even DENY ACLs
    assert not a.authorize(ctx("User:alice"), Op.WRITE, TOPIC, "t")
    assert not a.authorize(ctx("User:admin2"), Op.WRITE, TOPIC, "t")
    everyone = Authorizer(allow_if_no_acl=True)
    assert everyone.authorize(ctx(), Op.WRITE, TOPIC, "t")  # no ACL on the resource at all
    everyone.create([acl("t", principal="User:bob")])
    assert not everyone.authorize(ctx(), Op.WRITE, TOPIC, "t")  # some ACL applies: no default
    assert everyone.authorize(ctx(), Op.WRITE, TOPIC, "u")
    everyone.create([acl("u", pattern=PRE, principal="User:bob")])
    assert not everyone.authorize(ctx(), Op.WRITE, TOPIC, "u2")
    assert everyone.authorize(ctx(), Op.ALTER, CLUSTER, "kafka-cluster")
    disabled = Authorizer.disabled()
    assert disabled.authorize(ctx(), Op.ALTER, CLUSTER, "kafka-cluster") and not disabled.enabled


def test_batch_and_filtering_helpers() -> None:
    a = Authorizer()
    a.create([acl("a"), acl("b", op=Op.WRITE), acl("c", pattern=PRE)])
    assert a.authorize_many(ctx(), [(Op.READ, TOPIC, "a"), (Op.READ, TOPIC, "b"), (Op.READ, TOPIC, "cx")]) == [
        True,
        False,
        True,
    ]
    assert a.authorized_names(ctx(), Op.DESCRIBE, TOPIC, ["a", "b", "c1", "d"]) == ["a", "b", "c1"]
    assert not a.authorize_cluster(ctx(), Op.ALTER)
    assert Authorizer.disabled().authorized_names(ctx(), Op.READ, TOPIC, ["x"]) == ["x"]
    # KIP-430 bit fields: READ implies DESCRIBE; without an authorizer every supported operation
    assert a.authorized_operations(ctx(), TOPIC, "a") == (1 << Op.READ) | (1 << Op.DESCRIBE)
    assert a.authorized_operations(ctx(), GROUP, "g") == 0
    assert Authorizer.disabled().authorized_operations(ctx(), GROUP, "g") == sum(
        1 << op for op in (Op.READ, Op.DESCRIBE, Op.DELETE, Op.DESCRIBE_CONFIGS, Op.ALTER_CONFIGS)
    )


@pytest.mark.parametrize(
    ("acls", "expected"),
    [
        ([], False),
        ([acl("t", op=Op.WRITE)], True),
        ([acl("t", op=Op.READ)], False),  # no implied operations here
        ([acl("t", op=Op.ALL)], True),
        ([acl("t", op=Op.WRITE, principal="User:bob")], False),
        ([acl("t", op=Op.WRITE, host="10.9.9.9")], False),
        ([acl("t", op=Op.WRITE), acl("t", op=Op.WRITE, perm=DENY)], False),
        ([acl("t", op=Op.WRITE), acl("t", op=Op.WRITE, perm=DENY, pattern=PRE)], False),
        ([acl("tx", op=Op.WRITE), acl("t", op=Op.WRITE, perm=DENY, pattern=PRE)], False),
        ([acl("tx", op=Op.WRITE), acl("u", op=Op.WRITE, perm=DENY, pattern=PRE)], True),
        ([acl("t", op=Op.WRITE, pattern=PRE), acl("t", op=Op.WRITE, perm=DENY)], True),
        ([acl("*", op=Op.WRITE)], True),
        ([acl("t", op=Op.WRITE), acl("*", op=Op.WRITE, perm=DENY)], False),
    ],
)
def test_authorize_by_resource_type(acls: list[AclBinding], expected: bool) -> None:
    a = Authorizer()
    a.create(acls)
    assert a.authorize_by_resource_type(ctx(), Op.WRITE, TOPIC) is expected


def test_authorize_by_resource_type_super_user_and_default() -> None:
    a = Authorizer(super_users={"User:admin"})
    a.create([acl("*", op=Op.WRITE, perm=DENY, principal="User:*")])
    assert a.authorize_by_resource_type(ctx("User:admin"), Op.WRITE, TOPIC)
    assert Authorizer(allow_if_no_acl=True).authorize_by_resource_type(ctx(), Op.WRITE, TOPIC)
    with pytest.raises(ValueError):
        a.authorize_by_resource_type(ctx(), Op.ANY, TOPIC)


ALL_ACLS = [
    acl("t"),
    acl("t", pattern=PRE),
    acl("*"),
    acl("tea", pattern=PRE, principal="User:bob", host="10.0.0.1", op=Op.WRITE, perm=DENY),
    acl("g", rtype=GROUP),
]


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (AclBindingFilter(), [0, 1, 2, 3, 4]),
        (AclBindingFilter(TOPIC), [0, 1, 2, 3]),
        (AclBindingFilter(TOPIC, "t", PatternType.ANY), [0, 1]),
        (AclBindingFilter(TOPIC, "t", LIT), [0]),
        (AclBindingFilter(TOPIC, "t", PRE), [1]),
        (AclBindingFilter(TOPIC, "*", LIT), [2]),
        (AclBindingFilter(TOPIC, "teapot", PatternType.MATCH), [1, 2, 3]),
        (AclBindingFilter(TOPIC, "t", PatternType.MATCH), [0, 1, 2]),
        (AclBindingFilter(TOPIC, None, PatternType.MATCH), [0, 1, 2, 3]),
        (AclBindingFilter(principal="User:bob"), [3]),
        (AclBindingFilter(host="10.0.0.1"), [3]),
        (AclBindingFilter(operation=Op.WRITE), [3]),
        (AclBindingFilter(operation=Op.DESCRIBE), []),  # filters do not imply operations
        (AclBindingFilter(permission=DENY), [3]),
        (AclBindingFilter(ResourceType.UNKNOWN), []),
        (AclBindingFilter(pattern_type=PatternType.UNKNOWN), []),
    ],
)
def test_filters(flt: AclBindingFilter, expected: list[int]) -> None:
    assert [i for i, a in enumerate(ALL_ACLS) if flt.matches(a)] == expected


def test_filter_validation() -> None:
    assert AclBindingFilter(ResourceType.UNKNOWN).unknown_error() == "Unknown patternFilter."
    assert AclBindingFilter(pattern_type=PatternType.UNKNOWN).unknown_error() == "Unknown patternFilter."
    assert AclBindingFilter(operation=Op.UNKNOWN).unknown_error() == "Unknown entryFilter."
    assert AclBindingFilter(permission=AclPermissionType.UNKNOWN).unknown_error() == "Unknown entryFilter."
    assert AclBindingFilter().unknown_error() is None


def test_create_delete_and_reload() -> None:
    storage = MemoryStorage()
    a = Authorizer(storage=storage)
    a.create([acl("t"), acl("t"), acl("p", pattern=PRE)])  # a duplicate is created once
    a.create([acl("t")])
    assert len(a) == 2 and len(storage.meta_items("acl.")) == 2
    b = Authorizer(storage=storage)  # a restart reloads them
    assert b.acls() == a.acls()
    assert b.authorize(ctx(), Op.READ, TOPIC, "px")
    # overlapping filters both report what they matched before the request
    matched = b.delete([AclBindingFilter(TOPIC, "t", LIT), AclBindingFilter(principal="User:alice")])
    assert matched == [[acl("t")], [acl("p", pattern=PRE), acl("t")]]
    assert len(b) == 0 and storage.meta_items("acl.") == []
    assert not b.authorize(ctx(), Op.READ, TOPIC, "px")
    assert b.delete([AclBindingFilter()]) == [[]]
    assert len(Authorizer(storage=storage)) == 0


def test_config() -> None:
    assert not Authorizer.from_config(BrokerConfig.defaults(), None).enabled
    for cls in ("org.apache.kafka.metadata.authorizer.StandardAuthorizer", "kafka.security.authorizer.AclAuthorizer"):
        config = BrokerConfig.from_values(
            {"authorizer.class.name": cls, "super.users": " User:a ; ;User:b", "allow.everyone.if.no.acl.found": "true"}
        )
        a = Authorizer.from_config(config, None)
        assert a.enabled and a.super_users == {"User:a", "User:b"} and a.allow_if_no_acl
    with pytest.raises(ValueError, match="not supported"):
        Authorizer.from_config(BrokerConfig.from_values({"authorizer.class.name": "com.example.Mine"}), None)
    with pytest.raises(ValueError, match="principalType:principalName"):
        parse_super_users("User:a;bob")
    assert parse_super_users(None) == frozenset()


@pytest.mark.parametrize(
    ("python", "java"),
    [
        ("10.1.2.3", "10.1.2.3"),
        ("::1", "0:0:0:0:0:0:0:1"),
        ("::ffff:10.1.2.3", "10.1.2.3"),
        ("fe80::1%eth0", "fe80:0:0:0:0:0:0:1%eth0"),
        ("2001:db8::ab", "2001:db8:0:0:0:0:0:ab"),
    ],
)
def test_java_host_address(python: str, java: str) -> None:
    assert java_host_address(python) == java
