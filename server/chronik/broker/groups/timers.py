"""Keyed one-shot timers over the broker's ``call_later`` (Kafka's coordinator ``CoordinatorTimer``).

Scheduling a key replaces the timer already under it; cancelling a missing key does nothing.
Without ``call_later`` (some unit tests) nothing ever fires.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any


class Timers:
    """One pending callback per key."""

    def __init__(self, call_later: Callable[[float, Callable[[], None]], Any] | None) -> None:
        self._call_later = call_later
        self._pending: dict[Hashable, Any] = {}

    def schedule(self, key: Hashable, delay_ms: int, fn: Callable[[], None]) -> None:
        self.cancel(key)
        if self._call_later is None:
            return

        def fire() -> None:
            if self._pending.get(key) is handle_box[0]:
                del self._pending[key]
                fn()

        handle_box: list[Any] = [None]
        handle_box[0] = self._call_later(max(delay_ms, 0) / 1000.0, fire)
        self._pending[key] = handle_box[0]

    def cancel(self, key: Hashable) -> None:
        handle = self._pending.pop(key, None)
        if handle is not None and handle.active():
            handle.cancel()

    def is_scheduled(self, key: Hashable) -> bool:
        return key in self._pending

    def cancel_all(self) -> None:
        for key in list(self._pending):
            self.cancel(key)
