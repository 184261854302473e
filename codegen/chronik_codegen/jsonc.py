"""Read Kafka's spec files: JSON with ``//`` and ``/* */`` comments.

The stripper walks the text as tokens so a ``//`` inside a string (``"about": "see http://..."``)
is kept; a regex would cut it.
"""

from __future__ import annotations

import json
from typing import Any


def strip_comments(text: str) -> str:
    """Remove comments outside strings, keeping line structure for error positions."""
    out: list[str] = []
    i, n = 0, len(text)
    start = 0
    while i < n:
        c = text[i]
        if c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
        elif c == "/" and text.startswith("//", i):
            out.append(text[start:i])
            j = text.find("\n", i)
            i = n if j < 0 else j
            start = i
        elif c == "/" and text.startswith("/*", i):
            out.append(text[start:i])
            j = text.find("*/", i + 2)
            if j < 0:
                raise ValueError("unterminated /* comment")
            out.append("\n" * text.count("\n", i, j))
            i = j + 2
            start = i
        else:
            i += 1
    out.append(text[start:])
    return "".join(out)


def loads(text: str) -> Any:
    return json.loads(strip_comments(text))
