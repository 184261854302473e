"""Straight-line encode/decode functions for one struct at one version.

Decoders read a ``memoryview`` with an explicit position: runs of fixed-width fields are one
``struct.unpack_from``; strings, bytes and counts go through the small readers in
``chronik.protocol.wire``; ``records`` stay zero-copy slices. Encoders append to a
``bytearray`` with the same runs packed at once. The output is Python source text that the
module template places verbatim.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import RField, RStruct

# Fixed-width wire types: struct code and size.
FIXED = {
    "bool": ("?", 1),
    "int8": ("b", 1),
    "int16": ("h", 2),
    "uint16": ("H", 2),
    "int32": ("i", 4),
    "uint32": ("I", 4),
    "int64": ("q", 8),
    "float64": ("d", 8),
    "uuid": ("16s", 16),
}


@dataclass
class Formats:
    """``struct.Struct`` formats a module needs, shared by all its functions."""

    names: dict[str, str]

    def get(self, codes: str) -> str:
        if codes not in self.names:
            self.names[codes] = f"_F{len(self.names)}"
        return self.names[codes]


def min_size(s: RStruct) -> int:
    """The fewest bytes one encoded element of ``s`` takes (used to bound array counts)."""
    size = 1 if s.flexible else 0  # the tagged-field count
    for f in s.fields:
        k = f.kind
        if k.name in FIXED:
            size += FIXED[k.name][1]
        elif k.name in {"string"}:
            size += 1 if f.compact else 2
        elif k.name in {"bytes", "records", "array"}:
            size += 1 if f.compact else 4
        elif k.name == "struct":
            size += 1 if f.nullable else min_size(dict(s.structs)[k.struct]) if k.struct in dict(s.structs) else 0
    return size


def fn_name(prefix: str, struct: str, key: str) -> str:
    return f"_{prefix}_{struct}_{key}"


class DecoderEmitter:
    """Emit ``def _d_<Struct>_<key>(b, p)`` for one resolved struct."""

    def __init__(
        self,
        formats: Formats,
        fn_of: dict[tuple[str, RStruct], str],
        class_fields: dict[str, list[str]],
        class_defaults: dict[str, dict[str, str]],
        all_tags: dict[str, set[int]],
    ) -> None:
        self.formats = formats
        self.all_tags = all_tags
        self.fn_of = fn_of  # (struct name, resolved) → decoder function name
        self.class_fields = class_fields
        self.class_defaults = class_defaults
        self.lines: list[str] = []
        self.tmp = 0

    def _t(self) -> str:
        self.tmp += 1
        return f"_t{self.tmp}"

    def emit(self, s: RStruct, name: str) -> list[str]:
        self.lines = [f"def {name}(b: memoryview, p: int) -> tuple[{s.name}, int]:"]
        values: dict[str, str] = {}
        run: list[RField] = []
        for f in s.fields:
            if f.kind.name in FIXED:
                run.append(f)
                continue
            self._flush_run(run, values)
            run = []
            var = "v_" + f.py_name
            self._read(f, var, s, "    ")
            values[f.py_name] = var
        self._flush_run(run, values)
        unknown = "None"
        if s.flexible:
            unknown = "u"
            self._read_tags(s, values)
        args = []
        for py in self.class_fields[s.name]:
            args.append(values.get(py) or self.class_defaults[s.name][py])
        args.append(unknown)
        self.lines.append(f"    return {s.name}({', '.join(args)}), p")
        return self.lines

    def _flush_run(self, run: list[RField], values: dict[str, str]) -> None:
        if not run:
            return
        codes = "".join(FIXED[f.kind.name][0] for f in run)
        size = sum(FIXED[f.kind.name][1] for f in run)
        fmt = self.formats.get(codes)
        names = ["v_" + f.py_name for f in run]
        target = names[0] + "," if len(names) == 1 else ", ".join(names)
        self.lines.append(f"    {target} = {fmt}.unpack_from(b, p)")
        self.lines.append(f"    p += {size}")
        for f in run:
            if f.kind.name == "uuid":
                self.lines.append(f"    v_{f.py_name} = _UUID(bytes=v_{f.py_name})")
            values[f.py_name] = "v_" + f.py_name

    def _read(self, f: RField, var: str, s: RStruct, ind: str) -> None:
        """Lines reading field ``f`` at ``p`` into ``var`` (any kind)."""
        k = f.kind
        L = self.lines
        if k.name in FIXED:
            code, size = FIXED[k.name]
            L.append(f"{ind}{var}, = {self.formats.get(code)}.unpack_from(b, p)")
            L.append(f"{ind}p += {size}")
            if k.name == "uuid":
                L.append(f"{ind}{var} = _UUID(bytes={var})")
        elif k.name == "string":
            fn = ("_rncstr" if f.nullable else "_rcstr") if f.compact else ("_rnstr" if f.nullable else "_rstr")
            L.append(f"{ind}{var}, p = {fn}(b, p)")
        elif k.name == "bytes":
            fn = ("_rncbytes" if f.nullable else "_rcbytes") if f.compact else ("_rnbytes" if f.nullable else "_rbytes")
            L.append(f"{ind}{var}, p = {fn}(b, p)")
        elif k.name == "records":
            fn = "_rcrecords" if f.compact else "_rrecords"
            L.append(f"{ind}{var}, p = {fn}(b, p)")
            if not f.nullable:
                L.append(f"{ind}if {var} is None:")
                L.append(f"{ind}    raise _Malformed('null for non-nullable records')")
        elif k.name == "struct":
            sub = dict(s.structs)[k.struct]
            fn = self.fn_of[(k.struct, sub)]
            if f.nullable:
                L.append(f"{ind}if b[p] == 255:")
                L.append(f"{ind}    {var} = None")
                L.append(f"{ind}    p += 1")
                L.append(f"{ind}else:")
                L.append(f"{ind}    {var}, p = {fn}(b, p + 1)")
            else:
                L.append(f"{ind}{var}, p = {fn}(b, p)")
        elif k.name == "array":
            self._read_array(f, var, s, ind)
        else:
            raise AssertionError(k)

    def _read_array(self, f: RField, var: str, s: RStruct, ind: str) -> None:
        L = self.lines
        elem = f.kind.elem
        assert elem is not None
        n = self._t()
        if elem.name == "struct":
            sub = dict(s.structs)[elem.struct]
            esize = max(1, min_size(sub))
        elif elem.name in FIXED:
            esize = FIXED[elem.name][1]
        else:
            esize = 1 if f.compact else (2 if elem.name == "string" else 4)
        counter = "_rccount" if f.compact else "_rcount"
        L.append(f"{ind}{n}, p = {counter}(b, p, {esize})")
        L.append(f"{ind}if {n} < 0:")
        if f.nullable:
            L.append(f"{ind}    {var} = None")
        else:
            L.append(f"{ind}    raise _Malformed('null for a non-nullable array')")
        L.append(f"{ind}else:")
        ind2 = ind + "    "
        if elem.name in FIXED and elem.name != "uuid":
            code, size = FIXED[elem.name]
            L.append(f"{ind2}{var}, p = _rfixed(b, p, {n}, {code!r}, {size})")
            return
        L.append(f"{ind2}{var} = []")
        L.append(f"{ind2}_append = {var}.append")
        L.append(f"{ind2}for _ in range({n}):")
        x = self._t()
        sub_field = RField("x", "x", elem, False, None, f.compact, "")
        self._read(sub_field, x, s, ind2 + "    ")
        L.append(f"{ind2}    _append({x})")

    def _read_tags(self, s: RStruct, values: dict[str, str]) -> None:
        L = self.lines
        L.append("    u = None")
        for f in s.tagged:
            var = "v_" + f.py_name
            L.append(f"    {var} = {self.class_defaults[s.name][f.py_name]}")
            values[f.py_name] = var
        L.append("    n = b[p]")
        L.append("    if n < 0x80:")
        L.append("        p += 1")
        L.append("    else:")
        L.append("        n, p = _ruv(b, p)")
        L.append("    for _ in range(n):")
        L.append("        tag, p, end = _rtag(b, p)")
        first = True
        for f in s.tagged:
            L.append(f"        {'if' if first else 'elif'} tag == {f.tag}:")
            first = False
            self._read(f, "v_" + f.py_name, s, "            ")
            L.append("            if p != end:")
            L.append(f"                raise _Malformed('tagged field {f.tag} ({f.spec_name}) has the wrong size')")
        reserved = sorted(self.all_tags.get(s.name, set()) - {f.tag for f in s.tagged})
        if reserved:
            # Kafka's generated readers reject a tag the struct defines for other versions only.
            cond = f"tag == {reserved[0]}" if len(reserved) == 1 else f"tag in {tuple(reserved)}"
            L.append(f"        {'if' if first else 'elif'} {cond}:")
            L.append("            raise _Malformed(f'tag {tag} is not valid for this version')")
            first = False
        if first:
            L.append("        if u is None:")
        else:
            L.append("        elif u is None:")
        L.append("            u = [(tag, bytes(b[p:end]))]")
        L.append("            p = end")
        L.append("        else:")
        L.append("            u.append((tag, bytes(b[p:end])))")
        L.append("            p = end")


class EncoderEmitter:
    """Emit ``def _e_<Struct>_<key>(m, w)`` for one resolved struct."""

    def __init__(
        self,
        formats: Formats,
        fn_of: dict[tuple[str, RStruct], str],
        class_defaults: dict[str, dict[str, str]],
    ) -> None:
        self.formats = formats
        self.fn_of = fn_of
        self.class_defaults = class_defaults
        self.lines: list[str] = []
        self.tmp = 0

    def _t(self) -> str:
        self.tmp += 1
        return f"_t{self.tmp}"

    def emit(self, s: RStruct, name: str) -> list[str]:
        self.lines = [f"def {name}(m: {s.name}, w: bytearray) -> None:"]
        run: list[RField] = []
        for f in s.fields:
            if f.kind.name in FIXED:
                run.append(f)
                continue
            self._flush_run(run)
            run = []
            self._write(f, f"m.{f.py_name}", s, "    ", "w")
        self._flush_run(run)
        if s.flexible:
            self._write_tags(s)
        if len(self.lines) == 1:
            self.lines.append("    pass  # no fields at this version")
        return self.lines

    def _flush_run(self, run: list[RField]) -> None:
        if not run:
            return
        codes = "".join(FIXED[f.kind.name][0] for f in run)
        fmt = self.formats.get(codes)
        args = ", ".join(f"m.{f.py_name}.bytes" if f.kind.name == "uuid" else f"m.{f.py_name}" for f in run)
        self.lines.append(f"    w += {fmt}.pack({args})")

    def _write(self, f: RField, expr: str, s: RStruct, ind: str, w: str) -> None:
        k = f.kind
        L = self.lines
        if k.name in FIXED:
            code, _ = FIXED[k.name]
            val = f"{expr}.bytes" if k.name == "uuid" else expr
            L.append(f"{ind}{w} += {self.formats.get(code)}.pack({val})")
        elif k.name == "string":
            fn = ("_wncstr" if f.nullable else "_wcstr") if f.compact else ("_wnstr" if f.nullable else "_wstr")
            L.append(f"{ind}{fn}({w}, {expr})")
        elif k.name in {"bytes", "records"}:
            fn = ("_wncbytes" if f.nullable else "_wcbytes") if f.compact else ("_wnbytes" if f.nullable else "_wbytes")
            L.append(f"{ind}{fn}({w}, {expr})")
        elif k.name == "struct":
            sub = dict(s.structs)[k.struct]
            fn = self.fn_of[(k.struct, sub)]
            if f.nullable:
                x = self._t()
                L.append(f"{ind}{x} = {expr}")
                L.append(f"{ind}if {x} is None:")
                L.append(f"{ind}    {w}.append(255)")
                L.append(f"{ind}else:")
                L.append(f"{ind}    {w}.append(1)")
                L.append(f"{ind}    {fn}({x}, {w})")
            else:
                L.append(f"{ind}{fn}({expr}, {w})")
        elif k.name == "array":
            self._write_array(f, expr, s, ind, w)
        else:
            raise AssertionError(k)

    def _write_array(self, f: RField, expr: str, s: RStruct, ind: str, w: str) -> None:
        L = self.lines
        elem = f.kind.elem
        assert elem is not None
        xs = self._t()
        L.append(f"{ind}{xs} = {expr}")
        counter = "_wccount" if f.compact else "_wcount"
        if not f.nullable:
            L.append(f"{ind}if {xs} is None:")
            L.append(f"{ind}    raise ValueError('null for a non-nullable array {f.spec_name}')")
        L.append(f"{ind}{counter}({w}, {xs})")
        body = ind
        if f.nullable:
            L.append(f"{ind}if {xs} is not None:")
            body = ind + "    "
        if elem.name in FIXED and elem.name != "uuid":
            L.append(f"{body}{w} += _pfixed({xs}, {FIXED[elem.name][0]!r})")
            return
        x = self._t()
        L.append(f"{body}for {x} in {xs}:")
        sub_field = RField("x", "x", elem, False, None, f.compact, "")
        self._write(sub_field, x, s, body + "    ", w)

    def _write_tags(self, s: RStruct) -> None:
        L = self.lines
        if not s.tagged:
            L.append("    u = m.unknown_tagged_fields")
            L.append("    if u:")
            L.append("        _wtagged(w, [], u)")
            L.append("    else:")
            L.append("        w.append(0)")
            return
        L.append("    k = []")
        for f in s.tagged:
            default = self.class_defaults[s.name][f.py_name]
            cmp_default = default
            if default == "None":
                cond = f"m.{f.py_name} is not None"
            elif f.kind.name == "array":
                cond = f"m.{f.py_name} is None or len(m.{f.py_name}) != 0"
            elif f.kind.name == "struct":
                cond = f"m.{f.py_name} != _DEF_{f.kind.struct}"
            else:
                cond = f"m.{f.py_name} != {cmp_default}"
            L.append(f"    if {cond}:")
            L.append("        t = bytearray()")
            self._write(f, f"m.{f.py_name}", s, "        ", "t")
            L.append(f"        k.append(({f.tag}, t))")
        L.append("    u = m.unknown_tagged_fields")
        L.append("    if k or u:")
        L.append("        _wtagged(w, k, u)")
        L.append("    else:")
        L.append("        w.append(0)")
