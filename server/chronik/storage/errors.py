"""Errors raised by storage engines (engine-agnostic, so the broker can catch them by type)."""

from __future__ import annotations

from pathlib import Path


class StorageError(Exception):
    """Base class of storage failures that are not caller errors (those raise ValueError/KeyError)."""


class StorageLockedError(StorageError):
    """The store's directory is already open (by another process, or elsewhere in this one)."""

    def __init__(self, path: str | Path, detail: str = "") -> None:
        self.path = Path(path)
        message = (
            f"storage at {self.path} is already in use: another broker process (or another open handle in "
            "this process) holds its lock; stop it or choose another data directory"
        )
        super().__init__(f"{message} ({detail})" if detail else message)


class StorageCorruptError(StorageError):
    """Stored data contradicts the engine's invariants (e.g. a gap in a partition log)."""


class StorageClosedError(StorageError):
    """The store was closed, or the partition's topic was deleted."""
