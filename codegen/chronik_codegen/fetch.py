"""``python -m chronik_codegen fetch``: download the pinned kafka-clients jars with Maven,
verify their sha256 and extract ``common/message/*.json`` into ``specs/.cache/<version>/``."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

from .paths import Release, cache_dir, load_pins, repo_root

SPEC_PREFIX = "common/message/"
STAMP = ".sha256"


def _download(release: Release, into: Path) -> Path:
    """Fetch the jar through Maven (honours ~/.m2 and its settings) into ``into``."""
    mvn = shutil.which("mvn")
    if mvn is None:
        raise SystemExit("mvn not found: install Maven (Debian package 'maven') to fetch the Kafka specs")
    cmd = [
        mvn,
        "-q",
        "-B",
        "dependency:copy",
        f"-Dartifact={release.artifact}:jar",
        f"-DoutputDirectory={into}",
        "-Dmdep.overWriteReleases=true",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=into)
    if proc.returncode != 0:
        raise SystemExit(f"maven could not fetch {release.artifact}:\n{proc.stdout}{proc.stderr}")
    jar = into / f"kafka-clients-{release.version}.jar"
    if not jar.is_file():
        raise SystemExit(f"maven reported success but {jar} is missing")
    return jar


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_release(release: Release, root: Path | None = None, force: bool = False) -> Path:
    """Make ``specs/.cache/<version>`` hold exactly the release's spec files; return it."""
    target = cache_dir(release, root)
    stamp = target / STAMP
    if not force and stamp.is_file() and stamp.read_text().strip() == release.sha256:
        return target
    with tempfile.TemporaryDirectory(prefix="chronik-specs-") as tmp:
        jar = _download(release, Path(tmp))
        actual = sha256_of(jar)
        if actual != release.sha256:
            raise SystemExit(
                f"{release.artifact}: sha256 mismatch\n  pinned   {release.sha256}\n  fetched  {actual}\n"
                "Refusing to use it. If you are bumping Kafka, put the new checksum in specs/pins.toml."
            )
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        count = 0
        with zipfile.ZipFile(jar) as zf:
            for name in zf.namelist():
                if name.startswith(SPEC_PREFIX) and name.endswith(".json") and "/" not in name[len(SPEC_PREFIX) :]:
                    (target / name[len(SPEC_PREFIX) :]).write_bytes(zf.read(name))
                    count += 1
        if count == 0:
            raise SystemExit(f"{jar.name} holds no {SPEC_PREFIX}*.json")
        stamp.write_text(release.sha256 + "\n")
    return target


def fetch_all(force: bool = False) -> list[Path]:
    root = repo_root()
    out = []
    for release in load_pins(root):
        path = fetch_release(release, root, force)
        print(f"kafka-clients {release.version}: {len(list(path.glob('*.json')))} specs in {path}")
        out.append(path)
    return out
