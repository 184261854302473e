"""Twisted adapters only: they move bytes between sockets and ``chronik.protocol.connection``."""
