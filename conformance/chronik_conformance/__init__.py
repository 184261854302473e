"""Chronik's conformance suite: real Kafka clients run the same scenarios against Chronik and Apache Kafka.

``python -m chronik_conformance run`` starts both brokers, runs every client driver (see
``conformance/SCENARIOS.md``) and the protocol sweep, and writes the Markdown and HTML report.
"""
