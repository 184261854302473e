"""Client quotas as Kafka enforces them: byte rates and request time per user / client-id (KIP-13,
KIP-55, KIP-124), throttling by delaying the client's next request (KIP-219), and the quota
entities administered with DescribeClientQuotas / AlterClientQuotas (KIP-546).

- ``model.py``: entities, keys, and the checks and filters of the two APIs (Kafka's messages).
- ``precedence.py``: which override applies to a (user, client-id), and which clients share a rate.
- ``rate.py``: Kafka's sampled rate (``quota.window.num`` windows of ``quota.window.size.seconds``) and the
  throttle time ``(O - T) / T * W``.
- ``manager.py``: :class:`ClientQuotaManager` per quota type and :class:`ClientQuotas`, the durable
  store that applies changes at once.

Handlers reach it as ``env.broker.quotas``; the network layer mutes a connection for the throttle
time a handler puts in ``RequestContext.throttle_ms``, after sending the response (Kafka 2.0+), and
records request handler time for ``request_percentage``.
"""

from chronik.quotas.manager import ClientQuotaManager, ClientQuotas, user_of
from chronik.quotas.precedence import DEFAULT

__all__ = ["DEFAULT", "ClientQuotaManager", "ClientQuotas", "user_of"]
