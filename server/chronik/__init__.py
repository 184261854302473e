"""Chronik: a Kafka-compatible streaming broker."""
