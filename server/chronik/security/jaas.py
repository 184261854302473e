"""Parse ``sasl.jaas.config`` values (Kafka's ``JaasConfig``, a ``StreamTokenizer`` grammar).

``<LoginModuleClass> <required|requisite|sufficient|optional> [key=value ...];`` repeated; values
are words or double-quoted strings (``\\"`` and ``\\\\`` escapes). Example:
``org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";``
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["JaasError", "LoginModule", "parse_jaas_config"]

_TOKEN = re.compile(r'\s*(?:"((?:\\.|[^"\\])*)"|([=;])|([^\s=;"]+))')
_FLAGS = ("required", "requisite", "sufficient", "optional")


class JaasError(ValueError):
    """The JAAS config does not parse."""


@dataclass(frozen=True)
class LoginModule:
    """One login module entry."""

    name: str
    flag: str
    options: dict[str, str] = field(default_factory=dict)


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise JaasError(f"Unexpected character at position {pos} of the JAAS config")
        if m.group(1) is not None:
            out.append(("str", re.sub(r"\\(.)", r"\1", m.group(1))))
        elif m.group(2) is not None:
            out.append(("op", m.group(2)))
        elif m.group(3) is not None:
            out.append(("word", m.group(3)))
        pos = m.end()
    return out


def parse_jaas_config(text: str) -> list[LoginModule]:
    """The login modules of a ``sasl.jaas.config`` value; :class:`JaasError` if malformed."""
    tokens = _tokens(text)
    modules: list[LoginModule] = []
    i = 0
    while i < len(tokens):
        kind, name = tokens[i]
        if kind != "word":
            raise JaasError(f"Invalid JAAS config: expected a login module name, found {name!r}")
        if i + 1 >= len(tokens) or tokens[i + 1][1].lower() not in _FLAGS:
            raise JaasError(f"Invalid JAAS config: login module control flag not specified for {name}")
        flag = tokens[i + 1][1].lower()
        i += 2
        options: dict[str, str] = {}
        while i < len(tokens) and tokens[i] != ("op", ";"):
            if i + 2 >= len(tokens) or tokens[i][0] == "op" or tokens[i + 1] != ("op", "="):
                raise JaasError(f"Invalid JAAS config: malformed option near {tokens[i][1]!r}")
            value = tokens[i + 2]
            if value[0] == "op":
                raise JaasError(f"Invalid JAAS config: option {tokens[i][1]} has no value")
            options[tokens[i][1]] = value[1]
            i += 3
        if i >= len(tokens):
            raise JaasError("Invalid JAAS config: login module entries must end with ';'")
        i += 1
        modules.append(LoginModule(name, flag, options))
    if not modules:
        raise JaasError("JAAS config entry not terminated by semi-colon" if tokens else "empty JAAS config")
    return modules
