"""The message model: per-version wire schemas, merged across the pinned spec sets.

For every message name the model holds, for each version valid in any pinned set, the
*resolved* schema of that version — which fields exist, which are nullable, tagged (and with
which tag) or compact — taken from the newest set that defines the version. Where two sets
define the same version, their resolved schemas must be identical, or generation fails: the
union is only sound if a version means the same bytes in both releases.

The Python classes then hold the union of fields over all versions; a version's codec reads
and writes only the fields its schema lists.
"""

from __future__ import annotations

import base64
import keyword
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from .specload import SpecError
from .versions import NONE, Versions

PRIMITIVES = frozenset(
    {
        "bool",
        "int8",
        "int16",
        "uint16",
        "int32",
        "uint32",
        "int64",
        "float64",
        "string",
        "bytes",
        "records",
        "uuid",
    }
)
INT_RANGES = {
    "int8": (-(1 << 7), (1 << 7) - 1),
    "int16": (-(1 << 15), (1 << 15) - 1),
    "uint16": (0, (1 << 16) - 1),
    "int32": (-(1 << 31), (1 << 31) - 1),
    "uint32": (0, (1 << 32) - 1),
    "int64": (-(1 << 63), (1 << 63) - 1),
}
NULLABLE_KINDS = frozenset({"string", "bytes", "records", "struct", "array"})


def snake(name: str) -> str:
    """``TopicData`` → ``topic_data``, ``ZkMigrationReady`` → ``zk_migration_ready``."""
    s = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)
    s = re.sub(r"(?<=[A-Z])([A-Z][a-z])", r"_\1", s).lower()
    return s + "_" if keyword.iskeyword(s) or s in {"unknown_tagged_fields"} else s


@dataclass(frozen=True)
class Kind:
    """The wire type of a field or array element: a primitive name, or a struct."""

    name: str  # primitive type name, "struct" or "array"
    struct: str | None = None  # struct name when name == "struct" (or array of structs)
    elem: Kind | None = None  # element kind when name == "array"

    def __str__(self) -> str:
        if self.name == "array":
            return f"[]{self.elem}"
        return self.struct if self.name == "struct" else self.name  # type: ignore[return-value]


@dataclass(frozen=True)
class RField:
    """One field as it is on the wire at one version."""

    py_name: str
    spec_name: str
    kind: Kind
    nullable: bool
    tag: int | None  # set when the field is tagged at this version
    compact: bool  # compact (varint) lengths for strings/bytes/arrays at this version
    default: str  # the spec default, normalised ("" when absent)
    zero_copy: bool = field(default=False, compare=False)  # Java-side buffer choice, not wire


@dataclass(frozen=True)
class RStruct:
    """A struct's fields at one version: regular fields in order, tagged fields by tag."""

    name: str
    flexible: bool
    fields: tuple[RField, ...]
    tagged: tuple[RField, ...]
    structs: tuple[tuple[str, RStruct], ...] = ()  # nested structs used by this one (name → schema)


@dataclass
class MessageVersions:
    """One message over all pinned sets."""

    name: str
    type: str
    api_key: int | None
    spec_sets: dict[str, dict[str, Any]]  # release version → its spec (only sets that have the file)
    versions: dict[int, RStruct] = field(default_factory=dict)
    source_of: dict[int, list[str]] = field(default_factory=dict)  # version → releases defining it
    #: release → {"Struct.Field" newest name: that release's name}, for renames with the same wire
    renamed: dict[str, dict[str, str]] = field(default_factory=dict)
    superseded: dict[int, list[str]] = field(default_factory=dict)  # unstable there, differs: newest wins

    def valid_versions(self, release: str) -> Versions:
        spec = self.spec_sets.get(release)
        return NONE if spec is None else Versions.parse(spec["validVersions"])

    def flexible_versions(self, release: str) -> Versions:
        spec = self.spec_sets.get(release)
        if spec is None or "flexibleVersions" not in spec:
            return NONE
        return Versions.parse(spec["flexibleVersions"])


# --------------------------------------------------------------------------------------------
# Resolution of one spec at one version


class _Resolver:
    def __init__(self, spec: dict[str, Any], file: str) -> None:
        self.spec = spec
        self.file = file
        self.flexible_versions = Versions.parse(spec.get("flexibleVersions", "none"))
        self.structs: dict[str, tuple[dict[str, Any], str]] = {}  # name → (field list, json path)
        for i, cs in enumerate(spec.get("commonStructs") or []):
            self._register(cs["name"], cs["fields"], f"commonStructs[{i}]")
        self._collect(spec.get("fields") or [], "fields")

    def _register(self, name: str, fields: list[dict[str, Any]], path: str) -> None:
        if name in self.structs:
            raise SpecError(self.file, path, f"struct {name} is defined twice")
        self.structs[name] = (fields, path)  # type: ignore[assignment]

    def _collect(self, fields: list[dict[str, Any]], path: str) -> None:
        for i, f in enumerate(fields):
            fpath = f"{path}[{i}]"
            base = f["type"].removeprefix("[]")
            if "fields" in f:
                if base in PRIMITIVES:
                    raise SpecError(self.file, fpath, f"field {f['name']} of type {f['type']} cannot have fields")
                self._register(base, f["fields"], fpath)
                self._collect(f["fields"], fpath + ".fields")
        # Structs referenced by name must exist.

    def kind(self, type_str: str, path: str) -> Kind:
        if type_str.startswith("[]"):
            return Kind("array", elem=self.kind(type_str[2:], path))
        if type_str in PRIMITIVES:
            return Kind(type_str)
        if type_str not in self.structs:
            raise SpecError(self.file, path, f"unknown type {type_str}")
        return Kind("struct", struct=type_str)

    def resolve(self, version: int) -> RStruct:
        root = self._resolve_struct(self.spec["name"], self.spec.get("fields") or [], "fields", version, {})
        return root

    def _resolve_struct(
        self, name: str, fields: list[dict[str, Any]], path: str, version: int, seen: dict[str, RStruct]
    ) -> RStruct:
        flexible = version in self.flexible_versions
        regular: list[RField] = []
        tagged: list[RField] = []
        names: set[str] = set()
        nested: dict[str, RStruct] = {}
        for i, f in enumerate(fields):
            fpath = f"{path}[{i}]"
            versions = Versions.parse(f["versions"])
            if version not in versions:
                continue
            kind = self.kind(f["type"], fpath + ".type")
            nullable = version in Versions.parse(f.get("nullableVersions", "none"))
            base = kind.elem if kind.name == "array" else kind
            if nullable and kind.name not in NULLABLE_KINDS:
                raise SpecError(self.file, fpath, f"type {f['type']} cannot be nullable")
            tagged_versions = Versions.parse(f.get("taggedVersions", "none"))
            tag = f.get("tag") if version in tagged_versions else None
            if tag is not None and not flexible:
                raise SpecError(self.file, fpath, f"tagged at v{version}, which is not a flexible version")
            override = f.get("flexibleVersions")
            if override is not None and kind.name not in {"string", "bytes"}:
                raise SpecError(self.file, fpath, "only string and bytes fields may override flexibleVersions")
            compact = flexible and (override is None or version in Versions.parse(override))
            default = f.get("default", "")
            _check_default(self.file, fpath, f, kind, default)
            py = snake(f["name"])
            if py in names:
                raise SpecError(self.file, fpath, f"duplicate field {f['name']}")
            names.add(py)
            rf = RField(py, f["name"], kind, nullable, tag, compact, default, bool(f.get("zeroCopy", False)))
            (tagged if tag is not None else regular).append(rf)
            if base is not None and base.name == "struct":
                sname = base.struct
                assert sname is not None
                if sname not in nested:
                    sfields, spath = self.structs[sname]
                    nested[sname] = self._resolve_struct(sname, sfields, spath + ".fields", version, seen)
        tags = [t.tag for t in tagged]
        if len(set(tags)) != len(tags):
            raise SpecError(self.file, path, f"duplicate tag in {name} at v{version}")
        tagged.sort(key=lambda t: t.tag)  # type: ignore[arg-type,return-value]
        # Flatten nested structs so that RStruct equality compares the whole tree.
        return RStruct(name, flexible, tuple(regular), tuple(tagged), tuple(sorted(nested.items())))


def _check_default(file: str, path: str, f: dict[str, Any], kind: Kind, default: str) -> None:
    """Reject defaults the Java generator rejects (``FieldSpec.fieldDefault``)."""
    if default == "":
        return
    nullable_all = Versions.parse(f.get("nullableVersions", "none"))
    if default == "null":
        versions = Versions.parse(f["versions"])
        if kind.name not in NULLABLE_KINDS:
            raise SpecError(file, path, f"null default for non-nullable type {kind}")
        if nullable_all.intersect(versions) != versions:
            raise SpecError(file, path, "null default, but not all versions of the field are nullable")
        return
    if kind.name in INT_RANGES:
        try:
            value = int(default[2:], 16) if default.startswith("0x") else int(default)
        except ValueError:
            raise SpecError(file, path, f"invalid default {default!r} for {kind}") from None
        lo, hi = INT_RANGES[kind.name]
        if not lo <= value <= hi:
            raise SpecError(file, path, f"default {default} out of range for {kind}")
    elif kind.name == "bool":
        if default.lower() not in {"true", "false"}:
            raise SpecError(file, path, f"invalid default {default!r} for bool")
    elif kind.name == "float64":
        try:
            float(default)
        except ValueError:
            raise SpecError(file, path, f"invalid default {default!r} for float64") from None
    elif kind.name == "uuid":
        try:
            raw = base64.urlsafe_b64decode(default + "=" * (-len(default) % 4))
            uuid.UUID(bytes=raw)
        except ValueError:
            raise SpecError(file, path, f"invalid default {default!r} for uuid") from None
    elif kind.name in {"bytes", "struct", "array", "records"}:
        raise SpecError(file, path, f"the only defaults for {kind} are empty and null")


# --------------------------------------------------------------------------------------------
# Merging the pinned sets


class ModelError(Exception):
    """The pinned spec sets disagree on a version both define."""


def _diff(a: RStruct, b: RStruct, path: str = "") -> str:
    """A human-readable first difference between two resolved structs."""
    here = f"{path}{a.name}"
    if a.flexible != b.flexible:
        return f"{here}: flexible {a.flexible} vs {b.flexible}"
    for attr in ("fields", "tagged"):
        fa, fb = getattr(a, attr), getattr(b, attr)
        na, nb = [f.spec_name for f in fa], [f.spec_name for f in fb]
        if na != nb:
            return f"{here}: {attr} {na} vs {nb}"
        for x, y in zip(fa, fb, strict=True):
            if x != y:
                return f"{here}.{x.spec_name}: {x} vs {y}"
    sa, sb = dict(a.structs), dict(b.structs)
    for name in sorted(set(sa) | set(sb)):
        if name not in sa or name not in sb:
            return f"{here}: struct {name} only in one set"
        if sa[name] != sb[name]:
            return _diff(sa[name], sb[name], here + ".")
    return f"{here}: differs"


def _wire(s: RStruct) -> tuple[Any, ...]:
    """What a struct means on the wire: everything but field and struct names."""

    def f(x: RField) -> tuple[Any, ...]:
        kind = x.kind.elem if x.kind.name == "array" else x.kind
        return (x.kind.name, kind.name if kind else None, x.nullable, x.tag, x.compact, x.default)

    nested = tuple(_wire(sub) for _, sub in s.structs)
    return (s.flexible, tuple(map(f, s.fields)), tuple(map(f, s.tagged)), nested)


def _collect_renames(new: RStruct, old: RStruct, renames: dict[tuple[str, str], tuple[str, str]]) -> None:
    """Record ``(old struct, old field) → (new struct, new field)`` for wire-identical structs."""
    for a, b in zip(new.fields + new.tagged, old.fields + old.tagged, strict=True):
        if (a.spec_name, str(a.kind)) != (b.spec_name, str(b.kind)):
            renames[(old.name, b.spec_name)] = (new.name, a.spec_name)
    if new.name != old.name:
        renames[(old.name, "")] = (new.name, "")
    for (_, sa), (_, sb) in zip(new.structs, old.structs, strict=True):
        _collect_renames(sa, sb, renames)


def _rename(s: RStruct, renames: dict[tuple[str, str], tuple[str, str]]) -> RStruct:
    """Apply renames found on shared versions to a version only the older set defines."""

    def kind(k: Kind) -> Kind:
        if k.name == "array":
            return Kind("array", elem=kind(k.elem))  # type: ignore[arg-type]
        if k.name == "struct":
            return Kind("struct", struct=renames.get((k.struct, ""), (k.struct, ""))[0])  # type: ignore[arg-type]
        return k

    def fld(x: RField) -> RField:
        _, new_name = renames.get((s.name, x.spec_name), ("", x.spec_name))
        return RField(snake(new_name), new_name, kind(x.kind), x.nullable, x.tag, x.compact, x.default, x.zero_copy)

    name = renames.get((s.name, ""), (s.name, ""))[0]
    nested = tuple(sorted((renames.get((n, ""), (n, ""))[0], _rename(sub, renames)) for n, sub in s.structs))
    return RStruct(name, s.flexible, tuple(map(fld, s.fields)), tuple(map(fld, s.tagged)), nested)


def _unstable(specs: dict[str, dict[str, Any]], spec: dict[str, Any], version: int) -> bool:
    """Whether ``version`` is the unstable latest version of the API in that set.

    ``latestVersionUnstable`` is declared on the request spec and covers its response too.
    An unstable version may change between releases (Kafka gives it no compatibility
    promise), so a set where it is unstable does not have to agree with a newer one.
    """
    name = spec["name"]
    if spec["type"] == "response":
        spec = specs.get(name.removesuffix("Response") + "Request", spec)
    return bool(spec.get("latestVersionUnstable")) and version == Versions.parse(spec["validVersions"]).hi


def build_model(spec_sets: dict[str, dict[str, dict[str, Any]]]) -> dict[str, MessageVersions]:
    """Merge ``{release: {message name: spec}}`` (newest release first) into one model.

    A version defined by several sets must resolve identically in each, except where an
    older set marks it unstable (``latestVersionUnstable``): then the newest definition wins
    and the older one is recorded in ``superseded``.
    """
    releases = list(spec_sets)
    names: list[str] = []
    for rel in releases:
        for name in spec_sets[rel]:
            if name not in names:
                names.append(name)
    model: dict[str, MessageVersions] = {}
    for name in sorted(names):
        present = {rel: spec_sets[rel][name] for rel in releases if name in spec_sets[rel]}
        first = next(iter(present.values()))
        for rel, spec in present.items():
            if spec["type"] != first["type"] or spec.get("apiKey") != first.get("apiKey"):
                raise ModelError(f"{name}: type/apiKey differ between {releases[0]} and {rel}")
        mv = MessageVersions(name, first["type"], first.get("apiKey"), present)
        for rel, spec in present.items():
            valid = Versions.parse(spec["validVersions"])
            if valid.empty:
                continue
            resolver = _Resolver(spec, f"{rel}/{name}.json")
            renames: dict[tuple[str, str], tuple[str, str]] = {}
            only_here: list[int] = []
            for v in range(valid.lo, valid.hi + 1):
                resolved = resolver.resolve(v)
                if v not in mv.versions:
                    only_here.append(v)
                    mv.versions[v] = resolved
                    mv.source_of[v] = [rel]
                    continue
                if mv.versions[v] != resolved:
                    if _wire(mv.versions[v]) == _wire(resolved):
                        _collect_renames(mv.versions[v], resolved, renames)
                    elif _unstable(spec_sets[rel], spec, v):
                        mv.superseded.setdefault(v, []).append(rel)
                    else:
                        raise ModelError(
                            f"{name} v{v} differs between kafka-clients {mv.source_of[v][0]} and {rel}: "
                            + _diff(mv.versions[v], resolved)
                        )
                mv.source_of[v].append(rel)
            if renames:
                mv.renamed[rel] = {f"{r[0]}.{r[1]}".rstrip("."): (k[1] or k[0]) for k, r in renames.items()}
                for v in only_here:
                    mv.versions[v] = _rename(mv.versions[v], renames)
        mv.versions = dict(sorted(mv.versions.items()))
        model[name] = mv
    return model
