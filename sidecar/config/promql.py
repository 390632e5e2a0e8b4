"""Offline sanity check of PromQL text: brackets, quotes and comments balance.

A full parse needs Prometheus itself (`sidecar check --online`); this catches the
typos that are most common in hand-written YAML before anything is sent.
"""

from __future__ import annotations

__all__ = ["check_promql"]

_CLOSE = {")": "(", "]": "[", "}": "{"}


def check_promql(query: str) -> str | None:
    """A message for the first bracket or quote problem in `query`, or None if it balances."""
    if not query.strip():
        return "query is empty"
    stack: list[tuple[str, int]] = []
    i, n = 0, len(query)
    while i < n:
        c = query[i]
        if c in "\"'`":
            start = i
            i += 1
            while i < n and query[i] != c:
                if c != "`" and query[i] == "\\":
                    i += 1
                i += 1
            if i >= n:
                return f"unterminated string {c} opened at offset {start}"
        elif c == "#":
            while i < n and query[i] != "\n":
                i += 1
        elif c in "([{":
            stack.append((c, i))
        elif c in _CLOSE:
            if not stack:
                return f"unexpected '{c}' at offset {i}"
            opener, at = stack.pop()
            if opener != _CLOSE[c]:
                return f"'{c}' at offset {i} does not close '{opener}' opened at offset {at}"
        i += 1
    if stack:
        opener, at = stack[-1]
        return f"'{opener}' opened at offset {at} is never closed"
    return None
