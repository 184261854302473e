"""Kafka's version ranges: ``"none"``, ``"3"``, ``"1-4"``, ``"2+"`` (as ``Versions.java``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_VERSION = 0x7FFF  # Short.MAX_VALUE: an open range "N+" runs to it.
_RANGE = re.compile(r"^(\d+)(?:(\+)|-(\d+))?$")


@dataclass(frozen=True, order=True)
class Versions:
    """An inclusive range of versions; ``lo > hi`` is the empty range."""

    lo: int
    hi: int

    @classmethod
    def parse(cls, text: str) -> Versions:
        text = text.strip()
        if text == "none":
            return NONE
        m = _RANGE.match(text)
        if not m:
            raise ValueError(f"invalid version range {text!r}")
        lo = int(m.group(1))
        hi = MAX_VERSION if m.group(2) else int(m.group(3)) if m.group(3) else lo
        if hi < lo or hi > MAX_VERSION:
            raise ValueError(f"invalid version range {text!r}")
        return cls(lo, hi)

    @property
    def empty(self) -> bool:
        return self.lo > self.hi

    def __contains__(self, version: int) -> bool:
        return self.lo <= version <= self.hi

    def intersect(self, other: Versions) -> Versions:
        lo, hi = max(self.lo, other.lo), min(self.hi, other.hi)
        return Versions(lo, hi) if lo <= hi else NONE

    def __str__(self) -> str:
        if self.empty:
            return "none"
        if self.hi == MAX_VERSION:
            return f"{self.lo}+"
        return str(self.lo) if self.lo == self.hi else f"{self.lo}-{self.hi}"


NONE = Versions(1, 0)
