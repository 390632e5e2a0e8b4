"""Text that JSON can carry but no encoder can write: lone UTF-16 surrogates.

JSON's `\\ud800` escape decodes to a Python string that UTF-8 (SQLite, HTTP responses)
refuses. Every request body and webhook is cleaned once, on the way in, so nothing
downstream meets one: each becomes U+FFFD, and the count is reported.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["replace_unencodable"]

_SURROGATE = re.compile("[\ud800-\udfff]")


def replace_unencodable(data: Any) -> tuple[Any, int]:
    """`data` (parsed JSON) with lone surrogates in its keys and strings replaced by U+FFFD,
    and how many were replaced."""
    if isinstance(data, str):
        return _SURROGATE.subn("\ufffd", data)
    if isinstance(data, dict):
        out, total = {}, 0
        for k, v in data.items():
            k2, n1 = replace_unencodable(k)
            v2, n2 = replace_unencodable(v)
            out[k2] = v2
            total += n1 + n2
        return out, total
    if isinstance(data, list):
        items = [replace_unencodable(v) for v in data]
        return [v for v, _ in items], sum(n for _, n in items)
    return data, 0
