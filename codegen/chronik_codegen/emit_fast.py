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


FA_NAMES = {"?": "bool"}  # identifier suffix of a fixed-array format table whose code is not one


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
        self.fixed_arrays: set[str] = set()  # struct codes of fixed-width arrays read

    def _t(self) -> str:
        self.tmp += 1
        return f"_t{self.tmp}"

    def emit(self, s: RStruct, name: str) -> list[str]:
        self.lines = [f"def {name}(b: memoryview, p: int) -> tuple[{s.name}, int]:"]
        values: dict[str, str] = {}
        # A run is a sequence of fixed-width reads done with one unpack: fixed fields, plus the
        # int16/int32 length prefix of a following non-compact string, bytes or array.
        run: list[tuple[str, int, str]] = []  # (struct code, size, target variable)
        for f in s.fields:
            var = "v_" + f.py_name
            values[f.py_name] = var
            if f.kind.name in FIXED:
                code, size = FIXED[f.kind.name]
                run.append((code, size, var))
            elif not f.compact and f.kind.name in {"string", "bytes", "records", "array"}:
                nv = "n_" + f.py_name
                run.append(("h", 2, nv) if f.kind.name == "string" else ("i", 4, nv))
                self._flush_run(run, s)
                run = []
                self._body(f, var, nv, s, "    ")
            else:
                self._flush_run(run, s)
                run = []
                self._read(f, var, s, "    ")
        self._flush_run(run, s)
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

    def _flush_run(self, run: list[tuple[str, int, str]], s: RStruct) -> None:
        if not run:
            return
        fmt = self.formats.get("".join(code for code, _, _ in run))
        names = [var for _, _, var in run]
        target = names[0] + "," if len(names) == 1 else ", ".join(names)
        self.lines.append(f"    {target} = {fmt}.unpack_from(b, p)")
        self.lines.append(f"    p += {sum(size for _, size, _ in run)}")
        for code, _, var in run:
            if code == "16s":
                self.lines.append(f"    {var} = _UUID(bytes={var})")

    def _compact_len(self, nv: str, ind: str) -> None:
        """Read a compact length (uvarint N+1) into ``nv`` as N (-1 for null)."""
        L = self.lines
        L.append(f"{ind}{nv} = b[p]")
        L.append(f"{ind}if {nv} < 0x80:")
        L.append(f"{ind}    p += 1")
        L.append(f"{ind}else:")
        L.append(f"{ind}    {nv}, p = _ruv(b, p)")
        L.append(f"{ind}{nv} -= 1")

    def _body(self, f: RField, var: str, nv: str, s: RStruct, ind: str) -> None:
        """Read the payload of a string/bytes/records/array whose length is in ``nv``."""
        L = self.lines
        k = f.kind.name
        what = {"string": "string", "bytes": "bytes", "records": "records", "array": "array"}[k]
        L.append(f"{ind}if {nv} < 0:")
        if f.nullable or k == "records":
            L.append(f"{ind}    if {nv} != -1:")
            L.append(f"{ind}        raise _Malformed(f'negative {what} length {{{nv}}}')")
            if f.nullable:
                L.append(f"{ind}    {var} = None")
            else:
                L.append(f"{ind}    raise _Malformed('null for non-nullable {what}')")
        else:
            L.append(f"{ind}    raise _Malformed('null or negative length for non-nullable {what}')")
        L.append(f"{ind}else:")
        i2 = ind + "    "
        if k == "array":
            self._array_body(f, var, nv, s, i2)
            return
        e = self._t()
        L.append(f"{i2}{e} = p + {nv}")
        L.append(f"{i2}if {e} > len(b):")
        L.append(f"{i2}    raise _Malformed(f'{what} length {{{nv}}} runs past the end of the buffer')")
        if k == "string":
            L.append(f"{i2}{var} = str(b[p:{e}], 'utf-8')")
        elif k == "bytes":
            L.append(f"{i2}{var} = bytes(b[p:{e}])")
        else:
            L.append(f"{i2}{var} = b[p:{e}]")
        L.append(f"{i2}p = {e}")

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
        elif k.name in {"string", "bytes", "records", "array"}:
            nv = self._t()
            if f.compact:
                self._compact_len(nv, ind)
            else:
                code, size = ("h", 2) if k.name == "string" else ("i", 4)
                L.append(f"{ind}{nv}, = {self.formats.get(code)}.unpack_from(b, p)")
                L.append(f"{ind}p += {size}")
            self._body(f, var, nv, s, ind)
        elif k.name == "struct":
            sub = dict(s.structs)[k.struct]
            fn = self.fn_of[(k.struct, sub)]
            if f.nullable:
                L.append(f"{ind}if b[p] >= 0x80:  # a negative int8 marker is null, as Kafka reads it")
                L.append(f"{ind}    {var} = None")
                L.append(f"{ind}    p += 1")
                L.append(f"{ind}else:")
                L.append(f"{ind}    {var}, p = {fn}(b, p + 1)")
            else:
                L.append(f"{ind}{var}, p = {fn}(b, p)")
        else:
            raise AssertionError(k)

    def _array_body(self, f: RField, var: str, n: str, s: RStruct, ind: str) -> None:
        L = self.lines
        elem = f.kind.elem
        assert elem is not None
        if elem.name == "struct":
            esize = max(1, min_size(dict(s.structs)[elem.struct]))
        elif elem.name in FIXED:
            esize = FIXED[elem.name][1]
        else:
            esize = 1 if f.compact else (2 if elem.name == "string" else 4)
        # As Kafka's readers do: refuse a count the remaining bytes cannot hold.
        L.append(f"{ind}if {n} * {esize} > len(b) - p:")
        L.append(f"{ind}    raise _Malformed(f'array of {{{n}}} elements cannot fit in the {{len(b) - p}} bytes left')")
        if elem.name in FIXED and elem.name != "uuid":
            code, size = FIXED[elem.name]
            L.append(f"{ind}if {n} < 64:")
            L.append(f"{ind}    {var} = list(_FA_{FA_NAMES.get(code, code)}[{n}].unpack_from(b, p))")
            L.append(f"{ind}else:")
            L.append(f"{ind}    {var} = list(_struct.unpack_from(f'>{{{n}}}{code}', b, p))")
            L.append(f"{ind}p += {n} * {size}")
            self.fixed_arrays.add(code)
            return
        L.append(f"{ind}{var} = []")
        L.append(f"{ind}_append = {var}.append")
        L.append(f"{ind}for _ in range({n}):")
        x = self._t()
        sub_field = RField("x", "x", elem, False, None, f.compact, "")
        self._read(sub_field, x, s, ind + "    ")
        L.append(f"{ind}    _append({x})")

    def _read_tags(self, s: RStruct, values: dict[str, str]) -> None:
        """The tagged-field section; the common empty section costs one index and one test."""
        L = self.lines
        L.append("    u = None")
        for f in s.tagged:
            var = "v_" + f.py_name
            L.append(f"    {var} = {self.class_defaults[s.name][f.py_name]}")
            values[f.py_name] = var
        L.append("    if b[p] == 0:")
        L.append("        p += 1")
        L.append("    else:")
        L.append("        n, p = _ruv(b, p)")
        L.append("        for _ in range(n):")
        L.append("            tag, p, end = _rtag(b, p)")
        ind = "            "
        first = True
        for f in s.tagged:
            L.append(f"{ind}{'if' if first else 'elif'} tag == {f.tag}:")
            first = False
            self._read(f, "v_" + f.py_name, s, ind + "    ")
            L.append(f"{ind}    if p != end:")
            L.append(f"{ind}        raise _Malformed('tagged field {f.tag} ({f.spec_name}) has the wrong size')")
        reserved = sorted(self.all_tags.get(s.name, set()) - {f.tag for f in s.tagged})
        if reserved:
            # Kafka's generated readers reject a tag the struct defines for other versions only.
            cond = f"tag == {reserved[0]}" if len(reserved) == 1 else f"tag in {tuple(reserved)}"
            L.append(f"{ind}{'if' if first else 'elif'} {cond}:")
            L.append(f"{ind}    raise _Malformed(f'tag {{tag}} is not valid for this version')")
            first = False
        L.append(f"{ind}if u is None:" if first else f"{ind}elif u is None:")
        L.append(f"{ind}    u = [(tag, bytes(b[p:end]))]")
        L.append(f"{ind}    p = end")
        L.append(f"{ind}else:")
        L.append(f"{ind}    u.append((tag, bytes(b[p:end])))")
        L.append(f"{ind}    p = end")


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
        # A run packs fixed fields, plus the length prefix of a following non-compact string,
        # bytes or array, in one struct.pack; the payload is appended after it.
        run: list[tuple[str, str]] = []  # (struct code, value expression)
        for f in s.fields:
            k = f.kind.name
            if k in FIXED:
                run.append((FIXED[k][0], f"m.{f.py_name}.bytes" if k == "uuid" else f"m.{f.py_name}"))
            elif not f.compact and k in {"string", "bytes", "records", "array"}:
                var = self._t()
                L = self.lines
                if k == "string":
                    if f.nullable:
                        L.append(f"    {var} = m.{f.py_name}")
                        L.append(f"    if {var} is not None:")
                        L.append(f"        {var} = {var}.encode()")
                    else:
                        L.append(f"    {var} = m.{f.py_name}.encode()")
                else:
                    L.append(f"    {var} = m.{f.py_name}")
                    if not f.nullable and k != "records":
                        L.append(f"    if {var} is None:")
                        L.append(f"        raise ValueError('null for non-nullable {f.spec_name}')")
                length = f"-1 if {var} is None else len({var})" if f.nullable or k == "records" else f"len({var})"
                run.append(("h" if k == "string" else "i", length))
                self._flush_run(run)
                run = []
                if k == "array":
                    body = "    "
                    if f.nullable:
                        L.append(f"    if {var} is not None:")
                        body = "        "
                    self._elements(f, var, s, body, "w")
                elif f.nullable or k == "records":
                    L.append(f"    if {var} is not None:")
                    L.append(f"        w += {var}")
                else:
                    L.append(f"    w += {var}")
            else:
                self._flush_run(run)
                run = []
                self._write(f, f"m.{f.py_name}", s, "    ", "w")
        self._flush_run(run)
        if s.flexible:
            self._write_tags(s)
        if len(self.lines) == 1:
            self.lines.append("    pass  # no fields at this version")
        return self.lines

    def _flush_run(self, run: list[tuple[str, str]]) -> None:
        if not run:
            return
        fmt = self.formats.get("".join(code for code, _ in run))
        args = ", ".join(expr if " if " not in expr else f"({expr})" for _, expr in run)
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
        elif k.name in {"bytes", "records"} and f.compact:
            x = self._t()
            L.append(f"{ind}{x} = {expr}")
            L.append(f"{ind}if {x} is None:")
            null = f"{w}.append(0)" if f.nullable else f"raise ValueError('null for non-nullable {f.spec_name}')"
            L.append(f"{ind}    {null}")
            L.append(f"{ind}else:")
            L.append(f"{ind}    {w} += _uv(len({x}) + 1)")
            L.append(f"{ind}    {w} += {x}")
        elif k.name in {"bytes", "records"}:
            fn = "_wnbytes" if f.nullable else "_wbytes"
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
        self._elements(f, xs, s, body, w)

    def _elements(self, f: RField, xs: str, s: RStruct, ind: str, w: str) -> None:
        """Append the elements of the array ``xs`` (its length is already written)."""
        L = self.lines
        elem = f.kind.elem
        assert elem is not None
        if elem.name in FIXED and elem.name != "uuid":
            L.append(f"{ind}{w} += _pfixed({xs}, {FIXED[elem.name][0]!r})")
            return
        x = self._t()
        L.append(f"{ind}for {x} in {xs}:")
        sub_field = RField("x", "x", elem, False, None, f.compact, "")
        self._write(sub_field, x, s, ind + "    ", w)

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
