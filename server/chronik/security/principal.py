"""Principals: ``ssl.principal.mapping.rules`` (Kafka's ``SslPrincipalMapper``, KIP-371).

A TLS client's principal is ``User:`` + its certificate's subject distinguished name in RFC 2253
form (Java's ``X500Principal.getName()``: most specific RDN first, ``CN=client,OU=eng,O=org``),
mapped by the rules. Rules are ``DEFAULT`` (the DN unchanged) or
``RULE:pattern/replacement/[LU]``: the first rule whose (Java) regular expression matches the
whole DN gives the name (``$1`` back-references, ``L``/``U`` lower/upper-cases the result). A DN
no rule matches fails the authentication (``NoMatchingRule``); an unparsable rule list is a
configuration error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["ANONYMOUS", "NoMatchingRule", "SslPrincipalMapper", "certificate_dn", "user_principal"]

ANONYMOUS: Final = "User:ANONYMOUS"

# Kafka: "(DEFAULT)|RULE:((\\.|[^\\/])*)/((\\.|[^\\/])*)/([LU]?).*?|(.*?)", split on commas.
_RULE = r"(DEFAULT)|RULE:((?:\\.|[^\\/])*)/((?:\\.|[^\\/])*)/([LU]?).*?|(.*?)"
_SPLITTER = re.compile(r"\s*(" + _RULE + r")\s*(,\s*|$)")
_PARSER = re.compile(_RULE)
_BACKREF = re.compile(r"\\(.)|\$(\d+)")


class NoMatchingRule(Exception):
    """No rule of ``ssl.principal.mapping.rules`` maps this distinguished name."""


def user_principal(name: str) -> str:
    """Kafka's ``KafkaPrincipal(USER_TYPE, name).toString()``."""
    return f"User:{name}"


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern[str] | None  # None: DEFAULT
    replacement: str = ""
    lower: bool = False
    upper: bool = False

    def apply(self, dn: str) -> str | None:
        if self.pattern is None:
            return dn
        if self.pattern.fullmatch(dn) is None:
            return None
        groups = self.pattern.groups
        result = self.pattern.sub(lambda m: _java_replacement(self.replacement, m, groups), dn)
        if self.lower:
            return result.lower()
        if self.upper:
            return result.upper()
        return result


def _java_replacement(replacement: str, m: re.Match[str], groups: int) -> str:
    """Java's ``Matcher.appendReplacement``: ``$n`` is group n, ``\\x`` is a literal x.

    Kafka escapes ``$n`` past the group count (``escapeLiteralBackReferences``): kept literally.
    """
    out: list[str] = []
    pos = 0
    for part in _BACKREF.finditer(replacement):
        out.append(replacement[pos : part.start()])
        if part.group(1) is not None:
            out.append(part.group(1))
        else:
            n = int(part.group(2))
            out.append((m.group(n) or "") if n <= groups else part.group(0))
        pos = part.end()
    out.append(replacement[pos:])
    return "".join(out)


class SslPrincipalMapper:
    """The parsed ``ssl.principal.mapping.rules`` value."""

    def __init__(self, rules: str | None = "DEFAULT") -> None:
        self.rules_text = "DEFAULT" if rules is None else rules
        self.rules = [self._parse(r) for r in self._split(self.rules_text)]
        self.rules = [r for r in self.rules if r is not None]

    @staticmethod
    def _split(text: str) -> list[str]:
        text = text.strip()
        out: list[str] = []
        for m in _SPLITTER.finditer(text):
            if m.start() == len(text):
                break
            out.append(m.group(1))
        return out

    @staticmethod
    def _parse(rule: str) -> _Rule | None:
        m = _PARSER.match(rule)
        if m is None:
            raise ValueError(f"Invalid rule: {rule}")
        if m.end() != len(rule):
            raise ValueError(f"Invalid rule: `{rule}`, unmatched substring: `{rule[m.end() :]}`")
        if m.group(1) is not None:
            return _Rule(None)
        if m.group(2) is not None:
            try:
                pattern = re.compile(m.group(2))
            except re.error as e:
                raise ValueError(f"Invalid rule: {rule}: {e}") from e
            flag = m.group(4)
            return _Rule(pattern, m.group(3), flag == "L", flag == "U")
        if m.group(5):
            raise ValueError(f"Invalid rule: {rule}")
        return None  # an empty rule is ignored

    def name(self, dn: str) -> str:
        """The short name of ``dn``; :class:`NoMatchingRule` if no rule applies."""
        for rule in self.rules:
            result = rule.apply(dn)
            if result is not None:
                return result
        raise NoMatchingRule(f"No rules apply to {dn}, rules {self.rules_text}")


# RFC 2253 keywords Java's X500Principal.getName() prints; other attributes print as OIDs.
_RFC2253_KEYWORDS: Final = {
    "2.5.4.3": "CN",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.9": "STREET",
    "0.9.2342.19200300.100.1.25": "DC",
    "0.9.2342.19200300.100.1.1": "UID",
}


def certificate_dn(cert: Any) -> str:
    """The subject DN of a ``cryptography`` certificate as Java's ``X500Principal.getName()`` prints it."""
    from cryptography.x509.oid import ObjectIdentifier

    overrides: dict[ObjectIdentifier, str] = {ObjectIdentifier(k): v for k, v in _RFC2253_KEYWORDS.items()}
    # cryptography prints other known attributes by name (e.g. emailAddress); Java prints their OID.
    from cryptography.x509.oid import NameOID

    for oid in vars(NameOID).values():
        if isinstance(oid, ObjectIdentifier) and oid.dotted_string not in _RFC2253_KEYWORDS:
            overrides[oid] = oid.dotted_string
    return str(cert.subject.rfc4514_string(overrides))
