"""Offline check of a rule's PromQL: Prometheus' grammar, and an instant vector as result.

Brackets and quotes are balanced first (with offsets, which the parser's messages lack),
then the `promql-parser` package (Prometheus' own grammar, in Rust) parses the query:
unknown functions, bad durations and grammar errors are caught before anything is sent.
A rule's query must give an instant vector (the scheduler range-queries it, one series
per label set): a range selector (`up[5m]`), a string or a scalar is an error.
"""

from __future__ import annotations

from typing import Any

import promql_parser

__all__ = ["check_promql", "result_type"]

_CLOSE = {")": "(", "]": "[", "}": "{"}


def check_promql(query: str) -> str | None:
    """A message for the first problem in `query`, or None if it is an instant vector query."""
    problem = _balance(query)
    if problem is not None:
        return problem
    try:
        expr = promql_parser.parse(query)
    except ValueError as exc:
        return str(exc)
    kind = result_type(expr)
    if kind != "vector":
        return (
            f"the query gives a {kind}; a rule needs an instant vector (one series per label set)"
        )
    return None


def result_type(expr: Any) -> str:
    """`vector`, `matrix`, `scalar` or `string`: what a parsed expression evaluates to."""
    if isinstance(expr, promql_parser.VectorSelector | promql_parser.AggregateExpr):
        return "vector"
    if isinstance(expr, promql_parser.MatrixSelector | promql_parser.SubqueryExpr):
        return "matrix"
    if isinstance(expr, promql_parser.NumberLiteral):
        return "scalar"
    if isinstance(expr, promql_parser.StringLiteral):
        return "string"
    if isinstance(expr, promql_parser.ParenExpr | promql_parser.UnaryExpr):
        return result_type(expr.expr)
    if isinstance(expr, promql_parser.BinaryExpr):
        sides = {result_type(expr.lhs), result_type(expr.rhs)}
        return "vector" if "vector" in sides else "scalar"
    if isinstance(expr, promql_parser.Call):
        return str(expr.func.return_type).rsplit(".", 1)[-1].lower()
    return "vector"


def _balance(query: str) -> str | None:
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
