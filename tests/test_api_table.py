"""The generated API table against facts of Kafka's protocol."""

from __future__ import annotations

from chronik_protocol.api_table import API_BY_NAME, APIS, RELEASES
from chronik_protocol.messages.request_header import RequestHeader
from chronik_protocol.messages.response_header import ResponseHeader


def test_releases_are_pinned_newest_first() -> None:
    assert RELEASES[0].startswith("4.") and RELEASES[1].startswith("3.9.")


def test_union_keeps_versions_removed_by_kip_896() -> None:
    produce = API_BY_NAME["Produce"]
    assert produce.versions[RELEASES[1]][0] == 0  # 3.9.x still has v0
    assert produce.versions[RELEASES[0]][0] == 3  # Kafka 4 removed v0-v2
    assert produce.min_version == 0
    assert produce.max_version == max(r[1] for r in produce.versions.values() if r)
    assert API_BY_NAME["Fetch"].min_version == 0


def test_header_versions() -> None:
    api_versions = APIS[18]
    assert api_versions.request_header_version(3) == 2
    assert api_versions.response_header_version(3) == 0  # always v0 (KIP-511)
    produce = APIS[0]
    assert produce.request_header_version(8) == 1 and produce.response_header_version(8) == 0
    assert produce.request_header_version(9) == 2 and produce.response_header_version(9) == 1
    assert APIS[7].request_header_version(0) == 0  # ControlledShutdown v0
    assert APIS[7].request_header_version(1) == 1


def test_retired_apis_keep_their_older_versions() -> None:
    leader_and_isr = APIS[4]
    assert leader_and_isr.versions[RELEASES[0]] is None
    assert leader_and_isr.versions[RELEASES[1]] is not None
    assert "zkBroker" in leader_and_isr.listeners or "controller" in leader_and_isr.listeners


def test_every_api_has_request_and_response_classes() -> None:
    for api in APIS.values():
        assert api.api_key == api.request_class().API_KEY
        assert api.api_key == api.response_class().API_KEY
        assert tuple(range(api.min_version, api.max_version + 1)) == api.request_class().VERSIONS


def test_request_header_client_id_keeps_int16_length_in_v2() -> None:
    header = RequestHeader(request_api_key=18, request_api_version=3, correlation_id=7, client_id="abc")
    assert bytes(header.encode(2)) == bytes.fromhex("0012 0003 00000007 0003 616263 00".replace(" ", ""))
    assert bytes(header.encode(1)) == bytes.fromhex("00120003000000070003616263")
    assert bytes(RequestHeader(client_id=None).encode(1))[-2:] == b"\xff\xff"
    assert bytes(ResponseHeader(correlation_id=7).encode(1)) == b"\x00\x00\x00\x07\x00"
