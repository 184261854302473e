"""Load, normalise and validate Kafka spec files.

Normalisation covers what Kafka's Java generator tolerates and we must too:
``//`` and ``/* */`` comments, string tags (``"tag": "0"``), JSON booleans and numbers as
``default`` (``false`` → ``"false"``, not Python's ``"False"``), field ``versions`` implied by
``taggedVersions`` (``FieldSpec.java``), and retired APIs kept as ``"validVersions": "none"``
stubs with no fields. After that the strict JSON Schema (``spec_schema.json``) rejects any
unknown key, malformed version range or unknown type, naming the file and the JSON path.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from . import jsonc


class SpecError(Exception):
    """A spec file the generator refuses, with the file and the JSON path of the problem."""

    def __init__(self, file: str, path: str, reason: str) -> None:
        self.file, self.path, self.reason = file, path, reason
        super().__init__(f"{file}: {path or '<root>'}: {reason}")


@cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((Path(__file__).parent / "spec_schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _norm_default(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def _normalise_fields(fields: Any) -> None:
    if not isinstance(fields, list):
        return
    for field in fields:
        if not isinstance(field, dict):
            continue
        if isinstance(field.get("tag"), str) and field["tag"].strip().lstrip("-").isdigit():
            field["tag"] = int(field["tag"])
        if "default" in field:
            field["default"] = _norm_default(field["default"])
        if "versions" not in field and "taggedVersions" in field:
            field["versions"] = field["taggedVersions"]
        _normalise_fields(field.get("fields"))


def normalise(spec: dict[str, Any]) -> dict[str, Any]:
    """Apply the Java generator's tolerances in place; return the spec."""
    _normalise_fields(spec.get("fields"))
    for struct in spec.get("commonStructs") or []:
        if isinstance(struct, dict):
            _normalise_fields(struct.get("fields"))
    return spec


def _json_path(error: jsonschema.ValidationError) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")


def validate(spec: dict[str, Any], file: str) -> None:
    """Raise :class:`SpecError` for the first (deepest) schema violation."""
    errors = sorted(_validator().iter_errors(spec), key=lambda e: (-len(e.absolute_path), e.message))
    if errors:
        e = errors[0]
        raise SpecError(file, _json_path(e), e.message)


def load_spec_text(text: str, file: str) -> dict[str, Any]:
    try:
        raw = jsonc.loads(text)
    except ValueError as exc:
        raise SpecError(file, "", f"not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise SpecError(file, "", "top level is not an object")
    spec = normalise(raw)
    validate(spec, file)
    return spec


def load_spec_dir(folder: Path) -> dict[str, dict[str, Any]]:
    """All ``*.json`` specs in ``folder`` keyed by message name."""
    specs: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.glob("*.json")):
        spec = load_spec_text(path.read_text(encoding="utf-8"), str(path))
        if spec["name"] in specs:
            raise SpecError(str(path), "name", f"duplicate message name {spec['name']}")
        specs[spec["name"]] = spec
    if not specs:
        raise SpecError(str(folder), "", "no spec files (run: python -m chronik_codegen fetch)")
    return specs
