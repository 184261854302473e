"""Kafka's sampled rate and its throttle time: ``Rate`` over a ``WindowedSum`` (``SampledStat``), and
``QuotaUtils.throttleTime``, step for step (``org.apache.kafka.common.metrics.stats``).

- A rate keeps ``num`` samples of ``window_ms`` each (``quota.window.num`` = 11,
  ``quota.window.size.seconds`` = 1) in a ring of ``num + 1``; a value goes into the current
  sample, or a recycled one once the current sample is ``window_ms`` old.
- Measuring purges samples whose last event is ``num * window_ms`` old, sums the rest and divides
  by the window: now minus the oldest sample's start, but at least ``num - 1`` whole windows plus
  the current one's part, so a new or idle client is measured as if the missing windows held
  nothing (a burst of up to ``(num - 1) * window`` worth of quota passes unthrottled).
- Throttle time when the measured rate ``O`` exceeds the bound ``T`` (KIP-219): the delay ``X``
  such that ``O * W / (W + X) = T``, i.e. ``X = (O - T) / T * W`` with ``W`` the window above,
  rounded as ``Math.round``.
"""

from __future__ import annotations

import math

__all__ = ["Rate", "throttle_time_ms"]


class _Sample:
    __slots__ = ("event_count", "last_event_ms", "start_ms", "value")

    def __init__(self, now_ms: int) -> None:
        self.value = 0.0
        self.event_count = 0
        self.start_ms = now_ms
        self.last_event_ms = now_ms

    def reset(self, now_ms: int) -> None:
        self.value = 0.0
        self.event_count = 0
        self.start_ms = now_ms
        self.last_event_ms = now_ms


class Rate:
    """A per-second rate over ``num`` windows of ``window_ms`` (Kafka's ``Rate`` with a ``WindowedSum``)."""

    __slots__ = ("_current", "_samples", "num", "window_ms")

    def __init__(self, num: int = 11, window_ms: int = 1000) -> None:
        self.num = num
        self.window_ms = window_ms
        self._samples: list[_Sample] = []
        self._current = 0

    def record(self, value: float, now_ms: int) -> None:
        """``SampledStat.record``: add ``value`` to the current sample, advancing it when complete."""
        sample = self._current_sample(now_ms)
        if now_ms - sample.start_ms >= self.window_ms:
            self._current = (self._current + 1) % (self.num + 1)  # one extra sample (see _purge)
            if self._current >= len(self._samples):
                sample = _Sample(now_ms)
                self._samples.append(sample)
            else:
                sample = self._samples[self._current]
                sample.reset(now_ms)
        sample.value += value
        sample.event_count += 1
        sample.last_event_ms = now_ms

    def _current_sample(self, now_ms: int) -> _Sample:
        if not self._samples:
            self._samples.append(_Sample(now_ms))
        return self._samples[self._current]

    def _purge(self, now_ms: int) -> None:
        expire = self.num * self.window_ms
        for sample in self._samples:
            if now_ms - sample.last_event_ms >= expire:
                sample.reset(now_ms)

    def window_size_ms(self, now_ms: int) -> int:
        """``Rate.windowSize``: the time the measured sum is spread over (purges first)."""
        self._purge(now_ms)
        if not self._samples:
            self._samples.append(_Sample(now_ms))
        oldest = min(s.start_ms for s in self._samples)
        elapsed = now_ms - oldest
        full = elapsed // self.window_ms
        if full < self.num - 1:
            elapsed += (self.num - 1 - full) * self.window_ms
        return elapsed

    def total(self, now_ms: int) -> float:
        """The sum of the retained samples (``WindowedSum.measure``, after purging)."""
        self._purge(now_ms)
        return sum(s.value for s in self._samples)

    def measure(self, now_ms: int) -> float:
        """The rate per second as of ``now_ms`` (``Rate.measure``)."""
        value = self.total(now_ms)
        return value / (self.window_size_ms(now_ms) / 1000.0)

    @property
    def last_event_ms(self) -> int:
        return max((s.last_event_ms for s in self._samples), default=0)


def java_round(x: float) -> int:
    """``Math.round(double)``: half up."""
    return math.floor(x + 0.5)


def throttle_time_ms(rate: float, bound: float, window_ms: int) -> int:
    """``QuotaUtils.throttleTime``: ``(O - T) / T * W``, rounded (0 if within the bound)."""
    if rate <= bound:
        return 0
    return java_round((rate - bound) / bound * window_ms)
