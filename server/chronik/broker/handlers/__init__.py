"""One module per Kafka API, as in franz-go's kfake.

Each module opens with a docstring (API key, versions implemented, behaviour, version notes)
and defines ``register(dispatcher, env)``, which registers its handler on the
:class:`chronik.broker.dispatch.Dispatcher` with the versions it implements — that range is
exactly what ApiVersions advertises and what the connection accepts. ``env`` is a
:class:`HandlerEnv`: the broker state, the broker config and the group committer. A handler is
``fn(ctx: RequestContext, body) -> response | Deferred[response] | NO_RESPONSE``; an exception
becomes an UNKNOWN_SERVER_ERROR response (see ``dispatch``). :func:`register_all` finds every
module of this package, so adding an API is adding a module.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chronik.broker.core import Broker
    from chronik.broker.dispatch import Dispatcher
    from chronik.config import BrokerConfig


@dataclass(frozen=True, slots=True)
class HandlerEnv:
    """What handlers are built from."""

    broker: Broker
    config: BrokerConfig
    group_commit: Any  # GroupCommit in sync mode, else None


def register_all(dispatcher: Dispatcher, env: HandlerEnv) -> list[str]:
    """Import every handler module and call its ``register``; return the module names."""
    names = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(dispatcher, env)
            names.append(info.name)
    return names
