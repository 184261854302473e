"""Import layering (as kio enforces with import-linter): the runtime never imports the
generator, generated code imports only the runtime primitives, and the hand-written protocol
runtime does not import generated modules at import time."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path, top_level_only: bool) -> set[str]:
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_generated_code_imports_only_the_runtime() -> None:
    allowed = (
        "__future__",
        "struct",
        "typing",
        "uuid",
        "importlib",
        "construct",
        "chronik.protocol",
        "chronik_protocol",
    )
    for path in (ROOT / "generated").rglob("*.py"):
        for name in _imports(path, top_level_only=False):
            assert name.startswith(allowed), f"{path}: imports {name}"
            assert not name.startswith("chronik_codegen"), f"{path}: imports the generator"


def test_runtime_never_imports_the_generator() -> None:
    for path in (ROOT / "server").rglob("*.py"):
        for name in _imports(path, top_level_only=False):
            assert not name.startswith("chronik_codegen"), f"{path}: imports {name}"
            assert not name.startswith(("jinja2", "jsonschema")), f"{path}: imports build-time {name}"


def test_protocol_runtime_does_not_import_generated_code_at_import_time() -> None:
    for path in (ROOT / "server" / "chronik" / "protocol").rglob("*.py"):
        assert not any(n.startswith("chronik_protocol") for n in _imports(path, top_level_only=True)), path
