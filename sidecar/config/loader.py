"""`load_rules(paths)`: read, validate and merge rule files, or report every problem at once.

Each error reads `file:line:col: key.path: message (got X)`. Validation is all-or-nothing:
a caller either gets a complete `Rules` or a `RuleErrors` listing everything wrong, so a
reload can keep the old rules when the new ones are bad.
"""

from __future__ import annotations

import difflib
import os
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from sidecar.config.durations import FROM_FILE
from sidecar.config.schema import (
    DetectorRule,
    ForecastRule,
    RightsizingRule,
    RuleFile,
    SalienceSettings,
    Settings,
)
from sidecar.config.settings import env_overrides
from sidecar.config.yamlnodes import NodeIndex, PathKey, YamlDocument, format_path, read_yaml
from sidecar.errors import Location, RuleError, RuleErrors

__all__ = ["Rules", "expand_paths", "load_rules"]

_FILE_CONTEXT = {FROM_FILE: True}


@dataclass(frozen=True, slots=True)
class Rules:
    """Everything the rule files say, merged and validated; `locations` maps rule → its query."""

    settings: Settings
    detectors: tuple[DetectorRule, ...] = ()
    forecasts: tuple[ForecastRule, ...] = ()
    rightsizing: tuple[RightsizingRule, ...] = ()
    salience: SalienceSettings = field(default_factory=SalienceSettings)
    files: tuple[str, ...] = ()
    locations: Mapping[str, Location] = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        """Names of all rules, detectors first."""
        return (
            tuple(r.name for r in self.detectors)
            + tuple(r.name for r in self.forecasts)
            + tuple(r.name for r in self.rightsizing)
        )


def expand_paths(paths: Iterable[str | Path]) -> tuple[list[Path], list[RuleError]]:
    """Files named, plus the `*.yaml`/`*.yml` directly inside named directories (sorted)."""
    files: list[Path] = []
    errors: list[RuleError] = []
    seen: set[Path] = set()
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.suffix in (".yaml", ".yml") and q.is_file())
        elif p.is_file():
            found = [p]
        else:
            errors.append(RuleError(Location(str(p), 0, 0), "", "no such file or directory"))
            continue
        for q in found:  # a file named twice (directly and via its directory) is read once
            if q.resolve() not in seen:
                seen.add(q.resolve())
                files.append(q)
    return files, errors


def load_rules(paths: Sequence[str | Path], environ: Mapping[str, str] | None = None) -> Rules:
    """Load and merge rule files; `SIDECAR_*` variables in `environ` override settings.

    Raises `RuleErrors` with every problem of every file (syntax, schema, duplicates).
    """
    files, errors = expand_paths(paths)
    docs = [read_yaml(f) for f in files]
    parsed: list[tuple[YamlDocument, RuleFile]] = []
    for doc in docs:
        errors.extend(doc.errors)
        if doc.errors and doc.data is None:  # unreadable or not YAML: nothing to validate
            continue
        try:
            parsed.append((doc, RuleFile.model_validate(doc.data, context=_FILE_CONTEXT)))
        except ValidationError as exc:
            errors.extend(_located(exc, doc.index, RuleFile))
    errors.extend(_cross_file_errors(docs))
    raw_settings: Any = next(
        (d.data["settings"] for d in docs if isinstance(d.data, dict) and "settings" in d.data), {}
    )
    settings = _settings_with_env(raw_settings, os.environ if environ is None else environ, errors)
    if errors or settings is None:
        raise RuleErrors(errors)
    return _merge(parsed, settings)


def _cross_file_errors(docs: Sequence[YamlDocument]) -> list[RuleError]:
    """Rule names used twice, and `settings`/`salience` given in more than one place.

    Checked on the raw data, so they are reported together with the schema errors.
    """
    errors: list[RuleError] = []
    names: dict[str, Location] = {}
    single: dict[str, Location] = {}
    for doc in docs:
        if not isinstance(doc.data, dict):
            continue
        for section in ("detectors", "forecasts", "rightsizing"):
            items = doc.data.get(section)
            for i, item in enumerate(items if isinstance(items, list) else []):
                name = item.get("name") if isinstance(item, dict) else None
                if not isinstance(name, str):
                    continue
                at = doc.index.value((section, i, "name"))
                if name in names:
                    msg = f"duplicate rule name {name!r} (first defined at {names[name]})"
                    errors.append(RuleError(at, f"{section}[{i}].name", msg))
                else:
                    names[name] = at
        for section in ("settings", "salience"):
            if doc.data.get(section) is None:
                continue
            at = doc.index.key((section,))
            if section in single:
                errors.append(RuleError(at, section, f"given twice (first at {single[section]})"))
            else:
                single[section] = at
    return errors


def _merge(parsed: Sequence[tuple[YamlDocument, RuleFile]], settings: Settings) -> Rules:
    """One `Rules` from valid files (duplicates were already ruled out)."""
    locations: dict[str, Location] = {}
    salience = SalienceSettings()
    for doc, rf in parsed:
        named: list[tuple[str, int, str]] = [
            *(("detectors", i, r.name) for i, r in enumerate(rf.detectors)),
            *(("forecasts", i, r.name) for i, r in enumerate(rf.forecasts)),
            *(("rightsizing", i, r.name) for i, r in enumerate(rf.rightsizing)),
        ]
        for section, i, name in named:
            query_path: PathKey = (section, i, "query")
            for other in ("queries", "cpu_query", "memory_query"):
                if query_path in doc.index:
                    break
                query_path = (section, i, other)
            locations[name] = doc.index.value(query_path)
        if rf.salience is not None:
            salience = rf.salience
    return Rules(
        settings=settings,
        detectors=tuple(r for _, rf in parsed for r in rf.detectors),
        forecasts=tuple(r for _, rf in parsed for r in rf.forecasts),
        rightsizing=tuple(r for _, rf in parsed for r in rf.rightsizing),
        salience=salience,
        files=tuple(doc.file for doc, _ in parsed),
        locations=locations,
    )


def _settings_with_env(
    base: Mapping[str, Any], environ: Mapping[str, str], errors: list[RuleError]
) -> Settings | None:
    """The file's settings (already valid) with SIDECAR_* overrides, validated together."""
    try:
        from_file = Settings.model_validate(dict(base), context=_FILE_CONTEXT)
    except ValidationError:
        return None  # already reported, with locations, by the RuleFile validation
    overrides = env_overrides(environ)
    if not overrides:
        return from_file
    try:
        return Settings.model_validate({**base, **overrides}, context=_FILE_CONTEXT)
    except ValidationError as exc:
        for err in exc.errors():
            name = str(err["loc"][0]) if err["loc"] else ""
            var = f"$SIDECAR_{name.upper()}"
            errors.append(RuleError(Location(var, 0, 0), f"settings.{name}", _message(err, None)))
        return None


# ---------------------------------------------------------------------------------------
# pydantic error → located RuleError
# ---------------------------------------------------------------------------------------


def _located(exc: ValidationError, index: NodeIndex, model: type[BaseModel]) -> list[RuleError]:
    out: list[RuleError] = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        path: PathKey = ()
        for part in loc:  # union tags and validator names are not in the data: skip them
            if (*path, part) in index:
                path = (*path, part)
        kind = err["type"]
        shown = path
        if kind == "missing" and loc:
            shown = (*path, loc[-1])
            where = index.value(path)
        elif kind == "extra_forbidden":
            where = index.key(path)
        elif kind.startswith("union_tag") and (*path, "kind") in index:
            shown = (*path, "kind")
            where = index.value(shown)
        else:
            where = index.value(path)
        allowed = _allowed_keys(model, loc[:-1]) if kind == "extra_forbidden" else None
        out.append(RuleError(where, format_path(shown), _message(err, allowed, loc)))
    return out


def _message(err: Any, allowed: list[str] | None, loc: tuple[Any, ...] = ()) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        msg = "unknown key"
        if allowed:
            near = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            msg += f"; did you mean {near[0]!r}?" if near else f" (allowed: {', '.join(allowed)})"
        return msg
    if kind == "missing":
        return "required key is missing"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping of keys (got {_yaml_type(err.get('input'))})"
    if kind in ("tuple_type", "list_type"):
        return f"expected a list (got {_yaml_type(err.get('input'))})"
    if kind == "union_tag_invalid":
        expected = ctx.get("expected_tags", "")
        return f"unknown kind {ctx.get('tag')!r}; expected one of {expected}"
    elif kind == "union_tag_not_found":
        return "missing `kind`"
    else:
        msg = str(err["msg"])
        for prefix in ("Value error, ", "Assertion failed, "):
            msg = msg.removeprefix(prefix)
    value = err.get("input")
    if isinstance(value, (str, int, float, bool)) or value is None:
        msg += f" (got {value!r})" if isinstance(value, str) else f" (got {_yaml_scalar(value)})"
    return msg


def _yaml_type(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return "a string" if isinstance(value, str) else _yaml_scalar(value)


def _yaml_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _allowed_keys(model: Any, loc: tuple[Any, ...]) -> list[str] | None:
    """Field names of the model found at `loc` in `model`'s schema, to suggest a fix."""
    current: Any = model
    for part in loc:
        current = _step(current, part)
        if current is None:
            return None
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return None


def _unwrap(tp: Any) -> Any:
    """Strip Annotated and Optional down to the one real type, if there is one."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
            continue
        if origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) == 1:
                tp = args[0]
                continue
        return tp


def _step(tp: Any, part: Any) -> Any:
    tp = _unwrap(tp)
    origin = typing.get_origin(tp)
    if isinstance(part, int) and origin in (tuple, list):
        return typing.get_args(tp)[0]
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        info = tp.model_fields.get(str(part))
        return info.annotation if info is not None else None
    if origin in (typing.Union, types.UnionType):  # a discriminated union: part is the tag
        for arg in typing.get_args(tp):
            member = _unwrap(arg)
            if isinstance(member, type) and issubclass(member, BaseModel):
                kind = member.model_fields.get("kind")
                if kind is not None and typing.get_args(kind.annotation) == (part,):
                    return member
    if origin is dict:
        return typing.get_args(tp)[1]
    return None
