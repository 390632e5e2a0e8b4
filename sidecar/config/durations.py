"""Prometheus duration strings (`30s`, `5m`, `1h30m`, `7d`) as pydantic field types.

The grammar is Prometheus' own (`model.ParseDuration`): units y w d h m s ms, each at most
once, largest first; a bare `0` means zero. Values are stored as float seconds. Python
callers may also pass seconds as a number; rule files may not (`30` is ambiguous there).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ValidationInfo
from pydantic_core import PydanticCustomError

__all__ = [
    "DURATION",
    "FROM_FILE",
    "Duration",
    "PositiveDuration",
    "format_duration",
    "parse_duration",
]

FROM_FILE = "from_file"
"""Validation-context flag set by the loader: in files, durations must be strings, as in
Prometheus."""

_UNITS: tuple[tuple[str, float], ...] = (
    ("y", 365 * 86400.0),
    ("w", 7 * 86400.0),
    ("d", 86400.0),
    ("h", 3600.0),
    ("m", 60.0),
    ("s", 1.0),
    ("ms", 0.001),
)
_PATTERN = re.compile("".join(rf"(?:(?P<{u}>[0-9]+){u})?" for u, _ in _UNITS) + "$")


def parse_duration(text: str) -> float:
    """Seconds in a Prometheus duration string; ValueError if it is not one."""
    if text == "0":
        return 0.0
    m = _PATTERN.match(text)
    if not text or m is None:
        raise ValueError(f"not a Prometheus duration: {text!r}")
    return sum(int(m.group(u)) * secs for u, secs in _UNITS if m.group(u))


def format_duration(seconds: float) -> str:
    """The shortest Prometheus duration string for `seconds` (inverse of parse_duration)."""
    if seconds == 0:
        return "0s"
    ms = round(seconds * 1000)
    parts = []
    for unit, secs in _UNITS:
        n, ms = divmod(ms, round(secs * 1000))
        if n:
            parts.append(f"{n}{unit}")
    return "".join(parts)


def _to_seconds(value: Any, info: ValidationInfo) -> Any:
    """Duration strings always; plain seconds only from Python, never from a rule file."""
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except ValueError:
            pass
    elif (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and not (info.context or {}).get(FROM_FILE)
    ):
        return float(value)
    raise PydanticCustomError("duration", "not a Prometheus duration such as 30s, 5m, 1h30m or 7d")


def _positive(seconds: float) -> float:
    if seconds <= 0:
        raise PydanticCustomError("duration_positive", "duration must be greater than 0")
    return seconds


DURATION = BeforeValidator(_to_seconds)
"""The validator that marks a field as a duration (the reference generator looks for it)."""

Duration = Annotated[float, DURATION]
"""A Prometheus duration string, held as float seconds (0 allowed)."""

PositiveDuration = Annotated[float, DURATION, AfterValidator(_positive)]
"""A Prometheus duration string greater than zero, held as float seconds."""
