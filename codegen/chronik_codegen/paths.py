"""Where the generator finds the pin file, the spec cache and its output."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path


def repo_root() -> Path:
    """The checkout root: ``$CHRONIK_ROOT``, else the folder above ``codegen/`` holding ``specs/``."""
    env = os.environ.get("CHRONIK_ROOT")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "specs" / "pins.toml").is_file():
            return parent
    return Path.cwd()


@dataclass(frozen=True)
class Release:
    """One pinned ``kafka-clients`` release."""

    version: str
    sha256: str
    role: str

    @property
    def artifact(self) -> str:
        return f"org.apache.kafka:kafka-clients:{self.version}"


def pins_file(root: Path | None = None) -> Path:
    return (root or repo_root()) / "specs" / "pins.toml"


def load_pins(root: Path | None = None) -> list[Release]:
    """The pinned releases, newest first (the order of ``specs/pins.toml``)."""
    data = tomllib.loads(pins_file(root).read_text())
    releases = [Release(r["version"], r["sha256"].lower(), r.get("role", "")) for r in data["release"]]
    if not releases:
        raise SystemExit(f"{pins_file(root)}: no [[release]] pinned")
    return releases


def cache_dir(release: Release, root: Path | None = None) -> Path:
    """Git-ignored folder holding one release's extracted ``common/message/*.json``."""
    return (root or repo_root()) / "specs" / ".cache" / release.version


def output_dir(root: Path | None = None) -> Path:
    return (root or repo_root()) / "generated" / "chronik_protocol"
