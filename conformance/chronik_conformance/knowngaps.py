"""``conformance/known-gaps.yaml``: the differences from Kafka we know of, each with its reason.

A red cell (Kafka passes, Chronik fails) or a sweep difference that matches an entry is reported as
a known gap with that reason instead of failing the run. Patterns are shell-style (``fnmatch``); a
sweep entry's ``api`` may be a list of patterns, and its optional ``status`` limits it to results
of that status (``differs``, ``kafka-only``, ``chronik-only``, ``error``).
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

import yaml

__all__ = ["KNOWN_GAPS_FILE", "Gap", "KnownGaps"]

KNOWN_GAPS_FILE = Path(__file__).resolve().parent.parent / "known-gaps.yaml"


@dataclass(frozen=True)
class Gap:
    reason: str
    issue: str = ""


def _versions(spec: object) -> set[int] | None:
    """``"*"`` → None (all); ``"0-3,5"`` → {0, 1, 2, 3, 5}."""
    text = str(spec).strip()
    if text in ("*", ""):
        return None
    out: set[int] = set()
    for part in text.split(","):
        lo, _, hi = part.strip().partition("-")
        out.update(range(int(lo), int(hi or lo) + 1))
    return out


class KnownGaps:
    """The parsed file: scenario gaps and sweep gaps."""

    def __init__(self, data: dict | None = None) -> None:
        data = data or {}
        self.scenarios = list(data.get("scenarios") or [])
        self.sweep = list(data.get("sweep") or [])
        for entry in [*self.scenarios, *self.sweep]:
            if not str(entry.get("reason", "")).strip():
                raise ValueError(f"known gap without a reason: {entry}")

    @classmethod
    def load(cls, path: Path = KNOWN_GAPS_FILE) -> KnownGaps:
        return cls(yaml.safe_load(path.read_text()) if path.exists() else None)

    def scenario_gap(self, client: str, scenario: str) -> Gap | None:
        for e in self.scenarios:
            if fnmatchcase(client, str(e.get("client", "*"))) and fnmatchcase(scenario, str(e["scenario"])):
                return Gap(str(e["reason"]).strip(), str(e.get("issue", "")))
        return None

    def sweep_gap(self, api: str, version: int, status: str = "differs") -> Gap | None:
        for e in self.sweep:
            versions = _versions(e.get("versions", "*"))
            patterns = e["api"] if isinstance(e["api"], list) else [e["api"]]
            if (
                any(fnmatchcase(api, str(p)) for p in patterns)
                and (versions is None or version in versions)
                and e.get("status", status) == status
            ):
                return Gap(str(e["reason"]).strip(), str(e.get("issue", "")))
        return None
