"""The sidecar's exception tree: every error the package raises on purpose.

    SidecarError
    ├── ConfigError               a rule or settings file is invalid
    │   └── RuleErrors            all problems of a load, each with file:line:col and key path
    ├── InputError                bad CLI input (CSV/JSONL): names the file and line
    ├── NotFittedError            a model was used before `fit` (also a ValueError, as in sklearn)
    └── SourceError               talking to Prometheus failed; never partial data
        ├── SourceUnavailable     connection refused, DNS, 5xx after retries
        │   └── SourceTimeout     no answer within the configured timeout (after retries)
        ├── QueryError            Prometheus rejected the query (HTTP 400/422, bad_data, execution)
        └── BadResponse           the body is not the documented Prometheus JSON shape

Callers catch `SourceError` to handle any Prometheus failure, or a leaf to tell them apart.
Library exceptions (requests, prometheus-api-client) never cross the source boundary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "BadResponse",
    "ConfigError",
    "InputError",
    "Location",
    "NotFittedError",
    "QueryError",
    "RuleError",
    "RuleErrors",
    "SidecarError",
    "SourceError",
    "SourceTimeout",
    "SourceUnavailable",
]


class SidecarError(Exception):
    """Base of every error the sidecar raises on purpose."""


class ConfigError(SidecarError):
    """A rule or settings file (or a SIDECAR_* variable) is invalid."""


@dataclass(frozen=True, slots=True)
class Location:
    """Where a YAML node starts: 1-based line and column, as editors count (0 = whole file)."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}" if self.line else self.file


@dataclass(frozen=True, slots=True)
class RuleError:
    """One problem in a rule file: `file:line:col: key.path: message`."""

    location: Location
    path: str
    message: str

    def __str__(self) -> str:
        prefix = f"{self.path}: " if self.path else ""
        return f"{self.location}: {prefix}{self.message}"


class RuleErrors(ConfigError):
    """Every problem found while loading rule files, in file and line order."""

    def __init__(self, errors: Sequence[RuleError]) -> None:
        self.errors: tuple[RuleError, ...] = tuple(
            sorted(errors, key=lambda e: (e.location.file, e.location.line, e.location.column))
        )
        super().__init__("\n".join(str(e) for e in self.errors))


class InputError(SidecarError):
    """Bad input to a CLI command; the message names the file and line."""

    def __init__(self, file: str, line: int | None, message: str) -> None:
        self.file = file
        self.line = line
        self.message = message
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {message}")


class NotFittedError(SidecarError, ValueError):
    """A model was asked to predict before `fit` (sklearn's convention)."""


class SourceError(SidecarError):
    """Talking to Prometheus failed; no data from the failed call is returned."""


class SourceUnavailable(SourceError):
    """Prometheus could not be reached or kept failing (5xx) after the retries."""


class SourceTimeout(SourceUnavailable):
    """Prometheus did not answer within the configured timeout, after the retries."""


class QueryError(SourceError):
    """Prometheus rejected the query; `error_type` is Prometheus' own (bad_data, execution, ...)."""

    def __init__(self, message: str, error_type: str = "", status: int | None = None) -> None:
        self.error_type = error_type
        self.status = status
        super().__init__(message)


class BadResponse(SourceError):
    """Prometheus (or whatever answered) sent a body that is not the documented JSON."""
