"""The rule-file key reference, generated from the schema so docs and defaults cannot drift.

`python -m sidecar.config.reference` prints it; rules/README.md holds it between markers,
and a test checks that the two agree.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import AnyHttpUrl, BaseModel
from pydantic_core import PydanticUndefined

from sidecar.config.durations import DURATION, format_duration
from sidecar.config.schema import (
    ChangePointDetector,
    DetectorRule,
    ForecastRule,
    IsolationForestDetector,
    LearnCapacity,
    RightsizingRule,
    RobustDeviationDetector,
    RuleFile,
    SalienceFeatures,
    SalienceSettings,
    SalienceWeights,
    ScalingPolicy,
    SeasonalRobustZDetector,
    Settings,
    ThresholdSpec,
)

__all__ = ["BEGIN", "END", "render_reference"]

BEGIN = "<!-- BEGIN GENERATED REFERENCE (python -m sidecar.config.reference) -->"
END = "<!-- END GENERATED REFERENCE -->"

_SECTIONS: tuple[tuple[str, type[BaseModel]], ...] = (
    ("Top level of a rule file", RuleFile),
    ("`settings`", Settings),
    ("`detectors[]`", DetectorRule),
    ("`detectors[].detector` with `kind: robust_deviation` (the default)", RobustDeviationDetector),
    ("`detectors[].detector` with `kind: seasonal_robust_z`", SeasonalRobustZDetector),
    ("`detectors[].detector` with `kind: change_point`", ChangePointDetector),
    ("`detectors[].detector` with `kind: isolation_forest`", IsolationForestDetector),
    ("`detectors[].threshold`", ThresholdSpec),
    ("`forecasts[]`", ForecastRule),
    ("`forecasts[].scaling`", ScalingPolicy),
    ("`forecasts[].scaling.learn_capacity`", LearnCapacity),
    ("`rightsizing[]` (and the policy of a `/rightsizing` request)", RightsizingRule),
    ("`salience`", SalienceSettings),
    ("`salience.weights`", SalienceWeights),
    ("`salience.features`", SalienceFeatures),
)


def _is_duration(annotation: Any, metadata: list[Any] | None = None) -> bool:
    """True when the annotation (or field metadata) carries the duration validator."""
    if metadata and DURATION in metadata:
        return True
    return any(a is DURATION or _is_duration(a) for a in typing.get_args(annotation))


def _type_name(annotation: Any, metadata: list[Any] | None = None) -> str:
    if _is_duration(annotation, metadata):
        season = any(typing.get_origin(a) is typing.Literal for a in typing.get_args(annotation))
        return "`auto` \\| `none` \\| duration" if season else "duration"
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _type_name(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        parts = [_type_name(a) for a in typing.get_args(annotation) if a is not type(None)]
        unique = list(dict.fromkeys(parts))
        if unique == ["mapping"] and len(parts) > 1:
            return "mapping (by `kind`)"
        return " \\| ".join(unique)
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in typing.get_args(annotation))
    if origin in (tuple, list):
        return f"list of {_type_name(typing.get_args(annotation)[0])}"
    if origin is dict:
        return f"map of {_type_name(typing.get_args(annotation)[1])}"
    if annotation is AnyHttpUrl:
        return "URL"
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return "mapping"
        return {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}.get(
            annotation.__name__, annotation.__name__
        )
    return str(annotation)


def _default(field: Any) -> str:
    if field.default is PydanticUndefined and field.default_factory is None:
        return "**required**"
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "null"
    if isinstance(value, BaseModel):
        return "see below"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float) and _is_duration(field.annotation, field.metadata):
        return f"`{format_duration(value)}`"
    if isinstance(value, dict):
        return "`{" + ", ".join(f"{k}: {v}" for k, v in value.items()) + "}`"
    if isinstance(value, tuple):
        return "`[" + ", ".join(str(v) for v in value) + "]`"
    return f"`{value}`"


def render_reference() -> str:
    """Markdown tables: every key of every section, its type, default and meaning."""
    out: list[str] = []
    for title, model in _SECTIONS:
        out.append(f"### {title}\n")
        doc = (model.__doc__ or "").strip().splitlines()[0]
        out.append(f"{doc}\n")
        out.append("| key | type | default | meaning |")
        out.append("| --- | --- | --- | --- |")
        for name, field in model.model_fields.items():
            meaning = (field.description or "").replace("|", "\\|")
            out.append(
                f"| `{name}` | {_type_name(field.annotation, field.metadata)} | {_default(field)} "
                f"| {meaning} |"
            )
        out.append("")
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(render_reference(), end="")
