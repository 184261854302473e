"""Python default values for spec defaults (``FieldSpec.fieldDefault`` in Kafka's generator)."""

from __future__ import annotations

import base64
import uuid

from .model import Kind


def default_expr(kind: Kind, default: str, fresh: bool = True) -> str:
    """Source text of the default value of a field of ``kind`` with spec default ``default``.

    Lists and structs get a fresh object (``[]``, ``Struct()``); a ``"null"`` default is None.
    """
    name = kind.name
    if default == "null":
        return "None"
    if name == "bool":
        return "True" if default.lower() == "true" else "False"
    if name in {"int8", "int16", "uint16", "int32", "uint32", "int64"}:
        if not default:
            return "0"
        return str(int(default[2:], 16) if default.startswith("0x") else int(default))
    if name == "float64":
        return repr(float(default)) if default else "0.0"
    if name == "string":
        return repr(default)
    if name == "bytes":
        return 'b""'
    if name == "records":
        return "None"
    if name == "uuid":
        if not default:
            return "_ZERO_UUID"
        raw = base64.urlsafe_b64decode(default + "=" * (-len(default) % 4))
        return f"_UUID({str(uuid.UUID(bytes=raw))!r})"
    if name == "array":
        return "[]"
    if name == "struct":
        return f"{kind.struct}()"
    raise AssertionError(kind)


def type_hint(kind: Kind, nullable: bool) -> str:
    hints = {
        "bool": "bool",
        "int8": "int",
        "int16": "int",
        "uint16": "int",
        "int32": "int",
        "uint32": "int",
        "int64": "int",
        "float64": "float",
        "string": "str",
        "bytes": "bytes",
        "uuid": "UUID",
        "records": "memoryview | bytes",
    }
    if kind.name == "array":
        assert kind.elem is not None
        hint = f"list[{type_hint(kind.elem, False)}]"
    elif kind.name == "struct":
        hint = str(kind.struct)
    else:
        hint = hints[kind.name]
    return f"{hint} | None" if nullable or kind.name == "records" else hint
