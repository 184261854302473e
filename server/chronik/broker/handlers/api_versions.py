"""ApiVersions (API key 18): versions 0-5 (every version in the pinned specs).

Behaviour (Kafka: ``KafkaApis.handleApiVersionsRequest``, ``ApiVersionsRequest``,
``ApiVersionsResponse``; checked against the kafka-clients 4.4.0 jar):

- Lists exactly the registered handlers' ranges (``Dispatcher.advertised``: Produce from 0 when
  its handler asks, KAFKA-18659), by api key, with throttle_time_ms 0. Answered before any
  authentication, like Kafka.
- v3+: ClientSoftwareName and ClientSoftwareVersion must match
  ``[a-zA-Z0-9](?:[a-zA-Z0-9\\-.]*[a-zA-Z0-9])?``, else INVALID_REQUEST with no api keys
  (``ApiVersionsRequest.isValid``).
- v5+ (KIP-1242): ClusterId and NodeId come together or not at all (else INVALID_REQUEST). When a
  client names a cluster or node that is not us, we answer REBOOTSTRAP_REQUIRED (our reading of
  KIP-1242; the broker side of that check was not available to verify).
- A version newer than ours never reaches this handler: the connection answers it in v0 with
  UNSUPPORTED_VERSION (KIP-511).

Features (v3+ tagged fields): empty by default, finalized epoch -1 ("unknown"). A single-node
Kafka 4.x KRaft broker lists metadata.version, kraft.version, transaction.version, group.version,
eligible.leader.replicas.version (and newer ones) and finalizes the release defaults. The clients
we target read none of them to speak the protocol: librdkafka ignores them, and the Java client
uses only ``transaction.version`` >= 2 to switch to KIP-890 transactions, which we must not
advertise before implementing (KAFKA-PITFALLS 25); admin tools just report them. So Chronik lists
none until a feature needs one (``ApiVersionsHandler.supported_features`` etc. are settable).
As Kafka does for requests below v4 (KAFKA-17011, ``alterFeatureLevel0``), a supported feature
with min version 0 is left out of a v0-v3 answer, and a finalized level 0 is never listed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final

from chronik.broker.dispatch import Dispatcher, Handler, RequestContext
from chronik.broker.handlers import HandlerEnv
from chronik.protocol.errors import ErrorCode
from chronik_protocol.api_table import APIS
from chronik_protocol.messages.api_versions_request import ApiVersionsRequest
from chronik_protocol.messages.api_versions_response import (
    ApiVersion,
    ApiVersionsResponse,
    FinalizedFeatureKey,
    SupportedFeatureKey,
)

__all__ = ["API_KEY", "ApiVersionsHandler", "register"]

API_KEY: Final = 18

#: ``ApiVersionsRequest.SOFTWARE_NAME_VERSION_PATTERN`` (Java ``matches()``: the whole string).
_SOFTWARE = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?")


class ApiVersionsHandler:
    """The ApiVersions handler of one dispatcher (reads its table at request time)."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        *,
        cluster_id: str | None = None,
        node_id: int | None = None,
        supported_features: Sequence[tuple[str, int, int]] = (),
        finalized_features: Sequence[tuple[str, int]] = (),
        finalized_features_epoch: int = -1,
    ) -> None:
        self.dispatcher = dispatcher
        self.cluster_id = cluster_id
        self.node_id = node_id
        #: (name, min_version, max_version) rows of SupportedFeatures.
        self.supported_features = list(supported_features)
        #: (name, level) rows of FinalizedFeatures.
        self.finalized_features = list(finalized_features)
        self.finalized_features_epoch = finalized_features_epoch

    def __call__(self, ctx: RequestContext, body: ApiVersionsRequest) -> ApiVersionsResponse:
        version = ctx.api_version
        error = self._validate(version, body)
        if error:
            return ApiVersionsResponse(error_code=error)
        response = ApiVersionsResponse(
            api_keys=[ApiVersion(k, lo, hi) for k, lo, hi in self.dispatcher.advertised()],
            throttle_time_ms=0,
        )
        if version >= 3:
            response.supported_features = [
                SupportedFeatureKey(name, lo, hi) for name, lo, hi in self.supported_features if version >= 4 or lo != 0
            ]
            response.finalized_features = [
                FinalizedFeatureKey(name, level, level) for name, level in self.finalized_features if level > 0
            ]
            response.finalized_features_epoch = self.finalized_features_epoch
        return response

    def _validate(self, version: int, body: ApiVersionsRequest) -> int:
        if version >= 5:
            named_cluster, named_node = body.cluster_id is not None, body.node_id != -1
            if named_cluster != named_node:
                return ErrorCode.INVALID_REQUEST
            if named_cluster and (
                (self.cluster_id is not None and body.cluster_id != self.cluster_id)
                or (self.node_id is not None and body.node_id != self.node_id)
            ):
                return ErrorCode.REBOOTSTRAP_REQUIRED
        if version >= 3 and not (
            _SOFTWARE.fullmatch(body.client_software_name) and _SOFTWARE.fullmatch(body.client_software_version)
        ):
            return ErrorCode.INVALID_REQUEST
        return ErrorCode.NONE


def register(dispatcher: Dispatcher, env: HandlerEnv | None = None, **options: Any) -> ApiVersionsHandler:
    """Register ApiVersions for every version the pinned specs define; return the handler."""
    spec = APIS[API_KEY]
    if env is not None:
        options = {"cluster_id": env.broker.cluster_id, "node_id": env.broker.node_id, **options}
    handler = ApiVersionsHandler(dispatcher, **options)
    dispatcher.register(API_KEY, Handler(spec.min_version, spec.max_version, handler))
    return handler
