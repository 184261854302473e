"""Chronik's code generator: Kafka's JSON message specs → typed Python codecs in ``generated/``."""
