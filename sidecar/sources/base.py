"""The `MetricsSource` seam: where series come from (Prometheus, or a replay)."""

from __future__ import annotations

from typing import Protocol

from sidecar.types import Frame, SeriesKey

__all__ = ["MetricsSource"]


class MetricsSource(Protocol):
    """Reads series; raises `sidecar.errors.SourceError` subclasses, never partial data."""

    def query_range(self, promql: str, start: float, end: float, step: float) -> list[Frame]:
        """Every series of `promql` on the grid of multiples of `step` in [start, end]."""
        ...

    def query(self, promql: str, at: float) -> dict[SeriesKey, float]:
        """The instant value of every series of `promql` at time `at`."""
        ...
