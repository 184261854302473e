"""One module per Kafka API, as in franz-go's kfake.

Each module opens with a header comment (API key, versions implemented, behaviour, version notes)
and registers its handler on a :class:`chronik.broker.dispatch.Dispatcher` with the versions it
implements — that range is exactly what ApiVersions advertises and what the connection accepts.
A handler is ``fn(ctx: RequestContext, body) -> response | Deferred[response] | NO_RESPONSE``;
an exception becomes an UNKNOWN_SERVER_ERROR response (see ``dispatch``).
"""
