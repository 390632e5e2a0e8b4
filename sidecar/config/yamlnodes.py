"""YAML to plain data, keeping where every key and value stood in the file.

PyYAML's composer keeps node marks; its constructor forgets them. `read_yaml` walks the
composed node tree itself, so every value can be traced back to `line:col`, and reports
duplicate keys, which PyYAML silently overwrites.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sidecar.errors import Location, RuleError

__all__ = ["NodeIndex", "YamlDocument", "format_path", "read_yaml"]

PathKey = tuple[str | int, ...]
_MERGE_TAG = "tag:yaml.org,2002:merge"


def format_path(path: PathKey) -> str:
    """`("detectors", 0, "detector")` → `detectors[0].detector`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass(frozen=True, slots=True)
class _Marks:
    key: Location | None  # where the key stands (None for list items and the root)
    value: Location  # where the value starts


@dataclass(slots=True)
class NodeIndex:
    """Locations of every key and value of one document, by data path."""

    file: str
    marks: dict[PathKey, _Marks] = field(default_factory=dict)

    def __contains__(self, path: PathKey) -> bool:
        return path in self.marks

    def value(self, path: PathKey) -> Location:
        """Where the value at `path` starts (the file start if unknown)."""
        m = self.marks.get(path)
        return m.value if m else Location(self.file, 1, 1)

    def key(self, path: PathKey) -> Location:
        """Where the key of `path` stands, or its value for list items."""
        m = self.marks.get(path)
        if m is None:
            return Location(self.file, 1, 1)
        return m.key or m.value


@dataclass(frozen=True, slots=True)
class YamlDocument:
    """One parsed file: its plain data, node locations and problems found while reading."""

    file: str
    data: Any
    index: NodeIndex
    errors: tuple[RuleError, ...]


def _loc(file: str, mark: yaml.Mark) -> Location:
    return Location(file, mark.line + 1, mark.column + 1)


class _Walker:
    def __init__(self, file: str) -> None:
        self.file = file
        self.index = NodeIndex(file)
        self.errors: list[RuleError] = []
        self._scalars = yaml.SafeLoader("")

    def walk(self, node: yaml.Node, path: PathKey, key_mark: Location | None) -> Any:
        self.index.marks[path] = _Marks(key_mark, _loc(self.file, node.start_mark))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.walk(item, (*path, i), None) for i, item in enumerate(node.value)]
        return self._scalars.construct_object(node, deep=True)

    def _pairs(self, node: yaml.MappingNode) -> list[tuple[yaml.Node, yaml.Node]]:
        """Own pairs first, then those merged in with `<<` (own keys win, as YAML says)."""
        own: list[tuple[yaml.Node, yaml.Node]] = []
        merged: list[tuple[yaml.Node, yaml.Node]] = []
        for k, v in node.value:
            if k.tag == _MERGE_TAG:
                sources = v.value if isinstance(v, yaml.SequenceNode) else [v]
                for src in sources:
                    if isinstance(src, yaml.MappingNode):
                        merged.extend(self._pairs(src))
            else:
                own.append((k, v))
        own_keys = {k.value for k, _ in own if isinstance(k, yaml.ScalarNode)}
        return own + [(k, v) for k, v in merged if k.value not in own_keys]

    def _mapping(self, node: yaml.MappingNode, path: PathKey) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        first_seen: dict[Any, Location] = {}
        for key_node, value_node in self._pairs(node):
            key_at = _loc(self.file, key_node.start_mark)
            if not isinstance(key_node, yaml.ScalarNode):
                self.errors.append(
                    RuleError(key_at, format_path(path), "keys must be plain scalars")
                )
                continue
            key = self._scalars.construct_object(key_node)
            if key in first_seen:
                where = first_seen[key]
                self.errors.append(
                    RuleError(
                        key_at,
                        format_path((*path, str(key))),
                        f"duplicate key (first at line {where.line})",
                    )
                )
                continue
            first_seen[key] = key_at
            out[key] = self.walk(value_node, (*path, str(key)), key_at)
        return out


def read_yaml(path: Path) -> YamlDocument:
    """Parse one YAML file (a single document) into data plus locations; never raises on content."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        err = RuleError(Location(file, 0, 0), "", f"cannot read file: {exc}")
        return YamlDocument(file, None, NodeIndex(file), (err,))
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = _loc(file, mark) if mark is not None else Location(file, 1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.problem and exc.context and exc.context_mark is not None:
            problem = f"{problem} ({exc.context} at line {exc.context_mark.line + 1})"
        return YamlDocument(
            file, None, NodeIndex(file), (RuleError(where, "", f"YAML: {problem}"),)
        )
    except yaml.YAMLError as exc:  # not marked: still a syntax problem, not a crash
        err = RuleError(Location(file, 1, 1), "", f"YAML: {exc}")
        return YamlDocument(file, None, NodeIndex(file), (err,))
    if node is None:
        return YamlDocument(file, None, NodeIndex(file), ())
    walker = _Walker(file)
    try:
        data = walker.walk(node, (), None)
    except yaml.constructor.ConstructorError as exc:
        where = _loc(file, exc.problem_mark) if exc.problem_mark else Location(file, 1, 1)
        return YamlDocument(
            file, None, walker.index, (RuleError(where, "", f"YAML: {exc.problem}"),)
        )
    return YamlDocument(file, data, walker.index, tuple(walker.errors))
