"""Split a rule's series into chunks a training task each fetches with a query of its own.

A rule's `shard_by` labels are carried by every selector of its query and kept by every
result series, so adding `label=~"v1|v2|…"` to each selector returns exactly the series of
those label values (Prometheus evaluates only them). The values come from one cheap query,
`count by (<labels>) (<query>)` over the last steps of the training window.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import promql_parser

from sidecar.errors import SidecarError

__all__ = ["Chunk", "SplitError", "chunk_values", "listing_query", "restrict_query"]

Values = tuple[str, ...]
"""One series' values of the rule's `shard_by` labels, in their order."""


class SplitError(SidecarError):
    """A query that cannot be restricted to a chunk (the rule trains as one chunk)."""


@dataclass(frozen=True, slots=True)
class Chunk:
    """Some series of one rule: their `shard_by` values (empty: all of the rule's series)."""

    rule: str
    index: int
    labels: tuple[str, ...] = ()
    values: tuple[Values, ...] = ()

    def member_filter(self) -> Callable[[Mapping[str, str]], bool]:
        """Whether a returned series belongs to this chunk (with several labels the
        matchers over-select: every combination of the values matches)."""
        if not self.labels:
            return lambda labels: True
        members = frozenset(self.values)
        names = self.labels
        return lambda labels: tuple(labels.get(n, "") for n in names) in members

    def restrict(self, promql: str) -> str:
        """`promql` as this chunk's query."""
        if not self.labels:
            return promql
        per_label = {
            name: sorted({v[i] for v in self.values}) for i, name in enumerate(self.labels)
        }
        return restrict_query(promql, per_label)


def listing_query(promql: str, labels: Sequence[str]) -> str:
    """The query whose result names the `labels` values the rule's series have."""
    return f"count by ({', '.join(labels)}) ({promql})"


def chunk_values(
    rule: str, labels: tuple[str, ...], found: Sequence[Values], size: int
) -> list[Chunk]:
    """The distinct values in sorted order, `size` series' worth to a chunk."""
    if size < 1:
        raise ValueError(f"size={size}: a chunk holds at least one series")
    distinct = sorted(set(found))
    return [
        Chunk(rule, i, labels, tuple(distinct[start : start + size]))
        for i, start in enumerate(range(0, len(distinct), size))
    ]


def restrict_query(promql: str, values: Mapping[str, Sequence[str]]) -> str:
    """`promql` with `name=~"v1|v2"` (values matched literally) added to every selector."""
    expr = promql_parser.parse(promql)
    selectors: list[promql_parser.VectorSelector] = []

    def seen(node: promql_parser.Expr) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            selectors.append(node)

    promql_parser.walk(expr, post_visit=seen)
    if not selectors:
        raise SplitError(f"{promql!r} selects no series to restrict")
    for sel in selectors:
        if sel.matchers.or_matchers:
            raise SplitError(f"{promql!r}: selectors with `or` matchers cannot be restricted")
        for m in sel.matchers.matchers:
            if "\\" in m.value or '"' in m.value:  # the parser prints values unescaped
                raise SplitError(f"{promql!r}: a matcher value with a quote or backslash")
    added = [
        promql_parser.Matcher(promql_parser.MatchOp.Re, name, "|".join(_literal(v) for v in vals))
        for name, vals in values.items()
    ]

    def narrowed(node: promql_parser.Expr) -> promql_parser.Expr | None:
        if not isinstance(node, promql_parser.VectorSelector):
            return None
        node.matchers = promql_parser.Matchers(list(node.matchers.matchers) + added)
        return promql_parser.parse(str(node))

    out = str(promql_parser.transform(expr, post_visit=narrowed))
    promql_parser.parse(out)  # what is sent must parse
    return out


_IN_CLASS = frozenset(".+*?()|{}$")
"""Regex metacharacters matched literally as a one-character class (`[.]`): no backslash,
which the PromQL printer of `promql-parser` would not escape."""
_UNSAFE = frozenset('\\^[]"')


def _literal(value: str) -> str:
    """A regular expression (RE2) matching exactly `value`, without backslashes."""
    if _UNSAFE & set(value):
        raise SplitError(f'label value {value!r} has a character chunks cannot match (\\ ^ [ ] ")')
    return "".join(f"[{c}]" if c in _IN_CLASS else c for c in value)
