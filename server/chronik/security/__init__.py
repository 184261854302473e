"""Authentication: TLS listeners, SASL (PLAIN, SCRAM-SHA-256/512, OAUTHBEARER), principals.

Layout (Kafka's classes in parentheses):

- ``principal.py``: ``ssl.principal.mapping.rules`` (``SslPrincipalMapper``) and the principal of
  a TLS client certificate (``DefaultKafkaPrincipalBuilder``).
- ``tls.py``: the pyOpenSSL server context of an SSL/SASL_SSL listener (``SslFactory``), with
  certificate files reloaded when they change.
- ``sasl.py``: the sans-I/O SASL state machine of one connection (``SaslServerAuthenticator``):
  handshake, authenticate, KIP-152 v0/v1 framing, KIP-368 re-authentication.
- ``plain.py``, ``scram.py``, ``oauthbearer.py``: the mechanisms' servers.
- ``jaas.py``: parsing ``sasl.jaas.config`` values.
- ``credentials.py``: SCRAM credentials (salted, never the password), persisted in the storage's
  metadata (KIP-554).

Nothing here imports Twisted except ``tls.py`` (its connection creator is a Twisted interface);
``chronik.net.server`` moves the bytes.

Where Chronik differs from Kafka 4.4 (deliberately or not yet done):

- Key/trust stores are PEM or PKCS12 (no JKS). Certificate files are reloaded when they change
  (Kafka reloads on a dynamic AlterConfigs of ``ssl.keystore.*``).
- SASL mechanisms: PLAIN, SCRAM-SHA-256/512, OAUTHBEARER; no GSSAPI, no delegation tokens
  (SCRAM ``tokenauth``), no custom ``sasl.server.callback.handler.class`` or
  ``principal.builder.class``. SCRAM and OAUTHBEARER work without a JAAS entry (Kafka refuses to
  start without one for every enabled mechanism). JWKS only from ``file://`` URLs.
- A client certificate's DN prints attributes outside RFC 2253's keywords as ``OID=value``
  (Java prints ``OID=#<DER hex>``).
- Successful authentications are logged at INFO, failures at WARNING (Kafka: DEBUG / INFO).
"""
